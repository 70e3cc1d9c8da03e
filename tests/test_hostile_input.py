"""Hostile input is refused with a 4xx, never a 500 (issue 13): bodies too large or
too deep, wheres too deep, numbers out of range, NUL characters, too many fields.
The sandbox answers in Payload's error shape, over real HTTP; the dashboard's own
pages through the Django test client."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest
from django.core.handlers.wsgi import LimitedStream
from django.template.loader import get_template
from django.test import RequestFactory

from leadsadmin.sandbox import views
from leadsadmin.sandbox.loading import sandbox_load
from leadsadmin.sandbox.models import ApiKey

FORBIDDEN = {"errors": [{"message": "You are not allowed to perform this action."}]}
TOO_DEEP = {"errors": [{"message": "The JSON is nested more than 32 levels deep."}]}


def _lead(lead_id: int, **values) -> dict:
    stamp = f"2024-01-01T00:{lead_id:02d}:00.000Z"
    return {"id": lead_id, "createdAt": stamp, "updatedAt": stamp, **values}


LEADS = [_lead(i, notes=f"note {i}", year=2000 + i) for i in range(1, 6)] + [_lead(40)]


@pytest.fixture
def api(sandbox_api):
    sandbox_load(LEADS)
    with httpx.Client(
        base_url=sandbox_api.url, headers={"Authorization": sandbox_api.authorization}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def anonymous(sandbox_api):
    with httpx.Client(base_url=sandbox_api.url, timeout=30) as client:
        yield client


def _nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_where(levels: int) -> str:
    where: dict = {"year": {"equals": 2001}}
    for _ in range(levels):
        where = {"and": [where]}
    return json.dumps(where)


# --- bodies -------------------------------------------------------------------


def test_a_deep_body_without_a_key_gets_403(anonymous):
    response = anonymous.patch(
        "/leads/40", content=_nested_json(100_000), headers={"Content-Type": "application/json"}
    )

    assert (response.status_code, response.json()) == (403, FORBIDDEN)


class RecordedBody(io.BytesIO):
    """A request body that remembers whether anybody read it."""

    def __init__(self, content: bytes):
        super().__init__(content)
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        return super().read(*args)

    def readline(self, *args):
        self.reads += 1
        return super().readline(*args)


def _sandbox_request(view, method, path, content, *, authorization=None, **headers):
    """Calls a sandbox view with a JSON body in a stream that records reads:
    (response, stream)."""
    stream = RecordedBody(content)
    request = RequestFactory().generic(method, path, **headers)
    request.META.update(
        {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(content))},
    )
    request._stream = LimitedStream(stream, len(content))
    if authorization:
        request.META["HTTP_AUTHORIZATION"] = authorization
    return view(request, **({"lead_id": "40"} if view is views.lead else {})), stream


HOSTILE_BODIES = [
    pytest.param(b"{" + b'"notes":"' + b"x" * 5_000_000 + b'"}', id="5 MB"),
    pytest.param(_nested_json(100_000), id="100,000 deep"),
    pytest.param(b'{"reason":', id="broken JSON"),
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
@pytest.mark.parametrize("authorization", [None, "users API-Key not-a-key", "Bearer x"])
@pytest.mark.parametrize(
    ("view", "method", "path"),
    [
        (views.leads, "PATCH", "/sandbox/api/leads?where[id][in]=40"),
        (views.leads, "PATCH", "/sandbox/api/leads"),
        (views.lead, "PATCH", "/sandbox/api/leads/40"),
        (views.leads, "POST", "/sandbox/api/leads"),
    ],
)
def test_without_a_valid_key_the_body_is_never_read(
    db, settings, view, method, path, authorization, body
):
    settings.SANDBOX_ENABLED = True
    extra = {"HTTP_X_PAYLOAD_HTTP_METHOD_OVERRIDE": "GET"} if method == "POST" else {}

    response, stream = _sandbox_request(
        view, method, path, body, authorization=authorization, **extra
    )

    assert (response.status_code, json.loads(response.content)) == (403, FORBIDDEN)
    assert stream.reads == 0


def test_with_a_key_a_body_over_the_limit_is_refused_unread(db, settings, sandbox_key):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_MAX_BODY_BYTES = 1000
    body = b'{"notes":"' + b"x" * 2000 + b'"}'

    response, stream = _sandbox_request(
        views.lead, "PATCH", "/sandbox/api/leads/40", body, authorization=sandbox_key
    )

    assert response.status_code == 413
    assert stream.reads == 0


def test_with_a_key_a_body_within_the_limit_is_read(db, settings, sandbox_key):
    """The stream above does record reads: a body the sandbox accepts is read."""
    settings.SANDBOX_ENABLED = True

    response, stream = _sandbox_request(
        views.lead, "PATCH", "/sandbox/api/leads/40", b'{"notes":"x"}', authorization=sandbox_key
    )

    assert response.status_code == 404  # no lead 40 here: read, parsed, then looked up
    assert stream.reads > 0


def test_with_a_key_a_deep_body_is_read_but_never_parsed(db, settings, sandbox_key, monkeypatch):
    settings.SANDBOX_ENABLED = True
    parsed = []
    monkeypatch.setattr(views, "parse_json", lambda raw: parsed.append(raw))

    response, stream = _sandbox_request(
        views.lead,
        "PATCH",
        "/sandbox/api/leads/40",
        _nested_json(100_000),
        authorization=sandbox_key,
    )

    assert (response.status_code, json.loads(response.content)) == (400, TOO_DEEP)
    assert stream.reads > 0 and parsed == []


@pytest.fixture
def sandbox_key(db):
    _, plain = ApiKey.issue("hostile input")
    return ApiKey.header_value(plain)


def test_a_deep_body_is_refused_before_it_is_parsed(api):
    started = time.monotonic()
    response = api.patch(
        "/leads/40", content=_nested_json(100_000), headers={"Content-Type": "application/json"}
    )

    assert (response.status_code, response.json()) == (400, TOO_DEEP)
    assert time.monotonic() - started < 5


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    response = api.patch("/leads/40?select[notes]=true", json={"notes": "[{" * 100})

    assert response.status_code == 200
    assert response.json()["doc"]["notes"] == "[{" * 100


def test_a_body_over_the_size_limit_is_413_and_not_read(api, anonymous, settings):
    settings.SANDBOX_MAX_BODY_BYTES = 1000
    body = {"notes": "x" * 2000}

    refused = api.patch("/leads/40", json=body)
    anonymous_refused = anonymous.patch("/leads/40", json=body)

    assert refused.status_code == 413
    assert refused.json() == {
        "errors": [{"message": "The request body is larger than 1000 bytes."}]
    }
    assert (anonymous_refused.status_code, anonymous_refused.json()) == (403, FORBIDDEN)
    assert api.get("/leads/40").json()["notes"] is None


def test_a_method_override_form_over_the_size_limit_is_413(api, settings):
    settings.SANDBOX_MAX_BODY_BYTES = 100
    headers = {
        "X-Payload-HTTP-Method-Override": "GET",
        "Content-Type": "application/x-www-form-urlencoded",
    }

    response = api.post("/leads", headers=headers, content="where[notes][like]=" + "x" * 200)

    assert response.status_code == 413


def test_a_multipart_body_with_too_many_fields_is_400_in_payloads_shape(api):
    files = {f"field{i}": (None, "x") for i in range(1100)}

    response = api.patch("/leads/40", files=files)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "The request has too many fields or is malformed."}]
    }


# --- wheres -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/leads"), ("GET", "/leads/count"), ("PATCH", "/leads")]
)
def test_a_deep_json_where_is_400_at_once(api, method, path):
    started = time.monotonic()
    response = api.request(
        method, path, params={"where": _deep_where(600)}, json={"notes": "never"}
    )

    assert (response.status_code, response.json()) == (400, TOO_DEEP)
    assert time.monotonic() - started < 5


def test_a_json_where_within_the_limit_is_answered(api):
    response = api.get("/leads/count", params={"where": _deep_where(15)})

    assert response.json() == {"totalDocs": 1}


def test_a_deep_query_string_where_is_cut_at_ten_levels_as_payload_cuts_it(api):
    query = "where" + "[and][0]" * 300 + "[year][equals]=2001"

    response = api.get(f"/leads?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["name"] == "QueryError"


# --- numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("where[id][in]=99999999999999999999999", 0),
        ("where[id][equals]=99999999999999999999999", 0),
        ("where[id][not_in]=99999999999999999999999", 6),
        ("where[id][greater_than]=-99999999999999999999999", 6),
        ("where[id][less_than]=99999999999999999999999", 6),
        ("where[id][greater_than]=99999999999999999999999", 0),
        ("where[year][less_than]=Infinity", 5),
    ],
)
def test_numbers_beyond_64_bits_in_a_where_are_answered_as_payload_answers(api, query, total):
    response = api.get(f"/leads/count?{query}")

    assert (response.status_code, response.json()) == (200, {"totalDocs": total})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("where[id][equals]=Infinity", "An id in the where is not a finite number."),
        ("where[id][in]=1,1e400", "An id in the where is not a finite number."),
        ("page=1e309", "The page is out of range."),
        ("page=99999999999999999999", "The page is out of range."),
        ("page=-99999999999999999999&limit=2", "The page is out of range."),
        ("limit=1e309", "The limit is out of range."),
        ("limit=99999999999999999999", "The limit is out of range."),
        ("limit=1e9", "The limit must not be greater than 1000."),
        ("limit=1001", "The limit must not be greater than 1000."),
    ],
)
def test_numbers_out_of_range_in_a_find_are_400(api, query, message):
    response = api.get(f"/leads?{query}")

    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message}]}


def test_the_largest_limit_is_answered(api, settings):
    settings.SANDBOX_MAX_LIMIT = 3

    assert api.get("/leads?limit=3").json()["limit"] == 3
    assert api.get("/leads?limit=4").status_code == 400


def test_a_bulk_patch_limit_out_of_range_is_400(api):
    response = api.patch("/leads?where[id][equals]=1&limit=1e309", json={"notes": "x"})

    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "The limit is out of range."}]}
    assert api.get("/leads/1").json()["notes"] == "note 1"


@pytest.mark.parametrize("lead_id", ["99999999999999999999", "-99999999999999999999", "1e309"])
def test_an_id_beyond_64_bits_in_the_path_is_not_found(api, lead_id):
    response = api.get(f"/leads/{lead_id}")

    assert (response.status_code, response.json()) == (404, {"errors": [{"message": "Not Found"}]})


def _field_refused(response, label: str, message: str) -> None:
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["name"] == "ValidationError"
    assert error["message"] == f"The following field is invalid: {label}"
    assert error["data"]["errors"] == [{"label": label, "message": message, "path": label.lower()}]


@pytest.mark.parametrize(
    "body",
    [
        b'{"year": 1e23}',
        b'{"year": -1e23}',
        b'{"year": 1e400}',
        b'{"year": "Infinity"}',
        b'{"year": ' + b"9" * 400 + b"}",
    ],
)
def test_numbers_beyond_64_bits_are_not_stored(api, body):
    response = api.patch("/leads/2", content=body, headers={"Content-Type": "application/json"})

    _field_refused(response, "Year", "Please enter a valid number.")
    assert api.get("/leads/2").json()["year"] == 2002


def test_the_largest_64_bit_numbers_are_stored(api):
    response = api.patch("/leads/2?select[year]=true", json={"year": -(2**63)})

    assert response.json()["doc"]["year"] == -(2**63)


def test_text_with_a_nul_character_is_not_stored(api):
    response = api.patch("/leads/3", json={"notes": "a\x00b"})

    _field_refused(response, "Notes", "This field has an invalid input.")
    assert api.get("/leads/3").json()["notes"] == "note 3"


def test_a_bulk_patch_with_a_nul_character_stores_nothing(api):
    response = api.patch("/leads?where[id][in]=1,2", json={"notes": "\x00"})

    assert response.status_code == 400
    assert response.json()["message"] == "Unable to update 2 out of 2 Leads."
    assert [api.get(f"/leads/{i}").json()["notes"] for i in (1, 2)] == ["note 1", "note 2"]


# --- too many fields, and the error pages ---------------------------------------

MANY_FIELDS = "&".join(f"f{i}=1" for i in range(1100))


def test_too_many_get_parameters_on_a_page_show_the_400_page(client):
    client.raise_request_exception = False

    response = client.get(f"/login/?{MANY_FIELDS}")

    assert response.status_code == 400
    assert b"This request could not be read" in response.content


def test_too_many_get_parameters_on_the_sandbox_are_ignored_as_payload_ignores_them(api):
    response = api.get(f"/leads/count?{MANY_FIELDS}&where[id][equals]=1")

    # Payload's parser keeps the first 1000 parameters: the where is not among them.
    assert (response.status_code, response.json()) == (200, {"totalDocs": 6})


def test_an_unknown_page_shows_the_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"There is nothing at this address" in response.content


def test_the_500_page_renders_without_a_context():
    html = get_template("500.html").render()

    assert "Something went wrong on our side" in html


@pytest.mark.parametrize(
    "query",
    [
        "where[notes][equals]=a%00b",
        "where[notes][like]=%00",
        "where[exterior][in]=Re%00d",
        "sort=%00",
    ],
)
def test_a_nul_character_in_a_query_is_no_server_error(api, query):
    """PostgreSQL refuses NUL in text parameters; the where must not reach it."""
    for path in ("/leads", "/leads/count"):
        response = api.get(f"{path}?{query}")
        assert response.status_code < 500, (path, query, response.text[:200])
