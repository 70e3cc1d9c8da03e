"""Bulk operations as services: prepare (count + pin), apply, cancel, retry.

State transitions are conditional UPDATEs (`filter(state=…).update(…)`), so two
requests racing for the same transition (a double click, two tabs, a resubmitted
form) change the row once and only the winner enqueues a run.

Applying and retrying enqueue `tasks.bulk_operation_task`, which runs the
operation in the worker (`running.py`).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from leadsadmin import api
from leadsadmin.bulk.changes import (
    Change,
    body_applied,
    body_for_lead,
    body_key,
    value_describe,
)
from leadsadmin.bulk.models import BulkOperation, PinnedLead, WorkerBeat, stall_after
from leadsadmin.bulk.reading import matched_lead_pages
from leadsadmin.bulk.signals import announce_ended
from leadsadmin.bulk.snapshots import lead_snapshot
from leadsadmin.bulk.tasks import (
    TaskState,
    bulk_task_enqueue,
    bulk_task_state,
    tasks_of_dead_workers_fail,
)
from leadsadmin.bulk.workers import running_here_ids, this_worker
from leadsadmin.leads.filters import (
    FilterInvalid,
    filter_from_querydict,
    where_and,
    where_from_filter,
)
from leadsadmin.leads.preview import MAX_SELECTED
from leadsadmin.schema import lead_field

State = BulkOperation.State
Outcome = PinnedLead.Outcome

# Pinning reads pages this large (the client's maximum): fewer, larger requests.
PIN_PAGE_SIZE = 500
SAMPLE_SIZE = 10
# Distinct values counted per field for the review; the rest are "other values".
VALUE_COUNT_LIMIT = 30
SAMPLE_FIELDS = ("firstName", "lastName", "email")


class OperationRefused(Exception):
    """The operation cannot go ahead; str() says why, in words for the page."""


def where_for_filter_query(filter_query: str) -> dict:
    """The API where of a leads-page query string ({} = every lead), narrowed to the
    leads selected on that page when it names them (`ids`); OperationRefused if the
    filter has errors: a bulk edit never runs on a filter that could widen."""
    query = QueryDict(filter_query)
    try:
        where = where_from_filter(filter_from_querydict(query)) or {}
    except FilterInvalid as exc:
        raise OperationRefused(f"{exc} Go back to the filter and fix it first.") from None
    ids = selected_ids(query)
    if ids is None:
        return where
    return where_and(where, [{"id": {"in": ids}}])


def selected_ids(query: QueryDict) -> list[int] | None:
    """The lead ids selected on the leads page (`ids=3,9`), None when the whole
    filter is meant; OperationRefused for anything but up to MAX_SELECTED ids."""
    text = query.get("ids")
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise OperationRefused("The selection is not a list of lead ids; select the leads again.")
    if len(parts) > MAX_SELECTED:
        raise OperationRefused(
            f"{len(parts):,} leads are selected; select at most {MAX_SELECTED} "
            "or use the whole filter."
        )
    return sorted({int(part) for part in parts})


# ---------------------------------------------------------------- prepare (review)


def bulk_operation_prepare(
    *,
    user,
    filter_query: str,
    changes: list[Change],
    reason: str,
    origin: dict | None = None,
    client=None,
    listed_as_draft: bool = True,
) -> BulkOperation:
    """Counts the matches, refuses too large an operation, and pins every matched
    lead (id, updatedAt, the changed fields' values) as a BulkOperation ready
    for review. Memory stays bounded: leads are read page by page and written
    in batches. `origin` is the reviewer's request_origin(); a review made for
    someone else's decision (a proposal's) is not `listed_as_draft`."""
    client = client or api.get_client()
    where = where_for_filter_query(filter_query)
    limit = None if user.is_superuser else settings.BULK_MAX_OPERATION_SIZE
    # One request gives the count, the first id (where reading in parallel starts)
    # and the review's sample: the lowest ids.
    first = client.find(
        where=where or None,
        sort="id",
        limit=SAMPLE_SIZE,
        select=["id", *SAMPLE_FIELDS, *(change.field for change in changes)],
    )
    if first.total_docs == 0:
        raise OperationRefused("No leads match this filter: there is nothing to change.")
    _refuse_if_too_large(first.total_docs, limit)

    operation = BulkOperation.objects.create(
        created_by=user,
        reason=reason,
        filter_query=filter_query,
        where=where,
        changes=[change.as_json() for change in changes],
        pinned_since=pinning_moment(),
        reviewed_from=(origin or {}).get("ip"),
        reviewed_user_agent=(origin or {}).get("user_agent", ""),
        listed_as_draft=listed_as_draft,
    )
    try:
        _pin(operation, changes, client, where, limit, first)
    except BaseException as exc:
        # Nothing was sent; a half-pinned review must never be applied. It stays
        # on record, discarded, like any review that was not applied.
        bulk_operation_discard(operation=operation, why=f"The review could not be completed: {exc}")
        raise
    return operation


def pinning_moment():
    """Now, as the last millisecond before it: the API keeps updatedAt to the
    millisecond, so a lead written later in this very millisecond must still
    compare as newer than the review (and count as a conflict)."""
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000) - timedelta(milliseconds=1)


def _refuse_if_too_large(count: int, limit: int | None) -> None:
    if limit is not None and count > limit:
        raise OperationRefused(
            f"{count:,} leads match, more than the {limit:,} one bulk operation may change. "
            "Narrow the filter (only a superuser may go above the limit)."
        )


def _pin(operation, changes, client, where, limit, first) -> None:
    tally = _PinTally(changes, first.docs)
    # Every field, not only the changed ones: the pin keeps the whole lead as
    # reviewed, so that a run recovering from a request that failed on the way can
    # tell whether the API's non-atomic bulk write changed any other field.
    pages = matched_lead_pages(
        client,
        where,
        select=None,
        count=first.total_docs,
        page_size=PIN_PAGE_SIZE,
        first_id=first.docs[0]["id"],
    )
    with closing(pages):
        for page in pages:
            pins_insert(operation, [pin for lead in page if (pin := tally.pin(lead))])
            _refuse_if_too_large(tally.total, limit)
    if tally.total == 0 and tally.unchanged:
        raise OperationRefused(
            f"All {tally.unchanged:,} matching leads already have these values: "
            "there is nothing to change."
        )
    if tally.total == 0:
        raise OperationRefused("No leads match this filter any more: there is nothing to change.")
    operation.total = tally.total
    operation.unchanged_count = tally.unchanged
    operation.bodies = [json.loads(key) for key in tally.bodies]
    operation.value_counts = {
        name: counts_for_review(counter) for name, counter in tally.counters.items()
    }
    operation.sample = tally.pinned_sample()
    operation.needs_confirmation = not where or operation.total > settings.BULK_CONFIRM_THRESHOLD
    operation.state = State.REVIEWED
    operation.save()


class _PinTally:
    """What pinning learns from the leads as they stream past: each lead's pin,
    the distinct PATCH bodies, the review's value counts and the sample's values
    as pinned. Memory holds counters, never the leads."""

    def __init__(self, changes: list[Change], sample_docs: list[dict]):
        self.changes = changes
        self.fields = [change.field for change in changes]
        self.list_fields = {name for name in self.fields if lead_field(name).is_list}
        # Only add/remove make a lead's body depend on its values; otherwise every
        # lead shares body 0.
        self.per_lead = any(change.depends_on_current_value for change in changes)
        self.bodies: dict[str, int] = (
            {} if self.per_lead else {body_key(body_for_lead(changes, {})): 0}
        )
        self.counters = {name: Counter() for name in self.fields}
        self.sample = {doc["id"]: doc for doc in sample_docs}
        self.sampled: set = set()
        self.total = self.unchanged = 0

    def pin(self, lead: dict) -> tuple | None:
        """The lead's pin as pins_insert takes it: (id, updatedAt, values, body,
        snapshot); None for a lead that already holds every new value (it is not sent)."""
        before = {name: lead.get(name) for name in self.fields}
        body = body_for_lead(self.changes, before)
        if body_applied(body, before):
            self.unchanged += 1
            return None
        index = 0
        if self.per_lead:
            index = self.bodies.setdefault(body_key(body), len(self.bodies))
        for name in self.fields:
            _count_value(self.counters[name], name in self.list_fields, before[name])
        if lead["id"] in self.sample:
            self.sample[lead["id"]].update(before)  # shown as pinned
            self.sampled.add(lead["id"])
        self.total += 1
        return lead["id"], lead.get("updatedAt") or "", before, index, lead_snapshot(lead)

    def pinned_sample(self) -> list[dict]:
        """The sample's leads that were pinned (one may stop matching in between)."""
        names = ["id", *SAMPLE_FIELDS, *self.fields]
        return [
            {name: doc.get(name) for name in names}
            for lead_id, doc in self.sample.items()
            if lead_id in self.sampled
        ]


