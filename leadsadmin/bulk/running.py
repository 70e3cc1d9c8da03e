"""A bulk operation's run, in the task worker: send the pinned leads chunk by
chunk and record each chunk's outcome.

A run sends chunks of pinned ids, never the review's `where`: leads that start
to match after the review are not touched. Every PATCH carries
`unchanged_since=<when pinning started>`, so a lead changed since the review is
not overwritten (the API leaves it out of the answer: a conflict) and a chunk the
API applied just before a crash is not applied twice when the run resumes.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from leadsadmin import api
from leadsadmin.api.errors import ApiUnauthorized, LeadsApiError, RateLimited
from leadsadmin.bulk.changes import body_applied
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead
from leadsadmin.bulk.signals import announce_ended
from leadsadmin.bulk.snapshots import check_message, outside_changes
from leadsadmin.bulk.workers import this_worker

logger = logging.getLogger(__name__)

State = BulkOperation.State
Outcome = PinnedLead.Outcome


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

    While chunk k's outcome is written, the PATCHes of chunks k+1 … k+N are
    already on their way (N = BULK_CONCURRENCY sender threads; with N = 1 one
    request at a time): the bookkeeping overlaps the API's work instead of adding
    to it. Chunk k+N goes out when chunk k's answer is in. What makes that safe:

    - a chunk is sent only after a committed `in_flight` covers it: the claim
      marks the first N+1 chunks, and recording chunk k marks k+1 … k+N+1
      (k+1 … k+N are on their way, k+N+1 goes out when k+1's answer is in);
    - before each further send the run checks it still owns the operation and
      nobody asked to cancel: Cancel stops after the chunks in flight;
    - outcomes are written one chunk after the other, each in its own
      transaction, and only by the run holding the operation's token.

    A worker killed at any moment leaves at most the chunks `in_flight` names
    unrecorded; the next run sends those first, and the API's answer tells
    which of their leads were applied the first time (they come back as
    conflicts already holding the new values).
    """
    now = timezone.now()
    if not _claim_queued(operation_id, run_token, now):
        # Applied twice, cancelled while queued, or superseded by a resume.
        return BulkOperation.objects.get(pk=operation_id).state
    BulkOperation.objects.filter(pk=operation_id, started_at__isnull=True).update(started_at=now)
    operation = BulkOperation.objects.get(pk=operation_id)
    run = _Run(operation, run_token, client or api.get_client())
    try:
        return run.until_done()
    except LeadsApiError as exc:
        return _finish(operation, run_token, State.STOPPED, _stop_reason(exc))
    except (OperationalError, InterfaceError):
        # The database went away under the run (a restart, a dropped connection):
        # what is recorded stands, and the worker's sweep hands the rest to a new run.
        logger.warning("bulk operation %s lost its database connection", operation_id)
        raise
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


def _claim_queued(operation_id: int, run_token: str, now) -> bool:
    """Moves the queued operation to running if this run's token is still its own,
    noting the worker that runs it (its death hands the operation on at once)."""
    return bool(
        BulkOperation.objects.filter(
            pk=operation_id, run_token=run_token, state=State.QUEUED
        ).update(
            state=State.RUNNING,
            run_started_at=now,
            run_start_done=F("updated_count")
            + F("error_count")
            + F("conflict_count")
            + F("check_count"),
            heartbeat_at=now,
            worker=this_worker(),
        )
    )


