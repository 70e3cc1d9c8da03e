"""The bulk pages: choose changes, review (Back to edit, drafts to resume or
discard), apply, and the operation's page with its progress, results, Cancel,
Retry failed, Review these again and the errors CSV."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadsadmin.api.errors import LeadsApiError
from leadsadmin.bulk import selectors
from leadsadmin.bulk.forms import BulkChangeForm, ChangeReasonForm, change_form_for
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    OperationRefused,
    approval_required,
    bulk_draft_replace,
    bulk_drafts_expire,
    bulk_operation_apply,
    bulk_operation_cancel,
    bulk_operation_discard,
    bulk_operation_prepare,
    bulk_operation_resume,
    bulk_operation_retry,
)
from leadsadmin.bulk.reverting import bulk_revert_prepare, revert_of, revert_refusal
from leadsadmin.core.csv import csv_lines, csv_response
from leadsadmin.core.origin import request_origin
from leadsadmin.core.roles import (
    BULK_EDIT_LEADS,
    PROPOSE_BULK_EDIT,
    REVERT_CHANGES,
    VIEW_AUDIT,
)
from leadsadmin.schema import lead_field

State = BulkOperation.State
Outcome = PinnedLead.Outcome
RESULTS_PER_PAGE = 100
PROBLEMS_SHOWN = 200


@require_http_methods(["GET", "POST"])
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_new(request):
    """Choose changes. The filter is this URL's query string, kept on every POST."""
    filter_query = request.META.get("QUERY_STRING", "")
    form, submitted = change_form_for(request)
    if submitted and form.is_valid():
        try:
            operation = bulk_operation_prepare(
                user=request.user,
                filter_query=filter_query,
                changes=form.changes,
                reason=form.reason,
                origin=request_origin(request),
            )
        except (OperationRefused, LeadsApiError) as exc:
            form.form_error = str(exc)
        else:
            # Back to edit, then reviewed again: one edit leaves one draft.
            bulk_draft_replace(draft_id=form.replaces, by=operation)
            return redirect("bulk:review", operation_id=operation.pk)
    return render(request, "bulk/new.html", _new_context(request, form, filter_query))


@require_GET
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_edit(request, operation_id):
    """Back to edit (and Resume a draft on its form): the change form with the
    operation's filter, changes and reason as they were. Reviewing again replaces
    the draft it came from."""
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    if operation.reverts_id:
        return redirect("bulk:revert", operation_id=operation.reverts_id)
    own_draft = operation.state == State.REVIEWED and operation.created_by_id == request.user.pk
    form = BulkChangeForm.from_changes(
        operation.change_list, operation.reason, replaces=operation.pk if own_draft else None
    )
    context = _new_context(request, form, operation.filter_query)
    return render(request, "bulk/new.html", {**context, "editing": operation})


def _new_context(request, form, filter_query: str) -> dict:
    context = {
        "form": form,
        "picker": form.picker(),
        "filter_query": filter_query,
        "max_size": _max_size(),
        "drafts": selectors.draft_rows(request.user),
        **selectors.match_count(filter_query),
    }
    context["over_limit"] = (
        context.get("match_count", 0) > _max_size() and not request.user.is_superuser
    )
    return context


@require_POST
def bulk_field_row(request):
    """htmx: the row for the field picked in "Add field to change", appended to the
    list; the picker is swapped out of band without that field. The bulk form and
    the proposal form both use it: it only renders a form row."""
    if not (request.user.has_perm(BULK_EDIT_LEADS) or request.user.has_perm(PROPOSE_BULK_EDIT)):
        raise PermissionDenied("Only team leads and sales ops can choose changes.")
    form = BulkChangeForm(request.POST).unvalidated()
    row = form.add_field(request.POST.get("add_field", ""))
    if row is None:
        return HttpResponse(status=204)
    context = {"row": row, "picker": form.picker(), "oob": True}
    return render(request, "bulk/new.html#field_row_added", context)


@require_GET
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_review(request, operation_id):
    bulk_drafts_expire()  # a link to a day-old review opens it expired, not applicable
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    if operation.state != State.REVIEWED:
        return redirect(operation)
    return render(request, "bulk/review.html", _review_context(request, operation))


