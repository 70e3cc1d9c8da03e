"""Bulk operations as services: prepare (count + pin), apply, run, cancel, retry.

State transitions are conditional UPDATEs (`filter(state=…).update(…)`), so two
requests racing for the same transition (a double click, two tabs, a resubmitted
form) change the row once and only the winner enqueues a run.

A run sends chunks of pinned ids, never the review's `where`: leads that start
to match after the review are not touched. Every PATCH carries
`unchanged_since=<when pinning started>`, so a lead changed since the review is
not overwritten (the API leaves it out of the answer: a conflict) and a chunk the
API applied just before a crash is not applied twice when the run resumes.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError
from leadsadmin.bulk.changes import (
    Change,
    body_applied,
    body_for_lead,
    body_key,
    value_describe,
)
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead
from leadsadmin.bulk.reading import matched_lead_pages
from leadsadmin.leads.filters import FilterInvalid, filter_from_querydict, where_from_filter
from leadsadmin.schema import lead_field

logger = logging.getLogger(__name__)

State = BulkOperation.State
Outcome = PinnedLead.Outcome

# Pinning reads pages this large (the client's maximum): fewer, larger requests.
PIN_PAGE_SIZE = 500
PIN_BATCH_SIZE = 1000
SAMPLE_SIZE = 10
# Distinct values counted per field for the review; the rest are "other values".
VALUE_COUNT_LIMIT = 30
SAMPLE_FIELDS = ("firstName", "lastName", "email")


class OperationRefused(Exception):
    """The operation cannot go ahead; str() says why, in words for the page."""


def where_for_filter_query(filter_query: str) -> dict:
    """The API where of a leads-page query string ({} = every lead); OperationRefused
    if the filter has errors: a bulk edit never runs on a filter that could widen."""
    try:
        return where_from_filter(filter_from_querydict(QueryDict(filter_query))) or {}
    except FilterInvalid as exc:
        raise OperationRefused(f"{exc} Go back to the filter and fix it first.") from None


# ---------------------------------------------------------------- prepare (review)


def bulk_operation_prepare(
    *,
    user,
    filter_query: str,
    changes: list[Change],
    reason: str,
    client=None,
) -> BulkOperation:
    """Counts the matches, refuses too large an operation, and pins every matched
    lead (id, updatedAt, the changed fields' values) as a BulkOperation ready
    for review. Memory stays bounded: leads are read page by page and written
    in batches."""
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
        pinned_since=_pinning_moment(),
    )
    try:
        _pin(operation, changes, client, where, limit, first)
    except BaseException:
        # Nothing was sent; a half-pinned review must not be applied.
        operation.delete()
        raise
    return operation


def _pinning_moment():
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
    fields = [change.field for change in changes]
    list_fields = {name for name in fields if lead_field(name).is_list}
    per_lead = any(change.depends_on_current_value for change in changes)
    counters = {name: Counter() for name in fields}
    bodies: dict[str, int] = {body_key(body_for_lead(changes, {})): 0} if not per_lead else {}
    sample = {doc["id"]: doc for doc in first.docs}
    sampled = set()
    batch, total = [], 0
    select = ["id", "updatedAt", *fields]
    pages = matched_lead_pages(
        client,
        where,
        select=select,
        count=first.total_docs,
        page_size=PIN_PAGE_SIZE,
        first_id=first.docs[0]["id"],
    )
    with closing(pages):
        for page in pages:
            for lead in page:
                before = {name: lead.get(name) for name in fields}
                index = 0
                if per_lead:
                    key = body_key(body_for_lead(changes, before))
                    index = bodies.setdefault(key, len(bodies))
                batch.append((lead["id"], lead.get("updatedAt") or "", before, index))
                for name in fields:
                    _count_value(counters[name], name in list_fields, before[name])
                if lead["id"] in sample:
                    sample[lead["id"]].update(before)  # shown as pinned
                    sampled.add(lead["id"])
            total += len(page)
            _refuse_if_too_large(total, limit)
            if len(batch) >= PIN_BATCH_SIZE:
                _insert_pins(operation, batch)
                batch = []
    _insert_pins(operation, batch)
    if total == 0:
        raise OperationRefused("No leads match this filter any more: there is nothing to change.")
    operation.total = total
    operation.bodies = [json.loads(key) for key in bodies]
    operation.value_counts = {name: _counts_for_review(counters[name]) for name in fields}
    sample_fields = ["id", *SAMPLE_FIELDS, *fields]
    operation.sample = [
        {name: doc.get(name) for name in sample_fields}
        for lead_id, doc in sample.items()
        if lead_id in sampled
    ]
    operation.needs_confirmation = not where or operation.total > settings.BULK_CONFIRM_THRESHOLD
    operation.state = State.REVIEWED
    operation.save()


def _insert_pins(operation, rows) -> None:
    """One executemany per batch: bulk_create builds its SQL in Python and took
    most of a 10,000-lead review (bench/bench_bulk.py). JSON is adapted the way
    JSONField itself does it, for SQLite and PostgreSQL alike."""
    if not rows:
        return
    meta = PinnedLead._meta
    before = meta.get_field("before")
    columns = ["operation", "lead_id", "updated_at", "before", "body_index", "outcome", "message"]
    names = ", ".join(connection.ops.quote_name(meta.get_field(c).column) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({names}) VALUES ({placeholders})"
    )
    values = [
        (
            operation.pk,
            lead_id,
            updated_at,
            connection.ops.adapt_json_value(values, before.encoder),
            index,
            Outcome.PENDING,
            "",
        )
        for lead_id, updated_at, values, index in rows
    ]
    # In a transaction: in autocommit every row of an executemany commits alone.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, values)


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


def _counts_for_review(counter: Counter) -> list[list]:
    other = counter.pop("(other values)", 0)
    counts = [[value, count] for value, count in counter.most_common()]
    if other:
        counts.append(["(other values)", other])
    return counts


# ---------------------------------------------------------------- apply


def confirmation_matches(operation: BulkOperation, typed: str) -> bool:
    """Whether `typed` is the number of leads; "1,240" and "1240" both count."""
    digits = (typed or "").strip().replace(",", "").replace(" ", "").replace("\u202f", "")
    return digits == str(operation.total)


def bulk_operation_apply(*, operation: BulkOperation, user, confirmation: str = "") -> bool:
    """Moves a reviewed operation to the queue and enqueues its run, once.
    Returns False when it had already been applied (the second click)."""
    if operation.total > settings.BULK_MAX_OPERATION_SIZE and not user.is_superuser:
        raise OperationRefused(
            f"This operation changes {operation.total:,} leads, more than the "
            f"{settings.BULK_MAX_OPERATION_SIZE:,} only a superuser may apply."
        )
    if operation.needs_confirmation and not confirmation_matches(operation, confirmation):
        raise OperationRefused(
            f"Type {operation.total} to confirm that you mean to update {operation.total:,} leads."
        )
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        moved = BulkOperation.objects.filter(pk=operation.pk, state=State.REVIEWED).update(
            state=State.QUEUED, applied_by=user, applied_at=now, run_token=token, heartbeat_at=now
        )
        if moved:
            _enqueue_on_commit(operation.pk, token)
    return bool(moved)


def _enqueue_on_commit(operation_id: int, token: str) -> None:
    from leadsadmin.bulk.tasks import bulk_operation_task

    transaction.on_commit(lambda: bulk_operation_task.enqueue(operation_id, token))


# ---------------------------------------------------------------- cancel / retry


def bulk_operation_cancel(*, operation: BulkOperation) -> bool:
    """Stops the operation after the chunk in flight. Returns False if it was
    no longer running or queued."""
    now = timezone.now()
    # Not picked up yet (or its worker is gone): nothing is in flight, stop now.
    stop_now = Q(state=State.QUEUED) | Q(state=State.RUNNING, heartbeat_at__lt=now - _stall())
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
        return True
    return bool(
        BulkOperation.objects.filter(pk=operation.pk, state=State.RUNNING).update(
            cancel_requested=True
        )
    )


def bulk_operation_retry(*, operation: BulkOperation, include_errors: bool = False) -> bool:
    """Runs the leads not done yet again (and the errored ones if asked); also
    resumes an operation whose worker died. Returns False if there is nothing
    to retry or another request already did."""
    operation.refresh_from_db()
    if not (operation.state in BulkOperation.RETRYABLE_STATES or operation.is_stalled):
        return False
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        current = (
            BulkOperation.objects.select_for_update()
            .filter(pk=operation.pk, state=operation.state, run_token=operation.run_token)
            .first()
        )
        if current is None:
            return False
        reopened = 0
        if include_errors:
            reopened = PinnedLead.objects.filter(operation=current, outcome=Outcome.ERROR).update(
                outcome=Outcome.PENDING, message="", after=None
            )
        left = PinnedLead.objects.filter(operation=current, outcome=Outcome.PENDING).exists()
        if not left:
            return False
        BulkOperation.objects.filter(pk=current.pk).update(
            state=State.QUEUED,
            run_token=token,
            heartbeat_at=now,
            cancel_requested=False,
            stop_reason="",
            finished_at=None,
            error_count=F("error_count") - reopened,
        )
        _enqueue_on_commit(current.pk, token)
    return True


def bulk_operations_resume_stalled() -> list[int]:
    """Re-enqueues every operation whose worker died (for `manage.py bulk_resume`
    at worker start)."""
    resumed = []
    stalled = BulkOperation.objects.filter(
        state__in=BulkOperation.ACTIVE_STATES, heartbeat_at__lt=timezone.now() - _stall()
    )
    for operation in stalled:
        if bulk_operation_retry(operation=operation):
            resumed.append(operation.pk)
    return resumed


def _stall():
    from leadsadmin.bulk.models import stall_after

    return stall_after()


# ---------------------------------------------------------------- run (the worker)


@dataclass(frozen=True)
class _Pin:
    pk: int
    lead_id: int
    body_index: int
    updated_at: str


# Pending pins read per query: a few chunks ahead, so picking the next chunk costs
# no query inside the per-chunk transaction, and memory stays flat.
PREFETCH_CHUNKS = 10


def bulk_operation_run(operation_id: int, run_token: str, *, client=None) -> str:
    """Sends the operation's pending leads chunk by chunk and records each
    chunk's outcome, in order, in one transaction per chunk. Returns the state
    it ended in.

    While chunk k's outcome is written, chunk k+1's PATCH is already on its way
    (one sender thread, one request at a time): the bookkeeping overlaps the
    API's work instead of adding to it. What makes that safe:

    - a chunk is sent only after a committed `in_flight` covers it: the claim
      marks the first two chunks, and recording chunk k marks k+1 and k+2 (k+1
      is on its way, k+2 goes out when k+1's answer is in);
    - before each send the run checks it still owns the operation and nobody
      asked to cancel: Cancel stops after the chunk in flight;
    - outcomes are written one chunk after the other, each in its own
      transaction, and only by the run holding the operation's token.

    A worker killed at any moment leaves at most the chunks `in_flight` names
    unrecorded; the next run sends those first, and the API's answer tells
    which of their leads were applied the first time (they come back as
    conflicts already holding the new values).
    """
    now = timezone.now()
    claimed = BulkOperation.objects.filter(
        pk=operation_id, run_token=run_token, state=State.QUEUED
    ).update(
        state=State.RUNNING,
        run_started_at=now,
        run_start_done=F("updated_count") + F("error_count") + F("conflict_count"),
        heartbeat_at=now,
    )
    if not claimed:
        # Applied twice, cancelled while queued, or superseded by a resume.
        return BulkOperation.objects.get(pk=operation_id).state
    BulkOperation.objects.filter(pk=operation_id, started_at__isnull=True).update(started_at=now)
    operation = BulkOperation.objects.get(pk=operation_id)
    run = _Run(operation, run_token, client or api.get_client())
    try:
        return run.until_done()
    except LeadsApiError as exc:
        return _finish(operation, run_token, State.STOPPED, _stop_reason(exc))
    except Exception as exc:
        logger.exception("bulk operation %s failed", operation_id)
        _finish(
            operation,
            run_token,
            State.FAILED,
            f"The job stopped on an unexpected error ({type(exc).__name__}). "
            "The chunks already applied are recorded; Retry failed runs the rest.",
        )
        raise


class _Run:
    def __init__(self, operation: BulkOperation, token: str, client):
        self.operation = operation
        self.token = token
        self.client = client
        self.chunk_size = max(1, settings.BULK_CHUNK_SIZE)
        self.chunk_number = BulkChunk.objects.filter(operation=operation).count()
        # What a previous run sent and never recorded (None: nothing).
        self.in_doubt = operation.in_flight
        self.fields = operation.changed_fields
        self.chunks = self.pending_chunks()
        self.may_send_sql = None

    def until_done(self) -> str:
        current, following = next(self.chunks, []), next(self.chunks, [])
        if not current:
            return _finish(self.operation, self.token, State.FINISHED, "")
        if not self.claim(current, following):
            return self.why_not_ours()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-sender") as sender:
            try:
                return self.send_and_record(sender, current, following)
            finally:
                # A transport may have used the database from the sender thread.
                sender.submit(connections.close_all)

    def send_and_record(self, sender, current, following) -> str:
        sending = sender.submit(self.send, current)
        stopped = False
        while current:
            started, answer = sending.result()  # raises what the request raised
            after = []
            if following and self.may_send():
                sending = sender.submit(self.send, following)
                after = next(self.chunks, [])
            elif following:
                stopped, following = True, []  # cancelled, or a newer run took over
            if not self.record(current, answer, started, self.in_flight(following, after)):
                if following:
                    sending.exception()  # let the request end; its outcome is not ours
                return self.why_not_ours()
            current, following = following, after
        if stopped:
            return self.why_not_ours()
        return _finish(self.operation, self.token, State.FINISHED, "")

    def send(self, pins: list[_Pin]):
        """One chunk's PATCH (in the sender thread): (when it started, the answer)."""
        started = timezone.now()
        # One request, unless the client has to split a URL that would be too long.
        answer = _merged(
            self.client.update_ids(
                [pin.lead_id for pin in pins],
                self.operation.bodies[pins[0].body_index],
                unchanged_since=self.operation.pinned_since,
                chunk_size=len(pins),
            )
        )
        return started, answer

    def pending_chunks(self):
        """The pending pins as chunks, in the order they are sent: by body, then
        by id; a chunk holds one body's leads. Read PREFETCH_CHUNKS at a time
        after the last one read (only this run changes pending pins)."""
        pending = PinnedLead.objects.filter(operation=self.operation, outcome=Outcome.PENDING)
        last = None
        chunk: list[_Pin] = []
        while True:
            rows = pending
            if last is not None:
                rows = rows.filter(
                    Q(body_index__gt=last.body_index)
                    | Q(body_index=last.body_index, lead_id__gt=last.lead_id)
                )
            rows = rows.order_by("body_index", "lead_id").values_list(
                "pk", "lead_id", "body_index", "updated_at"
            )[: self.chunk_size * PREFETCH_CHUNKS]
            pins = [_Pin(*row) for row in rows]
            for pin in pins:
                if chunk and (
                    len(chunk) == self.chunk_size or pin.body_index != chunk[0].body_index
                ):
                    yield chunk
                    chunk = []
                chunk.append(pin)
            if len(pins) < self.chunk_size * PREFETCH_CHUNKS:
                break
            last = pins[-1]
        if chunk:
            yield chunk

    def claim(self, current: list[_Pin], following: list[_Pin]) -> bool:
        """Still ours and not cancelled? Then note the first two chunks as in flight."""
        return bool(
            BulkOperation.objects.filter(
                pk=self.operation.pk,
                run_token=self.token,
                state=State.RUNNING,
                cancel_requested=False,
            ).update(heartbeat_at=timezone.now(), in_flight=self.in_flight(current, following))
        )

    def may_send(self) -> bool:
        """Still ours and not cancelled? Read just before each further PATCH, so
        it sits between two requests: the query is compiled once per run."""
        if self.may_send_sql is None:
            query = (
                BulkOperation.objects.filter(
                    pk=self.operation.pk,
                    run_token=self.token,
                    state=State.RUNNING,
                    cancel_requested=False,
                )
                .values_list("pk")[:1]
                .query
            )
            self.may_send_sql = query.get_compiler(connection=connection).as_sql()
        sql, params = self.may_send_sql
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None

    def why_not_ours(self) -> str:
        current = BulkOperation.objects.get(pk=self.operation.pk)
        if current.run_token == self.token and current.state == State.RUNNING:
            return _finish(current, self.token, State.CANCELLED, "Cancelled by a user.")
        return current.state  # a newer run took over

    def in_flight(self, first: list[_Pin], second: list[_Pin]) -> dict | None:
        """The span (in sending order) of the chunks that may be sent before the
        next record, widened to what a previous run left in doubt until that is
        recorded: a second crash must not forget it."""
        spans = [_doubt_span(self.in_doubt)] if self.in_doubt else []
        if pins := first + second:
            spans.append(
                ((pins[0].body_index, pins[0].lead_id), (pins[-1].body_index, pins[-1].lead_id))
            )
        if not spans:
            return None
        start, end = min(span[0] for span in spans), max(span[1] for span in spans)
        return {
            "body_index": start[0],
            "first": start[1],
            "last_body_index": end[0],
            "last": end[1],
        }

    def was_in_doubt(self, pin: _Pin) -> bool:
        if not self.in_doubt:
            return False
        start, end = _doubt_span(self.in_doubt)
        return start <= (pin.body_index, pin.lead_id) <= end

    def record(self, pins: list[_Pin], answer, started, in_flight: dict | None) -> bool:
        """Writes the chunk's outcome, the operation's counters and what is in
        flight now, in one transaction. False (and nothing written) when this run
        no longer owns the operation."""
        body = self.operation.bodies[pins[0].body_index]
        by_id = {pin.lead_id: pin for pin in pins}
        updates: dict[tuple, list[int]] = {}  # (outcome, message, after json) → pin pks
        counts = Counter()

        last_after, last_text = None, None

        def outcome(pin, kind, message="", after=None):
            nonlocal last_after, last_text
            if after is not None and after != last_after:  # docs mostly share their values
                last_after, last_text = after, json.dumps(after, sort_keys=True)
            key = (kind, message, last_text if after is not None else None)
            updates.setdefault(key, []).append(pin.pk)
            counts[kind] += 1

        for doc in answer.docs:
            if pin := by_id.pop(_lead_id(doc.get("id")), None):
                outcome(pin, Outcome.UPDATED, after={name: doc.get(name) for name in self.fields})
        for error in answer.errors:
            if pin := by_id.pop(_lead_id(error.id), None):
                outcome(pin, Outcome.ERROR, message=error.message)
        conflicts = [by_id.pop(_lead_id(i)) for i in answer.conflicts if _lead_id(i) in by_id]
        now = _current_values(self.client, [pin.lead_id for pin in conflicts], body)
        for pin in conflicts:
            doc = now.get(pin.lead_id)
            after = {name: doc.get(name) for name in self.fields} if doc else None
            if doc is not None and self.was_in_doubt(pin) and body_applied(body, doc):
                outcome(pin, Outcome.UPDATED, "Applied by an earlier, interrupted run.", after)
            else:
                outcome(pin, Outcome.CONFLICT, _conflict_message(pin, doc), after)

        with transaction.atomic():
            # First, so that on PostgreSQL the row lock orders this against a
            # cancel or a resume; no row means a newer run took over: write nothing.
            ours = BulkOperation.objects.filter(
                pk=self.operation.pk, run_token=self.token, state=State.RUNNING
            ).update(
                updated_count=F("updated_count") + counts[Outcome.UPDATED],
                error_count=F("error_count") + counts[Outcome.ERROR],
                conflict_count=F("conflict_count") + counts[Outcome.CONFLICT],
                heartbeat_at=timezone.now(),
                in_flight=in_flight,
            )
            if not ours:
                return False
            self.chunk_number += 1
            chunk = BulkChunk.objects.create(
                operation=self.operation,
                number=self.chunk_number,
                body_index=pins[0].body_index,
                started_at=started,
                requested=len(pins),
                updated=counts[Outcome.UPDATED],
                errors=counts[Outcome.ERROR],
                conflicts=counts[Outcome.CONFLICT],
                status=answer.status,
                message=answer.message,
            )
            # Leads with the same outcome share one UPDATE. Usually that is the whole
            # chunk: then it is exactly the pending pins of its body between its first
            # and last id (it was taken in that order), a cheaper WHERE than 100 pks.
            whole_chunk = PinnedLead.objects.filter(
                operation=self.operation,
                outcome=Outcome.PENDING,
                body_index=pins[0].body_index,
                lead_id__gte=pins[0].lead_id,
                lead_id__lte=pins[-1].lead_id,
            )
            for (kind, message, after), pks in updates.items():
                leads = whole_chunk if len(updates) == 1 else PinnedLead.objects.filter(pk__in=pks)
                leads.update(
                    outcome=kind,
                    message=message,
                    after=json.loads(after) if after is not None else None,
                    chunk=chunk,
                )
        if (
            self.in_doubt
            and (pins[-1].body_index, pins[-1].lead_id) >= _doubt_span(self.in_doubt)[1]
        ):
            self.in_doubt = None  # every lead it named is recorded now
        return True


def _doubt_span(in_flight: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """(body, id) of the first and last lead of an in_flight span (older runs
    wrote one chunk without last_body_index)."""
    last_body = in_flight.get("last_body_index", in_flight["body_index"])
    return (in_flight["body_index"], in_flight["first"]), (last_body, in_flight["last"])


def _stop_reason(exc: LeadsApiError) -> str:
    return (
        f"Stopped: {exc} The chunks already applied are recorded; "
        "Retry failed runs the rest once the API is reachable."
    )


@dataclass(frozen=True)
class _ChunkAnswer:
    docs: list
    errors: list
    conflicts: list
    message: str
    status: int | None


def _merged(results) -> _ChunkAnswer:
    docs, errors, conflicts, messages, status = [], [], [], [], None
    for result in results:
        docs += result.docs
        errors += result.errors
        conflicts += result.conflicts
        messages.append(result.message)
        status = result.status if status in (None, 200) else status
    return _ChunkAnswer(docs, errors, conflicts, " ".join(m for m in messages if m), status)


def _current_values(client, ids: list, body: dict) -> dict:
    """The conflicting leads as they are now, to show what changed them (and to
    recognise our own earlier, unrecorded update)."""
    if not ids:
        return {}
    try:
        found = client.find(
            where={"id": {"in": ids}}, limit=len(ids), select=["id", "updatedAt", *body]
        )
    except LeadsApiError:
        return {}
    return {doc["id"]: doc for doc in found.docs}


def _conflict_message(pin: _Pin, now: dict | None) -> str:
    if now is None:
        return "Changed or removed since the review; not overwritten."
    return (
        f"Changed since the review (updatedAt {pin.updated_at} → {now.get('updatedAt')}); "
        "not overwritten."
    )


def _lead_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _finish(operation, run_token, state, reason) -> str:
    BulkOperation.objects.filter(pk=operation.pk, run_token=run_token).update(
        state=state, finished_at=timezone.now(), stop_reason=reason, cancel_requested=False
    )
    return state