class _Run:
    def __init__(self, operation: BulkOperation, token: str, client):
        self.operation = operation
        self.token = token
        self.client = client
        self.chunk_size = max(1, settings.BULK_CHUNK_SIZE)
        self.concurrency = max(1, settings.BULK_CONCURRENCY)
        self.chunk_number = BulkChunk.objects.filter(operation=operation).count()
        # What a previous run sent and never recorded (None: nothing).
        self.in_doubt = operation.in_flight
        self.fields = operation.changed_fields
        self.chunks = self.pending_chunks()

    def until_done(self) -> str:
        # The chunks sent before the first record: N at once, one more when the
        # first answer is in.
        window = list(islice(self.chunks, self.concurrency + 1))
        if not window:
            return _finish(self.operation, self.token, State.FINISHED, "")
        if not self.claim(window):
            return self.why_not_ours()
        # Sender threads: the PATCHes (blocking httpx I/O, which frees the GIL) are
        # on their way while outcomes are written here, in order.
        with _Senders(self.concurrency) as senders:
            return self.send_and_record(senders, window)

    def send_and_record(self, senders: _Senders, window: list[list[_Pin]]) -> str:
        """Sends the claimed chunks, then, as each answer comes in (in order),
        the next chunk, and records the answered one with `in_flight` covering
        the chunks on their way plus the one that may go out before the next record."""
        first = window[: self.concurrency]
        sending = deque((pins, senders.submit(self.send, pins)) for pins in first)
        ahead = deque(window[self.concurrency :])  # covered by in_flight, not sent yet
        stopped = False
        while sending:
            pins, answered = sending.popleft()
            started, answer = answered.result()  # raises what the request raised
            if ahead and self.may_send():
                following = ahead.popleft()
                sending.append((following, senders.submit(self.send, following)))
                ahead.extend(islice(self.chunks, 1))
            elif ahead:
                stopped = True  # cancelled, or a newer run took over
                ahead.clear()
            in_flight = self.in_flight([chunk for chunk, _ in sending] + list(ahead))
            if not self.record(pins, answer, started, in_flight):
                for _, request in sending:
                    request.exception()  # let the request end; its outcome is not ours
                return self.why_not_ours()
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

    def claim(self, window: list[list[_Pin]]) -> bool:
        """Still ours and not cancelled? Then note the first chunks as in flight."""
        return bool(
            BulkOperation.objects.filter(
                pk=self.operation.pk,
                run_token=self.token,
                state=State.RUNNING,
                cancel_requested=False,
            ).update(heartbeat_at=timezone.now(), in_flight=self.in_flight(window))
        )

    def may_send(self) -> bool:
        """Still ours and not cancelled? Read just before each further PATCH."""
        return BulkOperation.objects.filter(
            pk=self.operation.pk,
            run_token=self.token,
            state=State.RUNNING,
            cancel_requested=False,
        ).exists()

    def why_not_ours(self) -> str:
        current = BulkOperation.objects.get(pk=self.operation.pk)
        if current.run_token == self.token and current.state == State.RUNNING:
            return _finish(current, self.token, State.CANCELLED, "Cancelled by a user.")
        return current.state  # a newer run took over

    def in_flight(self, chunks: list[list[_Pin]]) -> dict | None:
        """The span of `chunks` (in sending order: those sent and not recorded,
        and those that may be sent before the next record), widened to what a
        previous run left in doubt until that is recorded: a second crash must
        not forget it."""
        spans = [_doubt_span(self.in_doubt)] if self.in_doubt else []
        if chunks:
            first, last = chunks[0][0], chunks[-1][-1]
            spans.append(((first.body_index, first.lead_id), (last.body_index, last.lead_id)))
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
        outcomes = self.outcomes(pins, answer)
        with transaction.atomic():
            # First, so that on PostgreSQL the row lock orders this against a
            # cancel or a resume; no row means a newer run took over: write nothing.
            if not self.count_chunk(outcomes.counts, in_flight):
                return False
            chunk = self.chunk_row(pins, answer, started, outcomes.counts)
            outcomes.write(self.operation, pins, chunk)
        if (
            self.in_doubt
            and (pins[-1].body_index, pins[-1].lead_id) >= _doubt_span(self.in_doubt)[1]
        ):
            self.in_doubt = None  # every lead it named is recorded now
        return True

    def outcomes(self, pins: list[_Pin], answer) -> _Outcomes:
        """Each pin's outcome from the API's answer; conflicts are looked up again
        to say what changed them, or to recognise this operation's own update from
        an interrupted run. Leads an interrupted run left in doubt that count as
        applied are checked in full first (`applied_in_doubt`)."""
        body = self.operation.bodies[pins[0].body_index]
        by_id = {pin.lead_id: pin for pin in pins}
        outcomes = _Outcomes()
        applied: list[tuple[_Pin, str, dict]] = []  # in doubt, applied: (pin, message, doc)
        for doc in answer.docs:
            if pin := by_id.pop(_lead_id(doc.get("id")), None):
                if self.was_in_doubt(pin):
                    applied.append((pin, "", doc))
                else:
                    outcomes.add(pin, Outcome.UPDATED, after=self.values(doc))
        for error in answer.errors:
            if pin := by_id.pop(_lead_id(error.id), None):
                outcomes.add(pin, Outcome.ERROR, message=error.message)
        conflicts = [by_id.pop(_lead_id(i)) for i in answer.conflicts if _lead_id(i) in by_id]
        now = _current_values(self.client, [pin.lead_id for pin in conflicts], body)
        for pin in conflicts:
            doc = now.get(pin.lead_id)
            after = self.values(doc) if doc else None
            if doc is not None and self.was_in_doubt(pin) and body_applied(body, doc):
                applied.append((pin, "Applied by an earlier, interrupted run.", doc))
            else:
                # When it was changed, for the results page (the API does not say by whom).
                found = {**after, "updatedAt": doc.get("updatedAt")} if doc else None
                outcomes.add(pin, Outcome.CONFLICT, _conflict_message(pin, doc), found)
        self.applied_in_doubt(applied, body, outcomes)
        return outcomes

    def applied_in_doubt(self, applied: list[tuple[_Pin, str, dict]], body: dict, outcomes):
        """Leads of a chunk whose earlier PATCH failed on the way, now applied: the
        API's bulk write is not atomic, and a server killed mid-write has left
        leads with the new values but items missing from other fields. Each is
        read again in full and compared, field by field, with its snapshot from
        the review (the edited fields with the new values): any difference makes
        it a lead to check, never a clean update. A lead pinned without a
        snapshot (by a review made before reviews kept them) can only be judged
        by the edited fields. A failed read raises: the run stops, and these
        leads stay in doubt for the next."""
        if not applied:
            return
        snapshots = dict(
            PinnedLead.objects.filter(pk__in=[pin.pk for pin, _, _ in applied]).values_list(
                "pk", "snapshot"
            )
        )
        ids = [pin.lead_id for pin, _, _ in applied if snapshots[pin.pk] is not None]
        full = {}
        if ids:
            found = self.client.find(where={"id": {"in": ids}}, limit=len(ids))
            full = {doc["id"]: doc for doc in found.docs}
        for pin, message, answered in applied:
            snapshot, doc = snapshots[pin.pk], full.get(pin.lead_id)
            if snapshot is None:
                outcomes.add(pin, Outcome.UPDATED, message, self.values(answered))
                continue
            if doc is None:  # removed since
                outcomes.add(pin, Outcome.CONFLICT, _conflict_message(pin, None))
                continue
            differences = outside_changes(snapshot, doc, body)
            after = self.values(doc)
            if differences:
                outcomes.add(pin, Outcome.CHECK, check_message(differences), after, differences)
            else:
                outcomes.add(pin, Outcome.UPDATED, message, after)

    def values(self, doc: dict) -> dict:
        return {name: doc.get(name) for name in self.fields}

    def count_chunk(self, counts: Counter, in_flight: dict | None) -> bool:
        """Adds the chunk to the operation's counters, if this run still owns it."""
        return bool(
            BulkOperation.objects.filter(
                pk=self.operation.pk, run_token=self.token, state=State.RUNNING
            ).update_while_running(
                updated_count=F("updated_count") + counts[Outcome.UPDATED],
                error_count=F("error_count") + counts[Outcome.ERROR],
                conflict_count=F("conflict_count") + counts[Outcome.CONFLICT],
                check_count=F("check_count") + counts[Outcome.CHECK],
                heartbeat_at=timezone.now(),
                in_flight=in_flight,
            )
        )

    def chunk_row(self, pins: list[_Pin], answer, started, counts: Counter) -> BulkChunk:
        self.chunk_number += 1
        return BulkChunk.objects.create(
            operation=self.operation,
            number=self.chunk_number,
            body_index=pins[0].body_index,
            started_at=started,
            requested=len(pins),
            updated=counts[Outcome.UPDATED],
            errors=counts[Outcome.ERROR],
            conflicts=counts[Outcome.CONFLICT],
            checks=counts[Outcome.CHECK],
            status=answer.status,
            message=answer.message,
        )


