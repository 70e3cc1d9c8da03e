"""Every client operation against the sandbox over real HTTP (pytest-django's
live_server), checked against the sandbox's own database."""

import logging
import time
from datetime import UTC, datetime

import pytest

from leadsadmin.api import close_client, get_client
from leadsadmin.api.client import ChunkResult, FindResult, LeadsClient, UpdateResult
from leadsadmin.api.errors import ApiUnauthorized, ApiUnreachable, NotFound
from leadsadmin.sandbox.models import Lead

HOSTILE = 'Tom & Jerry = "friends"? #1 · a+b@x.com · 50% · Zoë 🚗 · <script>x</script> · a,b'


@pytest.fixture
def client(seeded_sandbox):
    yield get_client()
    close_client()


def ids_of(docs) -> list[int]:
    return [doc["id"] for doc in docs]


def test_get_client_points_at_the_sandbox(seeded_sandbox, client):
    assert client.base_url == seeded_sandbox.url
    assert client.count() == seeded_sandbox.count == 200


def test_find_returns_a_page_with_payloads_pagination(client):
    result = client.find(limit=10, page=2, sort="id", select=["email", "processStatuses"])
    assert isinstance(result, FindResult)
    assert ids_of(result.docs) == list(range(11, 21))
    assert set(result.docs[0]) == {"id", "email", "processStatuses"}
    assert (result.total_docs, result.total_pages, result.page) == (200, 20, 2)
    assert (result.prev_page, result.next_page, result.paging_counter) == (1, 3, 11)
    assert result.has_prev_page and result.has_next_page


def test_find_filters_like_the_database(client):
    where = {
        "or": [
            {"processStatuses": {"in": ["Lost", "On Hold"]}},
            {"and": [{"manual": {"equals": True}}, {"year": {"greater_than_equal": 2020}}]},
        ]
    }
    expected = set(
        Lead.objects.filter(processStatuses__in=["Lost", "On Hold"]).values_list("id", flat=True)
    ) | set(Lead.objects.filter(manual=True, year__gte=2020).values_list("id", flat=True))
    result = client.find(where, limit=200, select=["id"])
    assert set(ids_of(result.docs)) == expected
    assert result.total_docs == len(expected) > 0


def test_find_default_sort_is_newest_first(client):
    docs = client.find(limit=3, select=["createdAt"]).docs
    created = [doc["createdAt"] for doc in docs]
    assert created == sorted(created, reverse=True)


def test_count_matches_the_database(client):
    where = {"processStatuses": {"equals": "Lost"}}
    assert client.count(where) == Lead.objects.filter(processStatuses="Lost").count()
    assert client.count({"id": {"in": []}}) == 0
    assert client.count({"id": {"in": [1, 2, 3, 9999]}}) == 3


def test_get_one_lead(client):
    lead = client.get(7)
    assert lead["id"] == 7
    assert lead["email"] == Lead.objects.get(pk=7).email
    assert client.get(7, select=["email"]) == {"id": 7, "email": lead["email"]}


def test_get_a_missing_lead_is_not_found(client):
    with pytest.raises(NotFound, match="Lead 9999 was not found"):
        client.get(9999)


def test_iter_leads_yields_every_lead_once_in_id_order(client):
    ids = [lead["id"] for lead in client.iter_leads(page_size=7, select=["email"])]
    assert ids == list(range(1, 201))


def test_iter_leads_with_a_where(client):
    where = {"exterior": {"in": ["Red", "Blue"]}}
    expected = sorted(
        set(
            Lead.objects.filter(
                list_values__field="exterior", list_values__value__in=["Red", "Blue"]
            ).values_list("id", flat=True)
        )
    )
    leads = list(client.iter_leads(where, page_size=10, select=["exterior"]))
    assert [lead["id"] for lead in leads] == expected
    assert all({"Red", "Blue"} & set(lead["exterior"]) for lead in leads)


def test_a_long_read_goes_by_method_override(client, caplog):
    caplog.set_level(logging.INFO, logger="leadsadmin.api")
    where = {"id": {"in": list(range(1, 151))}}
    assert client.count(where) == 150
    assert len(client.find(where, limit=200).docs) == 150
    assert "GET(POST override) /leads/count" in caplog.text
    assert "GET(POST override) /leads " in caplog.text