def pins_insert(operation, rows) -> None:
    """One COPY or executemany per page of pins, not bulk_create: bulk_create compiles
    every row's SQL in Python, and bench/bench_bulk.py measured a 10,000-lead
    review at 0.60-0.72 s with it against 0.32-0.38 s with this (an insert of
    10,000 pins alone: 0.38 s against 0.07 s), before reviews kept snapshots
    (bench/bench_review.py measures them now). JSON is adapted the way JSONField
    itself does it, for SQLite and PostgreSQL alike. A row is (id, updatedAt,
    values, body index) and, where the whole lead was read, its snapshot."""
    if not rows:
        return
    meta = PinnedLead._meta
    before = meta.get_field("before")
    columns = [
        "operation",
        "lead_id",
        "updated_at",
        "before",
        "body_index",
        "outcome",
        "message",
        "snapshot",
    ]
    values = [
        (
            operation.pk,
            lead_id,
            updated_at,
            connection.ops.adapt_json_value(values, before.encoder),
            index,
            Outcome.PENDING,
            "",
            _snapshot_value(snapshot),
        )
        for lead_id, updated_at, values, index, *snapshot in rows
    ]
    names = ", ".join(connection.ops.quote_name(meta.get_field(c).column) for c in columns)
    _rows_insert(connection.ops.quote_name(meta.db_table), names, values)


