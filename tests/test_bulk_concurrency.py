"""BULK_CONCURRENCY: several chunks of one bulk run in flight at once, against the
sandbox over real HTTP. Every lead is updated once, outcomes are recorded in
order, a run killed with chunks in flight resumes without doubles, Cancel and a
newer run's takeover stop the sending."""

import json
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone

from leadsadmin.api.limits import ApiLimiter
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    bulk_operation_apply,
    bulk_operation_cancel,
    bulk_operations_resume_stalled,
)
from leadsadmin.bulk.running import _Run, bulk_operation_run
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import WorkerKilled, filter_qs

pytestmark = pytest.mark.django_db(transaction=True)

State = BulkOperation.State
Outcome = PinnedLead.Outcome
OPEN = filter_qs(("processStatuses", "in", ["Qualified Lead", "On Hold"]))
CHUNK = 5


class Recorder(httpx.BaseTransport):
    """Forwards to the sandbox, from several threads at once: counts the PATCHes,
    the most in flight at one time, and per lead how often the API said it
    updated it. `on_patch(number)` runs as each PATCH starts; a response it
    returns is the answer instead of the sandbox's."""

    def __init__(self, on_patch=None):
        self.inner = httpx.HTTPTransport()
        self.on_patch = on_patch or (lambda number: None)
        self.lock = threading.Lock()
        self.patches = self.in_flight = self.most = 0
        self.updated = Counter()

    def handle_request(self, request):
        if request.method != "PATCH":
            return self.inner.handle_request(request)
        with self.lock:
            self.patches += 1
            number = self.patches
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            instead = self.on_patch(number)
            if isinstance(instead, httpx.Response):
                return instead
            response = self.inner.handle_request(request)
            response.read()
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            for doc in json.loads(response.content).get("docs", []):
                self.updated[doc["id"]] += 1
        return response

    def close(self):
        self.inner.close()


@pytest.fixture
def recording_client(scripted_client):
    """(on_patch=None, max_concurrent=0) → a LeadsClient to the sandbox through a
    Recorder (as `.transport`), with a limiter of its own."""

    def make(on_patch=None, max_concurrent=0, sleeps=None):
        # A 429's wait is noted in `sleeps`, not slept.
        sleep = sleeps.append if sleeps is not None else time.sleep
        limiter = ApiLimiter(
            LocMemCache(f"bulk-{uuid.uuid4()}", {}), max_concurrent=max_concurrent, sleep=sleep
        )
        return scripted_client(transport=Recorder(on_patch), limiter=limiter)

    return make


@pytest.fixture
def applied(seeded_sandbox, prepare_operation, lost, settings):
    """(concurrency) → an operation on the open leads, applied and ready to run."""

    def make(concurrency):
        settings.BULK_CHUNK_SIZE, settings.BULK_CONCURRENCY = CHUNK, concurrency
        operation = prepare_operation(OPEN, lost)
        assert operation.total > CHUNK * 8
        bulk_operation_apply(operation=operation, user=operation.created_by)
        operation.refresh_from_db()
        return operation

    return make


def _open_ids():
    statuses = ["Qualified Lead", "On Hold"]
    return set(Lead.objects.filter(processStatuses__in=statuses).values_list("id", flat=True))


def _run(operation, client):
    state = bulk_operation_run(operation.pk, operation.run_token, client=client)
    operation.refresh_from_db()
    return state


def _chunk_ids(operation):
    """Each recorded chunk's lead ids, by chunk number."""
    pins = PinnedLead.objects.filter(operation=operation, chunk__isnull=False)
    chunks = {}
    for number, lead_id in pins.values_list("chunk__number", "lead_id"):
        chunks.setdefault(number, []).append(lead_id)
    return [sorted(chunks[number]) for number in sorted(chunks)]


@pytest.mark.parametrize(
    ("concurrency", "max_concurrent"), [(2, 0), (3, 0), (3, 1)], ids=["2", "3", "3-limited-to-1"]
)
def test_concurrent_chunks_update_every_lead_once_and_record_in_order(
    applied, recording_client, concurrency, max_concurrent
):
    expected = _open_ids()
    operation = applied(concurrency)
    client = recording_client(max_concurrent=max_concurrent)

    assert _run(operation, client) == State.FINISHED

    assert client.transport.updated == Counter(dict.fromkeys(expected, 1))
    assert (operation.updated_count, operation.conflict_count, operation.error_count) == (
        len(expected),
        0,
        0,
    )
    assert operation.in_flight is None
    chunks = _chunk_ids(operation)
    assert [len(ids) for ids in chunks[:-1]] == [CHUNK] * (len(chunks) - 1)
    # In order: chunk k+1's ids come after chunk k's.
    assert [i for ids in chunks for i in ids] == sorted(expected)
    rows = BulkChunk.objects.filter(operation=operation).order_by("number")
    assert [row.updated for row in rows] == [len(ids) for ids in chunks]
    assert client.transport.patches == len(chunks)
    if max_concurrent:
        assert client.transport.most == max_concurrent  # the shared limit holds
    else:
        assert 2 <= client.transport.most <= concurrency


