"""Fixtures for the bulk worker tests (registered in tests/conftest.py): real
`manage.py bulk_worker` processes on the test database, the sandbox made slow and
counting what it applied. Tests marked `redis` need a Redis: tests/conftest.py
deselects them, with one line, on a machine without one (CI stops instead).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from leadsadmin.sandbox import operations as sandbox_operations

REPO_ROOT = Path(__file__).resolve().parents[1]
BEAT_SECONDS = 0.2
DEAD_AFTER = 1.0
CHUNK_SIZE = 10


def database_url() -> str:
    """The test database as a DATABASE_URL, for worker processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class SlowSandbox:
    """Wraps the sandbox's bulk PATCH: counts, per lead, how often it was sent and
    how often the sandbox applied it; while `delay` is set each PATCH waits that
    long first, and `in_flight` is set once one is waiting."""

    def __init__(self):
        self.sent: Counter = Counter()
        self.applied: Counter = Counter()
        self.delay = 0.0
        self.in_flight = threading.Event()
        self.lock = threading.Lock()

    def wrap(self, update):
        def slow_update(query, body, *, authorized):
            ids = _where_ids(query)
            with self.lock:
                self.sent.update(ids)
            if self.delay:
                self.in_flight.set()
                time.sleep(self.delay)
            status, answer = update(query, body, authorized=authorized)
            with self.lock:
                self.applied.update(doc["id"] for doc in answer.get("docs", []))
            return status, answer

        return slow_update


def _where_ids(node) -> list[int]:
    """The ids of an `id in` anywhere in a parsed query ("1,2,3" or a list)."""
    if isinstance(node, list):
        return [i for item in node for i in _where_ids(item)]
    if not isinstance(node, dict):
        return []
    if isinstance(node.get("id"), dict) and "in" in node["id"]:
        values = node["id"]["in"]
        values = values if isinstance(values, list) else str(values).split(",")
        return [int(value) for value in values if str(value)]
    return [i for value in node.values() for i in _where_ids(value)]


@pytest.fixture
def slow_sandbox(seeded_sandbox, monkeypatch):
    sandbox = SlowSandbox()
    monkeypatch.setattr(
        sandbox_operations, "leads_update", sandbox.wrap(sandbox_operations.leads_update)
    )
    sandbox.api = seeded_sandbox
    return sandbox


BACKENDS = {"db": "django_tasks_db.DatabaseBackend", "rq": "django_tasks_rq.RQBackend"}


@pytest.fixture
def task_queue(request, settings):
    """Points this process's task backend (`db`, or `rq` by parametrize) at a queue
    of this test's own, as the worker processes will be; RQ's keys go afterwards."""
    backend = getattr(request, "param", "db")
    name = f"t-{uuid.uuid4().hex[:12]}"
    settings.TASKS_BACKEND = backend
    settings.TASKS_QUEUE = name
    settings.TASKS = {"default": {"BACKEND": BACKENDS[backend], "QUEUES": [name]}}
    settings.RQ_QUEUES = {name: {"URL": settings.REDIS_URL, "DEFAULT_TIMEOUT": -1}}
    settings.BULK_WORKER_BEAT_SECONDS = BEAT_SECONDS
    settings.BULK_WORKER_DEAD_AFTER = DEAD_AFTER
    yield backend
    if backend == "rq":
        _rq_forget(redis.Redis.from_url(settings.REDIS_URL), name)


def _rq_forget(client: redis.Redis, queue: str) -> None:
    """Deletes what RQ keeps about a test's queue: its jobs and their executions
    and results, its workers, its registries; nothing of any other queue."""
    doomed = list(client.scan_iter(f"rq:*{queue}*"))
    for key in client.scan_iter("rq:job:*"):
        if client.type(key) == b"hash" and client.hget(key, "origin") == queue.encode():
            job_id = key.decode().removeprefix("rq:job:")
            doomed += [key, f"rq:results:{job_id}", f"rq:executions:{job_id}"]
            doomed += list(client.scan_iter(f"rq:execution:{job_id}:*"))
    for key in client.scan_iter("rq:worker:*"):
        if client.type(key) == b"hash" and queue.encode() in (client.hget(key, "queues") or b""):
            doomed += [key, key + b":executions"]
            client.srem("rq:workers", key)
    client.srem("rq:queues", f"rq:queue:{queue}")
    if doomed:
        client.delete(*doomed)


@pytest.fixture
def bulk_workers(slow_sandbox, task_queue, tmp_path):
    """(start) → a running `manage.py bulk_worker` process on the test database,
    pointed at the sandbox and this test's queue; all killed at the end."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LEADS_API_", "SANDBOX_"))},
        "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
        "DATABASE_URL": database_url(),
        "LEADS_API_URL": slow_sandbox.api.url,
        "LEADS_API_KEY": slow_sandbox.api.authorization,
        "TASKS_BACKEND": task_queue,
        "TASKS_QUEUE": settings.TASKS_QUEUE,
        "REDIS_URL": settings.REDIS_URL,
        "BULK_CHUNK_SIZE": str(CHUNK_SIZE),
        "BULK_WORKER_BEAT_SECONDS": str(BEAT_SECONDS),
        "BULK_WORKER_DEAD_AFTER": str(DEAD_AFTER),
        "PGAPPNAME": "bulk-worker-test",
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "bulk_worker"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker.log_path = log.name
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def wait_for(condition, *, timeout: float, what: str, workers=()):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(Path(w.log_path).read_text() for w in workers)
            pytest.fail(f"{what} within {timeout} s\n{logs}")
        time.sleep(0.05)