def _rows_insert(table: str, names: str, values: list[tuple]) -> None:
    """PostgreSQL: one COPY. A page of 500 pins with their snapshots (about 1 MB
    of JSON) took most of a 10,000-lead review as INSERTs, psycopg quoting every
    value and the server parsing 500 statements (bench/bench_bulk.py). SQLite:
    one executemany. In a transaction: in autocommit every row of an
    executemany commits alone."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(values[0]))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", values)


def _snapshot_value(snapshot: list):
    """The snapshot column's value for a row's optional last item (None: SQL NULL)."""
    return PinnedLead._meta.get_field("snapshot").get_prep_value(snapshot[0] if snapshot else None)


def _count_value(counter: Counter, is_list: bool, value) -> None:
    """Counts one lead's value; list fields count each item (and empty lists)."""
    if is_list:
        keys = [value_describe(item) for item in value] if value else ["(no items)"]
    else:
        keys = [value_describe(value)]
    for key in keys:
        if key in counter or len(counter) < VALUE_COUNT_LIMIT:
            counter[key] += 1
        else:
            counter["(other values)"] += 1


def counts_for_review(counter: Counter) -> list[list]:
    other = counter.pop("(other values)", 0)
    counts = [[value, count] for value, count in counter.most_common()]
    if other:
        counts.append(["(other values)", other])
    return counts


# ---------------------------------------------------------------- apply


