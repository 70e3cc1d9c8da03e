"""The django.tasks entry point of a bulk operation (the work is in running.py), and
what the worker's sweep asks of the task backend (django-tasks-db or RQ): is an
operation's task still waiting or running, and which tasks a dead worker left."""

from __future__ import annotations

import logging
from enum import Enum

import django_tasks.exceptions
from django.conf import settings
from django.db import connections
from django.tasks import default_task_backend, task
from django.tasks.exceptions import TaskResultDoesNotExist
from django_tasks_db.models import DBTaskResult

from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.running import bulk_operation_run
from leadsadmin.bulk.workers import running_here

logger = logging.getLogger(__name__)

# django-tasks-rq builds on the django-tasks backport, which has its own exception.
_NO_SUCH_TASK = (TaskResultDoesNotExist, django_tasks.exceptions.TaskResultDoesNotExist)


@task(queue_name=settings.TASKS_QUEUE)
def bulk_operation_task(operation_id: int, run_token: str) -> str:
    # A database connection a run left broken (the server restarted under it) is
    # closed before and after, so the worker's next task and its own bookkeeping
    # connect afresh; the sweep then resumes the operation.
    _close_broken_connections()
    try:
        with running_here(operation_id):
            return bulk_operation_run(operation_id, run_token)
    finally:
        _close_broken_connections()


def _close_broken_connections() -> None:
    """close_old_connections(), but never inside a transaction (an immediate
    backend runs the task in the caller's)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def bulk_task_enqueue(operation_id: int, run_token: str) -> None:
    """Enqueues the run and notes its task id on the operation (the sweep asks
    the backend about it; an immediate backend has already run it)."""
    result = bulk_operation_task.using(queue_name=settings.TASKS_QUEUE).enqueue(
        operation_id, run_token
    )
    BulkOperation.objects.filter(
        pk=operation_id, run_token=run_token, state__in=BulkOperation.ACTIVE_STATES
    ).update(task_id=str(result.id))


class TaskState(Enum):
    WAITING = "waiting"  # in the queue, or taken by a worker that is alive
    LOST = "lost"  # gone (a flushed queue), ended, or taken by a dead worker
    UNKNOWN = "unknown"  # the queue did not answer


def bulk_task_state(task_id: str, alive: set[str]) -> TaskState:
    """What became of a queued operation's task; `alive` names the live workers."""
    try:
        result = default_task_backend.get_result(task_id)
    except _NO_SUCH_TASK:
        return TaskState.LOST
    except Exception as exc:  # Redis down: ask again at the next sweep
        logger.warning("the task queue did not answer (%s)", type(exc).__name__)
        return TaskState.UNKNOWN
    status = str(result.status)
    if status == "READY":
        return TaskState.WAITING
    if status == "RUNNING" and result.worker_ids and result.worker_ids[-1] in alive:
        return TaskState.WAITING
    return TaskState.LOST


def tasks_of_dead_workers_fail(dead: set[str]) -> int:
    """Marks failed the django-tasks-db tasks that dead workers left running (a
    killed worker never finishes them); returns how many. RQ cleans up its own."""
    failed = 0
    for row in DBTaskResult.objects.running():
        if row.worker_ids and row.worker_ids[-1] in dead:
            row.set_failed(WorkerDied(f"Worker {row.worker_ids[-1]} stopped beating."))
            failed += 1
    return failed


class WorkerDied(Exception):
    """Recorded on a task whose worker died while running it."""


def queue_depth() -> int:
    """Tasks waiting for a worker on TASKS_QUEUE (raises when the queue is unreachable)."""
    if settings.TASKS_BACKEND == "rq":
        # Imported only with RQ: redis adds ~0.8 s CPU to every process start.
        import django_rq

        return django_rq.get_queue(settings.TASKS_QUEUE).count
    return DBTaskResult.objects.ready().filter(queue_name=settings.TASKS_QUEUE).count()
