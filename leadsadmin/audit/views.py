"""The audit pages: today one, a paginated list of bulk operations.

Each row says who reviewed (and who applied) the operation, when, the reason
given, how many leads it pinned, the changes asked for, and its outcome; the
operation's own page (in `bulk`) has the details. Read-only: Auditors, and
superusers, may open it.
"""

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leadsadmin.audit.selectors import audit_operations
from leadsadmin.bulk.selectors import changes_summary, operation_outcome
from leadsadmin.core.roles import VIEW_AUDIT

AUDIT_PER_PAGE = 50


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_index(request):
    page = Paginator(audit_operations(), AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(op, operation_outcome(op), changes_summary(op)) for op in page]
    return render(request, "audit/index.html", {"page": page, "rows": rows})