class _Senders:
    """`count` threads that send what is submitted, first come first served. Each
    closes its own database connections when it ends: a transport may have
    used the database from there."""

    def __init__(self, count: int):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self.work, name=f"bulk-sender-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, function, *args) -> Future:
        future: Future = Future()
        self.jobs.put((future, function, args))
        return future

    def work(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                future, function, args = job
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(function(*args))
                    except BaseException as exc:  # the caller's result() raises it
                        future.set_exception(exc)
        finally:
            connections.close_all()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        # The requests on their way end first (a killed run's too).
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join()


class _Outcomes:
    """A chunk's outcomes, grouped so that leads with the same outcome, message,
    values after (and differences found, for a lead to check) share one UPDATE."""

    def __init__(self):
        # (outcome, message, after json, outside_changes json) → pin pks
        self.groups: dict[tuple, list[int]] = {}
        self.counts: Counter = Counter()
        # Docs mostly share their values: serialise each distinct one once.
        self.last_after, self.last_text = None, None

    def add(
        self,
        pin: _Pin,
        kind: str,
        message: str = "",
        after: dict | None = None,
        outside: list | None = None,
    ) -> None:
        if after is not None and after != self.last_after:
            self.last_after, self.last_text = after, json.dumps(after, sort_keys=True)
        outside_text = json.dumps(outside) if outside is not None else None
        key = (kind, message, self.last_text if after is not None else None, outside_text)
        self.groups.setdefault(key, []).append(pin.pk)
        self.counts[kind] += 1

    def write(self, operation: BulkOperation, pins: list[_Pin], chunk: BulkChunk) -> None:
        # Usually the whole chunk has one outcome: then it is exactly the pending
        # pins of its body between its first and last id (it was taken in that
        # order), a cheaper WHERE than 100 pks.
        whole_chunk = PinnedLead.objects.filter(
            operation=operation,
            outcome=Outcome.PENDING,
            body_index=pins[0].body_index,
            lead_id__gte=pins[0].lead_id,
            lead_id__lte=pins[-1].lead_id,
        )
        for (kind, message, after, outside), pks in self.groups.items():
            leads = whole_chunk if len(self.groups) == 1 else PinnedLead.objects.filter(pk__in=pks)
            leads.update_while_running(  # in record()'s transaction, after count_chunk
                outcome=kind,
                message=message,
                after=json.loads(after) if after is not None else None,
                outside_changes=json.loads(outside) if outside is not None else None,
                chunk=chunk,
            )


def _doubt_span(in_flight: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """(body, id) of the first and last lead of an in_flight span (older runs
    wrote one chunk without last_body_index)."""
    last_body = in_flight.get("last_body_index", in_flight["body_index"])
    return (in_flight["body_index"], in_flight["first"]), (last_body, in_flight["last"])


def _stop_reason(exc: LeadsApiError) -> str:
    if isinstance(exc, ApiUnauthorized):
        when = "once LEADS_API_KEY is a key the API accepts"
    elif isinstance(exc, RateLimited):
        when = "in a minute, when the API takes calls again"
    else:
        when = "once the API is reachable"
    return (
        f"Stopped: {exc} The chunks already applied are recorded; "
        f"Retry failed runs the rest {when}."
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
    ended = BulkOperation.objects.filter(
        pk=operation.pk, run_token=run_token, state__in=BulkOperation.ACTIVE_STATES
    ).update(state=state, finished_at=timezone.now(), stop_reason=reason, cancel_requested=False)
    if ended:
        announce_ended(operation.pk)
    return state
