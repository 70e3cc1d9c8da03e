"""Proposals as services: draft, send, review (pin now), approve, reject, withdraw.

Each decision is a conditional UPDATE on the proposal's state (`filter(state=OPEN)
.update(…)`), so two team leads deciding at once decide it once. Every step a
person takes is an audit event, sealed into the hash chain.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leadsadmin import api
from leadsadmin.audit.events import audit_event_record
from leadsadmin.audit.models import AuditEvent
from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.operations import (
    OperationRefused,
    bulk_operation_apply,
    bulk_operation_discard,
    bulk_operation_prepare,
    where_for_filter_query,
)
from leadsadmin.core.origin import request_origin
from leadsadmin.core.roles import APPROVE_BULK_EDIT
from leadsadmin.proposals.models import Proposal
from leadsadmin.proposals.notifications import proposal_email_on_commit
from leadsadmin.proposals.selectors import changes_in_words

State = Proposal.State
Kind = AuditEvent.Kind


class ProposalRefused(Exception):
    """The step cannot be taken; str() says why, in words for the page."""


def decision_refusal(proposal: Proposal, user) -> str:
    """Why `user` may not review, approve or reject `proposal` now ("" when they may)."""
    if not user.has_perm(APPROVE_BULK_EDIT):
        return "Only team leads approve or reject proposals."
    if not proposal.is_open:
        return (
            f"Proposal {proposal.pk} is {proposal.get_state_display().lower()}: nothing to decide."
        )
    if proposal.proposed_by_id == user.pk:
        return "You proposed this yourself: another team lead must approve or reject it."
    return ""


def proposal_draft(
    *,
    user,
    filter_query: str,
    changes: list[Change],
    reason: str,
    replaces: int | None = None,
    client=None,
) -> Proposal:
    """A proposal not sent yet, with how many leads match now (nothing is pinned).
    `replaces` is the draft Back came from: that draft, if still `user`'s and not
    sent, is edited in place, so Back and save leave one draft. OperationRefused
    for a filter with errors, one that matches nothing, or more leads than one
    bulk operation may change."""
    where = where_for_filter_query(filter_query)
    count = (client or api.get_client()).count(where=where or None)
    if count == 0:
        raise OperationRefused("No leads match this filter: there is nothing to change.")
    if count > settings.BULK_MAX_OPERATION_SIZE:
        raise OperationRefused(
            f"{count:,} leads match, more than the {settings.BULK_MAX_OPERATION_SIZE:,} one "
            "bulk operation may change. Narrow the filter."
        )
    fields = {
        "filter_query": filter_query,
        "changes": [change.as_json() for change in changes],
        "reason": reason,
        "count_seen": count,
    }
    # Conditional, like every state change here: a draft sent in another tab
    # meanwhile stays as it was sent, and this becomes a new draft.
    own_draft = Proposal.objects.filter(pk=replaces, proposed_by=user, state=State.DRAFT)
    if replaces is not None and own_draft.update(created_at=timezone.now(), **fields):
        return Proposal.objects.get(pk=replaces)
    return Proposal.objects.create(proposed_by=user, **fields)


def proposal_send(*, proposal: Proposal, user, request=None) -> bool:
    """Sends a draft for approval, once; False when it had been sent already."""
    if proposal.proposed_by_id != user.pk:
        raise ProposalRefused("Only the person who drafted a proposal sends it.")
    with transaction.atomic():
        sent = Proposal.objects.filter(pk=proposal.pk, state=State.DRAFT).update(
            state=State.OPEN, proposed_at=timezone.now()
        )
        if sent:
            _record(Kind.PROPOSAL_SENT, proposal, user, request, _sent_detail(proposal))
    return bool(sent)


def proposal_from_review(*, operation: BulkOperation, user, request=None) -> Proposal:
    """A team lead's own review above the threshold, sent for approval: an open
    proposal with the same filter, changes and reason; the review is discarded
    (the approver pins the leads again)."""
    if operation.created_by_id != user.pk or operation.reverts_id:
        raise ProposalRefused("Only your own bulk edit's review can be sent for approval.")
    with transaction.atomic():
        proposal = Proposal.objects.create(
            proposed_by=user,
            proposed_at=timezone.now(),
            state=State.OPEN,
            filter_query=operation.filter_query,
            changes=operation.changes,
            reason=operation.reason,
            count_seen=operation.total,
        )
        why = f"Sent for approval as proposal {proposal.pk}."
        if not bulk_operation_discard(operation=operation, why=why):
            raise ProposalRefused(f"Operation {operation.pk} is no longer a review to send.")
        detail = _sent_detail(proposal, operation)
        _record(Kind.PROPOSAL_SENT, proposal, user, request, detail, operation=operation)
    return proposal


def proposal_review(*, proposal: Proposal, user, origin=None, client=None) -> BulkOperation:
    """Pins the proposal's leads now, as `user` (bulk_operation_prepare), after
    discarding its earlier review, so that no review is left behind. Raises
    ProposalRefused, or what bulk_operation_prepare raises."""
    if why := decision_refusal(proposal, user):
        raise ProposalRefused(why)
    if (fresh := _fresh_review(proposal, user)) is not None:
        return fresh
    _review_discard(proposal, f"Proposal {proposal.pk} was opened again: a new review replaces it.")
    review = bulk_operation_prepare(
        user=user,
        filter_query=proposal.filter_query,
        changes=proposal.change_list,
        reason=_operation_reason(proposal),
        origin=origin,
        client=client,
        listed_as_draft=False,
    )
    if not Proposal.objects.filter(pk=proposal.pk, state=State.OPEN).update(review=review):
        bulk_operation_discard(operation=review, why=f"Proposal {proposal.pk} was decided.")
        raise ProposalRefused(f"Proposal {proposal.pk} was decided in the meantime.")
    proposal.review = review
    return review


# A reload or a second look within this long shows the same review instead of
# pinning every lead again (and leaving a discarded review behind each time).
REVIEW_FRESH_FOR = timedelta(minutes=2)


def _fresh_review(proposal: Proposal, user) -> BulkOperation | None:
    review = proposal.review
    if (
        review is not None
        and review.state == BulkOperation.State.REVIEWED
        and review.created_by_id == user.pk
        and timezone.now() - review.created_at < REVIEW_FRESH_FOR
    ):
        return review
    return None


def _operation_reason(proposal: Proposal) -> str:
    # The operation is the approver's; its reason names the proposer, so the audit
    # of the operation alone says who asked for it.
    who = proposal.proposed_by.get_username()
    return f"{proposal.reason}\n\nProposed by {who} (proposal {proposal.pk})."


def _review_discard(proposal: Proposal, why: str) -> None:
    if proposal.review_id is not None:
        bulk_operation_discard(operation=proposal.review, why=why)


def proposal_approve(
    *, proposal: Proposal, user, review_id: int, confirmation: str = "", request=None
) -> BulkOperation:
    """Applies the review `user` saw (review_id) as their bulk operation, approved.
    ProposalRefused when they may not, or the review is no longer the current one;
    OperationRefused from bulk_operation_apply (e.g. a missing confirmation)."""
    if why := decision_refusal(proposal, user):
        raise ProposalRefused(why)
    review = proposal.review
    if (
        review is None
        or review.pk != review_id
        or review.created_by_id != user.pk
        or review.state != BulkOperation.State.REVIEWED
    ):
        raise ProposalRefused(
            "The review you approved is no longer the current one: check the leads as they "
            "are now (shown below) and approve again."
        )
    with transaction.atomic():
        decided = Proposal.objects.filter(pk=proposal.pk, state=State.OPEN).update(
            state=State.APPROVED,
            decided_by=user,
            decided_at=timezone.now(),
            operation=review,
            unread=True,
        )
        if not decided:
            raise ProposalRefused(f"Proposal {proposal.pk} was decided in the meantime.")
        bulk_operation_apply(
            operation=review,
            user=user,
            confirmation=confirmation,
            origin=request_origin(request),
            approved=True,
        )
        detail = (
            f"Proposal {proposal.pk}: approved and applied as bulk operation {review.pk} "
            f"({review.total:,} leads pinned, {proposal.count_seen:,} when proposed)."
        )
        _record(Kind.PROPOSAL_APPROVED, proposal, user, request, detail, operation=review)
        proposal_email_on_commit(proposal.pk)
    proposal.refresh_from_db()
    return review


def proposal_reject(*, proposal: Proposal, user, comment: str, request=None) -> None:
    """Rejects an open proposal with a comment; its review, if any, is discarded."""
    if why := decision_refusal(proposal, user):
        raise ProposalRefused(why)
    with transaction.atomic():
        decided = Proposal.objects.filter(pk=proposal.pk, state=State.OPEN).update(
            state=State.REJECTED,
            decided_by=user,
            decided_at=timezone.now(),
            comment=comment,
            unread=True,
        )
        if not decided:
            raise ProposalRefused(f"Proposal {proposal.pk} was decided in the meantime.")
        _review_discard(proposal, f"Proposal {proposal.pk} was rejected.")
        detail = f"Proposal {proposal.pk}: rejected, no bulk operation. Comment: {comment}"
        _record(Kind.PROPOSAL_REJECTED, proposal, user, request, detail)
        proposal_email_on_commit(proposal.pk)
    proposal.refresh_from_db()


def proposal_withdraw(*, proposal: Proposal, user, request=None) -> None:
    """The proposer takes back an open proposal; its review, if any, is discarded."""
    if proposal.proposed_by_id != user.pk:
        raise ProposalRefused("Only the person who proposed it may withdraw a proposal.")
    with transaction.atomic():
        withdrawn = Proposal.objects.filter(pk=proposal.pk, state=State.OPEN).update(
            state=State.WITHDRAWN, decided_by=user, decided_at=timezone.now()
        )
        if not withdrawn:
            raise ProposalRefused(
                f"Proposal {proposal.pk} is {proposal.get_state_display().lower()}: "
                "only an open proposal can be withdrawn."
            )
        _review_discard(proposal, f"Proposal {proposal.pk} was withdrawn.")
        detail = f"Proposal {proposal.pk}: withdrawn by its proposer, no bulk operation."
        _record(Kind.PROPOSAL_WITHDRAWN, proposal, user, request, detail)
    proposal.refresh_from_db()


def _sent_detail(proposal: Proposal, operation: BulkOperation | None = None) -> str:
    origin = f" from the review of bulk operation {operation.pk}" if operation else ""
    return (
        f"Proposal {proposal.pk}: sent for approval{origin}, {proposal.count_seen:,} leads "
        f"matching. Changes: {changes_in_words(proposal)}. Reason: {proposal.reason}"
    )


def _record(kind, proposal, user, request, detail, operation=None) -> None:
    audit_event_record(kind=kind, request=request, user=user, detail=detail, operation=operation)