def confirmation_matches(operation: BulkOperation, typed: str) -> bool:
    """Whether `typed` is the number of leads to change; "1,240" and "1240" both count."""
    digits = (typed or "").strip().replace(",", "").replace(" ", "").replace("\u202f", "")
    return digits == str(operation.to_change)


def approval_required(*, operation: BulkOperation, user) -> bool:
    """Whether applying `operation` needs another team lead's approval (the
    four-eyes rule): more leads than BULK_APPROVAL_THRESHOLD, unless `user` is a
    superuser exempted by BULK_APPROVAL_EXEMPT_SUPERUSERS. A revert puts back
    what an operation already applied and is not a new edit: it is not held."""
    if operation.reverts_id or operation.total <= settings.BULK_APPROVAL_THRESHOLD:
        return False
    return not (user.is_superuser and settings.BULK_APPROVAL_EXEMPT_SUPERUSERS)


def bulk_operation_apply(
    *,
    operation: BulkOperation,
    user,
    confirmation: str = "",
    origin: dict | None = None,
    approved: bool = False,
) -> bool:
    """Moves a reviewed operation to the queue and enqueues its run, once.
    Returns False when it had already been applied (the second click).
    `origin` is the applier's request_origin(); `approved` says that another
    person approved it, as the four-eyes rule asks above the threshold."""
    if not approved and approval_required(operation=operation, user=user):
        raise OperationRefused(
            f"This operation changes {operation.total:,} leads, more than the "
            f"{settings.BULK_APPROVAL_THRESHOLD:,} one person may apply alone: "
            "send it for approval by another team lead."
        )
    if operation.total > settings.BULK_MAX_OPERATION_SIZE and not user.is_superuser:
        raise OperationRefused(
            f"This operation changes {operation.total:,} leads, more than the "
            f"{settings.BULK_MAX_OPERATION_SIZE:,} only a superuser may apply."
        )
    if operation.needs_confirmation and not confirmation_matches(operation, confirmation):
        raise OperationRefused(
            f"Type {operation.to_change} to confirm that you mean to update "
            f"{operation.to_change:,} leads."
        )
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        moved = BulkOperation.objects.filter(pk=operation.pk, state=State.REVIEWED).update(
            state=State.QUEUED,
            applied_by=user,
            applied_at=now,
            applied_from=(origin or {}).get("ip"),
            applied_user_agent=(origin or {}).get("user_agent", ""),
            run_token=token,
            heartbeat_at=now,
        )
        if moved:
            _enqueue_on_commit(operation.pk, token)
    return bool(moved)


def _enqueue_on_commit(operation_id: int, token: str) -> None:
    transaction.on_commit(lambda: bulk_task_enqueue(operation_id, token))


# ---------------------------------------------------------------- cancel / retry


def bulk_operation_cancel(*, operation: BulkOperation) -> bool:
    """Stops the operation after the chunk in flight. Returns False if it was
    no longer running or queued."""
    now = timezone.now()
    # Not picked up yet, or its worker is gone (it stopped beating, or the run
    # shows no sign of life): nothing is in flight, stop now.
    stop_now = Q(state=State.QUEUED) | (Q(state=State.RUNNING) & _nobody_runs(now))
    stopped = (
        BulkOperation.objects.filter(pk=operation.pk)
        .filter(stop_now)
        .update(
            state=State.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            stop_reason="Cancelled before the next chunk was sent.",
        )
    )
    if stopped:
        announce_ended(operation.pk)
        return True
    return bool(
        BulkOperation.objects.filter(pk=operation.pk, state=State.RUNNING).update(
            cancel_requested=True
        )
    )


def bulk_operation_discard(*, operation: BulkOperation, why: str = "Discarded.") -> bool:
    """Ends a review that was not applied (kept on record as discarded).
    Returns False when it had been applied or discarded already."""
    discarded = BulkOperation.objects.filter(
        pk=operation.pk, state__in=(State.PINNING, State.REVIEWED)
    ).update(state=State.DISCARDED, finished_at=timezone.now(), stop_reason=why)
    if discarded:
        announce_ended(operation.pk)
    return bool(discarded)


