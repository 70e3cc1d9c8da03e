"""The "choose changes" form: one row per chosen field, generated from the schema.

Not a django.forms.Form: its fields are chosen by the user at run time, one row
each, and every row is validated by `changes.change_validate` (the schema).
Field names in the POST data:

    fields           the chosen field names, in order (repeated)
    value-<name>     the new value (repeated for the items of an enum list)
    mode-<name>      for enum lists: replace / add / remove
    clear-<name>     "1" when Clear value is ticked
    reason           Reason for this change
    add_field        the field picked in "Add field to change"
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsadmin.bulk.changes import (
    ADD,
    BULK_EDITABLE_NAMES,
    CLEAR,
    MODE_LABELS,
    REMOVE,
    REPLACE,
    Change,
    ChangeInvalid,
    change_validate,
)
from leadsadmin.schema import (
    BULK_EDITABLE_FIELDS,
    GROUP_LABELS,
    FieldType,
    Group,
    LeadField,
    lead_field,
)

REASON_MAX_LENGTH = 2000

# The HTML control each field type gets.
CONTROLS = {
    FieldType.TEXT: "text",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "yesno",
    FieldType.DATETIME: "datetime",
    FieldType.ENUM: "select",
    FieldType.ENUM_LIST: "checkboxes",
    FieldType.RELATION: "id",
    FieldType.RELATION_LIST: "ids",
}


@dataclass
class ChangeRow:
    field: LeadField
    mode: str = REPLACE
    clear: bool = False
    value: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def control(self) -> str:
        return CONTROLS[self.field.type]

    @property
    def text(self) -> str:
        return self.value[0] if self.value else ""

    @property
    def modes(self) -> list[tuple[str, str]]:
        if self.field.type != FieldType.ENUM_LIST:
            return []
        return [(mode, MODE_LABELS[mode]) for mode in (REPLACE, ADD, REMOVE)]

    @property
    def options(self) -> list[tuple[str, bool]]:
        """(option, chosen) pairs for selects and checkboxes."""
        return [(option, option in self.value) for option in self.field.options]

    def change(self) -> Change:
        mode = CLEAR if self.clear else self.mode
        raw = self.value if self.field.is_list else self.text
        return change_validate(self.name, mode, raw)


class ChangeForm:
    def __init__(self, rows: list[ChangeRow] | None = None, reason: str = ""):
        self.rows = rows or []
        self.reason = reason
        self.reason_error = ""
        self.form_error = ""
        self.changes: list[Change] = []

    @classmethod
    def from_data(cls, data) -> ChangeForm:
        """The form as submitted; unknown or repeated field names are dropped."""
        rows, seen = [], set()
        for name in data.getlist("fields"):
            if name in seen or name not in BULK_EDITABLE_NAMES:
                continue
            seen.add(name)
            rows.append(cls.row_from_data(name, data))
        return cls(rows, reason=data.get("reason", "").strip())

    @staticmethod
    def row_from_data(name: str, data) -> ChangeRow:
        mode = data.get(f"mode-{name}", REPLACE)
        return ChangeRow(
            field=lead_field(name),
            mode=mode if mode in (REPLACE, ADD, REMOVE) else REPLACE,
            clear=data.get(f"clear-{name}") == "1",
            value=list(data.getlist(f"value-{name}")),
        )

    @property
    def chosen(self) -> set[str]:
        return {row.name for row in self.rows}

    def add_field(self, name: str) -> ChangeRow | None:
        """Adds a row for `name`; None (and a form error) if it cannot be added."""
        if name not in BULK_EDITABLE_NAMES:
            self.form_error = "Choose a field to add from the list."
            return None
        if name in self.chosen:
            return None
        row = ChangeRow(field=lead_field(name))
        self.rows.append(row)
        return row

    def remove_field(self, name: str) -> None:
        self.rows = [row for row in self.rows if row.name != name]

    def is_valid(self) -> bool:
        self.changes = []
        for row in self.rows:
            try:
                self.changes.append(row.change())
            except ChangeInvalid as exc:
                row.error = str(exc)
        if not self.reason:
            self.reason_error = "Give a reason for this change: it is kept with the operation."
        elif len(self.reason) > REASON_MAX_LENGTH:
            self.reason_error = f"Keep the reason under {REASON_MAX_LENGTH} characters."
        if not self.rows:
            self.form_error = "Add at least one field to change."
        valid = not (self.form_error or self.reason_error)
        return valid and all(not row.error for row in self.rows)

    def field_choices(self) -> list[tuple[str, list[LeadField]]]:
        """The fields still available in "Add field to change", by group."""
        return field_choices(exclude=self.chosen)


def field_choices(exclude=frozenset()) -> list[tuple[str, list[LeadField]]]:
    groups = []
    for group in Group:
        fields = [f for f in BULK_EDITABLE_FIELDS if f.group == group and f.name not in exclude]
        if fields:
            groups.append((GROUP_LABELS[group], fields))
    return groups
