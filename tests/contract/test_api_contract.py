"""The client against the real Payload 3.90.2 server of tests/contract/payload/.

Reads compare the server's answer with the same condition evaluated here, on a
snapshot of all 500 leads, using Payload's observed SQLite semantics
(payload-observed.md): so a wrong encoding, a lost value or a misread operator
shows as a difference. Writes touch only leads 450-500 (the sandbox's contract
tests use other ids) and run after the reads.
"""

import json
import logging
import urllib.request
from datetime import UTC, datetime

import pytest

from leadsadmin import schema
from leadsadmin.api.client import LeadsClient
from leadsadmin.api.errors import (
    ApiUnauthorized,
    NotFound,
    QueryRefused,
    ServerError,
)

pytestmark = pytest.mark.contract

LEAD_COUNT = 500


@pytest.fixture(scope="module")
def client(payload_reference):
    with LeadsClient(
        payload_reference["url"], payload_reference["authorization"], 30.0, sleep=lambda s: None
    ) as client:
        yield client


@pytest.fixture(scope="module")
def leads(client):
    """Every lead, by id, read with iter_leads before any test writes."""
    return {lead["id"]: lead for lead in client.iter_leads(page_size=100)}


def matching_ids(client, where) -> set[int]:
    docs = client.find(where, limit=LEAD_COUNT, select=["id"]).docs
    return {doc["id"] for doc in docs}


# --- Payload's semantics, as observed on its SQLite adapter -----------------------------


def scalar_matches(value, operator, operand) -> bool:
    if operator == "exists":
        return (value is not None) is operand
    if operator == "not_equals":
        return value is None or value != operand
    if value is None:
        return False
    if operator == "equals":
        return value == operand
    if operator == "in":
        return value in operand
    if operator == "not_in":
        return value not in operand
    if operator == "like":
        return all(word.lower() in value.lower() for word in operand.split(" ") if word)
    if operator == "not_like":
        return value.lower() != operand.lower()
    if operator == "contains":
        return operand.lower() in value.lower()
    compare = {
        "greater_than": value > operand,
        "greater_than_equal": value >= operand,
        "less_than": value < operand,
        "less_than_equal": value <= operand,
    }
    return compare[operator]


def list_matches(values, operator, operand) -> bool:
    values = values or []
    if operator == "exists":
        return bool(values) is operand
    if operator in ("equals", "contains"):
        return operand in values
    if operator == "not_equals":
        return not values or any(v != operand for v in values)
    if operator == "in":
        return any(v in operand for v in values)
    assert operator == "not_in"
    return bool(values) and any(v not in operand for v in values)


def expected_ids(leads, field, operator, operand) -> set[int]:
    kind = schema.lead_field(field).type
    if kind == schema.FieldType.RELATION_LIST:  # JSON columns on the reference server
        assert operator == "exists"
        return {i for i, lead in leads.items() if (lead[field] is not None) is operand}
    test = list_matches if kind == schema.FieldType.ENUM_LIST else scalar_matches
    if kind == schema.FieldType.DATETIME and isinstance(operand, list):
        operand = [stored_text(moment) for moment in operand]
    elif kind == schema.FieldType.DATETIME and not isinstance(operand, bool):
        operand = stored_text(operand)
    return {i for i, lead in leads.items() if test(lead[field], operator, operand)}


