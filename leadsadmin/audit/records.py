"""The audit record in plain data: one row per operation, per lead, per history
line; the pages, the CSV and the JSON exports all read these."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.http import QueryDict
from django.template.defaultfilters import pluralize

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError
from leadsadmin.bulk.changes import value_describe
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.bulk.operations import selected_ids
from leadsadmin.bulk.selectors import changes_summary, message_in_words, operation_outcome
from leadsadmin.core.values import iso_utc
from leadsadmin.leads.builder import operator_label
from leadsadmin.leads.filters import Condition, Group, filter_from_querydict
from leadsadmin.schema import FIELDS_BY_NAME, lead_field

# (key in the JSON export and the page, column of the CSV export)
OPERATION_COLUMNS = (
    ("operation", "Operation"),
    ("state", "State"),
    ("outcome", "Outcome"),
    ("reviewed_by", "Reviewed by"),
    ("reviewed_at", "Reviewed at (UTC)"),
    ("reviewed_from", "Reviewed from"),
    ("applied_by", "Applied by"),
    ("applied_at", "Applied at (UTC)"),
    ("applied_from", "Applied from"),
    ("started_at", "Started (UTC)"),
    ("ended_at", "Ended (UTC)"),
    ("duration_s", "Duration (s)"),
    ("reason", "Reason"),
    ("filter", "Filter"),
    ("changes", "Changes"),
    ("leads_pinned", "Leads pinned"),
    ("updated", "Updated"),
    ("errors", "Errors"),
    ("conflicts", "Conflicts"),
    ("to_check", "Changed outside the edit (to check)"),
    ("reverts", "Reverts operation"),
    ("retry_of", "Retry of operation"),
)
OPERATION_HEADER = [label for _, label in OPERATION_COLUMNS]


def _utc(moment) -> str:
    return iso_utc(moment) if moment else ""


def _name(user) -> str:
    return user.get_username() if user else ""


def operation_row(operation: BulkOperation) -> dict:
    """Everything the audit says of one operation, as plain values (UTC ISO times)."""
    duration = operation.duration
    values = (
        operation.pk,
        operation.get_state_display(),
        operation_outcome(operation),
        _name(operation.created_by),
        _utc(operation.created_at),
        operation.reviewed_from or "",
        _name(operation.applied_by),
        _utc(operation.applied_at),
        operation.applied_from or "",
        _utc(operation.started_at),
        _utc(operation.finished_at),
        round(duration.total_seconds(), 1) if duration else "",
        operation.reason,
        " or ".join(filter_in_words(operation)),
        changes_summary(operation),
        operation.total,
        operation.updated_count,
        operation.error_count,
        operation.conflict_count,
        operation.check_count,
        operation.reverts_id or "",
        operation.retry_of_id or "",
    )
    return dict(zip((key for key, _ in OPERATION_COLUMNS), values, strict=True))


def filter_in_words(operation: BulkOperation) -> list[str]:
    """What the operation was run on, in words, one line per condition group: a
    revert's leads are those the reverted operation updated; otherwise the filter
    as the person chose it on the leads page (a condition the API is sent as lead
    ids says so), and the selection it was narrowed to. The where the API got
    when the filter cannot be read back."""
    if operation.reverts_id:
        return [f"The leads operation {operation.reverts_id} updated"]
    query = QueryDict(operation.filter_query)
    tree = filter_from_querydict(query)
    if not tree.is_valid:
        return where_in_words(operation.where)
    lines = [words for group in tree.groups if (words := _tree_group_in_words(group))]
    selected = selected_ids(query)  # it passed this at review: it reads
    if selected:
        count = len(selected)
        chosen_from = " or ".join(lines) if lines else "every lead"
        return [f"The {count} selected lead{pluralize(count)} of {chosen_from}"]
    return lines or ["Every lead (no filter)"]


def _tree_group_in_words(group: Group) -> str:
    parts = []
    for item in group.items:
        if isinstance(item, Group):
            if inner := _tree_group_in_words(item):
                parts.append(f"({inner})")
        elif not item.is_blank:
            parts.append(_condition_in_words(item))
    return f" {group.combinator} ".join(parts)


def _condition_in_words(condition: Condition) -> str:
    field = condition.lead_field
    words = f"{field.label} {operator_label(field, condition.op)}"
    if condition.values:
        words += " " + ", ".join(condition.values)
    if condition.needs_resolution:
        words += " (sent to the API as the ids of the leads it matched at review)"
    return words


def where_in_words(where: dict) -> list[str]:
    """The where-filter, one line per condition group, readable: "Process status is
    any of Lost, On Hold"."""
    if not where:
        return ["Every lead (no filter)"]
    groups = where.get("or") or [where]
    return [_group_in_words(group) for group in groups]


