"""`/healthz`: what a load balancer or an operator needs to know, and no secrets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError


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


@never_cache
@require_GET
@login_not_required
def healthz(request):
    """200 when the database and the leads API answer, else 503; with the number
    of background tasks waiting for a worker."""
    database = _database()
    report = {"database": database, "leads_api": _leads_api(), "queue_depth": None}
    if database == "ok":
        report["queue_depth"] = DBTaskResult.objects.ready().count()
    healthy = database == "ok" and report["leads_api"] == "reachable"
    report["status"] = "ok" if healthy else "failing"
    return JsonResponse(report, status=200 if healthy else 503)
