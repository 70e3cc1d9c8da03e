"""The preview's columns: which exist, which a user sees, and how values read.

A column is a schema field, or ``name`` (first and last name together).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from leadsadmin.core.values import display_datetime, local_datetime
from leadsadmin.schema import FIELDS, GROUP_LABELS, FieldType, LeadField, fields_by_group

NAME = "name"
DEFAULT_COLUMNS = (
    NAME,
    "email",
    "phone",
    "processStatuses",
    "reason",
    "salesRep",
    "makeAndModel",
    "updatedAt",
)
EMPTY = "—"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    fields: tuple[str, ...]  # what to ask the API for (select)
    sort_field: str
    lead_field: LeadField | None = None


COLUMNS: dict[str, Column] = {
    NAME: Column(NAME, "Name", ("firstName", "lastName"), "firstName"),
    **{f.name: Column(f.name, f.label, (f.name,), f.name, f) for f in FIELDS},
}


def column_choices() -> list[tuple[str, list[Column]]]:
    """The chooser's columns by schema group; ``name`` leads the contact group."""
    choices = []
    for group, fields in fields_by_group():
        columns = [COLUMNS[f.name] for f in fields]
        if group.name == "CONTACT":
            columns.insert(0, COLUMNS[NAME])
        choices.append((GROUP_LABELS[group], columns))
    return choices


# One order for columns, whatever order they were ticked in: the defaults first,
# then schema order. So ticking the default columns gives the default URL.
_COLUMN_ORDER = {
    key: number
    for number, key in enumerate(
        [*DEFAULT_COLUMNS, *(k for k in COLUMNS if k not in DEFAULT_COLUMNS)]
    )
}


def columns_from_param(values: list[str]) -> tuple[str, ...]:
    """Known column keys from ``cols`` (repeated, or comma-separated), in column order."""
    keys = {part.strip() for value in values for part in value.split(",")}
    return tuple(sorted((key for key in keys if key in COLUMNS), key=_COLUMN_ORDER.__getitem__))


def columns_select(keys) -> list[str]:
    """The fields to ask the API for; ``id`` always, for the detail link."""
    return list(dict.fromkeys(["id", *(f for key in keys for f in COLUMNS[key].fields)]))


@dataclass
class Cell:
    text: str = EMPTY
    tags: tuple[str, ...] = ()
    note: str = ""  # beside the text, quieter: a related document's id ("#12")
    more: int = 0  # list items left out of `tags`
    whole: str = ""  # the whole value, when the cell shows only part of it

    @property
    def is_empty(self) -> bool:
        return self.text == EMPTY and not self.tags

    @property
    def more_text(self) -> str:
        return f"+{self.more} more" if self.more else ""

    @property
    def full_text(self) -> str:
        """The whole value in one line: the table cuts long ones short."""
        if self.whole:
            return self.whole
        if self.tags:
            return ", ".join(self.tags)
        return f"{self.text} ({self.note})" if self.note else self.text


def lead_name(lead: dict, *, trim: str | None = None) -> str:
    """First and last name as far as they are known ("" when neither is), each
    part without the `trim` characters around it (whitespace by default)."""
    parts = (str(lead.get(f) or "").strip(trim) for f in COLUMNS[NAME].fields)
    return " ".join(part for part in parts if part)


def cell_of(column: Column, doc: dict) -> Cell:
    if column.key == NAME:
        return Cell(lead_name(doc) or EMPTY)
    return value_cell(column.lead_field, doc.get(column.key))


def value_cell(lead_field: LeadField, value) -> Cell:
    """The value as shown; date-times in the active (the user's) time zone."""
    if value is None or value == "" or value == []:
        return Cell()
    if lead_field.type in RELATION_TYPES:
        return _relation_cell(value)
    if isinstance(value, list):
        return Cell("", tuple(_plain(item) for item in value))
    if lead_field.type is FieldType.BOOLEAN:
        return Cell("yes" if value else "no")
    if lead_field.type is FieldType.DATETIME:
        return Cell(display_datetime(value))
    return Cell(_plain(value))


RELATION_TYPES = (FieldType.RELATION, FieldType.RELATION_LIST)
# A related document's fields that may name it, the first one present wins.
_NAME_FIELDS = ("name", "title", "fullName")
SHOWN_ITEMS = 3  # a relation list shows this many, then "+N more"


def needs_population(keys) -> bool:
    """Whether any of the columns is a relation: then the leads are read with
    depth 1, so that the API sends the related documents' names."""
    return any(
        COLUMNS[key].lead_field and COLUMNS[key].lead_field.type in RELATION_TYPES for key in keys
    )


def related_name(item) -> str:
    """What names a related document (depth ≥ 1): its name, title, full name,
    first and last name, or email; "" when it is a bare id or names nothing."""
    if not isinstance(item, dict):
        return ""
    for name in _NAME_FIELDS:
        if isinstance(item.get(name), str) and item[name].strip():
            return item[name].strip()
    person = " ".join(
        str(item[part]).strip() for part in ("firstName", "lastName") if item.get(part)
    )
    email = item.get("email")
    return person or (email.strip() if isinstance(email, str) else "")


def related_id(item) -> str:
    """The related document's id as "#12": never a bare number that reads as a count."""
    return f"#{_plain(item.get('id') if isinstance(item, dict) else item)}"


def related_text(item) -> str:
    """One related document in words: "Dana Smith (#12)", or "#12" alone."""
    name = related_name(item)
    return f"{name} ({related_id(item)})" if name else related_id(item)


def _relation_cell(value) -> Cell:
    if not isinstance(value, list):
        name = related_name(value)
        return Cell(name, note=related_id(value)) if name else Cell(related_id(value))
    shown = tuple(related_name(item) or related_id(item) for item in value[:SHOWN_ITEMS])
    return Cell(
        "",
        shown,
        more=max(0, len(value) - SHOWN_ITEMS),
        whole=", ".join(related_text(item) for item in value),
    )


def csv_value(column: Column, doc: dict, tz: dt.tzinfo | None = None) -> str | int | float:
    """A value for the CSV file: lists joined with "; ", date-times ISO in the user's
    zone, numbers as numbers (so the writer does not guard a negative one as a formula),
    related documents as "Dana Smith (#12)" or "#12", empty values as empty cells.

    Text is written as the API has it (the CSV writer makes it formula-safe):
    only spaces are trimmed from the name's parts, so a tab that leads a value
    stays, behind the writer's guard."""
    if column.key == NAME:
        return lead_name(doc, trim=" ")
    value = doc.get(column.key)
    if value is None:
        return ""
    if column.lead_field.type in RELATION_TYPES:
        items = value if isinstance(value, list) else [value]
        return "; ".join(related_text(item) for item in items)
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value)
    if column.lead_field.type is FieldType.BOOLEAN:
        return "yes" if value else "no"
    if column.lead_field.type is FieldType.DATETIME:
        local = local_datetime(value, tz)
        return str(value) if local is None else local.isoformat()
    if isinstance(value, int | float):
        return value
    return _plain(value)


def _plain(value) -> str:
    return "" if value is None else str(value)
