"""The API killed in the middle of a bulk PATCH (issue 13): Payload's bulk write is
not atomic, and a server killed mid-write was seen to give every lead the new
value while some lost items from other list fields. A review keeps every pinned
lead whole; a run that recovers the chunk compares those leads with it, field by
field, and reports a difference as "changed outside this edit — check", never
as a clean update. Real HTTP against the sandbox; the fault from a transport."""

from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from leadsadmin.api import get_client
from leadsadmin.audit.chain import content_hash
from leadsadmin.audit.models import ChainLink
from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    bulk_operation_apply,
    bulk_operation_retry,
    bulk_operations_resume_stalled,
)
from leadsadmin.bulk.reverting import bulk_revert_prepare
from leadsadmin.bulk.running import bulk_operation_run
from leadsadmin.bulk.selectors import outcome_sentence
from leadsadmin.bulk.snapshots import lead_snapshot, outside_changes
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import ScriptedTransport, WorkerKilled, filter_qs

pytestmark = pytest.mark.django_db(transaction=True)

State = BulkOperation.State
Outcome = PinnedLead.Outcome
CHUNK = 10
STATUS_TO_LOST = [Change("processStatuses", "replace", "Lost")]


def _with_two_colours(count: int) -> list[int]:
    """Ids of leads (not Lost yet) with at least two exterior colours."""
    leads = Lead.objects.exclude(processStatuses="Lost").order_by("id")
    ids = [lead.id for lead in leads.only("id", "exterior") if len(lead.exterior or []) >= 2]
    assert len(ids) >= count, "the seed has too few leads with two colours"
    return ids[:count]


def _exterior(ids) -> dict[int, list]:
    found = get_client().find(where={"id": {"in": ids}}, limit=len(ids), select=["exterior"])
    return {doc["id"]: doc["exterior"] for doc in found.docs}


class KilledMidWrite(ScriptedTransport):
    """PATCH number `at` is applied to every lead it names, then, as Payload's
    non-atomic bulk write did when its server was killed, `damaged` leads lose
    their last exterior colour (`through`: "api", a second PATCH that moves their
    updatedAt as a real write does; "database", straight into the sandbox's rows,
    updatedAt untouched, and the PATCH itself never applied); then the answer
    never arrives (`failure`)."""

    def __init__(self, at: int, damaged: list[int], failure, through: str = "api"):
        super().__init__()
        self.at, self.damaged, self.failure, self.through = at, damaged, failure, through

    def handle_request(self, request):
        if request.method != "PATCH" or self.patches + 1 != self.at:
            return super().handle_request(request)
        self.patches += 1
        self.patched_ids.append([])
        if self.through == "api":
            self.inner.handle_request(request).read()
            for lead_id, colours in _exterior(self.damaged).items():
                get_client().update_ids([lead_id], {"exterior": colours[:-1]}).__next__()
        else:
            for lead in Lead.objects.filter(id__in=self.damaged):
                Lead.objects.filter(id=lead.id).update(exterior=lead.exterior[:-1])
        raise self.failure


def _damaged_operation(prepare_operation, scripted_client, settings, *, through="api"):
    """An operation over 30 leads whose third chunk the API half-applied before dying:
    (the operation, its client, the damaged ids with their colours at review)."""
    settings.BULK_CHUNK_SIZE = CHUNK
    ids = _with_two_colours(30)
    operation = prepare_operation(filter_qs(("id", "in", ids)), STATUS_TO_LOST)
    damaged = ids[20:23]
    colours = _exterior(damaged)
    failure = httpx.ReadError("Connection reset by peer")
    if through == "killed":
        failure, through = WorkerKilled(), "database"
    client = scripted_client(transport=KilledMidWrite(3, damaged, failure, through))
    return operation, client, colours


def _run(operation, client):
    bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()
    return operation


def _assert_damage_reported(operation, colours):
    """The damaged leads are to check, with what they lost; nobody else is."""
    pins = PinnedLead.objects.filter(operation=operation)
    checks = {pin.lead_id: pin for pin in pins.filter(outcome=Outcome.CHECK)}
    assert set(checks) == set(colours)
    for lead_id, pin in checks.items():
        assert pin.outside_changes == [["exterior", colours[lead_id], colours[lead_id][:-1]]]
        assert pin.message.startswith("Changed outside this edit — check (Exterior color: ")
        assert pin.after == {"processStatuses": "Lost"}
    assert operation.check_count == len(colours)
    assert operation.updated_count == operation.total - len(colours)
    assert not pins.filter(outcome=Outcome.UPDATED, lead_id__in=colours).exists()
    assert f"{len(colours)} were given the new values, but other fields" in (
        outcome_sentence(operation)
    )


def test_the_review_keeps_every_pinned_lead_whole(seeded_sandbox, prepare_operation):
    operation = prepare_operation(filter_qs(("id", "in", "1,2,3")), STATUS_TO_LOST)

    for pin in PinnedLead.objects.filter(operation=operation):
        doc = get_client().get(pin.lead_id)
        assert pin.snapshot == {
            name: value
            for name, value in doc.items()
            if value is not None and name not in ("id", "updatedAt")
        }
        assert "exterior" in pin.snapshot and "createdAt" in pin.snapshot


