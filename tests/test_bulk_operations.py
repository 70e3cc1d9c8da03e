"""Bulk operations against the sandbox over real HTTP: pinning, applying, conflicts,
per-lead errors, API failures, a killed worker resuming, cancel, idempotence."""

import time
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from leadsadmin.api import get_client
from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    OperationRefused,
    bulk_operation_apply,
    bulk_operation_cancel,
    bulk_operation_retry,
    bulk_operations_resume_stalled,
)
from leadsadmin.bulk.running import bulk_operation_run
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import DUMMY_TASKS, WorkerKilled, filter_qs

pytestmark = pytest.mark.django_db(transaction=True)

State = BulkOperation.State
Outcome = PinnedLead.Outcome
OPEN = filter_qs(("processStatuses", "in", ["Qualified Lead", "On Hold"]))


def _open_ids():
    return set(
        Lead.objects.filter(processStatuses__in=["Qualified Lead", "On Hold"]).values_list(
            "id", flat=True
        )
    )


def _values(ids, *fields):
    docs = (
        get_client()
        .find(
            where={"id": {"in": sorted(ids)}}, limit=len(ids), select=["id", "updatedAt", *fields]
        )
        .docs
    )
    return {doc["id"]: doc for doc in docs}


def _outcomes(operation):
    return dict(PinnedLead.objects.filter(operation=operation).values_list("lead_id", "outcome"))


# ---------------------------------------------------------------- review / pinning


def test_review_pins_every_match_with_its_updated_at_and_current_values(
    seeded_sandbox, prepare_operation, lost
):
    expected = _open_ids()
    operation = prepare_operation(OPEN, lost)

    assert operation.state == State.REVIEWED
    assert operation.total == len(expected) > 0
    pinned = {p.lead_id: p for p in PinnedLead.objects.filter(operation=operation)}
    assert set(pinned) == expected
    current = _values(expected, "processStatuses")
    for lead_id, pin in pinned.items():
        assert pin.updated_at == current[lead_id]["updatedAt"]
        assert pin.before == {"processStatuses": current[lead_id]["processStatuses"]}
        assert pin.outcome == Outcome.PENDING
    counts = Counter(lead["processStatuses"] for lead in current.values())
    assert dict(operation.value_counts["processStatuses"]) == dict(counts)
    assert operation.where  # the filter's where is kept with the operation
    assert operation.filter_query == OPEN
    assert [lead["id"] for lead in operation.sample] == sorted(expected)[:10]


def test_review_of_no_match_is_refused_and_leaves_nothing(seeded_sandbox, prepare_operation, lost):
    with pytest.raises(OperationRefused, match="No leads match"):
        prepare_operation(filter_qs(("email", "equals", "nobody@example.invalid")), lost)
    assert not BulkOperation.objects.exists()


def test_a_filter_with_errors_is_refused_before_any_request(prepare_operation, lost, db):
    with pytest.raises(OperationRefused, match="filter has errors"):
        prepare_operation(filter_qs(("year", "greater_than", "soon")), lost)
    assert not BulkOperation.objects.exists()


def test_maximum_size_refused_for_team_leads_allowed_for_superusers(
    seeded_sandbox, prepare_operation, make_user, lost, settings
):
    settings.BULK_MAX_OPERATION_SIZE = 50
    with pytest.raises(OperationRefused, match="more than the 50"):
        prepare_operation("", lost)
    assert not BulkOperation.objects.exists()
    admin = make_user("admin")
    operation = prepare_operation("", lost, user=admin)
    assert operation.total + operation.unchanged_count == seeded_sandbox.count
    with pytest.raises(OperationRefused, match="only a superuser may apply"):
        bulk_operation_apply(
            operation=operation, user=make_user("teamlead"), confirmation=str(operation.total)
        )
    assert bulk_operation_apply(operation=operation, user=admin, confirmation=str(operation.total))


def test_empty_filter_or_many_leads_need_typed_confirmation(
    seeded_sandbox, prepare_operation, lost, settings
):
    settings.BULK_CONFIRM_THRESHOLD = 500
    assert prepare_operation("", lost).needs_confirmation  # every lead
    assert not prepare_operation(OPEN, lost).needs_confirmation
    settings.BULK_CONFIRM_THRESHOLD = 10
    operation = prepare_operation(OPEN, lost)
    assert operation.needs_confirmation
    with pytest.raises(OperationRefused, match=f"Type {operation.total} to confirm"):
        bulk_operation_apply(operation=operation, user=operation.created_by, confirmation="12")
    assert bulk_operation_apply(
        operation=operation, user=operation.created_by, confirmation=f"{operation.total:,}"
    )


