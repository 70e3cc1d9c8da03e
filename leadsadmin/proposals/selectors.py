"""Reads for the proposal pages, the navigation and the notices."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import QuerySet

from leadsadmin.audit.models import AuditEvent
from leadsadmin.bulk.changes import change_describe
from leadsadmin.bulk.models import BulkOperation
from leadsadmin.proposals.models import Proposal
from leadsadmin.schema import lead_field

State = Proposal.State
OperationState = BulkOperation.State
PROPOSAL_KINDS = (
    AuditEvent.Kind.PROPOSAL_SENT,
    AuditEvent.Kind.PROPOSAL_APPROVED,
    AuditEvent.Kind.PROPOSAL_REJECTED,
    AuditEvent.Kind.PROPOSAL_WITHDRAWN,
)


@dataclass(frozen=True)
class ChangeLine:
    label: str
    name: str
    new: str


def change_lines(proposal: Proposal) -> list[ChangeLine]:
    return [
        ChangeLine(lead_field(change.field).label, change.field, change_describe(change))
        for change in proposal.change_list
    ]


def changes_in_words(proposal: Proposal) -> str:
    """ "Process status → Lost; Exterior color → add Red" """
    return "; ".join(f"{line.label} → {line.new}" for line in change_lines(proposal))


def proposals_to_decide(user) -> QuerySet[Proposal]:
    """Open proposals `user` may decide: everyone's but their own."""
    return Proposal.objects.filter(state=State.OPEN).exclude(proposed_by=user)


def proposal_events(proposal: Proposal) -> QuerySet[AuditEvent]:
    """The proposal's audit events, oldest first (their detail starts "Proposal N:")."""
    return (
        AuditEvent.objects.filter(
            kind__in=PROPOSAL_KINDS, detail__startswith=f"Proposal {proposal.pk}:"
        )
        .select_related("user")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class CountComparison:
    then: int
    now: int

    @property
    def difference(self) -> int:
        return self.now - self.then

    @property
    def difference_text(self) -> str:
        if self.difference == 0:
            return "the same number as when it was proposed"
        more_or_fewer = "more" if self.difference > 0 else "fewer"
        return f"{abs(self.difference):,} {more_or_fewer} than when it was proposed"


def proposal_notice(proposal: Proposal) -> tuple[int, str]:
    """(message level, text) telling the proposer the proposal's outcome so far."""
    who = proposal.decided_by.get_username() if proposal.decided_by_id else ""
    if proposal.state == State.REJECTED:
        return messages.WARNING, f"Proposal {proposal.pk} was rejected by {who}: {proposal.comment}"
    if proposal.state != State.APPROVED or proposal.operation is None:
        return messages.INFO, f"Proposal {proposal.pk} is {proposal.get_state_display().lower()}."
    operation = proposal.operation
    updated = f"{operation.updated_count:,} lead{'s' if operation.updated_count != 1 else ''}"
    if operation.state == OperationState.FINISHED:
        return (
            messages.SUCCESS,
            f"Approved and applied: {updated} updated (proposal {proposal.pk}, approved by {who}).",
        )
    if operation.has_ended:
        return (
            messages.ERROR,
            f"Proposal {proposal.pk} was approved by {who}, but its bulk operation "
            f"{operation.get_state_display().lower()}: {updated} of {operation.total:,} updated.",
        )
    return (
        messages.INFO,
        f"Proposal {proposal.pk} was approved by {who}: "
        f"its {operation.total:,} leads are being updated.",
    )