def test_a_chunk_the_killed_api_half_applied_is_checked_lead_by_lead_on_retry(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings
):
    operation, client, colours = _damaged_operation(prepare_operation, scripted_client, settings)

    operation = apply_and_run(operation, client=client)

    assert operation.state == State.STOPPED
    assert "could not be reached" in operation.stop_reason
    assert operation.updated_count == 20
    assert operation.check_count == 0
    in_doubt = PinnedLead.objects.filter(operation=operation, outcome=Outcome.PENDING)
    assert in_doubt.count() == 10

    retry = bulk_operation_retry(operation=operation, user=operation.created_by)
    retry = _run(retry, client)

    # The resent chunk finds its leads changed since the review (the first PATCH
    # wrote them): every one holds the new value, three lost a colour.
    assert retry.state == State.FINISHED
    _assert_damage_reported(retry, colours)
    clean = PinnedLead.objects.filter(operation=retry, outcome=Outcome.UPDATED)
    assert clean.count() == 7
    assert {pin.message for pin in clean} == {"Applied by an earlier, interrupted run."}


def test_damage_that_left_updated_at_alone_is_found_when_the_resent_patch_applies(
    seeded_sandbox, prepare_operation, scripted_client, settings
):
    """The worker is killed while the API drops items from some leads without
    writing them (their updatedAt unchanged): the resumed run's PATCH applies to
    every lead of the chunk, and the comparison still finds the loss."""
    operation, client, colours = _damaged_operation(
        prepare_operation, scripted_client, settings, through="killed"
    )
    bulk_operation_apply(operation=operation, user=operation.created_by)
    operation.refresh_from_db()
    with pytest.raises(WorkerKilled):
        bulk_operation_run(operation.pk, operation.run_token, client=client)
    BulkOperation.objects.filter(pk=operation.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert bulk_operations_resume_stalled() == [operation.pk]
    operation.refresh_from_db()

    operation = _run(operation, client)

    assert operation.state == State.FINISHED
    _assert_damage_reported(operation, colours)
    assert client.transport.patches == 4  # the third chunk was sent again, once


def test_a_recovered_chunk_with_nothing_changed_outside_is_all_updated(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings
):
    settings.BULK_CHUNK_SIZE = CHUNK
    ids = _with_two_colours(30)
    client = scripted_client({3: ("after", httpx.ReadError("Connection reset by peer"))})
    operation = apply_and_run(
        prepare_operation(filter_qs(("id", "in", ids)), STATUS_TO_LOST), client=client
    )
    retry = _run(bulk_operation_retry(operation=operation, user=operation.created_by), client)

    assert (retry.state, retry.updated_count, retry.check_count) == (State.FINISHED, 10, 0)
    assert "check" not in outcome_sentence(retry)


def test_the_operation_page_and_the_audit_export_list_the_leads_to_check(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings, client, make_user
):
    operation, api, colours = _damaged_operation(prepare_operation, scripted_client, settings)
    operation = apply_and_run(operation, client=api)
    retry = _run(bulk_operation_retry(operation=operation, user=operation.created_by), api)
    lead_id = min(colours)
    change = f"{', '.join(colours[lead_id])} → {', '.join(colours[lead_id][:-1])}"

    client.force_login(make_user("teamlead", username="reader"))
    page = client.get(retry.get_absolute_url()).content.decode()
    section = page[page.index('id="outside-changes-heading"') :]
    assert "Changed outside this edit — check" in section
    assert f'<a href="{reverse("leads:detail", args=[lead_id])}">{lead_id}</a>' in section
    assert "Exterior color" in section and change in section
    assert "3 were given the new values, but other fields" in page

    client.force_login(make_user("auditor", username="checker"))
    url = reverse("audit:operation_export", args=[retry.pk, "csv"])
    csv = b"".join(client.get(url).streaming_content).decode()
    assert f"Changed outside this edit — check (Exterior color: {change})." in csv


def test_a_revert_puts_back_the_edited_fields_of_the_leads_to_check_too(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings, client
):
    operation, api, colours = _damaged_operation(prepare_operation, scripted_client, settings)
    before = dict(
        Lead.objects.filter(id__in=colours).values_list("id", "processStatuses")
    )  # as reviewed: the first run had not reached them
    operation = apply_and_run(operation, client=api)
    retry = _run(bulk_operation_retry(operation=operation, user=operation.created_by), api)
    assert retry.check_count == 3 and retry.applied_count == retry.total

    client.force_login(retry.created_by)
    page = client.get(reverse("bulk:revert", args=[retry.pk])).content.decode()
    assert f"updated <strong>{retry.total}</strong> leads" in page
    assert "3 of them were marked “changed outside this edit — check”" in page

    revert = bulk_revert_prepare(operation=retry, user=retry.created_by, reason="Wrong")
    assert revert.total == retry.total and revert.conflict_count == 0
    revert = apply_and_run(revert)

    assert revert.state == State.FINISHED and revert.updated_count == retry.total
    now = Lead.objects.filter(id__in=colours)
    assert dict(now.values_list("id", "processStatuses")) == before
    # What changed outside the edit stays as found: the revert is of the edit only.
    assert {lead.id: lead.exterior for lead in now} == {
        lead_id: found[:-1] for lead_id, found in colours.items()
    }


def test_a_revert_keeps_whole_leads_and_checks_a_chunk_the_killed_api_half_applied(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings
):
    settings.BULK_CHUNK_SIZE = CHUNK
    ids = _with_two_colours(30)
    Lead.objects.filter(id__in=ids).update(processStatuses="On Hold")  # one revert body
    operation = apply_and_run(prepare_operation(filter_qs(("id", "in", ids)), STATUS_TO_LOST))
    revert = bulk_revert_prepare(operation=operation, user=operation.created_by, reason="Wrong")
    pins = PinnedLead.objects.filter(operation=revert)
    assert pins.count() == 30 and all("exterior" in pin.snapshot for pin in pins)

    damaged = ids[20:23]  # in the third chunk, which the API half-applies before dying
    colours = _exterior(damaged)
    failure = httpx.ReadError("Connection reset by peer")
    api = scripted_client(transport=KilledMidWrite(3, damaged, failure, "api"))
    revert = apply_and_run(revert, client=api)
    assert revert.state == State.STOPPED and revert.updated_count == 20
    retry = _run(bulk_operation_retry(operation=revert, user=revert.created_by), api)

    assert retry.state == State.FINISHED and retry.check_count == 3
    checks = PinnedLead.objects.filter(operation=retry, outcome=Outcome.CHECK)
    assert {pin.lead_id: pin.outside_changes for pin in checks} == {
        lead_id: [["exterior", colours[lead_id], colours[lead_id][:-1]]] for lead_id in damaged
    }
    assert set(Lead.objects.filter(id__in=ids).values_list("processStatuses", flat=True)) == {
        "On Hold"
    }


def test_snapshots_move_from_jsonb_to_text_whole_and_compressed_with_lz4(django_user_model):
    """Migration 0008: snapshots stored as JSON by 0007 read back the same as text,
    so an operation hashes for the audit chain as it did before the move, and
    PostgreSQL compresses the column with lz4."""
    executor = MigrationExecutor(connection)
    before, after = (
        [("bulk", "0007_proposal_reviews_not_drafts")],
        [("bulk", "0008_pin_snapshot_as_text")],
    )
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="migrated")
    operation = old.get_model("bulk", "BulkOperation").objects.create(
        created_by=user,
        reason="r",
        filter_query="",
        where={},
        changes=[],
        pinned_since=timezone.now(),
    )
    # Numbers that orjson and the standard library write differently, and text
    # that needs escaping: what the chain hashes must not change with them.
    snapshot = {
        "exterior": ["Red", "Blau é"],
        "year": 2020,
        "notes": 'a\nb "q" 🚗',
        "price": 0.1,
        "mileage": 1e16,
        "ratio": 1.5e-7,
        "big": 10**30,
    }
    pins = old.get_model("bulk", "PinnedLead").objects
    pins.create(operation_id=operation.pk, lead_id=1, updated_at="x", before={}, snapshot=snapshot)
    pins.create(operation_id=operation.pk, lead_id=2, updated_at="x", before={}, snapshot=None)
    sealed_before = content_hash(ChainLink.Record.OPERATION, operation.pk)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    stored = dict(
        PinnedLead.objects.filter(operation_id=operation.pk).values_list("lead_id", "snapshot")
    )
    assert stored == {1: snapshot, 2: None}
    assert content_hash(ChainLink.Record.OPERATION, operation.pk) == sealed_before
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'bulk_pinnedlead'::regclass AND attname = 'snapshot'"
            )
            assert cursor.fetchone() == ("l",)


