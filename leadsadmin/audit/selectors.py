"""Reads for the audit pages: operations by filter, a lead's history."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from leadsadmin.bulk.models import BulkOperation, PinnedLead

State = BulkOperation.State

OUTCOME_FILTERS = {
    "applied": Q(state=State.FINISHED, updated_count=F("total")),
    "partial": Q(state__in=BulkOperation.RETRYABLE_STATES, updated_count__gt=0)
    & ~Q(updated_count=F("total")),
    "failed": Q(state__in=(State.FAILED, State.STOPPED), updated_count=0),
    "cancelled": Q(state=State.CANCELLED),
    "running": Q(state__in=BulkOperation.ACTIVE_STATES),
    "draft": Q(state=State.REVIEWED),
    "discarded": Q(state=State.DISCARDED),
    "revert": Q(reverts__isnull=False),
}


def audit_operations(filters: dict | None = None, *, user=None) -> QuerySet[BulkOperation]:
    """Every bulk operation that got as far as a review, newest first, narrowed by
    the audit form's cleaned `filters` (`mine` means `user`'s own)."""
    operations = BulkOperation.objects.exclude(state=State.PINNING).select_related(
        "created_by", "applied_by", "reverts"
    )
    filters = filters or {}
    if filters.get("mine") and user is not None:
        operations = operations.filter(Q(created_by=user) | Q(applied_by=user))
    if filters.get("user"):
        operations = operations.filter(created_by=filters["user"])
    if filters.get("date_from"):
        operations = operations.filter(created_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        next_day = filters["date_to"] + dt.timedelta(days=1)
        operations = operations.filter(created_at__lt=_day_start(next_day))
    if filters.get("field"):
        operations = operations.filter(fields_changed__contains=f"|{filters['field']}|")
    if filters.get("value"):
        operations = operations.filter(values_set__icontains=filters["value"])
    if filters.get("outcome") in OUTCOME_FILTERS:
        operations = operations.filter(OUTCOME_FILTERS[filters["outcome"]])
    if filters.get("reason"):
        operations = operations.filter(reason__icontains=filters["reason"])
    return operations


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the user's zone (the middleware's)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def lead_history(lead_id: int) -> QuerySet[PinnedLead]:
    """Every operation applied to the lead (queued, run or ended after running),
    oldest first, with what came of it. Reviews never applied sent nothing to it."""
    return (
        PinnedLead.objects.filter(lead_id=lead_id)
        .exclude(operation__state__in=(State.PINNING, State.REVIEWED, State.DISCARDED))
        .select_related("operation", "operation__created_by", "operation__applied_by")
        .prefetch_related("operation__events")
        .order_by("operation__created_at", "operation_id")
    )
