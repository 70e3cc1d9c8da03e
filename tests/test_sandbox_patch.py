"""Writing through the sandbox over real HTTP: bulk PATCH and PATCH by id, with
Payload's coercions, validation, messages and status codes; refused requests
change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from leadsadmin.sandbox.loading import sandbox_load


def _lead(lead_id: int, **values) -> dict:
    stamp = f"2024-01-01T00:{lead_id:02d}:00.000Z"
    return {"id": lead_id, "createdAt": stamp, "updatedAt": stamp, **values}


LEADS = [
    _lead(1, processStatuses="Lost", reason="Test", exterior=["Red"], year=2020, notes="a"),
    _lead(2, processStatuses="On Hold", exterior=["Blue", "Red"], year=2015, manual=True),
    _lead(3, reason="Duplicate", year=2010),
    _lead(4, processStatuses="Lost", exterior=["Silver"]),
]


@pytest.fixture
def api(sandbox_api):
    sandbox_load(LEADS)
    with httpx.Client(
        base_url=sandbox_api.url, headers={"Authorization": sandbox_api.authorization}, timeout=30
    ) as client:
        yield client


def all_docs(api) -> list[dict]:
    return api.get("/leads?limit=0").json()["docs"]


def test_bulk_patch_updates_every_match_and_answers_in_the_default_sort(api):
    response = api.patch("/leads?where[processStatuses][equals]=Lost", json={"reason": "Duplicate"})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["docs", "errors", "message"]
    assert [doc["id"] for doc in body["docs"]] == [4, 1]
    assert body["errors"] == []
    assert body["message"] == "Updated 2 Leads successfully."
    assert {doc["reason"] for doc in body["docs"]} == {"Duplicate"}
    assert all(doc["updatedAt"] > "2024-01-02" for doc in body["docs"])
    stored = {doc["id"]: doc for doc in all_docs(api)}
    assert (stored[1]["reason"], stored[4]["reason"], stored[3]["reason"]) == (
        "Duplicate",
        "Duplicate",
        "Duplicate",
    )
    assert stored[2]["updatedAt"] == "2024-01-01T00:02:00.000Z"  # not matched, not touched


def test_one_lead_is_singular_and_select_shrinks_the_docs(api):
    response = api.patch("/leads?where[id][equals]=3&select[reason]=true", json={"reason": "Test"})
    assert response.json() == {
        "docs": [{"id": 3, "reason": "Test"}],
        "errors": [],
        "message": "Updated 1 Lead successfully.",
    }


def test_no_match_is_a_200_with_zero(api):
    response = api.patch("/leads?where[id][equals]=999", json={"processStatuses": "Nope"})
    assert (response.status_code, response.json()) == (
        200,
        {"docs": [], "errors": [], "message": "Updated 0 Leads successfully."},
    )


def test_limit_caps_a_bulk_patch_in_sort_order(api):
    response = api.patch(
        "/leads?where[id][less_than]=4&limit=2&sort=id&select[id]=true", json={"notes": "x"}
    )
    assert [doc["id"] for doc in response.json()["docs"]] == [1, 2]
    assert [doc["notes"] for doc in all_docs(api)] == [None, None, "x", "x"]


def test_an_empty_body_still_bumps_updated_at(api):
    before = api.get("/leads/1").json()
    response = api.patch("/leads?where[id][equals]=1", json={})
    after = api.get("/leads/1").json()
    assert response.status_code == 200
    assert after["updatedAt"] > before["updatedAt"]
    assert {k: v for k, v in after.items() if k != "updatedAt"} == {
        k: v for k, v in before.items() if k != "updatedAt"
    }


@pytest.mark.parametrize(
    ("body", "field", "stored"),
    [
        ({"year": "2019"}, "year", 2019),
        ({"year": " 12.5x "}, "year", 12.5),
        ({"year": "abc"}, "year", None),
        ({"exterior": "Red"}, "exterior", []),  # a bare string is dropped
        ({"exterior": None}, "exterior", []),
        ({"exterior": ["Gold", "Red"]}, "exterior", ["Gold", "Red"]),
        ({"manual": "true"}, "manual", True),
        ({"manual": ""}, "manual", False),
        ({"notes": "x", "notAField": 1}, "notes", "x"),
        ({"reason": None}, "reason", None),
        ({"favorites": [3, 4]}, "favorites", [3, 4]),
        ({"id": 99, "createdAt": "2020-01-01T00:00:00.000Z"}, "id", 1),
    ],
)
def test_coercions(api, body, field, stored):
    response = api.patch("/leads?where[id][equals]=1", json=body)
    assert response.status_code == 200
    assert api.get("/leads/1").json()[field] == stored


def test_new_list_values_are_queryable_at_once(api):
    api.patch("/leads?where[id][in]=1,2", json={"exterior": ["Gold"]})
    gold = api.get("/leads?where[exterior][equals]=Gold").json()
    red = api.get("/leads?where[exterior][equals]=Red").json()
    assert [doc["id"] for doc in gold["docs"]] == [2, 1]
    assert red["totalDocs"] == 0


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ({"processStatuses": "Nope"}, "Process Statuses"),
        ({"processStatuses": "lost"}, "Process Statuses"),  # options are case-sensitive
        ({"exterior": ["Red", "Nope"]}, "Exterior"),
        ({"exterior": ["Red", "Red"]}, "Exterior"),
        ({"manual": "yes"}, "Manual"),
    ],
)
def test_an_invalid_value_fails_every_lead_and_saves_nothing(api, body, label):
    before = all_docs(api)
    response = api.patch("/leads?where[id][in]=1,2", json=body)

    assert response.status_code == 400
    message = f"The following field is invalid: {label}"
    assert response.json() == {
        "docs": [],
        "errors": [
            {"id": 2, "isPublic": True, "message": message},
            {"id": 1, "isPublic": True, "message": message},
        ],
        "message": "Unable to update 2 out of 2 Leads.",
    }
    assert all_docs(api) == before


def test_several_invalid_fields_are_named_together(api):
    response = api.patch(
        "/leads?where[id][equals]=1", json={"exterior": ["x"], "processStatuses": "x"}
    )
    assert response.json()["errors"][0]["message"] == (
        "The following fields are invalid: Process Statuses, Exterior"
    )
    assert response.json()["message"] == "Unable to update 1 out of 1 Lead."


def test_a_lead_whose_stored_value_is_invalid_fails_alone_and_the_others_are_saved(api):
    sandbox_load([_lead(9, processStatuses="Retired option")])
    response = api.patch("/leads?where[id][in]=1,9&select[notes]=true", json={"notes": "saved"})

    assert response.status_code == 400
    assert response.json() == {
        "docs": [{"id": 1, "notes": "saved"}],
        "errors": [
            {
                "id": 9,
                "isPublic": True,
                "message": "The following field is invalid: Process Statuses",
            }
        ],
        "message": "Unable to update 1 out of 2 Leads.",
    }
    assert api.get("/leads/1").json()["notes"] == "saved"
    assert api.get("/leads/9").json()["notes"] is None


def test_multipart_payload_bodies_are_read_like_payloads_admin_sends_them(api):
    response = api.patch(
        "/leads?where[id][equals]=3", files={"_payload": (None, '{"reason": "Test"}')}
    )
    assert response.status_code == 200
    assert api.get("/leads/3").json()["reason"] == "Test"


# --- refusals: the key first (a documented difference from Payload, which reads the
# body and the where before the key), then Payload's order; none changes anything ---

REFUSALS = [
    # (url, request kwargs, authorised?, status, body)
    (
        "/leads?where[id][in]=1",
        {"content": b'{"reason":', "headers": {"Content-Type": "application/json"}},
        False,
        403,
        {"errors": [{"message": "You are not allowed to perform this action."}]},
    ),
    (
        "/leads?where[id][in]=1",
        {"content": b'{"reason":', "headers": {"Content-Type": "application/json"}},
        True,
        400,
        {"errors": [{"message": "Invalid JSON"}]},
    ),
    (
        "/leads",
        {"json": {"reason": "Test"}},
        False,
        403,
        {"errors": [{"message": "You are not allowed to perform this action."}]},
    ),
    (
        "/leads",
        {"json": {"reason": "Test"}},
        True,
        400,
        {"errors": [{"message": "Missing 'where' query of documents to update."}]},
    ),
    (
        "/leads?where=",
        {"json": {"reason": "Test"}},
        True,
        400,
        {"errors": [{"message": "Missing 'where' query of documents to update."}]},
    ),
    (
        "/leads?where[nope][equals]=1",
        {"json": {"reason": "Test"}},
        False,
        403,
        {"errors": [{"message": "You are not allowed to perform this action."}]},
    ),
    (
        "/leads?where[nope][equals]=1&where[id][x]=1",
        {"json": {"reason": "Test"}},
        True,
        400,
        {
            "errors": [
                {
                    "name": "QueryError",
                    "data": [{"path": "nope"}, {"path": "id.x"}],
                    "message": "The following paths cannot be queried: nope, id.x",
                }
            ]
        },
    ),
    (
        "/leads?where={broken",
        {"json": {"reason": "Test"}},
        True,
        500,
        {"errors": [{"message": "Something went wrong."}]},
    ),
    (
        "/leads/1",
        {"json": {"reason": "Test"}},
        False,
        403,
        {"errors": [{"message": "You are not allowed to perform this action."}]},
    ),
    (
        "/leads?where[id][in]=1,2",
        {"json": {"reason": "Duplicate"}, "headers": {"Authorization": "users API-Key wrong"}},
        False,
        403,
        {"errors": [{"message": "You are not allowed to perform this action."}]},
    ),
    (
        "/leads/1",
        {"json": {"reason": "Duplicate"}, "headers": {"Authorization": "wrong-bare-key"}},
        False,
        403,
        {"errors": [{"message": "You are not allowed to perform this action."}]},
    ),
]


@pytest.mark.parametrize(("url", "kwargs", "authorised", "status", "body"), REFUSALS)
def test_a_refused_patch_changes_nothing(api, sandbox_api, url, kwargs, authorised, status, body):
    before = all_docs(api)
    headers = {**kwargs.pop("headers", {})}
    if authorised:
        headers["Authorization"] = sandbox_api.authorization
    response = httpx.patch(sandbox_api.url + url, headers=headers, **kwargs)

    assert (response.status_code, response.json()) == (status, body)
    assert all_docs(api) == before


def test_the_bare_key_may_write_too(api, sandbox_api):
    key = sandbox_api.authorization.removeprefix("users API-Key ")
    response = httpx.patch(
        sandbox_api.url + "/leads?where[id][equals]=3",
        json={"reason": "Test"},
        headers={"Authorization": key},
    )
    assert (response.status_code, response.json()["message"]) == (
        200,
        "Updated 1 Lead successfully.",
    )
    assert api.get("/leads/3").json()["reason"] == "Test"


# --- PATCH by id -----------------------------------------------------------------------


def test_patch_by_id(api):
    response = api.patch("/leads/2?select[processStatuses]=true", json={"processStatuses": "Lost"})
    assert (response.status_code, response.json()) == (
        200,
        {"doc": {"id": 2, "processStatuses": "Lost"}, "message": "Updated successfully."},
    )


def test_patch_by_id_answers_a_validation_error_with_paths(api):
    before = all_docs(api)
    response = api.patch("/leads/2", json={"processStatuses": "Nope", "manual": 3})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "name": "ValidationError",
                "data": {
                    "id": 2,
                    "collection": "leads",
                    "errors": [
                        {
                            "label": "Process Statuses",
                            "message": "This field has an invalid selection.",
                            "path": "processStatuses",
                        },
                        {
                            "label": "Manual",
                            "message": "This field can only be equal to true or false.",
                            "path": "manual",
                        },
                    ],
                },
                "message": "The following fields are invalid: Process Statuses, Manual",
            }
        ]
    }
    assert all_docs(api) == before


def test_patch_by_id_of_a_missing_lead_is_404(api):
    response = api.patch("/leads/999", json={"reason": "Test"})
    assert (response.status_code, response.json()) == (404, {"errors": [{"message": "Not Found"}]})


def test_the_sandbox_answers_404_when_it_is_switched_off(api, settings):
    settings.SANDBOX_ENABLED = False
    assert api.get("/leads").status_code == 404
    assert api.patch("/leads?where[id][equals]=1", json={"reason": "Test"}).status_code == 404
    settings.SANDBOX_ENABLED = True
    assert api.get("/leads/1").json()["reason"] == "Test"


@pytest.mark.parametrize(
    ("environment", "enabled", "client_url"),
    [
        ({}, True, "http://127.0.0.1:8000/sandbox/api"),
        ({"SANDBOX_SELF_URL": "http://demo.test:9000/"}, True, "http://demo.test:9000/sandbox/api"),
        (
            {"LEADS_API_URL": "https://leads.example.com/api"},
            False,
            "https://leads.example.com/api",
        ),
        (
            {"LEADS_API_URL": "https://leads.example.com/api", "SANDBOX_ENABLED": "True"},
            True,
            "https://leads.example.com/api",
        ),
    ],
)
def test_the_dashboard_uses_the_sandbox_unless_a_real_api_is_configured(
    environment, enabled, client_url
):
    """The defaults as a fresh process reads them from its environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEADS_API_", "SANDBOX_")) and k != "DEBUG"
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="leadsadmin.settings")
    if "LEADS_API_URL" in environment:
        env["LEADS_API_KEY"] = "users API-Key not-used"
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from leadsadmin.api import get_client\n"
        "print(settings.SANDBOX_ENABLED, get_client().base_url)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [str(enabled), client_url]


@pytest.mark.parametrize("created_at", ["abc", "2024-01-01T00", None])
def test_a_created_at_that_is_no_date_is_a_500_and_changes_nothing(api, created_at):
    before = all_docs(api)
    body = {"createdAt": created_at, "notes": "x"}
    for response in (
        api.patch("/leads/1", json=body),
        api.patch("/leads?where[id][in]=1", json=body),
    ):
        assert response.status_code == 500
        assert response.json() == {"errors": [{"message": "Something went wrong."}]}
    assert all_docs(api) == before


def test_a_body_that_is_not_json_saves_nothing(api):
    before = all_docs(api)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    by_id = api.patch("/leads/1", headers=form, content=b"notes=x")
    assert by_id.status_code == 500
    bulk = api.patch("/leads?where[id][in]=1,2", headers=form, content=b"notes=x")
    assert bulk.status_code == 400
    assert [error["isPublic"] for error in bulk.json()["errors"]] == [False, False]
    assert all_docs(api) == before
