"""Replaying real leads: `sandbox_load(docs)` stores Payload documents (as a find
response or a bulk PATCH returns them) in the sandbox, ids and timestamps kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import transaction

from leadsadmin.schema import FieldType

from .documents import DATA_FIELDS, now_ms
from .models import Lead
from .operations import leads_store


class LoadError(ValueError):
    """A file or document the sandbox cannot load."""


def docs_from_json(data) -> list[dict]:
    """The documents of a find response ({"docs": [...]}) or of a plain list."""
    if isinstance(data, dict) and isinstance(data.get("docs"), list):
        data = data["docs"]
    if not isinstance(data, list) or not all(isinstance(doc, dict) for doc in data):
        raise LoadError("expected a find response with `docs` or a list of lead documents")
    return data


def _datetime(value, name: str, lead_id) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise LoadError(f"lead {lead_id}: {name} is not a date-time: {value!r}") from None
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def lead_from_doc(doc: dict) -> Lead:
    lead_id = doc.get("id")
    if not isinstance(lead_id, int) or isinstance(lead_id, bool) or lead_id < 1:
        raise LoadError(f"every lead needs a positive integer id, got {lead_id!r}")
    now = now_ms()
    values = {
        "id": lead_id,
        "createdAt": _datetime(doc["createdAt"], "createdAt", lead_id)
        if doc.get("createdAt")
        else now,
        "updatedAt": _datetime(doc["updatedAt"], "updatedAt", lead_id)
        if doc.get("updatedAt")
        else now,
    }
    for f in DATA_FIELDS:
        value = doc.get(f.name)
        if f.type in (FieldType.NUMBER, FieldType.RELATION) and value is not None:
            if isinstance(value, dict) and "id" in value:  # a populated relation (depth > 0)
                value = value["id"]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise LoadError(f"lead {lead_id}: {f.name} is not a number: {value!r}")
            value = float(value)
        elif f.type == FieldType.ENUM_LIST:
            value = value if isinstance(value, list) else []
        values[f.name] = value
    return Lead(**values)


def sandbox_load(docs: Iterable[dict], *, replace: bool = False) -> int:
    """Stores the documents as leads; with replace=True the sandbox's leads are
    deleted first. Returns how many were stored. All or nothing."""
    with transaction.atomic():
        if replace:
            Lead.objects.all().delete()
        return leads_store(_leads(docs))


def _leads(docs: Iterable[dict]) -> Iterator[Lead]:
    for doc in docs:
        yield lead_from_doc(doc)
