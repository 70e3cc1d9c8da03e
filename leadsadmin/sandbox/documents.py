"""Leads as Payload documents: reading rows out as JSON, and turning a PATCH body
into column values the way Payload coerces and validates them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from leadsadmin.schema import FIELDS, FieldType, LeadField

from .limits import fits_int64
from .where import (
    ServerFault,
    bound_text,
    element_text,
    js_date,
    js_parse_float,
    js_string,
    payload_datetime,
)

COLLECTION = "leads"

# Payload writes a document's fields in its config order, which is the schema's order
# (the contract server's config is generated from it), with the timestamps last.
# Validation messages list fields in this order too.
_TIMESTAMPS = ("updatedAt", "createdAt")
DATA_FIELDS: tuple[LeadField, ...] = tuple(
    f for f in FIELDS if f.name != "id" and f.name not in _TIMESTAMPS
)
TIMESTAMP_FIELDS: tuple[LeadField, ...] = tuple(f for f in FIELDS if f.name in _TIMESTAMPS)
_BY_NAME = {f.name: f for f in FIELDS}
DOC_FIELDS: tuple[LeadField, ...] = (_BY_NAME["id"], *DATA_FIELDS, *TIMESTAMP_FIELDS)
LIST_FIELDS: tuple[LeadField, ...] = tuple(f for f in DATA_FIELDS if f.is_list)


def now_ms() -> datetime:
    """Now, to the millisecond: Payload's timestamps have no finer precision, and a
    client that compares a timestamp it read must find the same value stored."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def json_number(value):
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _datetime_out(value):
    return payload_datetime(value) if value is not None else None


def _list_out(value):
    return list(value or [])


def _output_converter(field: LeadField):
    """How a column's value becomes the document's; None: as it is."""
    if field.type in (FieldType.NUMBER, FieldType.RELATION) or field.name == "id":
        return json_number
    if field.type == FieldType.DATETIME:
        return _datetime_out
    if field.type == FieldType.ENUM_LIST:
        return _list_out
    return None


# Decided once per field, not per value: a page of 500 whole leads converts
# 42,500 values (bench/bench_review.py).
_OUTPUT_CONVERTERS = {f.name: _output_converter(f) for f in FIELDS}


def selected_fields(select) -> tuple[LeadField, ...]:
    """The fields a `select` asks for: include mode (only the truthy ones) unless
    some field is set to false (exclude mode); `id` always."""
    if not isinstance(select, dict) or not select:
        return DOC_FIELDS
    select = {k: {"true": True, "false": False}.get(v, v) for k, v in select.items()}
    if any(value is False for value in select.values()):
        # Exclude mode leaves out every field the select names, even one set to true.
        return tuple(f for f in DOC_FIELDS if f.name == "id" or f.name not in select)
    return tuple(f for f in DOC_FIELDS if f.name == "id" or _truthy(select.get(f.name)))


def _truthy(value) -> bool:
    return bool(value) and value != "0" if isinstance(value, str) else bool(value)


def sales_rep_doc(rep) -> dict:
    """A populated `salesRep`: the related document as Payload returns it."""
    return {
        "id": rep.pk,
        "name": rep.name,
        "email": rep.email,
        "updatedAt": payload_datetime(rep.updatedAt),
        "createdAt": payload_datetime(rep.createdAt),
    }


def lead_doc(row: dict, fields: tuple[LeadField, ...] = DOC_FIELDS) -> dict:
    """The document for a row from `Lead.objects.values(...)`."""
    doc = {}
    for f in fields:
        value = row[f.name]
        convert = _OUTPUT_CONVERTERS[f.name]
        doc[f.name] = value if convert is None else convert(value)
    return doc


# --- writing ----------------------------------------------------------------


@dataclass
class FieldError:
    field: LeadField
    message: str

    def as_dict(self) -> dict:
        return {
            "label": self.field.payload_label,
            "message": self.message,
            "path": self.field.name,
        }


@dataclass
class Changes:
    """A PATCH body turned into column values, plus the errors of the body itself."""

    values: dict = field(default_factory=dict)
    errors: dict[str, FieldError] = field(default_factory=dict)


INVALID_SELECTION = "This field has an invalid selection."
TRUE_OR_FALSE = "This field can only be equal to true or false."
ENTER_NUMBER = "Please enter a valid number."
INVALID_INPUT = "This field has an invalid input."


