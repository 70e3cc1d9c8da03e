"""`manage.py bulk_worker`: it refuses to start without an API, its beats, the
sweep that hands a dead worker's operation to a new run at once, and real worker
processes killed, doubled or cut off from the database without a lead updated
twice or lost."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation, PinnedLead, WorkerBeat
from leadsadmin.bulk.operations import (
    bulk_operation_apply,
    bulk_operation_cancel,
    bulk_sweep,
)
from leadsadmin.bulk.tasks import bulk_operation_task, bulk_task_enqueue
from leadsadmin.bulk.workers import worker_register, worker_stopped
from tests.fixtures_bulk import DUMMY_TASKS, IMMEDIATE_TASKS, filter_qs
from tests.fixtures_workers import CHUNK_SIZE, REPO_ROOT, wait_for

State = BulkOperation.State
OPEN = filter_qs(("processStatuses", "in", ["Qualified Lead", "On Hold"]))
LOST = [Change("processStatuses", "replace", "Lost")]
BOTH_BACKENDS = pytest.mark.parametrize(
    "task_queue", ["db", pytest.param("rq", marks=pytest.mark.redis)], indirect=True
)


def _beat(name: str, *, age: float = 0, stopped: bool = False) -> WorkerBeat:
    beat_at = timezone.now() - timedelta(seconds=age)
    return WorkerBeat.objects.create(
        name=name, beat_at=beat_at, stopped_at=timezone.now() if stopped else None
    )


def _applied(prepare_operation) -> BulkOperation:
    operation = prepare_operation(OPEN, LOST)
    bulk_operation_apply(
        operation=operation, user=operation.created_by, confirmation=str(operation.to_change)
    )
    operation.refresh_from_db()
    return operation


def _pinned_ids(operation) -> set[int]:
    return set(PinnedLead.objects.filter(operation=operation).values_list("lead_id", flat=True))


def _assert_each_lead_updated_once(operation, sandbox):
    operation.refresh_from_db()
    ids = _pinned_ids(operation)
    assert operation.state == State.FINISHED, operation.stop_reason
    assert (operation.updated_count, operation.conflict_count) == (operation.total, 0)
    assert {lead: sandbox.applied[lead] for lead in ids} == dict.fromkeys(ids, 1)
    assert set(sandbox.applied) == ids
    assert not PinnedLead.objects.filter(operation=operation, outcome="pending").exists()


# ---------------------------------------------------------------- refusing to start


@pytest.mark.parametrize(
    ("api", "named"),
    [
        ({"LEADS_API_KEY": "users API-Key sekrit-key-123"}, "LEADS_API_URL"),
        ({"LEADS_API_URL": "https://leads.example.com/api"}, "LEADS_API_KEY"),
    ],
)
def test_the_worker_refuses_to_start_without_an_api_url_and_key(api, named, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LEADS_API_", "SANDBOX_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}",
        **api,
    }
    worker = subprocess.run(
        [sys.executable, "manage.py", "bulk_worker"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode != 0
    assert named in worker.stderr
    assert "sekrit-key-123" not in worker.stdout + worker.stderr
    assert "started" not in worker.stdout


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"TASKS_BACKEND": "celery"}, "TASKS_BACKEND must be db or rq"),
        ({"REDIS_URL": "http://:sekrit-key-123@cache:6379"}, "REDIS_URL must be a redis://"),
        ({"BULK_WORKER_DEAD_AFTER": "2"}, "BULK_WORKER_DEAD_AFTER"),
    ],
)
def test_the_worker_settings_refuse_bad_values_naming_the_variable(setting, named):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadsadmin.settings", **setting}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert named in result.stderr.strip().splitlines()[-1]
    assert "sekrit-key-123" not in result.stderr


# ---------------------------------------------------------------- beats and the sweep


@pytest.mark.django_db
def test_a_worker_registers_beats_and_says_it_stopped(settings):
    beat = worker_register()
    assert beat.name.count(":") == 2 and len(beat.name) <= 64
    assert list(WorkerBeat.objects.alive()) == [beat]
    WorkerBeat.objects.filter(pk=beat.pk).update(
        beat_at=timezone.now() - timedelta(seconds=settings.BULK_WORKER_DEAD_AFTER + 1)
    )
    assert not WorkerBeat.objects.alive().exists()
    WorkerBeat.objects.filter(pk=beat.pk).update(beat_at=timezone.now())
    worker_stopped(beat.name)
    assert not WorkerBeat.objects.alive().exists()


def test_the_sweep_resumes_a_dead_workers_operation_at_once_and_leaves_a_live_ones(
    slow_sandbox, prepare_operation, settings
):
    settings.TASKS = DUMMY_TASKS
    settings.BULK_CHUNK_SIZE = CHUNK_SIZE
    _beat("host:1:dead", age=settings.BULK_WORKER_DEAD_AFTER + 1)
    _beat("host:2:live")
    orphan, running = _applied(prepare_operation), _applied(prepare_operation)
    # Both claimed a moment ago (fresh heartbeats); only one worker still beats.
    BulkOperation.objects.filter(pk=orphan.pk).update(state=State.RUNNING, worker="host:1:dead")
    BulkOperation.objects.filter(pk=running.pk).update(state=State.RUNNING, worker="host:2:live")
    orphan.refresh_from_db()
    running.refresh_from_db()
    assert orphan.is_stalled and not running.is_stalled

    settings.TASKS = IMMEDIATE_TASKS  # the resumed run runs here, now
    sweep = bulk_sweep()

    assert sweep.resumed == [orphan.pk]
    _assert_each_lead_updated_once(orphan, slow_sandbox)
    kept = BulkOperation.objects.get(pk=running.pk)
    assert (kept.state, kept.run_token, kept.worker) == (
        State.RUNNING,
        running.run_token,
        "host:2:live",
    )


@pytest.mark.django_db
def test_a_running_operation_whose_worker_is_dead_is_cancelled_at_once(make_operation, make_user):
    _beat("host:1:dead", stopped=True)
    _beat("host:2:live")
    pending = {1: ("updated", ""), 2: ("pending", "")}
    user = make_user("teamlead")
    orphan = make_operation(state=State.RUNNING, outcomes=pending, user=user, worker="host:1:dead")
    running = make_operation(state=State.RUNNING, outcomes=pending, user=user, worker="host:2:live")

    assert bulk_operation_cancel(operation=orphan)
    assert bulk_operation_cancel(operation=running)

    orphan.refresh_from_db()
    running.refresh_from_db()
    assert orphan.state == State.CANCELLED
    # A live worker stops it after the chunk in flight.
    assert (running.state, running.cancel_requested) == (State.RUNNING, True)


@pytest.mark.django_db
def test_an_operation_cancelled_while_its_worker_lived_ends_cancelled_when_it_dies(
    make_operation, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE_TASKS
    _beat("host:1:dead", stopped=True)
    cancelling = make_operation(
        state=State.RUNNING,
        outcomes={1: ("updated", ""), 2: ("pending", "")},
        worker="host:1:dead",
        cancel_requested=True,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_sweep().resumed == [cancelling.pk]

    cancelling.refresh_from_db()
    assert (cancelling.state, cancelling.updated_count) == (State.CANCELLED, 1)


@pytest.mark.django_db
def test_the_sweep_requeues_lost_tasks_only_and_fails_those_a_dead_worker_held(
    make_operation, make_user, task_queue, settings, django_capture_on_commit_callbacks
):
    settings.BULK_WORKER_DEAD_AFTER = 60
    _beat("host:1:dead", age=120)
    _beat("host:2:live")
    user = make_user("teamlead")

    def queued(**fields):
        return make_operation(
            state=State.QUEUED, outcomes={1: ("pending", "")}, user=user, **fields
        )

    waiting, never_enqueued, just_applied, flushed, held_by_dead, held_by_live = (
        queued(heartbeat_at=timezone.now() - timedelta(minutes=5)),  # a busy queue
        queued(heartbeat_at=timezone.now() - timedelta(minutes=5)),
        queued(),  # its enqueue is about to note the task
        queued(task_id=str(uuid.uuid4())),  # the queue lost it
        queued(),
        queued(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for operation in (waiting, held_by_dead, held_by_live):
            bulk_task_enqueue(operation.pk, operation.run_token)
    for operation, worker in ((held_by_dead, "host:1:dead"), (held_by_live, "host:2:live")):
        operation.refresh_from_db()
        DBTaskResult.objects.get(pk=operation.task_id).claim(worker)

    with django_capture_on_commit_callbacks(execute=True):
        sweep = bulk_sweep()

    assert sorted(sweep.resumed) == sorted([never_enqueued.pk, flushed.pk, held_by_dead.pk])
    assert sweep.tasks_failed == 1
    dead_task = DBTaskResult.objects.get(pk=held_by_dead.task_id)
    assert dead_task.status == "FAILED" and "host:1:dead" in dead_task.traceback
    for operation in (never_enqueued, flushed, held_by_dead):
        old_token = operation.run_token
        operation.refresh_from_db()
        assert operation.state == State.QUEUED and operation.run_token != old_token
        task = DBTaskResult.objects.get(pk=operation.task_id)
        assert task.status == "READY" and task.args_kwargs["args"] == [
            operation.pk,
            operation.run_token,
        ]
    for operation in (waiting, just_applied, held_by_live):
        assert BulkOperation.objects.get(pk=operation.pk).run_token == operation.run_token


# ---------------------------------------------------------------- real worker processes


@BOTH_BACKENDS
def test_a_worker_killed_mid_chunk_is_replaced_by_the_next_worker_without_doubles(
    bulk_workers, slow_sandbox, prepare_operation, task_queue, settings
):
    settings.BULK_CHUNK_SIZE = CHUNK_SIZE
    slow_sandbox.delay = 0.3
    first = bulk_workers()  # it starts while the review pins
    operation = _applied(prepare_operation)
    first_task = operation.task_id
    wait_for(
        lambda: BulkOperation.objects.get(pk=operation.pk).updated_count >= CHUNK_SIZE,
        timeout=60,
        what="the first worker did not record a chunk",
        workers=[first],
    )
    slow_sandbox.in_flight.clear()
    wait_for(slow_sandbox.in_flight.is_set, timeout=10, what="no chunk went out", workers=[first])
    os.killpg(first.pid, signal.SIGKILL)  # while the sandbox holds the chunk
    first.wait(timeout=10)
    slow_sandbox.delay = 0
    operation.refresh_from_db()
    assert operation.state == State.RUNNING and operation.has_work_left

    second = bulk_workers()
    wait_for(
        lambda: BulkOperation.objects.get(pk=operation.pk).state == State.FINISHED,
        timeout=60,
        what="the second worker did not finish the operation",
        workers=[first, second],
    )
    _assert_each_lead_updated_once(operation, slow_sandbox)
    assert f"resumed bulk operation(s) {operation.pk}" in Path(second.log_path).read_text()
    recovered = PinnedLead.objects.filter(operation=operation, message__contains="interrupted")
    assert recovered.count() <= 2 * CHUNK_SIZE  # at most the chunks in flight
    if task_queue == "db":  # the killed worker's task is not left "running"
        assert DBTaskResult.objects.get(pk=first_task).status == "FAILED"


@BOTH_BACKENDS
def test_two_workers_never_apply_the_same_chunk(
    bulk_workers, slow_sandbox, prepare_operation, settings
):
    settings.BULK_CHUNK_SIZE = CHUNK_SIZE
    slow_sandbox.delay = 0.02
    workers = [bulk_workers(), bulk_workers()]
    wait_for(
        lambda: WorkerBeat.objects.alive().count() == 2,
        timeout=60,
        what="two workers did not start",
        workers=workers,
    )
    operation = _applied(prepare_operation)
    # The task delivered twice (a double enqueue), one for each worker to take.
    bulk_task_enqueue(operation.pk, operation.run_token)

    wait_for(
        lambda: BulkOperation.objects.get(pk=operation.pk).state == State.FINISHED,
        timeout=60,
        what="the operation did not finish",
        workers=workers,
    )
    ids = _pinned_ids(operation)
    assert {lead: slow_sandbox.sent[lead] for lead in ids} == dict.fromkeys(ids, 1)
    _assert_each_lead_updated_once(operation, slow_sandbox)
    assert operation.chunks.count() == -(-operation.total // CHUNK_SIZE)

    # SIGTERM: each says it stopped, and exits cleanly.
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
    assert not WorkerBeat.objects.filter(stopped_at__isnull=True).exists()


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="terminates PostgreSQL sessions; the SQLite run simulates it in-process below",
)
def test_the_database_dropping_a_workers_connections_mid_job_loses_nothing(
    bulk_workers, slow_sandbox, prepare_operation, settings
):
    settings.BULK_CHUNK_SIZE = CHUNK_SIZE
    slow_sandbox.delay = 0.3
    worker = bulk_workers()
    operation = _applied(prepare_operation)
    wait_for(
        lambda: BulkOperation.objects.get(pk=operation.pk).updated_count >= CHUNK_SIZE,
        timeout=60,
        what="the worker did not record a chunk",
        workers=[worker],
    )
    slow_sandbox.in_flight.clear()
    wait_for(slow_sandbox.in_flight.is_set, timeout=10, what="no chunk went out", workers=[worker])
    with connection.cursor() as cursor:  # as a database restart does to every session
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'bulk-worker-test' AND datname = current_database()"
        )
        assert cursor.fetchone()[0] >= 1
    slow_sandbox.delay = 0

    wait_for(
        lambda: BulkOperation.objects.get(pk=operation.pk).state == State.FINISHED,
        timeout=60,
        what="the worker did not finish the operation after reconnecting",
        workers=[worker],
    )
    assert worker.poll() is None, "the worker died with its connections"
    # Its own sweep handed the operation its run had lost to a new run.
    assert f"resumed bulk operation(s) {operation.pk}" in Path(worker.log_path).read_text()
    _assert_each_lead_updated_once(operation, slow_sandbox)


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] in ("postgres", "postgresql"),
    reason="PostgreSQL runs the real thing above",
)
def test_a_run_that_loses_its_database_connection_is_resumed_by_its_own_workers_sweep(
    slow_sandbox, prepare_operation, settings
):
    """In-process, on SQLite: the connection breaks as chunk 2 is recorded (every
    query on it fails until it is closed); the task ends, closing it, the
    operation stays running, and the same worker's next sweep hands it to a new run."""
    settings.TASKS = DUMMY_TASKS
    settings.BULK_CHUNK_SIZE = CHUNK_SIZE
    operation = _applied(prepare_operation)
    name = worker_register().name
    records, broken = 0, None

    def drop_at_chunk_2(execute, sql, params, many, context):
        nonlocal records, broken
        if sql.startswith("UPDATE") and 'SET "updated_count"' in sql:
            records += 1
            if records == 2:
                broken = connection.connection
        if broken is not None and connection.connection is broken:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(drop_at_chunk_2), pytest.raises(OperationalError):
            bulk_operation_task.call(operation.pk, operation.run_token)
        assert connection.connection is not broken  # the task closed it
        operation.refresh_from_db()
        assert (operation.state, operation.worker) == (State.RUNNING, name)
        assert operation.updated_count == CHUNK_SIZE

        settings.TASKS = IMMEDIATE_TASKS
        assert bulk_sweep().resumed == [operation.pk]
    finally:
        worker_stopped(name)
    _assert_each_lead_updated_once(operation, slow_sandbox)
