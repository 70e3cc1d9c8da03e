"""Reads for the bulk pages (and the audit list): review lines, progress, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, Min
from django.http import QueryDict
from django.utils import timezone

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError
from leadsadmin.bulk.changes import Change, body_for_lead, change_describe, value_describe
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    OperationRefused,
    bulk_drafts,
    selected_ids,
    where_for_filter_query,
)
from leadsadmin.core.values import duration_words
from leadsadmin.leads.preview import MAX_SELECTED
from leadsadmin.schema import FIELDS_BY_NAME, lead_field

State = BulkOperation.State
Outcome = PinnedLead.Outcome


@dataclass(frozen=True)
class ReviewLine:
    label: str
    name: str
    current: str  # "Qualified Lead 180, On Hold 60"
    new: str  # "Lost"


def review_lines(operation: BulkOperation) -> list[ReviewLine]:
    lines = []
    for change in operation.change_list:
        counts = operation.value_counts.get(change.field, [])
        current = ", ".join(f"{value} {count:,}" for value, count in counts)
        lines.append(
            ReviewLine(
                label=lead_field(change.field).label,
                name=change.field,
                current=current or "(none)",
                new=change_describe(change),
            )
        )
    return lines


def revert_lines(operation: BulkOperation) -> list[ReviewLine]:
    """A revert's review: per field, the values its leads go back to, with counts."""
    return [
        ReviewLine(
            label=lead_field(change.field).label,
            name=change.field,
            current="",
            new=", ".join(
                f"{value} {count:,}"
                for value, count in operation.value_counts.get(change.field, [])
            ),
        )
        for change in operation.change_list
    ]


def match_count(filter_query: str) -> dict:
    """For the change forms: {"match_count", "every_lead", "selected_count"} for the
    filter (and selection) now, or {"match_error"} saying why it cannot be counted."""
    try:
        where = where_for_filter_query(filter_query)
        selected = selected_ids(QueryDict(filter_query))
        return {
            "match_count": api.get_client().count(where=where or None),
            "every_lead": not where,
            "selected_count": len(selected) if selected is not None else None,
        }
    except (OperationRefused, LeadsApiError) as exc:
        return {"match_error": str(exc)}


def changes_summary(operation: BulkOperation) -> str:
    """ "Process status → Lost; Exterior color → add Red" """
    return "; ".join(
        f"{lead_field(change.field).label} → {change_describe(change)}"
        for change in operation.change_list
    )


@dataclass(frozen=True)
class SampleRow:
    id: int
    name: str
    email: str
    values: list[tuple[str, str]]  # (before, after) per changed field


def sample_rows(operation: BulkOperation) -> list[SampleRow]:
    changes = operation.change_list
    rows = []
    for lead in operation.sample:
        after = body_for_lead(changes, lead)
        rows.append(
            SampleRow(
                id=lead["id"],
                name=" ".join(p for p in (lead.get("firstName"), lead.get("lastName")) if p),
                email=lead.get("email") or "",
                values=[
                    (value_describe(lead.get(c.field)), value_describe(after[c.field]))
                    for c in changes
                ],
            )
        )
    return rows


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    updated: int
    errors: int
    conflicts: int
    time_left: str
    to_check: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def operation_progress(operation: BulkOperation) -> Progress:
    return Progress(
        done=operation.done_count,
        total=operation.total,
        updated=operation.updated_count,
        errors=operation.error_count,
        conflicts=operation.conflict_count,
        time_left=_time_left(operation),
        to_check=operation.check_count,
    )


def _time_left(operation: BulkOperation) -> str:
    if not operation.is_active:
        return ""
    if operation.state == State.QUEUED or operation.run_started_at is None:
        return "waiting for the worker"
    done_in_run = operation.done_count - operation.run_start_done
    last = BulkChunk.objects.filter(operation=operation).aggregate(last=Max("finished_at"))["last"]
    if done_in_run <= 0 or last is None or last <= operation.run_started_at:
        return "estimating…"
    # The pace up to the last recorded chunk, less the time since: while a chunk is
    # in flight the estimate counts down instead of climbing.
    pace = (last - operation.run_started_at).total_seconds() / done_in_run
    since = (timezone.now() - last).total_seconds()
    seconds = max(0.0, (operation.total - operation.done_count) * pace - since)
    return "about " + duration_words(timedelta(seconds=seconds))