@pytest.mark.parametrize(
    ("snapshot", "now", "expected"),
    [
        (
            {"exterior": ["Red", "Blue"]},
            {"exterior": ["Red"]},
            [["exterior", ["Red", "Blue"], ["Red"]]],
        ),
        ({"notes": "x"}, {}, [["notes", "x", None]]),
        ({}, {"notes": "x"}, [["notes", None, "x"]]),
        ({"notes": "x"}, {"notes": "x", "reason": None}, []),
        ({"processStatuses": "On Hold"}, {"processStatuses": "Lost"}, []),
        (
            {"processStatuses": "On Hold"},
            {"processStatuses": "On Hold"},
            [["processStatuses", "Lost", "On Hold"]],
        ),
    ],
)
def test_outside_changes_compares_every_field_and_the_edited_ones_with_the_new_values(
    snapshot, now, expected
):
    doc = {"id": 1, "updatedAt": "2026-01-01T00:00:00.000Z", "processStatuses": "Lost", **now}
    assert outside_changes(snapshot, doc, {"processStatuses": "Lost"}) == expected


def test_a_snapshot_leaves_out_the_id_updated_at_and_nulls():
    doc = {"id": 1, "updatedAt": "2026-01-01T00:00:00.000Z", "notes": None, "exterior": []}
    assert lead_snapshot(doc) == {"exterior": []}
