"""`/healthz`: what a load balancer or an operator needs to know, and no secrets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError
from leadsadmin.bulk.models import WorkerBeat
from leadsadmin.bulk.tasks import queue_depth


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"failing: {type(exc).__name__}"
    return "ok"


def _leads_api() -> str:
    try:
        api.get_client().count()
    except LeadsApiError as exc:  # its text never holds the key
        return f"unreachable: {exc}"
    return "reachable"


def _queue() -> tuple[str, int | None]:
    """The task queue's state and how many tasks wait in it. Only the error's
    type is shown: REDIS_URL may hold a password."""
    try:
        return "ok", queue_depth()
    except Exception as exc:  # a database error, or Redis unreachable
        return f"failing: {type(exc).__name__}", None


def _workers() -> dict:
    """How many bulk workers beat, and the age of the newest beat (null: none)."""
    alive = WorkerBeat.objects.alive()
    newest = alive.order_by("-beat_at").values_list("beat_at", flat=True).first()
    age = round((timezone.now() - newest).total_seconds(), 1) if newest else None
    return {"alive": alive.count(), "newest_beat_age_s": age}


@never_cache
@require_safe
@login_not_required
def healthz(request):
    """200 when the database, the leads API and the task queue answer, else 503;
    with the tasks waiting for a worker and the bulk workers alive. No live
    worker does not fail it: the web serves on, and the page says so."""
    database = _database()
    report = {"database": database, "leads_api": _leads_api(), "queue": "failing: no database"}
    report["queue_depth"] = None
    report["workers"] = None
    if database == "ok":
        report["queue"], report["queue_depth"] = _queue()
        report["workers"] = _workers()
    healthy = (database, report["leads_api"], report["queue"]) == ("ok", "reachable", "ok")
    report["status"] = "ok" if healthy else "failing"
    return JsonResponse(report, status=200 if healthy else 503)