# ---------------------------------------------------------------- drafts

# A review left unapplied this long is discarded: its pins are too old to trust.
DRAFT_LIFETIME = timedelta(days=1)
EXPIRED = "Expired after a day without being applied."


def bulk_drafts(user):
    """`user`'s reviews that were not applied (their drafts), newest first; those
    older than a day are discarded first."""
    bulk_drafts_expire()
    return BulkOperation.objects.filter(
        created_by=user, state=State.REVIEWED, listed_as_draft=True
    ).order_by("-created_at", "-id")


def bulk_drafts_expire() -> list[int]:
    """Discards every review older than DRAFT_LIFETIME that was not applied (kept on
    record, with why). One indexed query when there is none: cheap to call lazily."""
    stale = BulkOperation.objects.filter(
        state=State.REVIEWED, created_at__lt=timezone.now() - DRAFT_LIFETIME
    ).only("pk")
    return [draft.pk for draft in stale if bulk_operation_discard(operation=draft, why=EXPIRED)]


def bulk_draft_replace(*, draft_id: int | None, by: BulkOperation) -> bool:
    """Back to edit, then reviewed again: the earlier review of the same person is
    discarded, so one edit leaves one draft. False when there was none to replace."""
    if draft_id is None or draft_id == by.pk:
        return False
    draft = BulkOperation.objects.filter(
        pk=draft_id, created_by=by.created_by_id, state=State.REVIEWED, reverts=None
    ).first()
    if draft is None:
        return False
    return bulk_operation_discard(
        operation=draft, why=f"Replaced by operation {by.pk}, reviewed again after Back to edit."
    )


def bulk_operation_retry(
    *, operation: BulkOperation, user, include_errors: bool = False, origin: dict | None = None
) -> BulkOperation | None:
    """Runs the leads of an ended operation that were not done (and the errored
    ones if asked) as a new operation, "Retry of #N", queued at once; the ended
    operation stays as it was. Each lead keeps the values and updatedAt pinned
    at the first review, so a lead changed since is still a conflict. None when
    there is nothing to retry, or it was retried already (once per operation)."""
    if operation.state not in BulkOperation.RETRYABLE_STATES or operation.retries.exists():
        return None
    outcomes = [Outcome.PENDING, *([Outcome.ERROR] if include_errors else [])]
    pins = PinnedLead.objects.filter(operation=operation, outcome__in=outcomes).order_by(
        "body_index", "lead_id"
    )
    if not pins.exists():
        return None
    origin = origin or {}
    now = timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        retry = BulkOperation.objects.create(
            created_by=user,
            reviewed_from=origin.get("ip"),
            reviewed_user_agent=origin.get("user_agent", ""),
            retry_of=operation,
            reverts=operation.reverts,
            **{name: getattr(operation, name) for name in RETRY_COPIES},
        )
        rows = pins.values_list("lead_id", "updated_at", "before", "body_index", "snapshot")
        pins_insert(retry, rows.iterator(chunk_size=2000))
        total = retry.pinned.count()
        BulkOperation.objects.filter(pk=retry.pk).update(
            total=total,
            state=State.QUEUED,
            applied_by=user,
            applied_at=now,
            applied_from=origin.get("ip"),
            applied_user_agent=origin.get("user_agent", ""),
            run_token=token,
            heartbeat_at=now,
        )
        _enqueue_on_commit(retry.pk, token)
    retry.refresh_from_db()
    return retry


# What a retry keeps from the operation it retries: the same filter, changes and
# bodies, and the same review moment (so conflicts are judged as before); a run
# that had chunks in flight hands them on, so the retry checks them first.
RETRY_COPIES = (
    "reason",
    "filter_query",
    "where",
    "changes",
    "bodies",
    "pinned_since",
    "value_counts",
    "sample",
    "in_flight",
)


