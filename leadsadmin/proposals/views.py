"""The proposal pages: propose (choose changes, review the count, send), the
lists, and a proposal's page, where a team lead reviews it against the API now
and approves or rejects it, and its proposer may withdraw it."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadsadmin.api.errors import LeadsApiError
from leadsadmin.bulk import selectors as bulk_selectors
from leadsadmin.bulk.forms import BulkChangeForm, change_form_for
from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.operations import OperationRefused
from leadsadmin.core.origin import request_origin
from leadsadmin.core.roles import (
    APPROVE_BULK_EDIT,
    BULK_EDIT_LEADS,
    PROPOSE_BULK_EDIT,
    VIEW_AUDIT,
)
from leadsadmin.proposals import selectors
from leadsadmin.proposals.forms import ApproveForm, RejectForm
from leadsadmin.proposals.models import Proposal
from leadsadmin.proposals.services import (
    ProposalRefused,
    decision_refusal,
    proposal_approve,
    proposal_draft,
    proposal_from_review,
    proposal_reject,
    proposal_review,
    proposal_send,
    proposal_withdraw,
)

State = Proposal.State
DECIDED_SHOWN = 50


@require_http_methods(["GET", "POST"])
@permission_required(PROPOSE_BULK_EDIT, raise_exception=True)
def proposal_new(request):
    """Choose changes, as for a bulk edit; the filter is this URL's query string."""
    filter_query = request.META.get("QUERY_STRING", "")
    form, submitted = change_form_for(request)
    if submitted and form.is_valid():
        try:
            proposal = proposal_draft(
                user=request.user,
                filter_query=filter_query,
                changes=form.changes,
                reason=form.reason,
                replaces=form.replaces,
            )
        except (OperationRefused, LeadsApiError) as exc:
            form.form_error = str(exc)
        else:
            return redirect(proposal)
    return render(request, "proposals/new.html", _new_context(form, filter_query))


@require_GET
@permission_required(PROPOSE_BULK_EDIT, raise_exception=True)
def proposal_edit(request, proposal_id):
    """Back from a draft: the proposal form with its filter, changes and reason as
    they were (bulk's form, as for Back to edit there); saving edits the draft."""
    proposal = get_object_or_404(
        Proposal, pk=proposal_id, proposed_by=request.user, state=State.DRAFT
    )
    form = BulkChangeForm.from_changes(proposal.change_list, proposal.reason, replaces=proposal.pk)
    context = _new_context(form, proposal.filter_query)
    return render(request, "proposals/new.html", {**context, "editing": proposal})


def _new_context(form, filter_query: str) -> dict:
    return {
        "form": form,
        "picker": form.picker(),
        "filter_query": filter_query,
        **bulk_selectors.match_count(filter_query),
    }


@require_GET
@permission_required(APPROVE_BULK_EDIT, raise_exception=True)
def proposal_list(request):
    decided = Proposal.objects.exclude(state__in=(State.DRAFT, State.OPEN))
    context = {
        "to_decide": selectors.proposals_to_decide(request.user).select_related("proposed_by"),
        "own_open": Proposal.objects.filter(state=State.OPEN, proposed_by=request.user),
        "decided": decided.select_related("proposed_by", "decided_by", "operation")[:DECIDED_SHOWN],
    }
    return render(request, "proposals/list.html", context)


@require_GET
@permission_required(PROPOSE_BULK_EDIT, raise_exception=True)
def proposal_mine(request):
    mine = Proposal.objects.filter(proposed_by=request.user).select_related(
        "decided_by", "operation"
    )
    return render(request, "proposals/mine.html", {"proposals": mine})


@require_GET
def proposal_detail(request, proposal_id):
    """Who proposed what and why; for a team lead who may decide it, the review
    against the API now (pinned as theirs), to approve or reject."""
    proposal = _proposal_to_see(request, proposal_id)
    review, review_error = None, ""
    if not decision_refusal(proposal, request.user):
        try:
            review = proposal_review(
                proposal=proposal, user=request.user, origin=request_origin(request)
            )
        except (ProposalRefused, OperationRefused, LeadsApiError) as exc:
            review_error = str(exc)
    context = _detail_context(request, proposal, review, review_error=review_error)
    return render(request, "proposals/detail.html", context)


def _proposal_to_see(request, proposal_id) -> Proposal:
    proposal = get_object_or_404(
        Proposal.objects.select_related("proposed_by", "decided_by", "operation", "review"),
        pk=proposal_id,
    )
    user = request.user
    if proposal.proposed_by_id == user.pk:
        return proposal
    if proposal.state == State.DRAFT or not (
        user.has_perm(APPROVE_BULK_EDIT) or user.has_perm(VIEW_AUDIT)
    ):
        raise PermissionDenied("Only its proposer, team leads and auditors can open a proposal.")
    return proposal