def stored_text(moment: datetime) -> str:
    """How Payload stores (and returns) a date-time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


AT_0005 = datetime(2024, 1, 1, 0, 5, tzinfo=UTC)
AT_0300 = datetime(2024, 1, 1, 3, 0, tzinfo=UTC)

OPERATOR_CASES = [
    # text
    ("email", "equals", "a+b@x.com"),
    ("firstName", "not_equals", "Frank"),
    ("make", "in", ["Ford", "Toyota"]),
    ("make", "not_in", ["Ford", "Toyota"]),
    ("notes", "exists", True),
    ("notes", "exists", False),
    ("email", "like", "gmail"),
    ("email", "like", "GMAIL frank"),
    ("notes", "not_like", "Prefers"),
    ("email", "contains", "N.SMITH"),
    # number
    ("year", "equals", 2020),
    ("year", "not_equals", 2020),
    ("year", "in", [2020, 2021]),
    ("year", "not_in", [2020, 2021]),
    ("year", "exists", False),
    ("year", "greater_than", 2020),
    ("year", "greater_than_equal", 2020),
    ("monthlyPayment", "less_than", 300),
    ("monthlyPayment", "less_than_equal", 300),
    ("id", "in", [1, 42, 137, 500]),
    ("id", "greater_than", 480),
    # date-time
    ("createdAt", "equals", AT_0005),
    ("createdAt", "not_equals", AT_0005),
    ("updatedAt", "less_than_equal", AT_0005),
    ("createdAt", "greater_than", AT_0300),
    ("createdAt", "greater_than_equal", AT_0300),
    ("createdAt", "less_than", AT_0005),
    ("createdAt", "in", [AT_0005, AT_0300]),
    ("createdAt", "not_in", [AT_0005, AT_0300]),
    ("updatedAt", "exists", True),
    # single select
    ("processStatuses", "equals", "Lost"),
    ("processStatuses", "equals", "First Communication Attempt (phone and text)"),
    ("processStatuses", "not_equals", "Lost"),
    ("processStatuses", "in", ["Lost", "On Hold"]),
    ("processStatuses", "not_in", ["Lost", "On Hold"]),
    ("processStatuses", "exists", False),
    ("reason", "exists", True),
    # multi select
    ("exterior", "equals", "Red"),
    ("exterior", "not_equals", "Red"),
    ("exterior", "in", ["Red", "Blue"]),
    ("exterior", "not_in", ["Red", "Blue"]),
    ("exterior", "exists", False),
    ("suvStyle", "in", ["small/compact"]),
    ("timeToPurchase", "in", ["2+ months", "1-2 months"]),
    ("comfort", "equals", "dual-zone/climate control"),
    # checkbox
    ("manual", "equals", True),
    ("manual", "equals", False),
    ("manual", "not_equals", True),
    ("agree", "exists", False),
    # relation (a number column here)
    ("salesRep", "equals", 11),
    ("salesRep", "not_equals", 11),
    ("salesRep", "in", [11, 12]),
    ("salesRep", "not_in", [11, 12]),
    ("latestEvent", "exists", True),
    # relation list (JSON columns here: only exists)
    ("searches", "exists", True),
    ("favorites", "exists", False),
]


@pytest.mark.parametrize(("field", "operator", "operand"), OPERATOR_CASES)
def test_every_operator_per_field_type_selects_what_payload_means(
    client, leads, field, operator, operand
):
    where = {field: {operator: operand}}
    expected = expected_ids(leads, field, operator, operand)
    assert matching_ids(client, where) == expected
    assert client.count(where) == len(expected)


def test_the_cases_cover_every_operator_of_every_field_type():
    covered = {(schema.lead_field(f).type, op) for f, op, _ in OPERATOR_CASES}
    for kind, operators in schema.OPERATORS_BY_TYPE.items():
        if kind == schema.FieldType.RELATION_LIST:
            operators = ("exists",)
        for operator in operators:
            if operator == "all":
                continue  # no SQL implementation: see the test below
            assert (kind, operator) in covered, (kind, operator)


def test_all_has_no_sql_implementation_and_surfaces_as_a_server_error(client):
    with pytest.raises(ServerError, match="HTTP 500"):
        client.find({"exterior": {"all": ["Red", "Blue"]}})


def test_nested_and_or_with_several_fields(client, leads):
    where = {
        "or": [
            {"and": [{"processStatuses": {"equals": "Lost"}}, {"year": {"greater_than": 2020}}]},
            {"exterior": {"in": ["Red"]}, "manual": {"equals": True}},
        ]
    }
    expected = {
        i
        for i, lead in leads.items()
        if (lead["processStatuses"] == "Lost" and (lead["year"] or 0) > 2020)
        or ("Red" in lead["exterior"] and lead["manual"] is True)
    }
    assert matching_ids(client, where) == expected
    assert client.count(where) == len(expected)


# --- encoding edge cases: every hostile value comes back exactly ----------------------


@pytest.mark.parametrize(
    ("field", "value", "lead_id"),
    [
        ("email", "a+b@x.com", 404),
        ("notes", 'Tom & Jerry = "friends"? #1', 300),
        ("notes", "Paid 50% down_payment, 1/2 rest \\ later", 256),
        ("notes", "<script>alert(1)</script>", 77),
        ("firstName", "Zoë 🚗", 42),
        ("city", "São Paulo", 137),
        ("lastName", 'O\'Neil "Bob" <b>', 199),
        ("trim", "  padded  ", 333),
        ("conversation", "null", 42),
    ],
)
def test_hostile_values_are_sent_exactly(client, leads, field, value, lead_id):
    assert leads[lead_id][field] == value
    expected = {i for i, lead in leads.items() if lead[field] == value}
    assert lead_id in expected
    assert matching_ids(client, {field: {"equals": value}}) == expected
    assert matching_ids(client, {field: {"in": [value, "other"]}}) == expected


def test_a_value_with_a_comma_stays_one_value_in_a_list(client):
    # As a comma string Payload would split it in two and match nothing.
    value = "Paid 50% down_payment, 1/2 rest \\ later"
    assert matching_ids(client, {"notes": {"in": [value]}}) == {256}


def test_a_value_with_a_newline_is_sent_exactly(client):
    notes = client.get(404, select=["notes"])["notes"]
    assert "\n" in notes
    assert matching_ids(client, {"notes": {"equals": notes}}) == {404}


def test_a_plus_is_not_a_space(client):
    assert matching_ids(client, {"email": {"equals": "a b@x.com"}}) == set()
    assert matching_ids(client, {"timeToPurchase": {"equals": "2+ months"}})


# --- reading ------------------------------------------------------------------------------


def test_iter_leads_pages_to_the_end_in_id_order(client, leads):
    ids = [lead["id"] for lead in client.iter_leads(page_size=37, select=["email"])]
    assert ids == list(range(1, LEAD_COUNT + 1))
    assert sorted(leads) == ids


def test_iter_leads_with_a_where_and_a_page_boundary_on_the_last_lead(client, leads):
    expected = sorted(i for i, lead in leads.items() if lead["processStatuses"] == "Lost")
    where = {"processStatuses": {"equals": "Lost"}}
    assert [lead["id"] for lead in client.iter_leads(where, page_size=len(expected))] == expected
    assert [lead["id"] for lead in client.iter_leads(where, page_size=7)] == expected


def test_iter_leads_without_pagination_reads_a_multi_value_where_once_per_lead(client, leads):
    # iter_leads sends pagination=false (no count per page): Payload must still apply
    # its limit and the id sort, and a where joining list elements must not repeat
    # a lead whose several elements match, on a page edge or not.
    wanted = {"Silver", "Blue"}
    expected = sorted(i for i, lead in leads.items() if wanted & set(lead["exterior"] or []))
    where = {"exterior": {"in": sorted(wanted)}}
    assert 14 < len(expected) < LEAD_COUNT
    for page_size in (1, 7, len(expected)):
        ids = [lead["id"] for lead in client.iter_leads(where, page_size=page_size)]
        assert ids == expected, page_size


def test_find_pagination_fields(client):
    result = client.find(limit=10, page=3, sort="id", select=["id"])
    assert [doc["id"] for doc in result.docs] == list(range(21, 31))
    assert (result.total_docs, result.total_pages, result.page) == (LEAD_COUNT, 50, 3)
    assert (result.prev_page, result.next_page, result.paging_counter) == (2, 4, 21)
    assert result.has_prev_page and result.has_next_page
    past = client.find(limit=10, page=51)
    assert past.docs == [] and past.total_docs == LEAD_COUNT


def test_find_sorts_on_several_fields(client, leads):
    docs = client.find(sort=["-year", "id"], limit=5, select=["year"]).docs
    expected = sorted(
        (i for i, lead in leads.items() if lead["year"] is not None),
        key=lambda i: (-leads[i]["year"], i),
    )[:5]
    assert [doc["id"] for doc in docs] == expected


def test_get_one_lead_with_select(client, leads):
    lead = client.get(137, select=["city", "state"])
    assert lead == {"id": 137, "city": leads[137]["city"], "state": leads[137]["state"]}


def test_a_long_where_goes_by_method_override_and_still_matches(client, leads, caplog):
    caplog.set_level(logging.INFO, logger="leadsadmin.api")
    emails = [lead["email"] for i, lead in sorted(leads.items()) if lead["email"]][:120]
    where = {"email": {"in": emails}}
    expected = {i for i, lead in leads.items() if lead["email"] in emails}
    assert matching_ids(client, where) == expected
    assert client.count(where) == len(expected)
    assert "GET(POST override) /leads " in caplog.text
    assert "GET(POST override) /leads/count " in caplog.text


def test_three_hundred_ids_in_one_read(client):
    assert client.count({"id": {"in": list(range(1, 301))}}) == 300


# --- refusals from the real server ----------------------------------------------------------


def test_a_wrong_key_is_unauthorised(payload_reference):
    client = LeadsClient(payload_reference["url"], "users API-Key not-the-key", 10.0)
    with client, pytest.raises(ApiUnauthorized) as caught:
        client.count()
    assert caught.value.status == 403
    assert "not-the-key" not in str(caught.value)


def test_a_missing_lead_is_not_found(client):
    with pytest.raises(NotFound, match="Lead 999999 was not found"):
        client.get(999999)


def test_a_path_the_server_refuses_is_a_query_refused_with_its_path(client, monkeypatch):
    # A field our schema knows but this server does not: the server's QueryError.
    ghost = schema.LeadField("ghostField", schema.FieldType.TEXT, "Ghost", schema.Group.SYSTEM)
    monkeypatch.setitem(schema.FIELDS_BY_NAME, "ghostField", ghost)
    with pytest.raises(QueryRefused) as caught:
        client.count({"ghostField": {"equals": "x"}})
    assert caught.value.paths == ["ghostField"]


# --- writing: leads 450-500 only -------------------------------------------------------------


def test_bulk_update_by_ids_returns_only_what_was_asked(client):
    [result] = client.update_ids(
        range(450, 455), {"processStatuses": "Lost", "reason": "Duplicate"}
    )
    assert result.ok and result.status == 200
    assert sorted(doc["id"] for doc in result.docs) == list(range(450, 455))
    for doc in result.docs:
        assert set(doc) == {"id", "processStatuses", "reason", "updatedAt"}
        assert (doc["processStatuses"], doc["reason"]) == ("Lost", "Duplicate")
    assert result.message == "Updated 5 Leads successfully."
    assert matching_ids(
        client, {"id": {"in": list(range(450, 455))}, "reason": {"equals": "Duplicate"}}
    ) == set(range(450, 455))


def test_bulk_update_in_chunks(client):
    results = list(client.update_ids(range(455, 466), {"reason": "Test"}, chunk_size=4))
    assert [r.ids for r in results] == [
        [455, 456, 457, 458],
        [459, 460, 461, 462],
        [463, 464, 465],
    ]
    assert all(r.ok for r in results)
    assert client.count({"id": {"in": list(range(455, 466))}, "reason": {"equals": "Test"}}) == 11


def test_leads_changed_after_the_review_are_left_alone_as_conflicts(client):
    reviewed_at = datetime(2025, 6, 1, tzinfo=UTC)  # after the seed, before today
    changed = client.update_where({"id": {"equals": 468}}, {"notes": "changed by someone else"})
    assert [doc["id"] for doc in changed.docs] == [468]
    [result] = client.update_ids(
        [466, 467, 468, 469], {"notes": "bulk"}, unchanged_since=reviewed_at
    )
    assert sorted(doc["id"] for doc in result.docs) == [466, 467, 469]
    assert result.conflicts == [468]
    assert result.errors == []
    assert client.get(468, select=["notes"])["notes"] == "changed by someone else"
    assert client.get(467, select=["notes"])["notes"] == "bulk"


def test_invalid_values_come_back_as_one_error_per_lead(client):
    [result] = client.update_ids([470, 471], {"processStatuses": "lost"})
    assert result.status == 400
    assert result.docs == []
    assert sorted(error.id for error in result.errors) == [470, 471]
    assert {error.message for error in result.errors} == {
        "The following field is invalid: Process Statuses"
    }
    assert result.conflicts == []
    assert result.message == "Unable to update 2 out of 2 Leads."
    [hasmany] = client.update_ids([472], {"exterior": ["Red", "Plaid"]})
    assert [error.id for error in hasmany.errors] == [472]


def post_json(payload_reference, path, body):
    request = urllib.request.Request(
        payload_reference["url"] + path,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": payload_reference["authorization"],
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_partial_failure_is_a_result_and_the_others_are_saved(client, payload_reference):
    # Lock lead 474 as another user, as Payload's admin does while someone edits it.
    editor = post_json(
        payload_reference,
        "/users",
        {"email": "client-contract-editor@example.com", "password": "editor-password"},
    )["doc"]["id"]
    post_json(
        payload_reference,
        "/payload-locked-documents?depth=0",
        {
            "document": {"relationTo": "leads", "value": 474},
            "user": {"relationTo": "users", "value": editor},
        },
    )
    [result] = client.update_ids([473, 474, 475], {"reason": "Bad Credit"})
    assert result.status == 400
    assert sorted(doc["id"] for doc in result.docs) == [473, 475]
    assert [error.id for error in result.errors] == [474]
    assert "locked by another user" in result.errors[0].message
    assert result.conflicts == []
    assert result.message == "Unable to update 1 out of 3 Leads."
    assert client.get(473, select=["reason"])["reason"] == "Bad Credit"
    assert client.get(474, select=["reason"])["reason"] != "Bad Credit"


def test_update_where_with_hostile_strings_in_the_data(client):
    hostile = 'Tom & Jerry = "friends"? #1 Zoë 🚗 <script>alert(1)</script> 50% a+b'
    where = {"and": [{"id": {"greater_than_equal": 490}}, {"id": {"less_than_equal": 495}}]}
    result = client.update_where(where, {"notes": hostile, "city": "São Paulo"})
    assert result.ok
    assert sorted(doc["id"] for doc in result.docs) == list(range(490, 496))
    assert matching_ids(client, {"notes": {"equals": hostile}}) == set(range(490, 496))


def test_update_where_that_matches_nothing(client):
    result = client.update_where(
        {"id": {"greater_than": 450}, "email": {"equals": "nobody@nowhere.invalid"}},
        {"reason": "Test"},
    )
    assert (result.docs, result.errors, result.status) == ([], [], 200)
    assert result.message == "Updated 0 Leads successfully."
