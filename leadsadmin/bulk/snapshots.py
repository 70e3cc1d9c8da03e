"""Snapshots of whole leads, and what changed in them outside an edit. Pure: no
database, no HTTP.

At review every pinned lead is kept whole (`lead_snapshot`). The API's bulk write
is not atomic: a server killed in the middle of one has been seen to give every
lead the new value while dropping items from other list fields of some. When a
run recovers a chunk whose PATCH failed on the way, it reads those leads again
in full and compares them with their snapshots (`outside_changes`).
"""

from __future__ import annotations

from leadsadmin.bulk.changes import body_applied, value_describe
from leadsadmin.schema import FIELDS, FIELDS_BY_NAME

# Fields a snapshot leaves out: the id is the pin's own, updatedAt its own column
# (and it changes with every write, ours included).
NOT_IN_SNAPSHOT = frozenset({"id", "updatedAt"})


def lead_snapshot(doc: dict) -> dict:
    """A lead as the API returned it, for comparing later: every field but
    NOT_IN_SNAPSHOT, nulls left out (a field missing from a snapshot was null:
    compare with `snapshot.get(name)`), so most leads store half their fields."""
    return {
        name: value
        for name, value in doc.items()
        if value is not None and name not in NOT_IN_SNAPSHOT
    }


def outside_changes(snapshot: dict, doc: dict, body: dict) -> list[list]:
    """[[field, value expected, value found], ...] in schema order: the fields of
    `doc` (a lead read in full) that differ from its `snapshot` at review, and
    the edited fields that do not hold the `body`'s new values (expected: the new
    value). Empty when the lead is exactly the reviewed lead plus the edit."""
    now = lead_snapshot(doc)
    differences = []
    for name in sorted(snapshot.keys() | now.keys() | body.keys(), key=_schema_position):
        if name in body:
            expected = body[name]
            if body_applied({name: expected}, now):
                continue
        else:
            expected = snapshot.get(name)
            if expected == now.get(name):
                continue
        differences.append([name, expected, now.get(name)])
    return differences


_SCHEMA_ORDER = {f.name: position for position, f in enumerate(FIELDS)}


def _schema_position(name: str) -> tuple[int, str]:
    return _SCHEMA_ORDER.get(name, len(_SCHEMA_ORDER)), name


def check_message(differences: list[list]) -> str:
    """The differences in words, for the audit record and its CSV."""
    parts = [
        f"{_label(name)}: {value_describe(expected)} → {value_describe(found)}"
        for name, expected, found in differences
    ]
    return "Changed outside this edit — check (" + "; ".join(parts) + ")."


def _label(name: str) -> str:
    return FIELDS_BY_NAME[name].label if name in FIELDS_BY_NAME else name