def operation_outcome(operation: BulkOperation) -> str:
    """One line for the audit list and the page's summary."""
    if operation.state == State.REVIEWED:
        return "Reviewed, not applied"
    if operation.state == State.PINNING:
        return "Preparing the review"
    if operation.state == State.DISCARDED:
        return f"Reviewed, then discarded: nothing sent ({operation.total:,} leads reviewed)"
    summary = f"Updated {operation.updated_count:,} of {operation.total:,} leads"
    problems = []
    if operation.error_count:
        problems.append(f"{operation.error_count:,} errors")
    if operation.conflict_count:
        problems.append(f"{operation.conflict_count:,} conflicts")
    if operation.check_count:
        problems.append(f"{operation.check_count:,} to check")
    left = operation.total - operation.done_count
    if left and not operation.is_active:
        problems.append(f"{left:,} not sent")
    if problems:
        summary += " (" + ", ".join(problems) + ")"
    return f"{operation.get_state_display()}: {summary}"


def outcome_sentence(operation: BulkOperation) -> str:
    """The result in plain words: "Updated 176 of 178 leads. 2 were changed by
    someone else after your review and were left alone." """
    if operation.state == State.DISCARDED:
        why = operation.stop_reason or "Discarded."
        return f"Nothing was sent: this review was not applied. {why}"
    parts = [f"Updated {operation.updated_count:,} of {operation.total:,} leads."]
    if operation.conflict_count:
        since = f"operation {operation.reverts_id}" if operation.reverts_id else "your review"
        parts.append(
            f"{_were(operation.conflict_count)} changed by someone else after {since} "
            f"and {_were(operation.conflict_count, alone=True)} left alone."
        )
    if operation.error_count:
        parts.append(f"{_were(operation.error_count)} refused by the API (see Errors).")
    if operation.check_count:
        parts.append(
            f"{_were(operation.check_count)} given the new values, but other fields of "
            f"{'it' if operation.check_count == 1 else 'them'} changed outside this edit "
            "when a request failed on the way: check them (see Changed outside this edit)."
        )
    left = operation.total - operation.done_count
    if left and not operation.is_active:
        parts.append(f"{_were(left)} not sent: the job stopped before them.")
    return " ".join(parts)


def _were(count: int, *, alone: bool = False) -> str:
    verb = "was" if count == 1 else "were"
    return verb if alone else f"{count:,} {verb}"


def can_retry(operation: BulkOperation) -> bool:
    """Whether "Retry failed" has something to run: leads not done yet, leads that
    errored (retried on request), or an operation whose worker died."""
    if operation.is_stalled:
        return True
    if operation.state not in BulkOperation.RETRYABLE_STATES or operation.retries.exists():
        return False
    return operation.has_work_left or operation.error_count > 0


def is_partial_failure(operation: BulkOperation) -> bool:
    return (
        operation.state not in (State.REVIEWED, State.PINNING, State.DISCARDED)
        and not operation.is_active
        and operation.updated_count < operation.total
    )


def api_messages(operation: BulkOperation) -> list[tuple[str, int]]:
    """The API's messages, each with how many chunks answered it, in first-seen order."""
    rows = (
        BulkChunk.objects.filter(operation=operation)
        .exclude(message="")
        .values("message")
        .annotate(chunks=Count("id"), first=Min("number"))
        .order_by("first")
    )
    return [(row["message"], row["chunks"]) for row in rows]


@dataclass(frozen=True)
class LeadOutcomeRow:
    id: int
    values: list[tuple[str, str]]  # (before, after) per changed field; after of a
    # conflict is the value found
    message: str
    outcome: str = ""

    @property
    def message_in_words(self) -> str:
        return message_in_words(self.message)


def outcome_rows(operation: BulkOperation, outcome: str | None, limit: int, offset: int = 0):
    """A page of the operation's leads (of one outcome, or all) with each changed
    field's value before and after."""
    leads = PinnedLead.objects.filter(operation=operation).order_by("lead_id")
    if outcome is not None:
        leads = leads.filter(outcome=outcome)
    return lead_outcome_rows(operation, leads[offset : offset + limit])


def lead_outcome_rows(operation: BulkOperation, leads) -> list[LeadOutcomeRow]:
    changes: list[Change] = operation.change_list
    return [
        LeadOutcomeRow(
            id=lead.lead_id,
            values=[
                (
                    value_describe(lead.before.get(c.field)),
                    value_describe((lead.after or {}).get(c.field))
                    if c.field in (lead.after or {})
                    else "",
                )
                for c in changes
            ],
            message=lead.message,
            outcome=Outcome(lead.outcome).label,
        )
        for lead in leads
    ]


# The API's messages as Payload words them, and what they mean to a person.
_MESSAGES_IN_WORDS = (
    ("The following field is invalid", "The API refused a value:"),
    ("The following fields are invalid", "The API refused some values:"),
    ("Unable to update", "The API could not update some of these leads:"),
    ("You are not allowed to perform this action", "The API key may not change leads."),
    ("Not Found", "The lead no longer exists."),
)