def test_update_where_saves_and_returns_only_the_changed_fields(client):
    Lead.objects.filter(pk__in=[1, 2, 3]).update(reason="Duplicate")
    where = {"id": {"in": [1, 2, 3]}}
    result = client.update_where(where, {"reason": "Test", "processStatuses": "Lost"})
    assert isinstance(result, UpdateResult)
    assert result.ok and result.status == 200
    assert sorted(ids_of(result.docs)) == [1, 2, 3]
    assert set(result.docs[0]) == {"id", "reason", "processStatuses", "updatedAt"}
    assert result.message == "Updated 3 Leads successfully."
    assert set(Lead.objects.filter(pk__in=[1, 2, 3]).values_list("reason", flat=True)) == {"Test"}


def test_update_where_with_hostile_text_round_trips(client):
    result = client.update_where({"id": {"equals": 5}}, {"notes": HOSTILE})
    assert result.ok
    assert Lead.objects.get(pk=5).notes == HOSTILE
    assert ids_of(client.find({"notes": {"equals": HOSTILE}}).docs) == [5]
    assert ids_of(client.find({"notes": {"in": [HOSTILE]}}).docs) == [5]


def test_update_ids_in_chunks(client):
    Lead.objects.filter(pk__in=range(10, 35)).update(reason="Test")
    results = list(client.update_ids(range(10, 35), {"reason": "Duplicate"}, chunk_size=10))
    assert all(isinstance(r, ChunkResult) for r in results)
    assert [len(r.ids) for r in results] == [10, 10, 5]
    assert all(r.ok for r in results)
    assert sorted(i for r in results for i in ids_of(r.docs)) == list(range(10, 35))
    assert Lead.objects.filter(pk__in=range(10, 35), reason="Duplicate").count() == 25


def test_update_ids_leaves_leads_changed_after_the_review_as_conflicts(client):
    reviewed_at = datetime.now(UTC)
    time.sleep(0.01)  # updatedAt has millisecond precision
    client.update_where({"id": {"equals": 41}}, {"notes": "edited by someone else"})
    [result] = client.update_ids(
        [40, 41, 42, 9999], {"notes": "bulk edit"}, unchanged_since=reviewed_at
    )
    assert sorted(ids_of(result.docs)) == [40, 42]
    assert result.conflicts == [41, 9999]
    assert result.errors == []
    assert not result.ok
    assert Lead.objects.get(pk=41).notes == "edited by someone else"
    assert Lead.objects.get(pk=40).notes == "bulk edit"


def test_a_partial_failure_reports_the_failed_lead_and_saves_the_others(client):
    # A stored value that is no longer an option fails the whole-lead validation.
    Lead.objects.filter(pk__in=[50, 51, 52]).update(reason="Duplicate")
    Lead.objects.filter(pk=51).update(processStatuses="Retired status")
    [result] = client.update_ids([50, 51, 52], {"reason": "Test"})
    assert result.status == 400
    assert sorted(ids_of(result.docs)) == [50, 52]
    assert [error.id for error in result.errors] == [51]
    assert "Process Statuses" in result.errors[0].message
    assert result.conflicts == []
    assert result.message == "Unable to update 1 out of 3 Leads."
    assert Lead.objects.get(pk=50).reason == "Test"
    assert Lead.objects.get(pk=51).reason == "Duplicate"


def test_invalid_values_fail_for_every_lead_and_save_nothing(client):
    Lead.objects.filter(pk__in=[60, 61]).update(processStatuses="On Hold")
    [result] = client.update_ids([60, 61], {"processStatuses": "lost"})
    assert result.status == 400
    assert result.docs == []
    assert sorted(error.id for error in result.errors) == [60, 61]
    statuses = Lead.objects.filter(pk__in=[60, 61]).values_list("processStatuses", flat=True)
    assert set(statuses) == {"On Hold"}


def test_a_wrong_key_is_refused(seeded_sandbox):
    client = LeadsClient(seeded_sandbox.url, "users API-Key wrong-key-123456", 10.0)
    with client, pytest.raises(ApiUnauthorized) as caught:
        client.find()
    assert "the API key was refused or lacks permission" in str(caught.value)
    assert "wrong-key-123456" not in str(caught.value)


def test_nothing_listening_is_unreachable(seeded_sandbox):
    # Port 9 (discard) is closed on this machine: the connection is refused.
    client = LeadsClient("http://127.0.0.1:9/api", seeded_sandbox.authorization, 2.0, sleep=bool)
    with client, pytest.raises(ApiUnreachable, match="could not be reached"):
        client.count()


def test_the_key_does_not_reach_the_log(client, seeded_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client.find({"email": {"equals": "someone@example.com"}})
    list(client.update_ids([3], {"reason": "Test"}))
    key = seeded_sandbox.authorization.rsplit(" ", 1)[1]
    assert "leadsadmin.api" in caplog.text
    assert key not in caplog.text
    assert "someone@example.com" not in caplog.text