def bulk_operation_resume(*, operation: BulkOperation) -> bool:
    """Hands an operation whose worker died to a new run, in place (it has not
    ended). False if it is not stalled or another request resumed it first."""
    operation.refresh_from_db()
    if not operation.is_stalled:
        return False
    return _run_anew(operation, cancel_requested=False)


def _run_anew(operation: BulkOperation, *, cancel_requested: bool) -> bool:
    """Queues a new run (a new token) if the operation is still as it was read:
    a run that took it meanwhile, or another sweep, wins. A new run of an
    operation somebody asked to cancel ends it as cancelled."""
    token = uuid.uuid4().hex
    resumed = BulkOperation.objects.filter(
        pk=operation.pk, state=operation.state, run_token=operation.run_token
    ).update(
        state=State.QUEUED,
        run_token=token,
        heartbeat_at=timezone.now(),
        cancel_requested=cancel_requested,
        worker="",
        task_id="",
    )
    if resumed:
        _enqueue_on_commit(operation.pk, token)
    return bool(resumed)


def _nobody_runs(now) -> Q:
    """Running operations whose run is gone: its worker stopped beating (or said
    it stopped), or no heartbeat for longer than a chunk can take (a worker that
    does not beat, or a run stuck)."""
    alive = WorkerBeat.objects.alive().values("name")
    return Q(heartbeat_at__lt=now - stall_after()) | (~Q(worker="") & ~Q(worker__in=alive))


def bulk_operations_resume_stalled() -> list[int]:
    """Resumes, in place, every operation nobody works on any more: running ones
    whose worker is dead, or whose run this very worker lost (a task that ended
    on a dropped database connection); queued ones whose task is lost (a
    flushed queue, a worker that died holding it, an enqueue that failed).
    Returns their ids."""
    now = timezone.now()
    stale = {
        op.pk: op for op in BulkOperation.objects.filter(Q(state=State.RUNNING) & _nobody_runs(now))
    }
    stale |= {op.pk: op for op in _own_runs_lost()}
    stale |= {
        op.pk: op for op in BulkOperation.objects.filter(state=State.QUEUED) if _task_lost(op, now)
    }
    return [
        pk
        for pk, operation in sorted(stale.items())
        if _run_anew(operation, cancel_requested=operation.cancel_requested)
    ]


def _own_runs_lost() -> list[BulkOperation]:
    """This worker's running operations that no task of it runs any more. Read
    before what runs here: a run claims its operation only inside running_here."""
    if not this_worker():
        return []
    mine = list(BulkOperation.objects.filter(state=State.RUNNING, worker=this_worker()))
    here = running_here_ids()
    return [operation for operation in mine if operation.pk not in here]


def _task_lost(operation: BulkOperation, now) -> bool:
    if not operation.task_id:
        # Never enqueued (the queue was down when it was applied), or queued by an
        # older version: give the enqueue after the commit a moment.
        grace = timedelta(seconds=settings.BULK_WORKER_DEAD_AFTER)
        return operation.heartbeat_at is None or operation.heartbeat_at < now - grace
    alive = set(WorkerBeat.objects.alive().values_list("name", flat=True))
    return bulk_task_state(operation.task_id, alive) is TaskState.LOST


@dataclass
class Sweep:
    resumed: list[int]
    tasks_failed: int


def bulk_sweep() -> Sweep:
    """What every bulk worker does when it starts and then every beat: resume the
    operations nobody works on, mark failed the queued tasks dead workers left
    running, forget workers gone for a week, and expire drafts older than a day."""
    resumed = bulk_operations_resume_stalled()
    bulk_drafts_expire()
    dead = set(
        WorkerBeat.objects.exclude(pk__in=WorkerBeat.objects.alive()).values_list("name", flat=True)
    )
    tasks_failed = tasks_of_dead_workers_fail(dead) if dead else 0
    WorkerBeat.objects.filter(beat_at__lt=timezone.now() - timedelta(days=7)).delete()
    return Sweep(resumed=resumed, tasks_failed=tasks_failed)