def changes_from_body(body: dict) -> Changes:
    """Coerces each known field of the body like Payload's beforeValidate hooks and
    validates it like Payload's field validations. Unknown keys, `id` and
    `updatedAt` are ignored; `createdAt` is set when it reads as a date."""
    changes = Changes()
    if "createdAt" in body:
        changes.values["createdAt"] = _created_at(body["createdAt"])
    for f in DATA_FIELDS:
        if f.name not in body:
            continue
        value, error = _coerce_for_storage(f, body[f.name])
        if error:
            changes.errors[f.name] = FieldError(f, error)
        else:
            changes.values[f.name] = value
    return changes


def _created_at(value) -> datetime:
    """createdAt as Payload stores it from text or epoch milliseconds; anything else,
    or text that is no date, fails its hooks with a 500."""
    date = js_date(value) if isinstance(value, (str, int, float)) else None
    if not isinstance(date, datetime) or isinstance(value, bool):
        raise ServerFault("createdAt is not a date")
    return date


def _coerce_for_storage(f: LeadField, value) -> tuple[object, str | None]:
    match f.type:
        case FieldType.TEXT:
            if isinstance(value, str) and "\x00" in value:
                # Payload's SQLite cuts the text at NUL, PostgreSQL refuses it: never stored.
                return None, INVALID_INPUT
            if value is None or isinstance(value, str):
                return value, None
            if isinstance(value, (dict, list)):
                return json.dumps(value, separators=(",", ":")), None
            return js_string(value), None
        case FieldType.NUMBER | FieldType.RELATION:
            if isinstance(value, str):
                text = value.strip()
                number = None if not text else js_parse_float(text)
                return _stored_number(None if number is None or math.isnan(number) else number)
            if value is None or isinstance(value, bool):
                return None, None  # Payload saves true/false in a number as null
            if isinstance(value, (int, float)):
                return _stored_number(float(value))
            return None, INVALID_INPUT if isinstance(value, list) else ENTER_NUMBER
        case FieldType.BOOLEAN:
            if value in ("true", "false"):
                return value == "true", None
            if value == "":
                return False, None
            if value is None or isinstance(value, bool):
                return value, None
            if not value:  # 0 and other falsy values pass Payload's check
                return False, None
            return None, TRUE_OR_FALSE
        case FieldType.ENUM:
            if value is None:
                return None, None
            if isinstance(value, list):
                return None, INVALID_SELECTION
            if isinstance(value, str):
                return (value, None) if value in f.options else (None, INVALID_SELECTION)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return bound_text(value), None  # bound as REAL: 5 is stored as "5.0"
            return js_string(value), None
        case FieldType.ENUM_LIST:
            error = enum_list_error(f, value)
            if error:
                return None, error
            # Payload stores only arrays: a bare string (even a valid option) or
            # null becomes an empty list.
            return (list(value) if isinstance(value, list) else []), None
        case FieldType.RELATION_LIST:
            # A JSON field on the contract server: text must hold JSON.
            return (None, INVALID_INPUT) if _not_json(value) else (value, None)
    return value, None


def _stored_number(number: float | None) -> tuple[float | None, str | None]:
    """A number is stored only when finite and within 64 bits (Payload stores 1e23
    as it is, and an infinite one as null): a value no integer holds is refused,
    neither kept nor silently lost."""
    if number is not None and not fits_int64(number):
        return None, ENTER_NUMBER
    return number, None


def _not_json(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return True
    return False


def enum_list_error(f: LeadField, value) -> str | None:
    if isinstance(value, list):
        if any(not isinstance(v, str) or v not in f.options for v in value):
            return INVALID_SELECTION
        duplicates = [v for v in value if value.count(v) > 1]
        if duplicates:
            listed = ",".join(f" {json.dumps(v)}" for v in duplicates)
            return f"This field has the following invalid selections:{listed}"
        return None
    if isinstance(value, str) and value not in f.options:
        return INVALID_SELECTION
    return None


def stored_value_error(f: LeadField, value) -> str | None:
    """Whether a value already stored would fail validation (Payload validates the
    whole merged document, not only the fields in the body)."""
    if f.type == FieldType.ENUM and value is not None and value not in f.options:
        return INVALID_SELECTION
    if f.type == FieldType.ENUM_LIST:
        return enum_list_error(f, value or [])
    return None


VALIDATED_TYPES = (FieldType.ENUM, FieldType.ENUM_LIST)


def invalid_message(errors: list[FieldError]) -> str:
    labels = ", ".join(e.field.payload_label for e in errors)
    if len(errors) == 1:
        return f"The following field is invalid: {labels}"
    return f"The following fields are invalid: {labels}"


def list_rows(field_: LeadField, value) -> list[str]:
    """The LeadListValue texts for a stored multi-value field."""
    if not isinstance(value, list):
        return []
    rows = []
    for item in value:
        if isinstance(item, (dict, list)) or item is None:
            continue
        rows.append(element_text(field_, item))
    return rows
