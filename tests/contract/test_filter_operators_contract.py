"""Every operator the filter builder offers, per field type, gives the true count on the
real Payload 3.90.2 server and on the sandbox loaded with the same leads.

Each case is a leads-page query string; it goes the dashboard's own way (query string
→ filter tree → resolution through the client → where) and the server's count is
compared with the count computed here from every lead, read once, by what the
operator's name says ("has all of": every chosen item; "does not contain": not
anywhere in the text, ignoring capitals, or no text). One representative field per
type, with values that match some leads but not all.
"""

from __future__ import annotations

from functools import partial

import httpx
import pytest
from django.http import QueryDict

from leadsadmin import schema
from leadsadmin.api.client import LeadsClient
from leadsadmin.leads.filters import filter_from_querydict, where_from_filter
from leadsadmin.sandbox.loading import docs_from_json, sandbox_load
from tests.fixtures_sandbox import shared_sandbox

pytestmark = pytest.mark.contract


def _client(url, authorization):
    return LeadsClient(url, authorization, 30.0, sleep=lambda s: None)


@pytest.fixture(scope="module")
def reference_docs(payload_reference):
    """Every lead of the reference server, read once (before this module's requests)."""
    return httpx.get(
        payload_reference["url"] + "/leads?pagination=false&depth=0",
        headers={"Authorization": payload_reference["authorization"]},
        timeout=60,
    ).json()


@pytest.fixture(scope="module")
def clients(payload_reference, reference_docs, django_db_blocker):
    fill = partial(sandbox_load, docs_from_json(reference_docs))
    with (
        _client(payload_reference["url"], payload_reference["authorization"]) as payload,
        shared_sandbox(django_db_blocker, fill) as sandbox,
        _client(sandbox.url, sandbox.authorization) as box,
    ):
        yield {"payload": payload, "sandbox": box}


@pytest.fixture(scope="module")
def leads(reference_docs):
    return reference_docs["docs"]


# --- what each operator's name says -------------------------------------------------


def _text(value) -> str:
    return (value or "").casefold()


SCALAR_TRUTH = {
    "equals": lambda v, x: v is not None and v == x[0],
    "not_equals": lambda v, x: v is None or v != x[0],
    "in": lambda v, x: v is not None and v in x,
    "not_in": lambda v, x: v is not None and v not in x,
    "empty": lambda v, x: v is None,
    "not_empty": lambda v, x: v is not None,
    "contains": lambda v, x: v is not None and _text(x[0]) in _text(v),
    "not_contains": lambda v, x: _text(x[0]) not in _text(v),
    "like": lambda v, x: v is not None and all(w in _text(v) for w in _text(x[0]).split()),
    "greater_than": lambda v, x: v is not None and v > x[0],
    "greater_than_equal": lambda v, x: v is not None and v >= x[0],
    "less_than": lambda v, x: v is not None and v < x[0],
    "less_than_equal": lambda v, x: v is not None and v <= x[0],
}
LIST_TRUTH = {
    "equals": lambda items, x: x[0] in items,
    "in": lambda items, x: any(i in x for i in items),
    "all": lambda items, x: set(x) <= set(items),
    # What the hints under these two say: an empty list matches / is left out.
    "not_equals": lambda items, x: not items or any(i != x[0] for i in items),
    "not_in": lambda items, x: any(i not in x for i in items),
    "empty": lambda items, x: not items,
    "not_empty": lambda items, x: bool(items),
}

# (field, operator, values as typed, the same values as stored for the truth)
T0005, T0300 = "2024-01-01T00:05", "2024-01-01T03:00"
S0005, S0300 = "2024-01-01T00:05:00.000Z", "2024-01-01T03:00:00.000Z"
HEATED, MASSAGE, LEATHER = "heated seats", "massage seats", "leather/premium seats"
CASES = [
    # text
    ("notes", "equals", ["Trade-in pending"], None),
    ("notes", "not_equals", ["Trade-in pending"], None),
    ("notes", "contains", ["PREFERS"], None),
    ("notes", "not_contains", ["PREFERS"], None),
    ("notes", "not_contains", ["no note says this"], None),
    ("notes", "like", ["called answer"], None),
    ("notes", "in", ["Trade-in pending, Prefers text"], ["Trade-in pending", "Prefers text"]),
    ("notes", "not_in", ["Trade-in pending", "Prefers text"], None),
    ("notes", "empty", [], None),
    ("notes", "not_empty", [], None),
    # number
    ("year", "equals", ["2016"], [2016]),
    ("year", "not_equals", ["2016"], [2016]),
    ("year", "greater_than", ["2020"], [2020]),
    ("year", "greater_than_equal", ["2020"], [2020]),
    ("year", "less_than", ["2014"], [2014]),
    ("year", "less_than_equal", ["2014"], [2014]),
    ("year", "in", ["2016, 2025"], [2016, 2025]),
    ("year", "not_in", ["2016", "2025"], [2016, 2025]),
    ("year", "empty", [], None),
    ("year", "not_empty", [], None),
    # date-time (typed in UTC here; stored as Payload's ISO text, which orders as time)
    ("createdAt", "equals", [T0005], [S0005]),
    ("createdAt", "not_equals", [T0005], [S0005]),
    ("createdAt", "greater_than", [T0300], [S0300]),
    ("createdAt", "greater_than_equal", [T0300], [S0300]),
    ("createdAt", "less_than", [T0005], [S0005]),
    ("createdAt", "less_than_equal", [T0005], [S0005]),
    ("createdAt", "in", [f"{T0005}, {T0300}"], [S0005, S0300]),
    ("createdAt", "not_in", [T0005, T0300], [S0005, S0300]),
    ("createdAt", "empty", [], None),
    ("createdAt", "not_empty", [], None),
    # single select
    ("processStatuses", "equals", ["Lost"], None),
    ("processStatuses", "not_equals", ["Lost"], None),
    ("processStatuses", "in", ["Lost", "On Hold"], None),
    ("processStatuses", "not_in", ["Lost", "On Hold"], None),
    ("processStatuses", "empty", [], None),
    ("processStatuses", "not_empty", [], None),
    # multi select
    ("comfort", "equals", [HEATED], None),
    ("comfort", "in", [HEATED, MASSAGE], None),
    ("comfort", "all", [HEATED], None),
    ("comfort", "all", [HEATED, MASSAGE], None),
    ("comfort", "all", [LEATHER, HEATED, "power-adjustable seats"], None),
    ("comfort", "not_equals", [HEATED], None),
    ("comfort", "not_in", [HEATED, MASSAGE], None),
    ("comfort", "empty", [], None),
    ("comfort", "not_empty", [], None),
    # checkbox
    ("manual", "equals", ["true"], [True]),
    ("manual", "equals", ["false"], [False]),
    ("manual", "not_equals", ["true"], [True]),
    ("manual", "empty", [], None),
    ("manual", "not_empty", [], None),
    # single relation (a number column on the reference server)
    ("salesRep", "equals", ["11"], [11]),
    ("salesRep", "not_equals", ["11"], [11]),
    ("salesRep", "in", ["11, 12"], [11, 12]),
    ("salesRep", "not_in", ["11", "12"], [11, 12]),
    ("salesRep", "empty", [], None),
    ("salesRep", "not_empty", [], None),
]


