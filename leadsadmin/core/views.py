from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from leadsadmin.bulk.selectors import audit_operations, changes_summary, operation_outcome
from leadsadmin.core.roles import VIEW_AUDIT

AUDIT_PER_PAGE = 50


@require_GET
def home(request):
    return redirect("leads:index")


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_index(request):
    """Every bulk operation: who, when, why, how many leads, what came of it."""
    page = Paginator(audit_operations(), AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(op, operation_outcome(op), changes_summary(op)) for op in page]
    return render(request, "core/audit.html", {"page": page, "rows": rows})


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