def _review_context(request, operation, confirmation_error=""):
    if operation.reverts_id:
        return _revert_review_context(operation, confirmation_error)
    return {
        "operation": operation,
        "total_text": f"{operation.total:,}",
        "lines": selectors.review_lines(operation),
        "sample": selectors.sample_rows(operation),
        "every_lead": not operation.where,
        "over_limit": operation.total > _max_size(),
        "max_size": _max_size(),
        "confirmation_error": confirmation_error,
        "needs_approval": approval_required(operation=operation, user=request.user),
        "approval_threshold": settings.BULK_APPROVAL_THRESHOLD,
    }


def _revert_review_context(operation, confirmation_error):
    going_back = operation.total - operation.conflict_count
    return {
        "operation": operation,
        "total_text": f"{going_back:,}",
        "going_back": going_back,
        "lines": selectors.revert_lines(operation),
        "skipped_rows": selectors.outcome_rows(operation, Outcome.CONFLICT, PROBLEMS_SHOWN),
        "field_labels": [lead_field(c.field).label for c in operation.change_list],
        "problems_shown": PROBLEMS_SHOWN,
        "confirmation_error": confirmation_error,
    }


@require_http_methods(["GET", "POST"])
@permission_required(REVERT_CHANGES, raise_exception=True)
def bulk_revert(request, operation_id):
    """Revert this operation: a reason, then a review like any bulk edit's."""
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    draft = revert_of(operation)
    if draft is not None and draft.state == State.REVIEWED and request.method == "GET":
        return redirect("bulk:review", operation_id=draft.pk)
    if why := revert_refusal(operation):
        return render(request, "bulk/revert.html", {"operation": operation, "refusal": why})
    form = ChangeReasonForm(request.POST if request.method == "POST" else None)
    error = ""
    if form.is_valid():
        try:
            revert = bulk_revert_prepare(
                operation=operation,
                user=request.user,
                reason=form.cleaned_data["reason"],
                origin=request_origin(request),
            )
        except (OperationRefused, LeadsApiError) as exc:
            error = str(exc)
        else:
            return redirect("bulk:review", operation_id=revert.pk)
    context = {"operation": operation, "form": form, "error": error}
    return render(request, "bulk/revert.html", context)


def _max_size():
    return settings.BULK_MAX_OPERATION_SIZE


@require_POST
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_apply(request, operation_id):
    bulk_drafts_expire()
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    if operation.state == State.REVIEWED:
        try:
            bulk_operation_apply(
                operation=operation,
                user=request.user,
                confirmation=request.POST.get("confirmation", ""),
                origin=request_origin(request),
            )
        except OperationRefused as exc:
            context = _review_context(request, operation, confirmation_error=str(exc))
            return render(request, "bulk/review.html", context, status=400)
    # Applied now or by an earlier click: either way the operation's page shows it.
    return redirect(operation)


@require_http_methods(["GET"])
def bulk_operation(request, operation_id):
    """The operation's permanent page; htmx polls its status fragment."""
    can_manage = request.user.has_perm(BULK_EDIT_LEADS)
    if not (can_manage or request.user.has_perm(VIEW_AUDIT)):
        raise PermissionDenied("Only team leads and auditors can open bulk operations.")
    operation = get_object_or_404(
        BulkOperation.objects.select_related("created_by", "applied_by"), pk=operation_id
    )
    context = {
        "operation": operation,
        "can_manage": can_manage,
        "can_cancel": can_manage and operation.is_active,
        "can_retry": can_manage and selectors.can_retry(operation),
        "can_revert": request.user.has_perm(REVERT_CHANGES) and not revert_refusal(operation),
        "can_audit": request.user.has_perm(VIEW_AUDIT),
        "summary_line": selectors.outcome_sentence(operation),
        "progress": selectors.operation_progress(operation),
        "outcome": selectors.operation_outcome(operation),
        "partial_failure": selectors.is_partial_failure(operation),
        "changes_summary": selectors.changes_summary(operation),
        "show_results": not operation.is_active
        and operation.state not in (State.PINNING, State.REVIEWED),
    }
    if context["show_results"]:
        context.update(_results(request, operation))
    if request.htmx:
        return render(request, "bulk/operation.html#status", context)
    return render(request, "bulk/operation.html", context)


