"""`manage.py bulk_worker`: the one command that runs bulk edits.

It registers itself as a WorkerBeat, beats from one thread and sweeps from
another (resumes the operations nobody runs any more: at start, then every
BULK_WORKER_BEAT_SECONDS), and runs the task backend's own worker in this
process: django-tasks-db's `db_worker` or, with TASKS_BACKEND=rq, django-rq's
`rqworker` (one job at a time, in this process, like db_worker). SIGTERM or
Ctrl-C lets the job in hand finish (a second one stops at once), then marks the
worker stopped; a worker killed outright is found dead by the others once its
beat is older than BULK_WORKER_DEAD_AFTER.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connections

from leadsadmin.bulk.operations import bulk_sweep
from leadsadmin.bulk.workers import worker_beat, worker_register, worker_stopped

logger = logging.getLogger(__name__)


def api_problem() -> str | None:
    """Why this worker could not reach the leads API, or None. (settings already
    refuse LEADS_API_URL without LEADS_API_KEY.)"""
    if not settings.LEADS_API_URL:
        return (
            "bulk_worker needs the leads API: set LEADS_API_URL (ending in /api) and "
            "LEADS_API_KEY. Without LEADS_API_URL it would call the sandbox at "
            "SANDBOX_SELF_URL with no key; `manage.py demo` starts a worker pointed at "
            "its own sandbox."
        )
    return None


class _Every(threading.Thread):
    """Calls tick() every BULK_WORKER_BEAT_SECONDS until stop(), on a database
    connection of its own that it closes when a query fails and at the end."""

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(settings.BULK_WORKER_BEAT_SECONDS):
                try:
                    close_old_connections()
                    self.tick()
                except DatabaseError as exc:
                    logger.warning("%s: the database failed (%s)", self.name, type(exc).__name__)
                    connections.close_all()  # this thread's; the next tick reconnects
                except Exception:
                    logger.exception("%s failed", self.name)
        finally:
            connections.close_all()

    def tick(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=settings.BULK_WORKER_BEAT_SECONDS + 30)


class Heart(_Every):
    """Writes this worker's beat. It notes when a beat follows a gap longer than
    BULK_WORKER_DEAD_AFTER (this worker lost the database for a while)."""

    def __init__(self, worker_name: str):
        super().__init__("bulk-worker-beat")
        self.worker_name = worker_name
        self.last_beat = time.monotonic()
        self.back_at = float("-inf")  # when a beat last followed a gap

    def tick(self) -> None:
        worker_beat(self.worker_name)
        now = time.monotonic()
        if now - self.last_beat > settings.BULK_WORKER_DEAD_AFTER:
            self.back_at = now
        self.last_beat = now


class Sweeper(_Every):
    """Sweeps after each beat period, in a thread of its own so that a slow queue
    never delays the beats. It holds back while this worker's own beats are
    failing, and for one dead-after period after they come back: the other
    workers, cut off too, must get the time to beat again first."""

    def __init__(self, heart: Heart):
        super().__init__("bulk-worker-sweep")
        self.heart = heart

    def tick(self) -> None:
        now, dead_after = time.monotonic(), settings.BULK_WORKER_DEAD_AFTER
        if now - self.heart.last_beat <= dead_after and now - self.heart.back_at > dead_after:
            sweep_and_say()


def sweep_and_say() -> None:
    sweep = bulk_sweep()
    if sweep.resumed:
        ids = ", ".join(str(pk) for pk in sweep.resumed)
        logger.warning("resumed bulk operation(s) %s: their run had stopped", ids)
    if sweep.tasks_failed:
        logger.warning("marked failed %s task(s) of dead workers", sweep.tasks_failed)


class Command(BaseCommand):
    help = (
        "Runs bulk edits: the task backend's worker (TASKS_BACKEND), with a beat and a "
        "sweep that resumes the operations of workers that died."
    )
    # A worker starts in a second, as a replacement should: the checks belong to
    # the release (`manage.py check --deploy`), not to every worker start.
    requires_system_checks = []

    def handle(self, *args, verbosity, **options):
        if problem := api_problem():
            raise CommandError(problem)
        name = worker_register().name
        self.stdout.write(f"Bulk worker {name} ({settings.TASKS_BACKEND} queue) started.")
        sweep_and_say()
        heart = Heart(name)
        threads = [heart, Sweeper(heart)]
        for thread in threads:
            thread.start()
        try:
            self.run_backend_worker(name, verbosity)
        finally:
            for thread in threads:
                thread.stop()
            self.say_stopped(name)

    def run_backend_worker(self, name: str, verbosity: int) -> None:
        if settings.TASKS_BACKEND == "rq":
            call_command(
                "rqworker",
                settings.TASKS_QUEUE,
                name=name,
                job_class="django_tasks_rq.Job",
                worker_class="leadsadmin.bulk.rq_worker.BulkRQWorker",
                verbosity=verbosity,
            )
        else:
            call_command(
                "db_worker",
                queue_name=settings.TASKS_QUEUE,
                worker_id=name,
                reload=False,
                startup_delay=False,
                verbosity=verbosity,
            )

    def say_stopped(self, name: str) -> None:
        connections.close_all()  # the last task may have left this thread's broken
        try:
            worker_stopped(name)
        except DatabaseError as exc:
            # The others find it dead once its beat is old enough.
            logger.warning("could not mark bulk worker stopped (%s)", type(exc).__name__)
        self.stdout.write(f"Bulk worker {name} stopped.")