# ---------------------------------------------------------------- applying


def test_apply_updates_exactly_the_pinned_leads_in_chunks(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, lost, settings
):
    settings.BULK_CHUNK_SIZE = 20
    expected = _open_ids()
    client = scripted_client()
    operation = apply_and_run(prepare_operation(OPEN, lost), client=client)

    assert operation.state == State.FINISHED
    assert operation.updated_count == operation.total == len(expected)
    assert operation.error_count == operation.conflict_count == 0
    assert set(client.transport.updated) == expected
    assert set(client.transport.updated.values()) == {1}
    assert client.transport.patches == -(-len(expected) // 20)
    assert all(len(ids) <= 20 for ids in client.transport.patched_ids)
    assert {lead["processStatuses"] for lead in _values(expected, "processStatuses").values()} == {
        "Lost"
    }
    updated = PinnedLead.objects.filter(operation=operation, outcome=Outcome.UPDATED)
    assert {p.after["processStatuses"] for p in updated} == {"Lost"}
    chunk = BulkChunk.objects.filter(operation=operation).first()
    assert chunk.message == "Updated 20 Leads successfully."
    assert chunk.status == 200


def test_a_lead_changed_after_review_is_a_conflict_and_not_overwritten(
    seeded_sandbox, prepare_operation, apply_and_run, lost
):
    operation = prepare_operation(OPEN, lost)
    victim = sorted(_open_ids())[3]
    # Someone else sets it to "On Hold" between review and apply.
    next(get_client().update_ids([victim], {"processStatuses": "Second Communication Attempt"}))

    operation = apply_and_run(operation)

    assert operation.conflict_count == 1
    assert operation.updated_count == operation.total - 1
    assert _values([victim], "processStatuses")[victim]["processStatuses"] == (
        "Second Communication Attempt"
    )
    conflict = PinnedLead.objects.get(operation=operation, lead_id=victim)
    assert conflict.outcome == Outcome.CONFLICT
    assert "Changed since the review" in conflict.message
    # The value found, and when it changed (for the results page).
    changed_at = _values([victim], "updatedAt")[victim]["updatedAt"]
    assert conflict.after == {
        "processStatuses": "Second Communication Attempt",
        "updatedAt": changed_at,
    }


def test_a_lead_that_starts_matching_after_review_is_not_touched(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, lost
):
    operation = prepare_operation(OPEN, lost)
    newcomer = (
        Lead.objects.exclude(processStatuses__in=["Qualified Lead", "On Hold"])
        .exclude(processStatuses="Lost")
        .values_list("id", flat=True)[0]
    )
    next(get_client().update_ids([newcomer], {"processStatuses": "On Hold"}))

    client = scripted_client()
    operation = apply_and_run(operation, client=client)

    assert operation.state == State.FINISHED
    assert newcomer not in {i for ids in client.transport.patched_ids for i in ids}
    assert _values([newcomer], "processStatuses")[newcomer]["processStatuses"] == "On Hold"
    assert not PinnedLead.objects.filter(operation=operation, lead_id=newcomer).exists()


def test_add_and_remove_items_work_per_lead_and_share_requests(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client
):
    ids = sorted(_open_ids())
    before = {i: lead["exterior"] for i, lead in _values(ids, "exterior").items()}
    add = prepare_operation(OPEN, [Change("exterior", "add", ["Red", "Gold"])])
    client = scripted_client()
    add = apply_and_run(add, client=client)

    after = {i: lead["exterior"] for i, lead in _values(ids, "exterior").items()}
    for lead_id in ids:
        kept = before[lead_id] or []
        assert after[lead_id][: len(kept)] == kept  # current items stay, in order
        assert set(after[lead_id]) == set(kept) | {"Red", "Gold"}
    # One request per distinct resulting list (each group is under a chunk); a lead
    # that already had both items is not sent at all.
    distinct = {
        tuple(before[i] or []) + tuple(x for x in ("Red", "Gold") if x not in (before[i] or []))
        for i in ids
        if not {"Red", "Gold"} <= set(before[i] or [])
    }
    assert client.transport.patches == len(add.bodies) == len(distinct)

    remove = prepare_operation(OPEN, [Change("exterior", "remove", ["Red"])])
    remove = apply_and_run(remove)
    final = {i: lead["exterior"] for i, lead in _values(ids, "exterior").items()}
    for lead_id in ids:
        assert final[lead_id] == [item for item in after[lead_id] if item != "Red"]
    assert remove.updated_count == remove.total


def test_partial_failure_records_each_leads_error_and_keeps_the_rest(
    seeded_sandbox, prepare_operation, apply_and_run
):
    ids = sorted(_open_ids())
    broken = ids[:3]
    operation = prepare_operation(OPEN, [Change("reason", "replace", "Test")])
    # These leads hold a value the API no longer accepts: validating the whole
    # merged document fails for them only (payload-contract.md 4.1).
    Lead.objects.filter(id__in=broken).update(processStatuses="Retired status")

    operation = apply_and_run(operation)

    assert operation.state == State.FINISHED
    assert operation.error_count == 3
    assert operation.updated_count == operation.total - 3
    errors = PinnedLead.objects.filter(operation=operation, outcome=Outcome.ERROR)
    assert sorted(errors.values_list("lead_id", flat=True)) == broken
    assert {e.message for e in errors} == {"The following field is invalid: Process Statuses"}
    assert BulkChunk.objects.get(operation=operation).message == (
        f"Unable to update 3 out of {operation.total} Leads."
    )
    assert {lead["reason"] for i, lead in _values(ids[3:], "reason").items()} == {"Test"}


def test_a_partial_400_answer_is_read_as_a_partial_result(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, lost
):
    operation = prepare_operation(filter_qs(("id", "in", "1,2,3")), lost)
    partial = httpx.Response(
        400,
        json={
            "docs": [{"id": 3, "processStatuses": "Lost"}, {"id": 1, "processStatuses": "Lost"}],
            "errors": [
                {
                    "id": 2,
                    "isPublic": True,
                    "message": "Document with ID 2 is currently locked by another user "
                    "and cannot be updated.",
                }
            ],
            "message": "Unable to update 1 out of 3 Leads.",
        },
    )
    operation = apply_and_run(operation, client=scripted_client({1: partial}))
    assert _outcomes(operation) == {1: "updated", 2: "error", 3: "updated"}
    assert "currently locked" in PinnedLead.objects.get(operation=operation, lead_id=2).message


# ---------------------------------------------------------------- failures, resume


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(503, json={"errors": [{"message": "Down"}]}), "HTTP 503"),
        (httpx.Response(401, json={"errors": [{"message": "Nope"}]}), "LEADS_API_KEY"),
        (httpx.ReadTimeout("slow"), "did not answer"),
    ],
)
def test_api_failure_mid_job_stops_with_a_reason_and_retry_runs_the_rest(
    seeded_sandbox,
    prepare_operation,
    apply_and_run,
    scripted_client,
    lost,
    settings,
    answer,
    reason,
):
    settings.BULK_CHUNK_SIZE = 10
    client = scripted_client({3: answer})
    operation = apply_and_run(prepare_operation(OPEN, lost), client=client)

    assert operation.state == State.STOPPED
    assert reason in operation.stop_reason
    assert operation.updated_count == 20  # chunks 1 and 2 stay recorded
    assert Counter(_outcomes(operation).values())["pending"] == operation.total - 20
    assert operation.in_flight["first"] == sorted(_outcomes(operation))[20]

    retry = bulk_operation_retry(operation=operation, user=operation.created_by)
    assert (retry.retry_of, retry.total) == (operation, operation.total - 20)
    bulk_operation_run(retry.pk, retry.run_token, client=client)
    retry.refresh_from_db()
    assert retry.state == State.FINISHED
    assert retry.updated_count == retry.total
    assert set(client.transport.updated.values()) == {1}
    stopped = BulkOperation.objects.get(pk=operation.pk)  # kept as it ended
    assert (stopped.state, stopped.updated_count) == (State.STOPPED, 20)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_killed_worker_resumes_from_the_last_chunk_and_updates_no_lead_twice(
    seeded_sandbox, prepare_operation, scripted_client, lost, settings, when
):
    """Killed while chunk 3 is in flight: before the API got it, or after the API
    applied it but before the answer was recorded."""
    settings.BULK_CHUNK_SIZE = 10
    script = {3: WorkerKilled()} if when == "before" else {3: ("after", WorkerKilled())}
    client = scripted_client(script)
    expected = _open_ids()
    operation = prepare_operation(OPEN, lost)
    bulk_operation_apply(operation=operation, user=operation.created_by)
    operation.refresh_from_db()
    with pytest.raises(WorkerKilled):
        bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()
    assert operation.state == State.RUNNING
    assert operation.updated_count == 20

    # Nobody runs it any more; once it looks stalled, bulk_resume re-enqueues it.
    assert bulk_operations_resume_stalled() == []
    BulkOperation.objects.filter(pk=operation.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert bulk_operations_resume_stalled() == [operation.pk]
    operation.refresh_from_db()
    bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()

    assert operation.state == State.FINISHED
    assert operation.updated_count == operation.total
    assert operation.conflict_count == 0
    assert set(client.transport.updated) == expected
    assert set(client.transport.updated.values()) == {1}  # nobody updated twice
    recovered = PinnedLead.objects.filter(operation=operation, message__contains="interrupted")
    assert recovered.count() == (10 if when == "after" else 0)


def test_a_worker_killed_recording_chunk_2_with_chunk_3_applied_resumes_without_doubles(
    seeded_sandbox, prepare_operation, scripted_client, lost, settings
):
    """Two chunks in flight: while chunk 2's outcome is written, chunk 3's PATCH is
    already out. The worker dies inside chunk 2's transaction once the API has
    applied chunk 3, so neither is recorded; the resumed run must not update
    their leads again and must record every lead exactly once."""
    settings.BULK_CHUNK_SIZE = 10
    client = scripted_client()
    expected = _open_ids()
    operation = prepare_operation(OPEN, lost)
    assert operation.total == len(expected) > 40
    bulk_operation_apply(operation=operation, user=operation.created_by)
    operation.refresh_from_db()

    def chunk_3_applied() -> bool:
        sent = client.transport.patched_ids
        return len(sent) >= 3 and all(client.transport.updated[i] for i in sent[2])

    recording = BulkOperation._meta.db_table
    records, begins = 0, False

    def kill_while_recording_chunk_2(execute, sql, params, many, context):
        # The worker dies as chunk 2's transaction starts, before anything of it is
        # saved: at its BEGIN (SQLite's BEGIN IMMEDIATE; holding that lock would
        # keep the sandbox from applying chunk 3) or, where BEGIN is implicit
        # (PostgreSQL), at its first write, the operation's counters.
        nonlocal records, begins
        begins = begins or sql.startswith("BEGIN")
        counters = sql.startswith("UPDATE") and recording in sql and 'SET "updated_count"' in sql
        if sql.startswith("BEGIN") or (counters and not begins):
            records += 1
            if records == 2:
                deadline = time.monotonic() + 20
                while not chunk_3_applied():
                    assert time.monotonic() < deadline, "chunk 3 was never applied"
                    time.sleep(0.01)
                raise WorkerKilled
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kill_while_recording_chunk_2), pytest.raises(WorkerKilled):
        bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()
    first, second, third = client.transport.patched_ids  # nothing after chunk 3 went out
    assert operation.state == State.RUNNING
    assert operation.updated_count == 10  # chunk 2's transaction was rolled back
    recorded = PinnedLead.objects.filter(operation=operation).exclude(outcome=Outcome.PENDING)
    assert sorted(recorded.values_list("lead_id", flat=True)) == first
    assert list(BulkChunk.objects.filter(operation=operation).values_list("number")) == [(1,)]
    assert (operation.in_flight["first"], operation.in_flight["last"]) == (second[0], third[-1])
    assert all(client.transport.updated[i] == 1 for i in second + third)  # both applied

    BulkOperation.objects.filter(pk=operation.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert bulk_operations_resume_stalled() == [operation.pk]
    operation.refresh_from_db()
    bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()

    assert operation.state == State.FINISHED
    assert (operation.updated_count, operation.conflict_count) == (operation.total, 0)
    assert set(client.transport.updated) == expected
    assert set(client.transport.updated.values()) == {1}  # nobody updated twice
    # Every lead recorded once, in exactly one chunk; chunks 2 and 3 as recovered.
    pins = PinnedLead.objects.filter(operation=operation)
    assert pins.count() == len(expected) == len(set(pins.values_list("lead_id", flat=True)))
    assert set(pins.values_list("outcome", flat=True)) == {Outcome.UPDATED}
    assert not pins.filter(chunk__isnull=True).exists()
    chunks = BulkChunk.objects.filter(operation=operation)
    assert sum(chunks.values_list("requested", flat=True)) == len(expected)
    recovered = pins.filter(message__contains="interrupted").values_list("lead_id", flat=True)
    assert sorted(recovered) == sorted(second + third)
    assert all(
        pin.after == {"processStatuses": "Lost"} for pin in pins.filter(lead_id__in=second + third)
    )


def test_cancel_stops_after_the_chunk_in_flight(
    seeded_sandbox, prepare_operation, scripted_client, lost, settings
):
    settings.BULK_CHUNK_SIZE = 10
    operation = prepare_operation(OPEN, lost)

    class CancelDuringChunk2(httpx.BaseTransport):
        def __init__(self, inner):
            self.inner, self.updated, self.patched_ids, self.patches = inner, Counter(), [], 0

        def handle_request(self, request):
            if request.method == "PATCH":
                self.patches += 1
                if self.patches == 2:
                    assert bulk_operation_cancel(operation=operation)
            return self.inner.handle_request(request)

    client = scripted_client(transport=CancelDuringChunk2(httpx.HTTPTransport()))
    bulk_operation_apply(operation=operation, user=operation.created_by)
    operation.refresh_from_db()
    bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()

    assert operation.state == State.CANCELLED
    assert client.transport.patches == 2
    assert operation.updated_count == 20  # the chunk in flight was finished and recorded
    assert Counter(_outcomes(operation).values())["pending"] == operation.total - 20


def test_cancel_while_queued_means_nothing_is_sent(
    seeded_sandbox, prepare_operation, scripted_client, lost
):
    operation = prepare_operation(OPEN, lost)
    bulk_operation_apply(operation=operation, user=operation.created_by)
    operation.refresh_from_db()
    assert bulk_operation_cancel(operation=operation)
    client = scripted_client()
    assert bulk_operation_run(operation.pk, operation.run_token, client=client) == State.CANCELLED
    assert client.transport.patches == 0


def test_applying_twice_enqueues_one_run(seeded_sandbox, prepare_operation, lost, settings):
    settings.TASKS = DUMMY_TASKS
    from django.tasks import default_task_backend

    operation = prepare_operation(OPEN, lost)
    assert bulk_operation_apply(operation=operation, user=operation.created_by)
    assert not bulk_operation_apply(operation=operation, user=operation.created_by)
    assert len(default_task_backend.results) == 1


def test_a_run_started_twice_sends_each_chunk_once(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, lost
):
    client = scripted_client()
    operation = apply_and_run(prepare_operation(OPEN, lost), client=client)
    patches = client.transport.patches
    assert bulk_operation_run(operation.pk, operation.run_token, client=client) == State.FINISHED
    assert client.transport.patches == patches


def test_leads_that_already_have_the_new_values_are_not_pinned_nor_sent(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client
):
    already = set(Lead.objects.filter(processStatuses="Lost").values_list("id", flat=True))
    assert already
    query = filter_qs(("processStatuses", "in", ["Lost", "On Hold"]))
    operation = prepare_operation(query, [Change("processStatuses", "replace", "Lost")])
    pinned = set(operation.pinned.values_list("lead_id", flat=True))
    assert operation.unchanged_count == len(already)
    assert pinned.isdisjoint(already)
    assert dict(operation.value_counts["processStatuses"]) == {"On Hold": len(pinned)}
    client = scripted_client()
    operation = apply_and_run(operation, client=client)
    assert set(client.transport.updated) == pinned
    assert operation.updated_count == operation.total == len(pinned)


def test_nothing_to_change_when_every_match_already_has_the_values(
    seeded_sandbox, prepare_operation
):
    query = filter_qs(("processStatuses", "equals", "Lost"))
    with pytest.raises(OperationRefused, match="already have these values"):
        prepare_operation(query, [Change("processStatuses", "replace", "Lost")])


def test_time_left_counts_down_while_a_chunk_is_in_flight(make_operation, monkeypatch, db):
    from leadsadmin.bulk import selectors

    start = timezone.now()
    outcomes = {i: ("updated" if i <= 10 else "pending", "") for i in range(1, 101)}
    operation = make_operation(
        state=State.RUNNING, outcomes=outcomes, run_started_at=start, run_start_done=0
    )
    BulkChunk.objects.filter(operation=operation).update(finished_at=start + timedelta(seconds=10))
    # 10 leads took 10 s: 90 left is about 90 s, then less as the next chunk is in flight.
    estimates = []
    for seconds in (12, 20, 40):
        monkeypatch.setattr(
            selectors.timezone, "now", lambda s=seconds: start + timedelta(seconds=s)
        )
        estimates.append(selectors.operation_progress(operation).time_left)
    assert estimates == ["about 1 min 28 s", "about 1 min 20 s", "about 1 min"]


def test_a_refused_key_stop_names_the_key_not_reachability(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, lost, settings
):
    settings.BULK_CHUNK_SIZE = 10
    client = scripted_client({2: httpx.Response(401, json={"errors": [{"message": "Nope"}]})})
    operation = apply_and_run(prepare_operation(OPEN, lost), client=client)
    assert "once LEADS_API_KEY is a key the API accepts" in operation.stop_reason
    assert "reachable" not in operation.stop_reason