@pytest.mark.parametrize("concurrency", [2, 3])
def test_a_run_killed_with_chunks_in_flight_resumes_without_applying_anything_twice(
    applied, recording_client, monkeypatch, concurrency
):
    """The worker dies as it starts recording chunk 3: chunk 3's answer and the
    N chunks after it (all applied by the API) are unrecorded; `in_flight`
    covers them, and the resumed run rechecks them instead of applying again."""
    expected = _open_ids()
    operation = applied(concurrency)
    client = recording_client()
    recorded, record = 0, _Run.record

    def dies_at_chunk_3(self, *args):
        nonlocal recorded
        recorded += 1
        if recorded == 3:
            raise WorkerKilled
        return record(self, *args)

    monkeypatch.setattr(_Run, "record", dies_at_chunk_3)
    with pytest.raises(WorkerKilled):
        _run(operation, client)
    monkeypatch.undo()
    operation.refresh_from_db()

    in_doubt = sorted(client.transport.updated)[2 * CHUNK :]
    assert client.transport.patches == concurrency + 3  # chunks 1 … N+3 went out
    assert len(in_doubt) == (concurrency + 1) * CHUNK
    assert operation.updated_count == 2 * CHUNK
    assert (operation.in_flight["first"], operation.in_flight["last"]) == (
        in_doubt[0],
        in_doubt[-1],
    )

    BulkOperation.objects.filter(pk=operation.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert bulk_operations_resume_stalled() == [operation.pk]
    operation.refresh_from_db()
    assert _run(operation, client) == State.FINISHED

    assert client.transport.updated == Counter(dict.fromkeys(expected, 1))  # nobody twice
    assert (operation.updated_count, operation.conflict_count) == (len(expected), 0)
    pins = PinnedLead.objects.filter(operation=operation)
    assert not pins.exclude(outcome=Outcome.UPDATED).exists()
    recovered = pins.filter(message__contains="interrupted").values_list("lead_id", flat=True)
    assert sorted(recovered) == in_doubt
    assert [i for ids in _chunk_ids(operation) for i in ids] == sorted(expected)


def _first_then_together(count, action):
    """An on_patch: the first PATCH to start runs `action`, and the first `count`
    go on only once all have started, so that no answer is back before `action`
    is committed (the senders race: the first to start need not be chunk 1)."""
    started = threading.Barrier(count, timeout=30)

    def on_patch(number):
        if number == 1:
            action()
        if number <= count:
            started.wait()

    return on_patch


def test_cancel_stops_after_the_chunks_in_flight(applied, recording_client):
    operation = applied(3)
    client = recording_client(
        on_patch=_first_then_together(3, lambda: bulk_operation_cancel(operation=operation))
    )

    assert _run(operation, client) == State.CANCELLED

    assert client.transport.patches == 3  # the three sent at once, nothing after
    assert operation.updated_count == 3 * CHUNK  # each of them recorded
    pending = PinnedLead.objects.filter(operation=operation, outcome=Outcome.PENDING)
    assert pending.count() == operation.total - 3 * CHUNK
    assert operation.in_flight is None


def test_a_newer_runs_takeover_stops_sending_and_recording(applied, recording_client):
    operation = applied(2)

    def taken_over():
        BulkOperation.objects.filter(pk=operation.pk).update(run_token="newer")

    client = recording_client(on_patch=_first_then_together(2, taken_over))

    assert _run(operation, client) == State.RUNNING  # the newer run's, untouched

    assert client.transport.patches == 2
    assert operation.updated_count == 0
    assert not BulkChunk.objects.filter(operation=operation).exists()


TOO_MANY = httpx.Response(
    429, json={"errors": [{"message": "Slow down"}]}, headers={"Retry-After": "7"}
)


def test_a_chunk_answered_429_is_sent_again_after_the_wait_and_applied_once(
    applied, recording_client
):
    expected = _open_ids()
    operation = applied(2)
    sleeps = []
    client = recording_client(on_patch=lambda number: number == 3 and TOO_MANY, sleeps=sleeps)

    assert _run(operation, client) == State.FINISHED

    assert client.transport.updated == Counter(dict.fromkeys(expected, 1))
    assert operation.updated_count == len(expected)
    assert sleeps and all(0 < wait <= 7 for wait in sleeps)  # the pause, not slept here
    assert client.transport.patches == len(_chunk_ids(operation)) + 1


def test_a_run_rate_limited_past_its_retries_stops_saying_when_to_retry(applied, recording_client):
    operation = applied(2)
    client = recording_client(on_patch=lambda number: number >= 3 and TOO_MANY, sleeps=[])

    assert _run(operation, client) == State.STOPPED

    assert operation.stop_reason.startswith("Stopped: The leads API is rate-limiting us (429)")
    assert operation.stop_reason.endswith(
        "Retry failed runs the rest in a minute, when the API takes calls again."
    )
    assert operation.updated_count == 2 * CHUNK  # the chunks before were recorded