def _detail_context(request, proposal, review, **forms_and_errors) -> dict:
    user = request.user
    refusal = decision_refusal(proposal, user)
    context = {
        "proposal": proposal,
        "lines": selectors.change_lines(proposal),
        "events": selectors.proposal_events(proposal),
        "review": review,
        "refusal": refusal if user.has_perm(APPROVE_BULK_EDIT) else "",
        "may_decide": not refusal,
        "may_send": proposal.state == State.DRAFT and proposal.proposed_by_id == user.pk,
        "may_withdraw": proposal.is_open and proposal.proposed_by_id == user.pk,
        "can_open_operation": user.has_perm(BULK_EDIT_LEADS) or user.has_perm(VIEW_AUDIT),
        "reject_form": RejectForm(),
        **forms_and_errors,
    }
    if review is not None:
        # Matching now = pinned + already holding the new values (not pinned, not sent):
        # what the leads page counts, and what count_seen counted when it was proposed.
        matching = review.total + review.unchanged_count
        context["comparison"] = selectors.CountComparison(proposal.count_seen, matching)
        context["review_lines"] = bulk_selectors.review_lines(review)
        context.setdefault("approve_form", ApproveForm(initial={"review": review.pk}))
    return context


def _current_review(proposal) -> BulkOperation | None:
    review = proposal.review
    return review if review is not None and review.state == BulkOperation.State.REVIEWED else None


@require_POST
@permission_required(PROPOSE_BULK_EDIT, raise_exception=True)
def proposal_send_view(request, proposal_id):
    proposal = get_object_or_404(Proposal, pk=proposal_id, proposed_by=request.user)
    if proposal_send(proposal=proposal, user=request.user, request=request):
        messages.success(
            request, f"Proposal {proposal.pk} was sent for approval to the team leads."
        )
    return redirect(proposal)


@require_POST
@permission_required(BULK_EDIT_LEADS, raise_exception=True)
@permission_required(PROPOSE_BULK_EDIT, raise_exception=True)
def proposal_from_review_view(request, operation_id):
    """A team lead's own review above the threshold, sent for approval."""
    operation = get_object_or_404(BulkOperation, pk=operation_id)
    try:
        proposal = proposal_from_review(operation=operation, user=request.user, request=request)
    except ProposalRefused as exc:
        messages.error(request, str(exc))
        return redirect(operation)
    messages.success(request, f"Proposal {proposal.pk} was sent for approval to another team lead.")
    return redirect(proposal)


@require_POST
@permission_required(APPROVE_BULK_EDIT, raise_exception=True)
def proposal_approve_view(request, proposal_id):
    proposal = get_object_or_404(Proposal.objects.select_related("review"), pk=proposal_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The approval did not name a review: look at the leads again.")
        return redirect(proposal)
    try:
        operation = proposal_approve(
            proposal=proposal,
            user=request.user,
            review_id=form.cleaned_data["review"],
            confirmation=form.cleaned_data["confirmation"],
            request=request,
        )
    except ProposalRefused as exc:
        messages.error(request, str(exc))
        return redirect(proposal)
    except OperationRefused as exc:
        context = _detail_context(
            request, proposal, _current_review(proposal), approve_form=form, approve_error=str(exc)
        )
        return render(request, "proposals/detail.html", context, status=400)
    messages.success(
        request, f"Proposal {proposal.pk} approved: applying it as bulk operation {operation.pk}."
    )
    return redirect(operation)


@require_POST
@permission_required(APPROVE_BULK_EDIT, raise_exception=True)
def proposal_reject_view(request, proposal_id):
    proposal = get_object_or_404(Proposal.objects.select_related("review"), pk=proposal_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        # Shown again with the review already pinned: rejecting is no reason to pin anew.
        context = _detail_context(request, proposal, _current_review(proposal), reject_form=form)
        return render(request, "proposals/detail.html", context, status=400)
    try:
        proposal_reject(
            proposal=proposal,
            user=request.user,
            comment=form.cleaned_data["comment"],
            request=request,
        )
    except ProposalRefused as exc:
        messages.error(request, str(exc))
        return redirect(proposal)
    messages.success(request, f"Proposal {proposal.pk} was rejected; its proposer is told why.")
    return redirect("proposals:index")


@require_POST
@permission_required(PROPOSE_BULK_EDIT, raise_exception=True)
def proposal_withdraw_view(request, proposal_id):
    proposal = get_object_or_404(Proposal.objects.select_related("review"), pk=proposal_id)
    try:
        proposal_withdraw(proposal=proposal, user=request.user, request=request)
    except ProposalRefused as exc:
        messages.error(request, str(exc))
        return redirect(proposal)
    messages.success(request, f"Proposal {proposal.pk} was withdrawn.")
    return redirect("proposals:mine")
