from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from leadsadmin.core.roles import VIEW_AUDIT


@require_GET
def home(request):
    return redirect("leads:index")


@login_not_required
@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_index(request):
    return render(request, "core/audit.html")


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
