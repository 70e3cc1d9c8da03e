"""The pages every role shares: where a person lands, and the refusal page."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from leadsadmin.core.roles import VIEW_AUDIT, VIEW_LEADS


@require_GET
def home(request):
    """Each role lands where its work is: the leads for sales ops and team
    leads, the audit for auditors."""
    user = request.user
    if not user.has_perm(VIEW_LEADS) and user.has_perm(VIEW_AUDIT):
        return redirect("audit:index")
    return redirect("leads:index")


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
