"""One lead's fields, grouped as the schema groups them."""

from __future__ import annotations

from leadsadmin.leads.columns import Cell, value_cell
from leadsadmin.schema import GROUP_LABELS, fields_by_group


def lead_detail_groups(lead: dict) -> list[tuple[str, list[tuple[str, Cell]]]]:
    return [
        (GROUP_LABELS[group], [(f.label, value_cell(f, lead.get(f.name))) for f in fields])
        for group, fields in fields_by_group()
        if fields
    ]
