"""Requested changes → per-lead PATCH bodies. Pure: no database, no HTTP.

A bulk operation asks for one `Change` per field:

- ``replace``: set the field to the value (for an enum list: to exactly these items);
- ``clear``:   set the field to null (Payload stores null on a hasMany select as []);
- ``add``:     enum lists only: the lead's current items plus these;
- ``remove``:  enum lists only: the lead's current items minus these.

Payload has no append/remove over REST (any array value replaces the stored
one: docs/api/payload-contract.md 4.1), so add/remove are worked out
per lead from the values pinned at review; leads that end with the same body
share one request.

Values are validated against the schema here, before any request: Payload
silently coerces some bad values instead of rejecting them (a number given "abc"
becomes null, a hasMany select given a bare string becomes []: behaviour 4 in
docs/api/payload-observed.md), so nothing may reach it that the
schema does not allow. A date-time typed without a zone is read in the user's
time zone (core.values).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from leadsadmin.core.values import iso_utc, parse_datetime, parse_number
from leadsadmin.schema import BULK_EDITABLE_FIELDS, FieldType, LeadField, lead_field

REPLACE = "replace"
ADD = "add"
REMOVE = "remove"
CLEAR = "clear"
MODES = (REPLACE, ADD, REMOVE, CLEAR)
# A revert's change: each lead goes back to its own value before operation N
# (the value is N). Never asked for in a form, so not among MODES.
RESTORE = "restore"
# The words the form shows for the enum-list modes.
MODE_LABELS = {REPLACE: "Replace with", ADD: "Add items", REMOVE: "Remove items"}

BULK_EDITABLE_NAMES = frozenset(f.name for f in BULK_EDITABLE_FIELDS)


class ChangeInvalid(ValueError):
    """A requested change the schema does not allow; str() is a sentence for the form."""


@dataclass(frozen=True)
class Change:
    field: str
    mode: str
    value: Any = None

    @property
    def lead_field(self) -> LeadField:
        return lead_field(self.field)

    @property
    def depends_on_current_value(self) -> bool:
        return self.mode in (ADD, REMOVE)

    def as_json(self) -> dict:
        return {"field": self.field, "mode": self.mode, "value": self.value}

    @classmethod
    def from_json(cls, data: Mapping) -> Change:
        return cls(field=data["field"], mode=data["mode"], value=data.get("value"))


def change_validate(field_name: str, mode: str, raw: Any) -> Change:
    """A valid Change from form input, or ChangeInvalid saying what is wrong.

    `raw` is a string for scalar fields and a list of strings for list fields
    (the checked options, or the ids typed for a relation list).
    """
    if field_name not in BULK_EDITABLE_NAMES:
        raise ChangeInvalid(f"{field_name!r} is not a field that can be bulk edited.")
    field = lead_field(field_name)
    if mode not in MODES:
        raise ChangeInvalid(f"Choose how to change {field.label}.")
    if mode == CLEAR:
        if not field.nullable:
            raise ChangeInvalid(f"{field.label} cannot be cleared.")
        return Change(field_name, CLEAR, None)
    if mode in (ADD, REMOVE) and field.type != FieldType.ENUM_LIST:
        raise ChangeInvalid("Items can only be added to or removed from lists of options.")
    return Change(field_name, mode, _value_validate(field, mode, raw))


def _value_validate(field: LeadField, mode: str, raw: Any) -> Any:
    match field.type:
        case FieldType.ENUM_LIST:
            items = _as_list(raw)
            unknown = [item for item in items if item not in field.options]
            if unknown:
                raise ChangeInvalid(
                    f"{field.label} has no option {_quoted(unknown)}; "
                    "options are matched exactly, including upper and lower case."
                )
            if not items and mode != REPLACE:
                verb = "add" if mode == ADD else "remove"
                raise ChangeInvalid(f"Choose at least one {field.label} item to {verb}.")
            # Keep the schema's order and drop repeats: Payload rejects duplicates.
            return [option for option in field.options if option in items]
        case FieldType.RELATION_LIST:
            return _ids(field, _as_list(raw))
        case _:
            text = _as_text(raw)
            if text == "":
                raise ChangeInvalid(f"Enter a value for {field.label}, or tick Clear value.")
            return _scalar_validate(field, text)


def _scalar_validate(field: LeadField, text: str) -> Any:
    match field.type:
        case FieldType.TEXT:
            return text
        case FieldType.ENUM:
            if text not in field.options:
                raise ChangeInvalid(
                    f"{text!r} is not an option of {field.label}; "
                    "options are matched exactly, including upper and lower case."
                )
            return text
        case FieldType.NUMBER:
            return _number(field, text)
        case FieldType.BOOLEAN:
            if text.lower() in ("true", "yes", "1"):
                return True
            if text.lower() in ("false", "no", "0"):
                return False
            raise ChangeInvalid(f"{field.label} is yes or no, not {text!r}.")
        case FieldType.DATETIME:
            return _datetime(field, text)
        case FieldType.RELATION:
            return _ids(field, [text])[0]
    raise ChangeInvalid(f"{field.label} cannot be bulk edited.")  # pragma: no cover


def _number(field: LeadField, text: str) -> int | float:
    try:
        return parse_number(text)
    except ValueError:
        pass
    # Say which rule the text broke: parse_number also refuses NaN and infinities.
    try:
        float(text)
    except ValueError:
        raise ChangeInvalid(f"{field.label} must be a number, not {text!r}.") from None
    raise ChangeInvalid(f"{field.label} must be a finite number, not {text!r}.")


def _datetime(field: LeadField, text: str) -> str:
    """Payload's own format; a time typed without a zone is in the user's."""
    try:
        return iso_utc(parse_datetime(text))
    except ValueError:
        raise ChangeInvalid(
            f"{field.label} must be a date and time such as 2026-05-01T09:30, not {text!r}."
        ) from None


def _ids(field: LeadField, items: list[str]) -> list[int]:
    ids = []
    for item in items:
        for part in str(item).replace(",", " ").split():
            if not part.isdigit() or int(part) < 1:
                raise ChangeInvalid(f"{field.label} takes lead ids (whole numbers), not {part!r}.")
            if int(part) not in ids:
                ids.append(int(part))
    if field.type == FieldType.RELATION and len(ids) != 1:
        raise ChangeInvalid(f"{field.label} takes exactly one id.")
    return ids


def _as_list(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    return [str(item) for item in raw if str(item).strip()]


def _as_text(raw: Any) -> str:
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else ""
    return "" if raw is None else str(raw).strip()


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(repr(item) for item in items)


def body_for_lead(changes: Iterable[Change], current: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body for one lead whose current values of the changed fields are
    `current` (pinned at review). Only add/remove read `current`."""
    body = {}
    for change in changes:
        if change.mode == CLEAR:
            body[change.field] = None
        elif change.mode == REPLACE:
            body[change.field] = change.value
        else:
            items = list(current.get(change.field) or [])
            if change.mode == ADD:
                items += [item for item in change.value if item not in items]
            else:
                items = [item for item in items if item not in change.value]
            body[change.field] = items
    return body


def body_key(body: Mapping[str, Any]) -> str:
    """A stable text for a body: leads whose bodies have the same key share a request."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def body_applied(body: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    """Whether a lead as read from the API already holds every value of `body`
    (used to recognise a chunk that the API applied before a crash)."""
    for name, value in body.items():
        current = doc.get(name)
        if lead_field(name).is_list:
            if sorted(current or [], key=str) != sorted(value or [], key=str):
                return False
        elif current != value:
            return False
    return True


def change_describe(change: Change) -> str:
    """The new value in words, for the review and the audit: "Lost", "add Red, Blue"."""
    if change.mode == CLEAR:
        return "(cleared)"
    if change.mode == RESTORE:
        return f"back to the values before operation {change.value}"
    if change.mode == ADD:
        return "add " + value_describe(change.value)
    if change.mode == REMOVE:
        return "remove " + value_describe(change.value)
    if lead_field(change.field).is_list and not change.value:
        return "(no items)"
    return value_describe(change.value)


def value_describe(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(value_describe(item) for item in value) if value else "(no items)"
    return str(value)
