from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leadsadmin.core.roles import VIEW_LEADS


@require_GET
@permission_required(VIEW_LEADS, raise_exception=True)
def index(request):
    return render(request, "leads/index.html")
