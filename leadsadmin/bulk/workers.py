"""The bulk worker process (`manage.py bulk_worker`): who it is, which operations
it runs right now, and its beats in WorkerBeat.

A run records the worker that claimed its operation (`this_worker()`, empty
outside bulk_worker); any worker's sweep can then tell an operation whose
worker died at once, without waiting for the operation's own heartbeat to age.
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import contextmanager

from django.utils import timezone
from django.utils.crypto import get_random_string

from leadsadmin.bulk.models import WorkerBeat

_this_worker = ""
_running: set[int] = set()
_running_lock = threading.Lock()


def this_worker() -> str:
    """This process's WorkerBeat name, or "" when it is not a bulk_worker."""
    return _this_worker


@contextmanager
def running_here(operation_id: int):
    """Marks the operation as run by this process while the block runs."""
    with _running_lock:
        _running.add(operation_id)
    try:
        yield
    finally:
        with _running_lock:
            _running.discard(operation_id)


def running_here_ids() -> set[int]:
    with _running_lock:
        return set(_running)


def worker_register() -> WorkerBeat:
    """Registers this process as a live worker (host:pid:random, at most 64
    characters: django-tasks-db's limit for a worker id)."""
    global _this_worker
    host = socket.gethostname()[:40]
    beat = WorkerBeat.objects.create(name=f"{host}:{os.getpid()}:{get_random_string(8)}")
    _this_worker = beat.name
    return beat


def worker_beat(name: str) -> None:
    WorkerBeat.objects.filter(name=name, stopped_at__isnull=True).update(beat_at=timezone.now())


def worker_stopped(name: str) -> None:
    """Marks the worker stopped: its operations are resumed at the next sweep."""
    global _this_worker
    WorkerBeat.objects.filter(name=name).update(stopped_at=timezone.now())
    if _this_worker == name:
        _this_worker = ""