@require_POST
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_discard(request, operation_id):
    """Discard a review that was not applied (it stays on record, discarded)."""
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    why = f"Discarded by {request.user.get_username()} without being applied."
    if bulk_operation_discard(operation=operation, why=why):
        messages.info(request, f"Draft {operation.pk} was discarded; it stays on record.")
    else:
        messages.warning(request, f"Operation {operation.pk} was no longer a draft.")
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(reverse("leads:index") + "?" + operation.filter_query)


@require_POST
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_review_again(request, operation_id):
    """Review these again: a fresh review of the operation's conflicting leads
    (those still matching its filter), with the same changes and reason."""
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    ids = selectors.conflict_ids(operation) if selectors.can_review_again(operation) else None
    if ids is None:
        messages.warning(request, "There are no conflicts to review again here.")
        return redirect(operation)
    query = QueryDict(operation.filter_query, mutable=True)
    query["ids"] = ",".join(str(lead_id) for lead_id in ids)
    try:
        review = bulk_operation_prepare(
            user=request.user,
            filter_query=query.urlencode(),
            changes=operation.change_list,
            reason=operation.reason,
            origin=request_origin(request),
        )
    except (OperationRefused, LeadsApiError) as exc:
        messages.error(request, str(exc))
        return redirect(operation)
    return redirect("bulk:review", operation_id=review.pk)


def _results(request, operation):
    updated = Paginator(range(operation.updated_count), RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    offset = updated.start_index() - 1 if operation.updated_count else 0
    return {
        "api_messages": selectors.api_messages(operation),
        "updated_page": updated,
        "updated_rows": selectors.outcome_rows(
            operation, Outcome.UPDATED, RESULTS_PER_PAGE, offset
        ),
        "error_rows": selectors.outcome_rows(operation, Outcome.ERROR, PROBLEMS_SHOWN),
        "conflict_rows": selectors.conflict_rows(operation, PROBLEMS_SHOWN),
        "can_review_again": request.user.has_perm(BULK_EDIT_LEADS)
        and selectors.can_review_again(operation),
        "outside_change_rows": selectors.outside_change_rows(operation, PROBLEMS_SHOWN),
        "problems_shown": PROBLEMS_SHOWN,
        "field_labels": [c.lead_field.label for c in operation.change_list],
    }


@require_POST
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_cancel(request, operation_id):
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    if bulk_operation_cancel(operation=operation):
        messages.info(request, "Cancelling: the job stops after the chunk it is sending.")
    else:
        messages.warning(request, "The operation was no longer running.")
    return redirect(operation)


@require_POST
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
def bulk_retry(request, operation_id):
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    if operation.is_stalled and bulk_operation_resume(operation=operation):
        messages.info(request, "Resuming: its worker had stopped.")
        return redirect(operation)
    retry = bulk_operation_retry(
        operation=operation,
        user=request.user,
        include_errors=request.POST.get("include_errors") == "1",
        origin=request_origin(request),
    )
    if retry is None:
        earlier = operation.retries.first()
        if earlier is not None:
            messages.info(
                request, f"This operation was retried already, as operation {earlier.pk}."
            )
            return redirect(earlier)
        messages.warning(request, "There is nothing to retry.")
        return redirect(operation)
    messages.info(request, f"Retrying {retry.total:,} leads as operation {retry.pk}.")
    return redirect(retry)


@require_GET
def bulk_errors_csv(request, operation_id):
    if not (request.user.has_perm(BULK_EDIT_LEADS) or request.user.has_perm(VIEW_AUDIT)):
        raise PermissionDenied("Only team leads and auditors can open bulk operations.")
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    lines = csv_lines(("Lead ID", "Outcome", "Message"), selectors.problem_rows_for_csv(operation))
    return csv_response(lines, f"bulk-operation-{operation.pk}-errors.csv")
