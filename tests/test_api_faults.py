"""Every way the API can fail, through httpx.MockTransport: typed errors, retries
that stay bounded, writes that are not repeated, and a key that never leaks."""

import json
import logging
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl

import httpx
import pytest

from leadsadmin.api import get_client
from leadsadmin.api.client import (
    MAX_GET_URL_BYTES,
    MAX_IDS_PER_REQUEST,
    ChunkResult,
    FindResult,
    LeadsClient,
    UpdateError,
    UpdateResult,
)
from leadsadmin.api.errors import (
    ApiUnauthorized,
    ApiUnreachable,
    DataInvalid,
    LeadsApiError,
    NotFound,
    ProtocolError,
    QueryRefused,
    RateLimited,
    ServerError,
    ValidationFailed,
    WhereInvalid,
)

KEY = "k3y-s3cr3t-0123456789abcdef"
AUTHORIZATION = f"users API-Key {KEY}"
BASE = "http://leads.test/api"
NOW = 1_800_000_000.0


def page(docs, total=None, limit=10, page_no=1):
    total = len(docs) if total is None else total
    pages = max(1, -(-total // limit))
    return {
        "docs": docs,
        "totalDocs": total,
        "limit": limit,
        "totalPages": pages,
        "page": page_no,
        "pagingCounter": (page_no - 1) * limit + 1,
        "hasPrevPage": page_no > 1,
        "hasNextPage": page_no < pages,
        "prevPage": page_no - 1 if page_no > 1 else None,
        "nextPage": page_no + 1 if page_no < pages else None,
    }


class Api:
    """A scripted API: answers are taken in order (the last one repeats);
    every request is recorded."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.now = NOW  # a clock that moves only when the client sleeps

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def client(self, **kwargs) -> LeadsClient:
        return LeadsClient(
            BASE,
            AUTHORIZATION,
            5.0,
            transport=httpx.MockTransport(self.handle),
            sleep=self.sleep,
            clock=lambda: self.now,
            **kwargs,
        )


def ok(body, status=200, **kwargs):
    return httpx.Response(status, json=body, **kwargs)


def query_of(request: httpx.Request) -> dict:
    if request.method == "POST":
        return dict(parse_qsl(request.content.decode(), keep_blank_values=True))
    return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))


FORBIDDEN = {"errors": [{"message": "You are not allowed to perform this action."}]}


# --- request shapes ---


def test_find_sends_the_key_verbatim_and_the_bracket_where():
    api = Api(ok(page([{"id": 1}])))
    result = api.client().find({"email": {"equals": "a+b@x.com"}}, sort="-year", limit=5)
    [request] = api.requests
    assert request.method == "GET"
    assert request.headers["Authorization"] == AUTHORIZATION
    assert b"where%5Bemail%5D%5Bequals%5D=a%2Bb%40x.com" in request.url.query
    assert query_of(request) == {
        "where[email][equals]": "a+b@x.com",
        "sort": "-year",
        "limit": "5",
        "page": "1",
        "depth": "0",
    }
    assert isinstance(result, FindResult)
    assert result.docs == [{"id": 1}]
    assert (result.total_docs, result.has_next_page, result.next_page) == (1, False, None)


def test_a_long_read_goes_as_post_with_the_method_override():
    api = Api(ok(page([])))
    where = {"email": {"in": [f"person{n}@example.com" for n in range(100)]}}
    api.client().find(where)
    [request] = api.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/leads"
    assert request.headers["X-Payload-HTTP-Method-Override"] == "GET"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    sent = query_of(request)
    assert sent["where[email][in][99]"] == "person99@example.com"
    assert len(request.content) > MAX_GET_URL_BYTES


def test_a_short_read_stays_a_get():
    api = Api(ok(page([])))
    api.client().find({"email": {"in": ["a@example.com"]}})
    assert api.requests[0].method == "GET"


def test_locale_is_passed_through_when_set():
    api = Api(ok(page([])), ok({"id": 3}))
    client = api.client(locale="de", fallback_locale="en")
    client.find()
    client.get(3)
    for request in api.requests:
        assert query_of(request)["locale"] == "de"
        assert query_of(request)["fallback-locale"] == "en"


def test_update_where_asks_only_for_the_changed_fields_and_sends_json():
    api = Api(
        ok({"docs": [{"id": 1, "reason": "Test"}], "errors": [], "message": "Updated 1 Lead"})
    )
    result = api.client().update_where({"id": {"equals": 1}}, {"reason": "Test"})
    [request] = api.requests
    assert request.method == "PATCH"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"reason": "Test"}
    assert query_of(request) == {
        "where[id][equals]": "1",
        "depth": "0",
        "select[reason]": "true",
        "select[updatedAt]": "true",
    }
    assert result == UpdateResult(
        docs=[{"id": 1, "reason": "Test"}], errors=[], message="Updated 1 Lead", status=200
    )
    assert result.ok


def patch_echo(request: httpx.Request) -> httpx.Response:
    """Answers a bulk PATCH by id as if every requested lead was updated."""
    sent = query_of(request)
    ids = [int(v) for k, v in sent.items() if "[id][in]" in k]
    return ok({"docs": [{"id": i} for i in ids], "errors": [], "message": "ok"})


def test_update_ids_chunks_and_pins_updated_at():
    api = Api(patch_echo)
    since = datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=UTC)
    results = list(
        api.client().update_ids(
            [*range(1, 251), 5, 6], {"reason": "Test"}, unchanged_since=since, chunk_size=100
        )
    )
    assert [len(r.ids) for r in results] == [100, 100, 50]
    assert all(isinstance(r, ChunkResult) and r.ok and r.conflicts == [] for r in results)
    first = query_of(api.requests[0])
    assert first["where[and][0][id][in][0]"] == "1"
    assert first["where[and][0][id][in][99]"] == "100"
    assert first["where[and][1][updatedAt][less_than_equal]"] == "2026-01-02T03:04:05.678Z"
    assert first["select[reason]"] == first["select[updatedAt]"] == "true"


def test_update_ids_never_sends_more_than_the_cap_in_one_request():
    api = Api(patch_echo)
    results = list(api.client().update_ids(range(1, 1001), {"reason": "Test"}, chunk_size=5000))
    assert max(len(r.ids) for r in results) <= MAX_IDS_PER_REQUEST
    assert sum(len(r.ids) for r in results) == 1000
    assert all(len(str(request.url)) < 8000 for request in api.requests)


def test_update_ids_reports_leads_that_came_back_neither_updated_nor_failed_as_conflicts():
    api = Api(
        ok(
            {
                "docs": [{"id": 3}],
                "errors": [{"id": "2", "isPublic": True, "message": "locked"}],
                "message": "Unable to update 1 out of 2 Leads.",
            },
            status=400,
        )
    )
    [result] = api.client().update_ids([1, 2, 3], {"reason": "Test"}, unchanged_since="2026-01-01")
    assert result.conflicts == [1]
    assert result.errors == [UpdateError(id=2, message="locked")]
    assert result.status == 400
    assert not result.ok


def test_update_ids_with_no_ids_sends_nothing():
    api = Api(patch_echo)
    assert list(api.client().update_ids([], {"reason": "Test"})) == []
    assert api.requests == []


# --- answered locally, nothing sent -------------------------------------------------


def test_a_where_that_matches_nothing_is_answered_without_a_request():
    api = Api(ok(page([])))
    client = api.client()
    nothing = {"id": {"in": []}}
    assert client.find(nothing).docs == []
    assert client.find(nothing).total_docs == 0
    assert client.count(nothing) == 0
    assert list(client.iter_leads(nothing)) == []
    result = client.update_where(nothing, {"reason": "Test"})
    assert (result.docs, result.errors, result.ok) == ([], [], True)
    assert api.requests == []


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.find({"nope": {"equals": 1}}), WhereInvalid),
        (lambda c: c.count({"reason": {"like": "x"}}), WhereInvalid),
        (lambda c: c.iter_leads({"reason": "x"}), WhereInvalid),
        (lambda c: c.find(sort="nope"), WhereInvalid),
        (lambda c: c.find(select=["nope"]), WhereInvalid),
        (lambda c: c.update_where({}, {"reason": "Test"}), WhereInvalid),
        (lambda c: c.update_where(None, {"reason": "Test"}), WhereInvalid),
        (lambda c: c.update_where({"id": {"equals": 1}}, {"nope": 1}), DataInvalid),
        (lambda c: c.update_where({"id": {"equals": 1}}, {"id": 2}), DataInvalid),
        (lambda c: c.update_where({"id": {"equals": 1}}, {}), DataInvalid),
        (lambda c: c.update_ids([1], {"updatedAt": "x"}), DataInvalid),
        (lambda c: c.update_ids([1], {"reason": object()}), DataInvalid),
        (lambda c: c.update_ids(["x"], {"reason": "Test"}), ValueError),
        (
            lambda c: c.update_ids([1], {"reason": "T"}, unchanged_since=datetime(2024, 1, 1)),
            ValueError,
        ),
        (lambda c: c.find(limit=0), ValueError),
        (lambda c: c.get("abc"), ValueError),
    ],
)
def test_bad_calls_are_refused_before_anything_is_sent(call, error):
    api = Api(ok(page([])))
    with pytest.raises(error):
        call(api.client())
    assert api.requests == []


def test_data_invalid_is_a_validation_failure_naming_each_problem():
    api = Api(ok(page([])))
    with pytest.raises(ValidationFailed) as caught:
        api.client().update_where({"id": {"equals": 1}}, {"nope": 1, "createdAt": "x"})
    assert caught.value.messages == ["unknown field 'nope'", "'createdAt' cannot be changed"]


def test_an_update_too_long_for_a_url_is_refused():
    api = Api(patch_echo)
    where = {"email": {"in": [f"someone.with.a.long.name{n}@example.com" for n in range(200)]}}
    with pytest.raises(WhereInvalid, match="too long to send with an update"):
        api.client().update_where(where, {"reason": "Test"})
    assert api.requests == []


# --- unreachable ---


def test_a_read_timeout_is_reported_not_retried():
    api = Api(httpx.ReadTimeout("timed out"))
    with pytest.raises(ApiUnreachable) as caught:
        api.client().find()
    assert "did not answer GET /leads within 5 s" in str(caught.value)
    assert len(api.requests) == 1


def test_connection_refused_is_retried_with_bounded_backoff_then_reported():
    api = Api(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(ApiUnreachable) as caught:
        api.client().count()
    assert len(api.requests) == 3
    assert len(api.sleeps) == 2
    assert all(0 < s <= 2.0 for s in api.sleeps)
    assert "http://leads.test/api could not be reached" in str(caught.value)
    assert "Connection refused" in str(caught.value)
    assert "Check LEADS_API_URL" in str(caught.value)


def test_a_dns_failure_is_unreachable():
    api = Api(httpx.ConnectError("[Errno -2] Name or service not known"))
    with pytest.raises(ApiUnreachable, match="Name or service not known"):
        api.client().get(1)


def test_a_connect_timeout_is_unreachable():
    api = Api(httpx.ConnectTimeout("timed out"))
    with pytest.raises(ApiUnreachable, match="connecting took longer"):
        api.client().find()


def test_backoff_grows_and_is_capped():
    api = Api(httpx.ConnectError("refused"))
    client = api.client(max_attempts=6, backoff_base=1.0, backoff_cap=3.0)
    with pytest.raises(ApiUnreachable):
        client.find()
    assert len(api.sleeps) == 5
    assert 0.5 <= api.sleeps[0] <= 1.0
    assert 1.0 <= api.sleeps[1] <= 2.0
    assert all(1.5 <= s <= 3.0 for s in api.sleeps[2:])


# --- server errors and retries ---


def test_a_502_then_success_is_retried_transparently():
    api = Api(httpx.Response(502, text="<html>Bad Gateway</html>"), ok(page([{"id": 9}])))
    assert api.client().find().docs == [{"id": 9}]
    assert len(api.requests) == 2
    assert len(api.sleeps) == 1


@pytest.mark.parametrize("status", [503, 504])
def test_persistent_unavailability_ends_in_a_server_error(status):
    api = Api(ok({"errors": [{"message": "Something went wrong."}]}, status=status))
    with pytest.raises(ServerError) as caught:
        api.client().find()
    assert len(api.requests) == 3
    assert caught.value.status == status
    assert "Something went wrong." in str(caught.value)


def test_a_500_is_not_retried():
    api = Api(ok({"errors": [{"message": "Something went wrong."}]}, status=500))
    with pytest.raises(ServerError, match="HTTP 500"):
        api.client().find()
    assert len(api.requests) == 1


def test_garbage_instead_of_json_is_a_protocol_error():
    api = Api(httpx.Response(200, text="<html>login page</html>"))
    with pytest.raises(ProtocolError, match="with text/plain instead of JSON"):
        api.client().find()


@pytest.mark.parametrize(
    ("content", "read"),
    [
        (b'{"id": 1, "year": NaN}', "nan"),
        ('{"id": 1, "year": "\u00e9"}'.encode("utf-16"), "é"),
    ],
    ids=["NaN", "UTF-16"],
)
def test_json_that_orjson_refuses_is_still_read(content, read):
    api = Api(httpx.Response(200, content=content, headers={"Content-Type": "application/json"}))
    year = api.client().get(1)["year"]
    assert str(year) == str(read)


@pytest.mark.parametrize(
    "body", [{"items": []}, {"docs": "x", "totalDocs": 1}, {"docs": [1], "totalDocs": 1}, []]
)
def test_json_of_the_wrong_shape_is_a_protocol_error(body):
    api = Api(ok(body))
    with pytest.raises(ProtocolError, match="without docs and totalDocs"):
        api.client().find()


def test_a_count_without_total_is_a_protocol_error():
    api = Api(ok({"count": 3}))
    with pytest.raises(ProtocolError, match="totalDocs"):
        api.client().count()


def test_a_lead_that_is_not_a_lead_is_a_protocol_error():
    api = Api(ok(["x"]))
    with pytest.raises(ProtocolError):
        api.client().get(1)


def test_iter_leads_reads_on_after_a_full_page_whatever_hasnextpage_says():
    # Without pagination Payload answers hasNextPage false on every page: only a
    # short page ends the iteration.
    full = page([{"id": 1}, {"id": 2}])  # hasNextPage false, totalDocs 2
    api = Api(ok(full), ok(page([{"id": 3}, {"id": 4}])), ok(page([])))
    assert [lead["id"] for lead in api.client().iter_leads(page_size=2)] == [1, 2, 3, 4]
    assert len(api.requests) == 3


def test_iter_leads_refuses_pages_out_of_id_order():
    api = Api(ok(page([{"id": 5}, {"id": 4}], total=2)))
    with pytest.raises(ProtocolError, match="out of id order"):
        list(api.client().iter_leads(page_size=2))


# --- refusals ---


@pytest.mark.parametrize("status", [401, 403])
def test_unauthorised_says_what_to_check(status):
    api = Api(ok(FORBIDDEN, status=status))
    with pytest.raises(ApiUnauthorized) as caught:
        api.client().find()
    message = str(caught.value)
    assert "the API key was refused or lacks permission" in message
    assert "LEADS_API_KEY" in message
    assert caught.value.status == status
    assert len(api.requests) == 1


def test_a_query_error_carries_the_paths():
    body = {
        "errors": [
            {
                "name": "QueryError",
                "data": [{"path": "nope"}, {"path": "email.bogus"}],
                "message": "The following paths cannot be queried: nope, email.bogus",
            }
        ]
    }
    api = Api(ok(body, status=400))
    with pytest.raises(QueryRefused) as caught:
        api.client().count()
    assert caught.value.paths == ["nope", "email.bogus"]
    assert "nope, email.bogus" in str(caught.value)


def test_a_validation_error_carries_the_messages():
    body = {
        "errors": [
            {
                "name": "ValidationError",
                "data": {
                    "id": 9,
                    "collection": "leads",
                    "errors": [
                        {
                            "label": "Process Statuses",
                            "message": "This field has an invalid selection.",
                            "path": "processStatuses",
                        }
                    ],
                },
                "message": "The following field is invalid: Process Statuses",
            }
        ]
    }
    api = Api(ok(body, status=400))
    with pytest.raises(ValidationFailed) as caught:
        api.client().update_where({"id": {"equals": 9}}, {"processStatuses": "Nope"})
    assert caught.value.messages == ["Process Statuses: This field has an invalid selection."]
    assert "invalid selection" in str(caught.value)


def test_a_plain_400_is_a_validation_failure_with_its_message():
    api = Api(ok({"errors": [{"message": "Invalid JSON"}]}, status=400))
    with pytest.raises(ValidationFailed) as caught:
        api.client().update_ids([1], {"reason": "Test"}).__next__()
    assert caught.value.messages == ["Invalid JSON"]


def test_a_missing_lead_is_not_found():
    api = Api(ok({"errors": [{"message": "Not Found"}]}, status=404))
    with pytest.raises(NotFound, match="Lead 999 was not found"):
        api.client().get(999)


def test_count_falls_back_to_find_when_the_route_does_not_exist_and_remembers():
    api = Api(
        ok({"message": 'Route not found "/api/leads/count"'}, status=404),
        ok(page([{"id": 1}], total=42, limit=1)),
    )
    client = api.client()
    assert client.count({"reason": {"equals": "Test"}}) == 42
    assert client.count() == 42
    paths = [request.url.path for request in api.requests]
    assert paths == ["/api/leads/count", "/api/leads", "/api/leads"]
    assert query_of(api.requests[1])["limit"] == "1"


def test_a_404_with_errors_on_count_is_not_found():
    api = Api(ok({"errors": [{"message": "Not Found"}]}, status=404))
    with pytest.raises(NotFound):
        api.client().count()


def test_an_unexpected_4xx_is_a_leads_api_error():
    api = Api(ok({"errors": [{"message": "Locked"}]}, status=423))
    with pytest.raises(LeadsApiError, match="HTTP 423"):
        api.client().update_where({"id": {"equals": 2}}, {"reason": "Test"})


# --- rate limits ---


def http_date(moment: float) -> str:
    return format_datetime(datetime.fromtimestamp(moment, UTC), usegmt=True)


READ = ("GET", lambda c: c.find().total_docs == 0, ok(page([])))
WRITE = ("PATCH", lambda c: next(c.update_ids([1], {"reason": "Test"})).ok, None)


@pytest.mark.parametrize(("method", "call", "answer"), [READ, WRITE])
@pytest.mark.parametrize("retry_after", ["3", "date"])
def test_a_429_is_waited_out_as_asked_then_sent_again(method, call, answer, retry_after):
    """The request was not processed: a read and a write alike are sent again
    once the wait is over, given in seconds or as an HTTP date."""
    api = Api(answer or patch_echo)
    value = retry_after if retry_after != "date" else http_date(api.now + 3)
    api.answers.insert(0, ok({}, status=429, headers={"Retry-After": value}))
    assert call(api.client())
    assert api.sleeps == [3.0]
    assert [request.method for request in api.requests] == [method, method]


def test_a_429_with_an_http_date_in_the_past_is_retried_at_once():
    api = Api(ok({}, status=429, headers={"Retry-After": http_date(NOW - 60)}), ok(page([])))
    api.client().find()
    assert api.sleeps == []
    assert len(api.requests) == 2


def test_a_429_asking_for_too_long_a_wait_is_reported_with_the_delay():
    api = Api(ok({}, status=429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as caught:
        api.client().find()
    assert caught.value.retry_after == 120
    assert str(caught.value).startswith(
        "The leads API is rate-limiting us (429) and asks us to wait 120 s;"
    )
    assert api.sleeps == []
    assert len(api.requests) == 1


def test_429_waits_stay_within_one_budget_per_call():
    too_many = ok({}, status=429, headers={"Retry-After": "40"})
    api = Api(too_many, too_many, patch_echo)
    with pytest.raises(RateLimited):
        api.client().update_where({"id": {"equals": 1}}, {"reason": "Test"})
    assert api.sleeps == [40.0]  # a second 40 s would pass the 60 s budget
    assert len(api.requests) == 2


@pytest.mark.parametrize(("method", "call", "answer"), [READ, WRITE])
def test_a_429_forever_ends_in_the_typed_error_with_a_plain_message(method, call, answer):
    api = Api(ok({}, status=429, headers={"Retry-After": "1"}))
    with pytest.raises(RateLimited) as caught:
        call(api.client())
    assert caught.value.status == 429
    assert str(caught.value) == (
        "The leads API is rate-limiting us (429) and asks us to wait 1 s; a call waits at "
        "most 60 s over 3 tries. Try again in a minute; if it keeps happening, lower "
        "LEADS_API_MAX_PER_SECOND or LEADS_API_MAX_CONCURRENT."
    )
    assert api.sleeps == [1.0, 1.0]
    assert [request.method for request in api.requests] == [method] * 3


def test_a_429_without_retry_after_backs_off_and_retries():
    api = Api(ok({}, status=429), patch_echo)
    [result] = api.client().update_ids([4], {"reason": "Test"})
    assert result.ok
    assert len(api.sleeps) == 1 and 0 < api.sleeps[0] <= 0.2


# --- writes: retried only when the request never left --------------------------------------


def test_a_write_whose_connection_failed_is_retried():
    api = Api(httpx.ConnectError("refused"), patch_echo)
    [result] = api.client().update_ids([7], {"reason": "Test"})
    assert result.docs == [{"id": 7}]
    assert len(api.requests) == 2


def test_a_write_that_timed_out_waiting_for_the_answer_is_not_retried():
    api = Api(httpx.ReadTimeout("timed out"), patch_echo)
    with pytest.raises(ApiUnreachable) as caught:
        api.client().update_where({"id": {"equals": 7}}, {"reason": "Test"})
    assert len(api.requests) == 1
    assert "may or may not have been saved" in str(caught.value)


def test_a_write_answered_502_is_not_retried():
    api = Api(httpx.Response(502, text="Bad Gateway"), patch_echo)
    with pytest.raises(ServerError):
        api.client().update_where({"id": {"equals": 7}}, {"reason": "Test"})
    assert len(api.requests) == 1


def test_a_write_whose_connection_dropped_is_not_retried():
    api = Api(httpx.RemoteProtocolError("Server disconnected"), patch_echo)
    with pytest.raises(ApiUnreachable):
        api.client().update_where({"id": {"equals": 7}}, {"reason": "Test"})
    assert len(api.requests) == 1


def test_a_read_whose_keep_alive_connection_dropped_is_retried():
    api = Api(httpx.RemoteProtocolError("Server disconnected"), ok(page([])))
    assert api.client().find().total_docs == 0
    assert len(api.requests) == 2


# --- partial results ---


def test_a_partial_failure_with_error_objects_is_a_result_not_an_exception():
    body = {
        "docs": [{"id": 3, "reason": "Test"}, {"id": 1, "reason": "Test"}],
        "errors": [
            {
                "id": 2,
                "isPublic": True,
                "message": "Document with ID 2 is currently locked by another user and "
                "cannot be updated.",
            }
        ],
        "message": "Unable to update 1 out of 3 Leads.",
    }
    api = Api(ok(body, status=400))
    result = api.client().update_where({"id": {"in": [1, 2, 3]}}, {"reason": "Test"})
    assert result.status == 400
    assert not result.ok
    assert [doc["id"] for doc in result.docs] == [3, 1]
    assert result.errors == [
        UpdateError(
            id=2,
            message="Document with ID 2 is currently locked by another user and cannot be updated.",
        )
    ]
    assert result.message == "Unable to update 1 out of 3 Leads."


def test_a_partial_failure_with_error_strings_is_normalised():
    body = {
        "docs": [{"id": 1}],
        "errors": ["The following field is invalid: Reason", {"id": 4, "message": "x"}],
        "message": "Unable to update 2 out of 3 Leads.",
    }
    api = Api(ok(body, status=400))
    result = api.client().update_where({"id": {"in": [1, 4, 5]}}, {"reason": "Test"})
    assert result.errors == [
        UpdateError(id=None, message="The following field is invalid: Reason"),
        UpdateError(id=4, message="x"),
    ]


def test_a_non_public_error_keeps_payloads_generic_message():
    body = {
        "docs": [],
        "errors": [{"id": 1, "isPublic": False, "message": "Something went wrong."}],
        "message": "Unable to update 1 out of 1 Lead.",
    }
    api = Api(ok(body, status=400))
    [result] = api.client().update_ids([1], {"reason": "Test"})
    assert result.errors == [UpdateError(id=1, message="Something went wrong.")]
    assert result.conflicts == []


def test_an_update_answer_without_docs_is_a_protocol_error():
    api = Api(ok({"message": "Updated"}))
    with pytest.raises(ProtocolError):
        api.client().update_where({"id": {"equals": 1}}, {"reason": "Test"})


# --- the key never leaks ---


def every_error(api_answers) -> list[Exception]:
    """Produce one of each error class against a server that echoes the key."""
    raised = []
    calls = [
        (Api(httpx.ConnectError(f"refused {AUTHORIZATION}")), lambda c: c.find()),
        (Api(httpx.ReadTimeout(f"slow {KEY}")), lambda c: c.find()),
        (Api(httpx.ReadTimeout(f"slow {KEY}")), lambda c: c.update_where(*api_answers)),
        (Api(ok({"errors": [{"message": f"bad key {KEY}"}]}, status=403)), lambda c: c.find()),
        (
            Api(ok({"errors": [{"message": f"who {AUTHORIZATION}"}]}, status=401)),
            lambda c: c.find(),
        ),
        (
            Api(
                ok(
                    {"errors": [{"name": "QueryError", "data": [{"path": KEY}], "message": KEY}]},
                    status=400,
                )
            ),
            lambda c: c.count(),
        ),
        (Api(ok({"errors": [{"message": f"invalid {KEY}"}]}, status=400)), lambda c: c.count()),
        (Api(ok({"errors": [{"message": f"none {KEY}"}]}, status=404)), lambda c: c.get(1)),
        (Api(ok({}, status=429, headers={"Retry-After": "999"})), lambda c: c.find()),
        (Api(ok({"errors": [{"message": f"boom {KEY}"}]}, status=500)), lambda c: c.find()),
        (Api(httpx.Response(200, text=f"<p>{KEY}</p>")), lambda c: c.find()),
        (Api(ok({"errors": [{"message": KEY}]}, status=418)), lambda c: c.find()),
        (Api(ok(page([]))), lambda c: c.find({"nope": {"equals": KEY}, "year": {"in": [KEY]}})),
        (Api(ok(page([]))), lambda c: c.update_where({"id": {"equals": 1}}, {"nope": KEY})),
    ]
    for api, call in calls:
        with pytest.raises(LeadsApiError) as caught:
            call(api.client())
        raised.append(caught.value)
    return raised


def test_no_error_text_repr_or_log_line_contains_the_key(caplog):
    caplog.set_level(logging.DEBUG)
    errors = every_error(({"id": {"equals": 1}}, {"reason": "Test"}))
    classes = {type(e) for e in errors}
    assert classes >= {
        ApiUnreachable,
        ApiUnauthorized,
        QueryRefused,
        ValidationFailed,
        NotFound,
        RateLimited,
        ServerError,
        ProtocolError,
        WhereInvalid,
        DataInvalid,
        LeadsApiError,
    }
    for error in errors:
        for text in (str(error), repr(error), error.message, str(error.args), str(vars(error))):
            assert KEY not in text, (type(error), text)
        assert error.__cause__ is None
        assert not any(isinstance(v, httpx.Request | httpx.Response) for v in vars(error).values())
    assert caplog.records
    assert KEY not in caplog.text


def test_echoed_keys_are_scrubbed_in_partial_results():
    body = {"docs": [], "errors": [{"id": 1, "message": f"key {KEY}"}], "message": KEY}
    api = Api(ok(body, status=400))
    result = api.client().update_where({"id": {"equals": 1}}, {"reason": "Test"})
    assert KEY not in repr(result)


def test_the_clients_repr_shows_no_key():
    client = LeadsClient("http://user:pw@leads.test/api", AUTHORIZATION, 5.0)
    assert repr(client) == "LeadsClient(base_url='http://leads.test/api', timeout=5.0)"
    assert KEY not in repr(client) and KEY not in str(client)


# --- logging ---


def test_one_log_line_per_attempt_with_fields_and_operators_but_no_values(caplog):
    caplog.set_level(logging.INFO, logger="leadsadmin.api")
    api = Api(httpx.Response(502), ok(page([{"id": 1, "email": "private@example.com"}])))
    api.client().find(
        {"or": [{"email": {"equals": "private@example.com"}}, {"year": {"greater_than": 1}}]}
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "leadsadmin.api"]
    assert len(lines) == 2
    assert lines[0].startswith(
        "GET /leads where=or(email.equals, year.greater_than) status=502 duration_ms="
    )
    assert lines[0].endswith("attempt=1")
    assert "status=200" in lines[1] and lines[1].endswith("attempt=2")
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "leadsadmin.api")
    assert "private" not in caplog.text


def test_the_override_and_writes_are_logged_as_such(caplog):
    caplog.set_level(logging.INFO, logger="leadsadmin.api")
    api = Api(ok(page([])), patch_echo)
    client = api.client()
    client.find({"id": {"in": list(range(1000, 1200))}})
    list(client.update_ids([1, 2], {"reason": "Test"}, unchanged_since="2026-01-01T00:00:00Z"))
    lines = [r.getMessage() for r in caplog.records if r.name == "leadsadmin.api"]
    assert lines[0].startswith("GET(POST override) /leads where=id.in status=200")
    assert lines[1].startswith(
        "PATCH /leads where=and(id.in, updatedAt.less_than_equal) status=200"
    )


# --- the process-wide client ---


def test_get_client_is_shared_and_rebuilt_when_settings_change(settings):
    settings.LEADS_API_URL = "http://one.test/api"
    settings.LEADS_API_KEY = AUTHORIZATION
    settings.LEADS_API_TIMEOUT = 7.5
    first = get_client()
    assert get_client() is first
    assert first.base_url == "http://one.test/api"
    assert first.timeout == 7.5
    settings.LEADS_API_KEY = "users API-Key another-key-000"
    second = get_client()
    assert second is not first
    settings.LEADS_API_URL = ""
    settings.SANDBOX_SELF_URL = "http://127.0.0.1:9999"
    assert get_client().base_url == "http://127.0.0.1:9999/sandbox/api"


def test_get_client_builds_one_client_under_concurrent_first_use(settings):
    settings.LEADS_API_URL = "http://concurrent.test/api"
    settings.LEADS_API_KEY = "users API-Key concurrent-key"
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen}) == 1


def test_one_client_serves_many_threads():
    api = Api(lambda request: ok(page([{"id": int(query_of(request)["limit"])}])))
    client = api.client()
    results = {}

    def read(n):
        results[n] = client.find(limit=n).docs[0]["id"]

    threads = [threading.Thread(target=read, args=(n,)) for n in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: n for n in range(1, 21)}


def test_httpx_does_not_log_urls_with_where_values(caplog):
    caplog.set_level(logging.NOTSET)  # leave each logger at its own level
    api = Api(ok(page([])))
    api.client().find({"email": {"equals": "private@example.com"}})
    assert "private" not in caplog.text


def test_iter_leads_refuses_a_where_too_deep_for_its_later_pages_before_sending():
    api = Api(ok(page([])))

    # 10 segments alone (fits); too deep once `id > last` has to be AND-ed around it.
    # Each group has two members, so no level can be left out.
    def beside(combinator, node):
        return {combinator: [node, {"city": {"equals": "c"}}]}

    deepest = beside("or", beside("and", beside("or", beside("and", {"reason": {"equals": "x"}}))))
    where = {**deepest, "id": {"greater_than": 3}}
    with pytest.raises(WhereInvalid, match="nested too deeply"):
        api.client().iter_leads(where)
    assert api.requests == []


@pytest.mark.parametrize(
    ("where", "second_page"),
    [
        (None, {"where[id][greater_than]": "5"}),
        (
            {"reason": {"equals": "Test"}},
            {"where[reason][equals]": "Test", "where[id][greater_than]": "5"},
        ),
        (
            {"or": [{"and": [{"reason": {"equals": "Test"}}]}]},
            {"where[or][0][and][0][reason][equals]": "Test", "where[id][greater_than]": "5"},
        ),
        (
            {"id": {"less_than": 100}},
            {"where[id][less_than]": "100", "where[id][greater_than]": "5"},
        ),
        (
            {"id": {"greater_than": 0}},
            {"where[and][0][id][greater_than]": "0", "where[and][1][id][greater_than]": "5"},
        ),
    ],
)
def test_iter_leads_asks_for_the_next_page_after_the_last_id_seen(where, second_page):
    api = Api(ok(page([{"id": 1}, {"id": 5}], total=3, limit=2)), ok(page([{"id": 9}], total=1)))
    leads = list(api.client().iter_leads(where, page_size=2))
    assert [lead["id"] for lead in leads] == [1, 5, 9]
    sent = query_of(api.requests[1])
    assert {key: value for key, value in sent.items() if key.startswith("where")} == second_page
    assert sent["sort"] == "id"
    # No count per page: pagination=false with a limit (page is not needed).
    assert (sent["pagination"], sent["limit"], sent["depth"]) == ("false", "2", "0")
    assert "page" not in sent


def test_an_empty_id_list_finds_nothing_whatever_the_limit():
    api = Api(ok(page([])))
    assert api.client().find({"id": {"in": []}}, limit=0).docs == []
    assert api.requests == []


def test_a_redirect_is_not_followed_and_says_where_to_point_the_client():
    api = Api(
        httpx.Response(301, headers={"Location": "https://leads.test/api/leads?where[x]=secret"})
    )
    with pytest.raises(LeadsApiError) as caught:
        api.client().find()
    message = str(caught.value)
    assert "redirected GET /leads (HTTP 301) to https://leads.test/api/leads;" in message
    assert "LEADS_API_URL" in message
    assert "secret" not in message
    assert len(api.requests) == 1


def test_no_parameter_is_ever_sent_twice():
    # Payload answers a duplicated parameter with a 500 (payload-observed.md #42).
    api = Api(ok(page([])), patch_echo)
    client = api.client(locale="en")
    client.find({"id": {"in": [1, 2]}}, sort="id", select=["email", "email", "id"])
    client.update_where({"id": {"in": [1]}}, {"reason": "Test"}, select=["reason", "updatedAt"])
    for request in api.requests:
        keys = [key for key, _ in parse_qsl(request.url.query.decode(), keep_blank_values=True)]
        assert len(keys) == len(set(keys)), keys


# --- pages ---


ECHOING_ANSWERS = [
    httpx.Response(401, json={"errors": [{"message": f"Unknown key {AUTHORIZATION}"}]}),
    httpx.Response(
        400,
        json={"errors": [{"name": "QueryError", "data": [{"path": KEY}], "message": KEY}]},
    ),
    httpx.Response(400, json={"errors": [{"message": f"invalid {KEY}"}]}),
    httpx.Response(404, json={"errors": [{"message": f"Not Found {KEY}"}]}),
    httpx.Response(500, json={"errors": [{"message": f"boom {AUTHORIZATION}"}]}),
    httpx.Response(200, text=f"<p>{KEY}</p>"),
]


@pytest.mark.parametrize("answer", ECHOING_ANSWERS, ids=lambda r: str(r.status_code))
@pytest.mark.parametrize(
    "url",
    [
        "/leads/?c0=0&f0=reason&op0=equals&v0=Test",  # the page with its preview
        "/leads/7/",  # a lead's detail
        "/leads/export.csv?c0=0&f0=reason&op0=equals&v0=Test",
    ],
)
def test_no_rendered_page_contains_the_key_when_the_api_fails(client_as, monkeypatch, url, answer):
    def echo(request):
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    client = LeadsClient(
        BASE, AUTHORIZATION, 5, transport=httpx.MockTransport(echo), max_attempts=1
    )
    monkeypatch.setattr("leadsadmin.api.get_client", lambda: client)
    with client:
        response = client_as("admin").get(url)
        html = b"".join(response) if response.streaming else response.content
    page_text = html.decode()
    if response.status_code == 404:  # a missing lead is the site's Not Found page
        assert url == "/leads/7/"
    else:
        assert response.status_code in (200, 502), response.status_code
        assert "leads API" in page_text  # the failure is shown...
    assert KEY not in page_text  # ...without the key