def message_in_words(message: str) -> str:
    """A plain sentence for an API message; the raw message is kept beside it."""
    for start, words in _MESSAGES_IN_WORDS:
        if message.startswith(start):
            detail = message[len(start) :].lstrip(":. ").strip()
            return f"{words} {detail}".strip() if words.endswith(":") else words
    return message


@dataclass(frozen=True)
class OutsideChangeRow:
    """One field of a lead to check: what it held at review (an edited field: the
    new value) and what it holds now."""

    id: int
    label: str
    expected: str
    found: str


def outside_change_rows(operation: BulkOperation, limit: int) -> list[OutsideChangeRow]:
    """The first `limit` leads changed outside the edit, one row per field found changed."""
    leads = (
        PinnedLead.objects.filter(operation=operation, outcome=Outcome.CHECK)
        .order_by("lead_id")
        .values_list("lead_id", "outside_changes")[:limit]
    )
    return [
        OutsideChangeRow(
            id=lead_id,
            label=FIELDS_BY_NAME[name].label if name in FIELDS_BY_NAME else name,
            expected=value_describe(expected),
            found=value_describe(found),
        )
        for lead_id, changes in leads
        for name, expected, found in changes or []
    ]


def problem_rows_for_csv(operation: BulkOperation):
    """(lead id, outcome, message) for every errored, conflicting or to-check lead, streamed."""
    leads = (
        PinnedLead.objects.filter(
            operation=operation, outcome__in=(Outcome.ERROR, Outcome.CONFLICT, Outcome.CHECK)
        )
        .order_by("lead_id")
        .values_list("lead_id", "outcome", "message")
    )
    for lead_id, outcome, message in leads.iterator(chunk_size=1000):
        yield lead_id, Outcome(outcome).label, message


# ---------------------------------------------------------------- drafts


@dataclass(frozen=True)
class DraftRow:
    id: int
    created_at: object  # datetime, shown with `moment`
    total: int
    changes: str  # "Process status → Lost; Reason → Duplicate"
    reason: str
    editable: bool  # a revert's draft has no change form to go back to


DRAFTS_SHOWN = 20


def draft_rows(user) -> list[DraftRow]:
    """`user`'s reviews not applied yet, newest first (expired ones are discarded)."""
    return [
        DraftRow(
            id=draft.pk,
            created_at=draft.created_at,
            total=draft.total,
            changes=changes_summary(draft),
            reason=draft.reason,
            editable=draft.reverts_id is None,
        )
        for draft in bulk_drafts(user)[:DRAFTS_SHOWN]
    ]


# ---------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class ConflictRow:
    id: int
    values: list[tuple[str, str, str]]  # (label, expected at review, found)
    changed_at: str  # the updatedAt found, "" when unknown
    message: str

    @property
    def other_fields_changed(self) -> bool:
        """Every changed field still holds what the review expected: the lead
        conflicts because someone changed another of its fields."""
        return all(expected == found for _, expected, found in self.values)


def conflict_rows(operation: BulkOperation, limit: int) -> list[ConflictRow]:
    """The leads changed by someone else after the review: per changed field the
    value the review expected and the value found instead, and when it changed
    (the API says when, not who)."""
    changes: list[Change] = operation.change_list
    leads = PinnedLead.objects.filter(operation=operation, outcome=Outcome.CONFLICT)
    rows = []
    for lead in leads.order_by("lead_id")[:limit]:
        found = lead.after or {}
        rows.append(
            ConflictRow(
                id=lead.lead_id,
                values=[
                    (
                        c.lead_field.label,
                        value_describe(lead.before.get(c.field)),
                        value_describe(found[c.field]) if c.field in found else "unknown",
                    )
                    for c in changes
                ],
                changed_at=found.get("updatedAt") or "",
                message=lead.message,
            )
        )
    return rows


def conflict_ids(operation: BulkOperation) -> list[int] | None:
    """The conflicting leads' ids for "Review these again"; None when there are
    more than one selection may hold (or none)."""
    ids = list(
        PinnedLead.objects.filter(operation=operation, outcome=Outcome.CONFLICT)
        .order_by("lead_id")
        .values_list("lead_id", flat=True)[: MAX_SELECTED + 1]
    )
    return ids if 0 < len(ids) <= MAX_SELECTED else None


def can_review_again(operation: BulkOperation) -> bool:
    """Whether the conflicts can go through a fresh review with the same changes
    (a revert's conflicts cannot: its changes are per-lead restores)."""
    return (
        operation.has_ended
        and operation.reverts_id is None
        and 0 < operation.conflict_count <= MAX_SELECTED
    )
