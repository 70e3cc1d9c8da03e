"""One lead's fields, grouped as the schema groups them."""

from __future__ import annotations

import datetime as dt

from leadsadmin.leads.columns import Cell, value_cell
from leadsadmin.schema import GROUP_LABELS, fields_by_group


def lead_detail_groups(
    lead: dict, tz: dt.tzinfo | None = None
) -> list[tuple[str, list[tuple[str, Cell]]]]:
    return [
        (GROUP_LABELS[group], [(f.label, value_cell(f, lead.get(f.name), tz)) for f in fields])
        for group, fields in fields_by_group()
        if fields
    ]


def lead_name(lead: dict) -> str:
    """First and last name as far as they are known ("" when neither is)."""
    return " ".join(
        str(part).strip() for part in (lead.get("firstName"), lead.get("lastName")) if part
    )
