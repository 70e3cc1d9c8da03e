"""The audit pages: the operations (filtered, exported), one operation's record
lead by lead, and a lead's history. Auditors, team leads and superusers."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from leadsadmin.audit import records
from leadsadmin.audit.forms import AuditFilterForm
from leadsadmin.audit.models import ChainCheck
from leadsadmin.audit.selectors import audit_operations, lead_history
from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.reverting import revert_refusal
from leadsadmin.bulk.selectors import outcome_rows
from leadsadmin.core.csv import csv_lines, csv_response
from leadsadmin.core.roles import BULK_EDIT_LEADS, REVERT_CHANGES, VIEW_AUDIT

AUDIT_PER_PAGE = 50
LEADS_PER_PAGE = 100


def _filtered(request):
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, audit_operations(filters, user=request.user)


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_index(request):
    form, operations = _filtered(request)
    page = Paginator(operations, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [records.operation_row(op) for op in page],
        "export_query": query.urlencode(),
        "mine": form.is_valid() and form.cleaned_data.get("mine"),
        "last_check": ChainCheck.objects.first(),
    }
    return render(request, "audit/index.html", context)


def _attachment(response, filename: str):
    """A download named `filename`, not a page the browser opens in a tab."""
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_export(request, fmt):
    _, operations = _filtered(request)
    rows = (records.operation_row(op) for op in operations.iterator(chunk_size=500))
    if fmt == "json":
        response = JsonResponse({"operations": list(rows)}, json_dumps_params={"indent": 1})
        return _attachment(response, "audit-operations.json")
    lines = csv_lines(records.OPERATION_HEADER, (r.values() for r in rows))
    return csv_response(lines, "audit-operations.csv")


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_operation(request, operation_id):
    operation = get_object_or_404(
        BulkOperation.objects.select_related("created_by", "applied_by", "reverts", "retry_of"),
        pk=operation_id,
    )
    page = Paginator(range(operation.pinned.count()), LEADS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    offset = page.start_index() - 1 if page.paginator.count else 0
    context = {
        "operation": operation,
        "summary": records.operation_row(operation),
        "where_lines": records.filter_in_words(operation),
        "page": page,
        "lead_rows": outcome_rows(operation, None, LEADS_PER_PAGE, offset),
        "field_labels": [c.lead_field.label for c in operation.change_list],
        "reverted_by": operation.reverted_by.exclude(state=BulkOperation.State.DISCARDED),
        "events": operation.events.order_by("created_at", "id"),
        "can_revert": request.user.has_perm(REVERT_CHANGES) and not revert_refusal(operation),
        "can_open_job": request.user.has_perm(BULK_EDIT_LEADS),
    }
    return render(request, "audit/operation.html", context)


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_operation_export(request, operation_id, fmt):
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    rows = records.lead_rows(operation)
    if fmt == "json":
        response = JsonResponse(
            {"operation": records.operation_row(operation), "leads": list(rows)},
            json_dumps_params={"indent": 1},
        )
        return _attachment(response, f"operation-{operation.pk}-leads.json")
    lines = csv_lines(records.lead_columns(operation), (r.values() for r in rows))
    return csv_response(lines, f"operation-{operation.pk}-leads.csv")


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_lead(request, lead_id):
    rows = records.history_rows(lead_history(lead_id))
    return render(request, "audit/lead.html", {"lead_id": lead_id, "rows": rows})


@require_GET
@permission_required(VIEW_AUDIT, raise_exception=True)
def audit_lead_search(request):
    """A lead id opens its history; an email is looked up through the API."""
    text = request.GET.get("q", "").strip()
    found = records.lead_ids_for(text)
    if found.error:
        messages.error(request, found.error)
        return redirect("audit:index")
    if len(found.ids) == 1:
        return redirect("audit:lead", lead_id=found.ids[0])
    return render(request, "audit/lead_search.html", {"q": text, "ids": found.ids})