def _group_in_words(group: dict) -> str:
    parts = []
    for condition in group.get("and") or [group]:
        for name, ops in condition.items():
            if name in ("and", "or"):
                parts.append("(" + "; or ".join(where_in_words(condition)) + ")")
                continue
            label = FIELDS_BY_NAME[name].label if name in FIELDS_BY_NAME else name
            for op, value in ops.items():
                parts.append(f"{label} {op.replace('_', ' ')} {value_describe(value)}")
    return " and ".join(parts)


def lead_columns(operation: BulkOperation) -> tuple[str, ...]:
    fields = [c.lead_field.label for c in operation.change_list]
    return (
        "Lead ID",
        "Outcome",
        *(f"{label} before" for label in fields),
        *(f"{label} after" for label in fields),
        "Message",
        "Message from the API",
    )


def lead_rows(operation: BulkOperation) -> Iterator[dict]:
    """Every pinned lead of the operation: outcome, before and after per field
    (after a conflict: the value found), the message in words and as sent."""
    columns = lead_columns(operation)
    names = [c.field for c in operation.change_list]
    pins = PinnedLead.objects.filter(operation=operation).order_by("lead_id")
    for pin in pins.iterator(chunk_size=2000):
        after = pin.after or {}
        values = (
            pin.lead_id,
            PinnedLead.Outcome(pin.outcome).label,
            *(_export_value(pin.before.get(name)) for name in names),
            *(_export_value(after[name]) if name in after else "" for name in names),
            message_in_words(pin.message),
            pin.message,
        )
        yield dict(zip(columns, values, strict=True))


def _export_value(value) -> str:
    """A value for an export file: an empty one is an empty cell, not "(empty)"."""
    return "" if value is None or value == [] or value == "" else value_describe(value)


@dataclass
class HistoryRow:
    operation: BulkOperation
    outcome: str
    message: str
    values: list[tuple[str, str, str]]  # (field label, before, after)


def history_rows(pins) -> list[HistoryRow]:
    rows = []
    for pin in pins:
        after = pin.after or {}
        rows.append(
            HistoryRow(
                operation=pin.operation,
                outcome=PinnedLead.Outcome(pin.outcome).label,
                message=message_in_words(pin.message),
                values=[
                    (
                        lead_field(name).label,
                        value_describe(value),
                        value_describe(after[name]) if name in after else "",
                    )
                    for name, value in pin.before.items()
                ],
            )
        )
    return rows


@dataclass
class LeadsFound:
    ids: list[int] = field(default_factory=list)
    error: str = ""


def lead_ids_for(text: str) -> LeadsFound:
    """The lead id typed, or the ids of the leads with that email (through the API)."""
    if text.isdigit():
        return LeadsFound([int(text)])
    if "@" not in text:
        return LeadsFound(error="Type a lead id (a number) or an email address.")
    try:
        # `like` ignores upper and lower case (emails do too); exact matches only.
        found = api.get_client().find(
            where={"email": {"like": text}}, limit=50, select=["id", "email"]
        )
    except LeadsApiError as exc:
        return LeadsFound(error=f"The leads API could not look up that email: {exc}")
    ids = [d["id"] for d in found.docs if str(d.get("email") or "").lower() == text.lower()]
    if not ids:
        return LeadsFound(error=f"No lead has the email {text}.")
    return LeadsFound(ids)