def leads_query(*conditions) -> QueryDict:
    """A leads-page query string: each condition (group path, field, op, values)."""
    query = QueryDict(mutable=True)
    for row, (path, field, op, values) in enumerate(conditions):
        query.update({f"c{row}": path, f"f{row}": field, f"op{row}": op})
        query.setlist(f"v{row}", values)
    return query


def dashboard_count(client, query: QueryDict) -> int:
    tree = filter_from_querydict(query)
    assert tree.is_valid, [c.error for c in tree.conditions()]
    return client.count(where_from_filter(tree, client=client) or None)


def truth(field: str, op: str, stored: list):
    """Whether one lead matches, by what the operator's name says."""
    if schema.lead_field(field).is_list:
        return lambda lead: LIST_TRUTH[op](lead[field] or [], stored)
    return lambda lead: SCALAR_TRUTH[op](lead[field], stored)


@pytest.mark.parametrize("server", ["payload", "sandbox"])
@pytest.mark.parametrize(("field", "op", "typed", "stored"), CASES)
def test_each_offered_operator_counts_what_it_says(
    clients, leads, server, field, op, typed, stored
):
    matches = truth(field, op, stored if stored is not None else typed)
    expected = sum(1 for lead in leads if matches(lead))
    assert 0 < expected < len(leads) or op in ("empty", "not_empty", "not_contains")
    assert dashboard_count(clients[server], leads_query(("0", field, op, typed))) == expected


def test_the_cases_cover_every_offered_operator_of_every_field_type():
    covered = {(schema.lead_field(field).type, op) for field, op, _, _ in CASES}
    offered = {(t, op) for t, ops in schema.FILTER_OPERATORS_BY_TYPE.items() for op in ops}
    assert covered == offered


# --- resolution next to other conditions --------------------------------------------


@pytest.mark.parametrize("server", ["payload", "sandbox"])
def test_has_all_of_and_does_not_contain_beside_and_under_other_conditions(clients, leads, server):
    """(comfort has all of heated, massage seats AND year > 2015)
    OR (notes does not contain "prefers" AND status is Lost)."""
    query = leads_query(
        ("0", "comfort", "all", [HEATED, MASSAGE]),
        ("0", "year", "greater_than", ["2015"]),
        ("1", "notes", "not_contains", ["prefers"]),
        ("1", "processStatuses", "equals", ["Lost"]),
    )
    expected = sum(
        1
        for lead in leads
        if ({HEATED, MASSAGE} <= set(lead["comfort"]) and (lead["year"] or 0) > 2015)
        or ("prefers" not in _text(lead["notes"]) and lead["processStatuses"] == "Lost")
    )
    assert expected > 0
    assert dashboard_count(clients[server], query) == expected


def test_payloads_own_forms_of_has_all_of_are_what_the_dashboard_must_not_send(clients, leads):
    """Why "has all of" is resolved to ids: Payload answers an AND of equals on one
    list with 0 (its item rows are joined once) and fails on `all`."""
    both = sum(1 for lead in leads if {HEATED, MASSAGE} <= set(lead["comfort"]))
    assert both > 0
    and_of_equals = {"and": [{"comfort": {"equals": HEATED}}, {"comfort": {"equals": MASSAGE}}]}
    # The same with the second under an OR: so leads.filters refuses any two
    # conditions on one list that are AND-ed at some level.
    nested = {
        "and": [
            {"comfort": {"equals": HEATED}},
            {"or": [{"comfort": {"equals": MASSAGE}}, {"id": {"equals": 0}}]},
        ]
    }
    for where in (and_of_equals, nested):
        assert clients["payload"].count(where) == 0
        assert clients["sandbox"].count(where) == 0


def test_not_like_compares_the_whole_text_so_it_is_no_does_not_contain(clients, leads):
    """Why "does not contain" is resolved to ids: `not_like` is no negated `like`."""
    not_like = clients["payload"].count({"notes": {"not_like": "prefers"}})
    assert not_like == sum(1 for lead in leads if lead["notes"] is not None)
