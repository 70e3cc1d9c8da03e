"""The sandbox's leads API over real HTTP: every operator on every field type, with
Payload's semantics as recorded from a real Payload 3.90.2 (SQLite) server.

Six hand-made leads make each expected answer readable; they are loaded once for
the module (the read tests change nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadsadmin.api.client import LeadsClient
from leadsadmin.sandbox.loading import sandbox_load
from leadsadmin.sandbox.models import SalesRep
from leadsadmin.sandbox.operations import leads_find
from leadsadmin.sandbox.querystring import parse_query_string
from leadsadmin.schema import FIELDS_BY_NAME, OPERATORS_BY_TYPE, FieldType
from tests.fixtures_sandbox import shared_sandbox


def _lead(lead_id: int, **values) -> dict:
    minute = f"{lead_id:02d}"
    stamp = f"2024-01-01T00:{minute}:00.000Z"
    return {"id": lead_id, "createdAt": stamp, "updatedAt": stamp, **values}


LEADS = [
    _lead(
        1,
        firstName="Frank",
        email="frank.smith@gmail.com",
        notes="Prefers email",
        year=2020,
        monthlyPayment=250.5,
        manual=True,
        processStatuses="Lost",
        reason="Test",
        exterior=["Red", "Blue"],
        favorites=[7, 8],
        salesRep=11,
    ),
    _lead(
        2,
        firstName="Gina",
        email="gina.kim@yahoo.com",
        notes="Paid 50% down_payment",
        year=2015,
        manual=False,
        processStatuses="On Hold",
        exterior=["Silver"],
        favorites=[],
    ),
    _lead(
        3,
        firstName="frank",
        email="FRANK.jones@Gmail.com",
        reason="Duplicate",
        salesRep=12,
    ),
    _lead(
        4,
        firstName="Zoë 🚗",
        email="a+b@x.com",
        notes="null",
        year=2024,
        manual=True,
        processStatuses="Lost",
        exterior=["Blue", "Light Blue"],
        favorites=[8],
    ),
    _lead(
        5,
        firstName="Ana",
        notes="prefers email",
        year=2020,
        manual=False,
        processStatuses="Qualified Lead",
        reason="Test",
        exterior=["Red"],
        timeToPurchase=["2+ months", "ASAP"],
    ),
    _lead(6),
]


@pytest.fixture(scope="module")
def api(django_db_blocker):
    with (
        shared_sandbox(django_db_blocker, partial(sandbox_load, LEADS)) as sandbox,
        httpx.Client(
            base_url=sandbox.url, headers={"Authorization": sandbox.authorization}, timeout=30
        ) as client,
    ):
        yield client


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [doc["id"] for doc in response.json()["docs"]]


# (field, operator, query-string value, matching ids in the default order: newest first)
CASES = [
    # text
    ("firstName", "equals", "frank", [3]),
    ("firstName", "not_equals", "Frank", [6, 5, 4, 3, 2]),  # nulls included
    ("firstName", "in", "Frank,Ana", [5, 1]),
    ("firstName", "in", "Frank%2CAna", [5, 1]),
    ("firstName", "not_in", "Frank,Ana", [4, 3, 2]),  # nulls excluded
    ("firstName", "exists", "true", [5, 4, 3, 2, 1]),
    ("firstName", "exists", "false", [6]),
    ("firstName", "exists", "1", [6]),  # only true/"true" mean "exists"
    ("email", "like", "gmail", [3, 1]),  # case-insensitive
    ("email", "like", "GMAIL%20frank", [3, 1]),  # every word, any order
    ("email", "like", "smith%20yahoo", []),
    ("email", "contains", "K.JONES", [3]),
    ("email", "contains", "a%2Bb", [4]),
    ("notes", "contains", "50%25%20down", [2]),
    ("notes", "like", "50%25", [2]),
    ("notes", "contains", "n_payment", [2]),  # `_` is a LIKE wildcard, as on SQL Payload
    ("notes", "not_like", "prefers%20email", [4, 2]),  # whole value, no wildcards; nulls out
    ("notes", "equals", "null", [4]),  # the literal string
    ("notes", "equals", "", []),
    ("firstName", "greater_than", "Gina", [4, 3]),
    ("firstName", "greater_than_equal", "Gina", [4, 3, 2]),
    ("firstName", "less_than", "Frank", [5]),
    ("firstName", "less_than_equal", "Frank", [5, 1]),
    ("firstName", "equals", "Zo%C3%AB%20%F0%9F%9A%97", [4]),
    # number
    ("year", "equals", "2020", [5, 1]),
    ("year", "equals", "2020.0", [5, 1]),
    ("year", "equals", "abc", [6, 3]),  # not a number: compared with NULL
    ("year", "not_equals", "2020", [6, 4, 3, 2]),  # nulls included
    ("year", "in", "2020,2015", [5, 2, 1]),
    ("year", "not_in", "2020,2015", [4]),  # nulls excluded
    ("year", "greater_than", "2015", [5, 4, 1]),
    ("year", "greater_than", "abc", []),
    ("year", "greater_than_equal", "2020", [5, 4, 1]),
    ("year", "less_than", "2020", [2]),
    ("year", "less_than_equal", "2020", [5, 2, 1]),
    ("year", "exists", "false", [6, 3]),
    ("year", "like", "2020", [5, 1]),  # like is equals on numbers
    ("year", "contains", "02", [5, 4, 2, 1]),  # "02" is the number 2, then LIKE %2%
    ("monthlyPayment", "equals", "250.5", [1]),
    ("id", "in", "1,3,99", [3, 1]),
    ("id", "not_equals", "1", [6, 5, 4, 3, 2]),
    # relation (a single related id)
    ("salesRep", "equals", "11", [1]),
    ("salesRep", "not_equals", "11", [6, 5, 4, 3, 2]),
    ("salesRep", "in", "11,12", [3, 1]),
    ("salesRep", "not_in", "11", [3]),
    ("salesRep", "exists", "true", [3, 1]),
    ("salesRep", "equals", "null", [6, 5, 4, 2]),
    # checkbox
    ("manual", "equals", "true", [4, 1]),
    ("manual", "equals", "FALSE", [5, 2]),
    ("manual", "equals", "yes", [4, 1]),  # a truthy value is stored as 1
    ("manual", "not_equals", "true", [6, 5, 3, 2]),  # nulls included
    ("manual", "exists", "false", [6, 3]),
    # date-time
    ("createdAt", "greater_than", "2024-01-01T00:04:00.000Z", [6, 5]),
    ("createdAt", "greater_than_equal", "2024-01-01T00:04:00Z", [6, 5, 4]),
    ("createdAt", "less_than", "2024-01-01T00:02:00.000Z", [1]),
    ("createdAt", "less_than_equal", "2024-01-01T00:02:00.000Z", [2, 1]),
    ("createdAt", "equals", "2024-01-01T00:03:00.000Z", [3]),
    ("createdAt", "not_equals", "2024-01-01T00:03:00.000Z", [6, 5, 4, 2, 1]),
    ("createdAt", "in", "2024-01-01T00:03:00.000Z,2024-01-01T00:05:00.000Z", [5, 3]),
    ("createdAt", "not_in", "2024-01-01T00:03:00.000Z", [6, 5, 4, 2, 1]),
    ("createdAt", "exists", "true", [6, 5, 4, 3, 2, 1]),
    ("createdAt", "like", "T00:06", [6]),
    # single select
    ("processStatuses", "equals", "Lost", [4, 1]),
    ("processStatuses", "equals", "lost", []),  # case-sensitive
    ("processStatuses", "not_equals", "Lost", [6, 5, 3, 2]),  # nulls included
    ("processStatuses", "in", "Lost,On%20Hold", [4, 2, 1]),
    ("processStatuses", "not_in", "Lost", [5, 2]),  # nulls excluded
    ("processStatuses", "exists", "false", [6, 3]),
    ("processStatuses", "like", "hold", [2]),
    ("processStatuses", "contains", "LEAD", [5]),
    ("reason", "in", "Test", [5, 1]),
    # multi-value select: per element
    ("exterior", "equals", "Red", [5, 1]),  # some element equals
    ("exterior", "not_equals", "Red", [6, 4, 3, 2, 1]),  # some element differs, or none
    ("exterior", "in", "Red,Silver", [5, 2, 1]),
    ("exterior", "not_in", "Red,Blue", [4, 2]),  # some element outside; empty lists out
    ("exterior", "all", "Red,Blue", [1]),  # as MongoDB: every listed element present
    ("exterior", "all", "Blue", [4, 1]),
    ("exterior", "contains", "Blue", [4, 1]),  # an exact element, not a substring
    ("exterior", "contains", "Blu", []),
    ("exterior", "like", "blue", [4, 1]),
    ("exterior", "exists", "false", [6, 3]),
    ("exterior", "exists", "true", [5, 4, 2, 1]),
    ("exterior", "greater_than", "Red", [2]),
    ("timeToPurchase", "in", "2%2B%20months", [5]),
    # relation lists (multi-value relations)
    ("favorites", "equals", "8", [4, 1]),
    ("favorites", "not_equals", "8", [6, 5, 3, 2, 1]),
    ("favorites", "in", "7,99", [1]),
    ("favorites", "not_in", "8", [1]),
    ("favorites", "exists", "true", [4, 2, 1]),  # stored list, even empty
    ("favorites", "exists", "false", [6, 5, 3]),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_operator_semantics(api, field, operator, value, expected):
    query = f"where[{field}][{operator}]={value}&limit=0"
    assert ids(api.get(f"/leads?{query}")) == expected
    assert api.get(f"/leads/count?{query}").json() == {"totalDocs": len(expected)}


def test_every_operator_of_every_field_type_is_covered():
    covered = {(FIELDS_BY_NAME[field].type, op) for field, op, _, _ in CASES}
    wanted = {(type_, op) for type_, ops in OPERATORS_BY_TYPE.items() for op in ops}
    assert wanted - covered == set()
    comparisons = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
    for type_ in (FieldType.TEXT, FieldType.NUMBER, FieldType.DATETIME):
        assert {(type_, op) for op in comparisons} <= covered


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("where[in][0]=x", None),
        ("where[exterior][in][0]=Red&where[exterior][in][1]=Silver", [5, 2, 1]),
        ("where[exterior][in][]=Red&where[exterior][in][]=Silver", [5, 2, 1]),
        ("where[exterior][in]=Red&where[exterior][in]=Silver", [5, 2, 1]),
        ("where[or][0][reason][equals]=Test&where[or][1][year][greater_than]=2020", [5, 4, 1]),
        ("where[and][0][reason][equals]=Test&where[and][1][year][equals]=2020", [5, 1]),
        ("where[OR][0][reason][equals]=Duplicate&where[Or][0][reason][equals]=Test", [5, 1]),
        ("where[reason][equals]=Test&where[manual][equals]=true", [1]),  # implicit and
        ("where[year][greater_than]=2014&where[year][less_than]=2021", [5, 2, 1]),
        (
            "where[or][0][and][0][exterior][in]=Red&where[or][0][and][1][manual][equals]=false"
            "&where[or][1][and][0][or][0][firstName][like]=zo%C3%AB&where[or][1][and][0][or][1]"
            "[firstName][equals]=Gina",
            [5, 4, 2],
        ),
        ("where[id][in]=", []),  # an empty list matches nothing (as on MongoDB)
        ("where[exterior][all]=", []),
        ('where={"or":[{"reason":{"equals":"Duplicate"}},{"year":{"equals":2024}}]}', [4, 3]),
        ('where={"reason":{"equals":null}}', [6, 4, 2]),  # JSON null is NULL
        ('where={"reason":{"in":["Test",null]}}', [6, 5, 4, 2, 1]),
        ('where={"exterior":{"in":[]}}', []),
        ("where[_id][equals]=2", [2]),
    ],
)
def test_where_shapes(api, query, expected):
    response = api.get(f"/leads?{query}&limit=0")
    if expected is None:
        assert response.status_code == 400
    else:
        assert ids(response) == expected


# --- find: pagination, sort, select -------------------------------------------

PAGINATION_KEYS = [
    "docs",
    "hasNextPage",
    "hasPrevPage",
    "limit",
    "nextPage",
    "page",
    "pagingCounter",
    "prevPage",
    "totalDocs",
    "totalPages",
]


def test_find_answers_payloads_ten_keys_in_payloads_order(api):
    body = api.get("/leads?limit=2&page=2").json()
    assert list(body) == PAGINATION_KEYS
    assert {k: v for k, v in body.items() if k != "docs"} == {
        "hasNextPage": True,
        "hasPrevPage": True,
        "limit": 2,
        "nextPage": 3,
        "page": 2,
        "pagingCounter": 3,
        "prevPage": 1,
        "totalDocs": 6,
        "totalPages": 3,
    }
    assert [doc["id"] for doc in body["docs"]] == [4, 3]


def test_default_limit_is_ten_and_limit_zero_or_pagination_false_return_all(api):
    assert api.get("/leads").json()["limit"] == 10
    for query in ("limit=0", "pagination=false"):
        body = api.get(f"/leads?{query}").json()
        assert (body["limit"], body["totalDocs"], len(body["docs"])) == (0, 6, 6)
        assert (body["totalPages"], body["pagingCounter"]) == (1, 1)
    limited = api.get("/leads?pagination=false&limit=2").json()
    assert (len(limited["docs"]), limited["totalDocs"], limited["limit"]) == (2, 2, 2)


@pytest.mark.parametrize("where", ["", "&where[exterior][in]=Red,Blue"])
def test_without_pagination_a_limited_find_runs_no_count(api, django_db_blocker, where):
    # Payload counts every match for each paginated find; with pagination=false it
    # does not (keyset paging in iter_leads relies on that to save a query a page).
    def queries_for(query_string):
        with django_db_blocker.unblock(), CaptureQueriesContext(connection) as queries:
            body = leads_find(parse_query_string(query_string), authorized=True)
        return body, [query["sql"].upper() for query in queries]

    body, sql = queries_for(f"pagination=false&limit=2&sort=id{where}")
    assert [doc["id"] for doc in body["docs"]] == [1, 4 if where else 2]
    assert (body["totalDocs"], body["hasNextPage"], body["nextPage"]) == (2, False, None)
    # No COUNT, and only the page's ids are read (LIMIT), whatever the where joins.
    assert not any("COUNT(" in statement for statement in sql), sql
    assert "LIMIT 2" in sql[0], sql
    # Paginated, the same find also counts: a COUNT, or (a where joining list
    # elements) reading every matching id.
    same, paginated = queries_for(f"limit=2&sort=id{where}")
    assert same["docs"] == body["docs"] and same["totalDocs"] == (3 if where else 6)
    assert any("COUNT(" in statement for statement in paginated) or ("LIMIT" not in paginated[0]), (
        paginated
    )


def test_an_empty_result_reports_one_page_but_a_multi_value_filter_reports_none(api):
    plain = api.get("/leads?where[reason][equals]=Nope").json()
    assert (plain["totalDocs"], plain["totalPages"], plain["pagingCounter"]) == (0, 1, 1)
    joined = api.get("/leads?where[exterior][equals]=Nope").json()
    assert (joined["totalDocs"], joined["totalPages"], joined["pagingCounter"]) == (0, 0, 0)


def test_a_page_past_the_end_keeps_the_total(api):
    body = api.get("/leads?limit=4&page=3").json()
    assert body["docs"] == []
    assert (body["totalDocs"], body["totalPages"], body["hasNextPage"]) == (6, 2, False)


def test_odd_limits_and_pages_answer_like_payload(api):
    assert api.get("/leads?limit=0&limit=1").status_code == 500  # a duplicated parameter
    assert api.get("/leads?limit=2.5").status_code == 500
    text_limit = api.get("/leads?limit=abc").json()
    assert (len(text_limit["docs"]), text_limit["limit"], text_limit["pagingCounter"]) == (
        6,
        "abc",
        None,
    )
    fractional = api.get("/leads?limit=2&page=1.5").json()
    assert (fractional["page"], fractional["nextPage"]) == (1.5, 2.5)
    negative = api.get("/leads?limit=-1").json()
    assert (len(negative["docs"]), negative["totalPages"]) == (6, -6)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", [6, 5, 4, 3, 2, 1]),  # default: -createdAt
        ("year", [6, 3, 2, 5, 1, 4]),  # nulls first ascending, ties by -createdAt
        ("-year", [4, 5, 1, 2, 6, 3]),
        ("-year,id", [4, 1, 5, 2, 3, 6]),
        ("firstName,-id", [6, 5, 1, 2, 4, 3]),  # byte order: "Zoë" before "frank"
        ("nope", [6, 5, 4, 3, 2, 1]),  # an unknown field is ignored
        ("nope,-monthlyPayment", [1, 6, 5, 4, 3, 2]),
        ("createdAt", [1, 2, 3, 4, 5, 6]),
    ],
)
def test_sort(api, sort, expected):
    assert ids(api.get(f"/leads?sort={sort}&limit=0")) == expected
    as_list = "&".join(f"sort[{i}]={item}" for i, item in enumerate(sort.split(",")))
    assert ids(api.get(f"/leads?{as_list}&limit=0")) == expected


def test_select_includes_or_excludes_and_always_keeps_id(api):
    doc = api.get("/leads/1?select[email]=true&select[year]=true").json()
    assert doc == {"id": 1, "email": "frank.smith@gmail.com", "year": 2020}
    excluded = api.get("/leads/1?select[email]=false").json()
    assert "email" not in excluded
    assert excluded["firstName"] == "Frank"
    assert api.get("/leads/1?select[id]=false").json()["id"] == 1
    full = api.get("/leads?limit=1&depth=3").json()["docs"][0]
    assert next(iter(full)) == "id"
    assert list(full)[-2:] == ["updatedAt", "createdAt"]
    assert set(full) == set(FIELDS_BY_NAME)


def test_documents_carry_payloads_value_shapes(api):
    doc = api.get("/leads/1").json()
    assert doc["createdAt"] == "2024-01-01T00:01:00.000Z"
    assert doc["year"] == 2020 and isinstance(doc["year"], int)
    assert doc["monthlyPayment"] == 250.5
    assert doc["exterior"] == ["Red", "Blue"]
    assert doc["timeToPurchase"] == []  # a multi-value select is never null
    assert doc["favorites"] == [7, 8]
    assert api.get("/leads/6").json()["favorites"] is None


def test_count(api):
    assert api.get("/leads/count").json() == {"totalDocs": 6}
    assert api.get("/leads/count?where[reason][equals]=Test").json() == {"totalDocs": 2}


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "paths"),
    [
        ("/leads?where[unknownField][equals]=1", ["unknownField"]),
        ("/leads?where[email][nope]=x", ["email.nope"]),
        ("/leads?where[reason]=Test", ["reason.0", "reason.1", "reason.2", "reason.3"]),
        ("/leads?where[year]=20&where[x][in]=1", ["year.0", "year.1", "x"]),
        ("/leads?where[or][0][a][equals]=1&where[or][1][b][nope]=2", ["a", "b.nope"]),
        ("/leads/count?where[nope][equals]=1", ["nope"]),
        ("/leads?where[email][like][a]=b", ["email"]),
    ],
)
def test_unqueryable_paths_are_one_query_error(api, url, paths):
    response = api.get(url)
    assert response.status_code == 400
    noun = "path" if len(paths) == 1 else "paths"
    assert response.json() == {
        "errors": [
            {
                "name": "QueryError",
                "data": [{"path": path} for path in paths],
                "message": f"The following {noun} cannot be queried: {', '.join(paths)}",
            }
        ]
    }


@pytest.mark.parametrize(
    "url",
    [
        "/leads?where=%7Bbroken",
        "/leads?where[year][near]=1,2",
        "/leads/abc",
    ],
)
def test_what_breaks_payload_answers_500(api, url):
    response = api.get(url)
    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": "Something went wrong."}]}


def test_a_missing_lead_is_404(api):
    for url in ("/leads/999", "/leads/1.5"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json() == {"errors": [{"message": "Not Found"}]}
    assert api.get("/leads/12abc").status_code == 404  # parseFloat reads 12


@pytest.mark.parametrize(
    "authorization",
    [None, "", "users API-Key wrong", "Bearer x", "JWT x", "users API-Key"],
)
def test_a_missing_or_wrong_key_is_403(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    base = str(api.base_url).rstrip("/")
    for url in ("/leads", "/leads/count", "/leads/1"):
        response = httpx.get(base + url, headers=headers)
        assert response.status_code == 403
        assert response.json() == {
            "errors": [{"message": "You are not allowed to perform this action."}]
        }


def test_the_bare_key_is_accepted_too(api):
    key = api.headers["Authorization"].removeprefix("users API-Key ")
    base = str(api.base_url).rstrip("/")
    assert httpx.get(base + "/leads/count", headers={"Authorization": key}).status_code == 200


def test_post_with_method_override_and_a_form_body_is_a_get(api):
    body = "where[exterior][in]=Red,Silver&limit=2"
    for header in ("X-Payload-HTTP-Method-Override", "X-HTTP-Method-Override"):
        response = api.post(
            "/leads",
            content=body,
            headers={header: "GET", "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert ids(response) == [5, 2]
        assert response.json()["totalDocs"] == 3
    count = api.post(
        "/leads/count",
        content="where[reason][equals]=Test",
        headers={
            "X-Payload-HTTP-Method-Override": "GET",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert count.json() == {"totalDocs": 2}


def test_a_form_body_with_a_charset_is_not_a_query(api):
    response = api.post(
        "/leads",
        content="where[reason][equals]=Test",
        headers={
            "X-Payload-HTTP-Method-Override": "GET",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        },
    )
    assert response.json()["totalDocs"] == 6


def test_other_methods_are_unknown_routes(api):
    response = api.delete("/leads/1")
    assert response.status_code == 404
    assert response.json() == {"message": 'Route not found "/sandbox/api/leads/1"'}


# --- depth: populating relations ---------------------------------------------------


@pytest.fixture
def sales_rep_11(django_db_blocker):
    """Sales rep 11 stored (lead 1's rep); lead 3's rep 12 names none."""
    stamp = datetime(2023, 12, 1, tzinfo=UTC)
    with django_db_blocker.unblock():
        SalesRep.objects.create(
            id=11, name="Dana Smith", email="dana@x.com", createdAt=stamp, updatedAt=stamp
        )
    yield
    with django_db_blocker.unblock():
        SalesRep.objects.all().delete()


DANA = {
    "id": 11,
    "name": "Dana Smith",
    "email": "dana@x.com",
    "updatedAt": "2023-12-01T00:00:00.000Z",
    "createdAt": "2023-12-01T00:00:00.000Z",
}


@pytest.mark.parametrize(
    ("depth", "populated"), [("", True), ("1", True), ("2", True), ("0", False)]
)
def test_depth_populates_a_stored_sales_rep_and_leaves_other_ids(
    api, sales_rep_11, depth, populated
):
    """Payload's default depth is 2; an id it cannot load stays the id, and the
    relations to collections the sandbox does not hold stay ids too."""
    query = f"depth={depth}&" if depth else ""
    docs = api.get(f"/leads?{query}sort=id&where[id][in]=1,3").json()["docs"]
    assert docs[0]["salesRep"] == (DANA if populated else 11)
    assert docs[1]["salesRep"] == 12
    assert docs[0]["favorites"] == [7, 8]
    assert api.get(f"/leads/1?{query}select[salesRep]=true").json() == {
        "id": 1,
        "salesRep": DANA if populated else 11,
    }


def test_the_clients_reads_keep_relation_ids_unless_asked(api, sales_rep_11):
    """The bulk job pins and compares values read through the client, which sends
    depth=0 unless told otherwise: ids, never documents."""
    with LeadsClient(str(api.base_url), api.headers["Authorization"], 30) as client:
        assert client.find({"id": {"equals": 1}}).docs[0]["salesRep"] == 11
        assert next(client.iter_leads({"id": {"equals": 1}}))["salesRep"] == 11
        assert client.get(1)["salesRep"] == 11
        assert client.get(1, depth=1)["salesRep"] == DANA
