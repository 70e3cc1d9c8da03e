"""Reverting an ended operation: each lead it gave the new values (updated, or
updated and marked "changed outside this edit — check") goes back to its value
before, unless someone changed it since. Only the edited fields go back: what
changed outside the edit in a lead to check stays as it is.

The revert is a bulk operation like any other (reviewed, applied, run by the
worker in chunks, audited) whose change is RESTORE: its PATCH bodies are the
distinct before-values, so leads that go back to the same values share a
request. At review every lead the operation updated is read again: one whose
changed fields no longer hold what the operation set is skipped as a conflict
(with the value found); the run's `updatedAt ≤ review` guard catches whatever
changes after that. Leads the operation did not update are not touched.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import batched

from django.conf import settings
from django.db import transaction

from leadsadmin import api
from leadsadmin.bulk.changes import RESTORE, Change, value_describe
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    OperationRefused,
    bulk_operation_discard,
    counts_for_review,
    pinning_moment,
    pins_insert,
)
from leadsadmin.bulk.snapshots import lead_snapshot
from leadsadmin.schema import lead_field

State = BulkOperation.State
Outcome = PinnedLead.Outcome
READ_PAGE = 500  # ids per read of the current values (the client sends at most 500)
DENSE = 2  # read a page of ids as one range when the range holds at most twice as many


def revert_refusal(operation: BulkOperation) -> str:
    """Why `operation` cannot be reverted now ("" when it can)."""
    if not operation.has_ended:
        return "Only an operation that has ended can be reverted."
    if operation.applied_count == 0:
        return f"Operation {operation.pk} updated no lead: there is nothing to revert."
    earlier = revert_of(operation)
    if earlier is not None and earlier.state != State.REVIEWED:
        return f"Operation {operation.pk} was reverted already, by operation {earlier.pk}."
    return ""


def revert_of(operation: BulkOperation) -> BulkOperation | None:
    """The revert of `operation` that counts (a discarded draft does not)."""
    return operation.reverted_by.exclude(state=State.DISCARDED).order_by("pk").first()


def bulk_revert_prepare(
    *, operation: BulkOperation, user, reason: str, origin: dict | None = None, client=None
) -> BulkOperation:
    """The revert of `operation`, pinned and ready for review (a REVIEWED
    BulkOperation); OperationRefused when it may not be reverted."""
    client = client or api.get_client()
    revert = _revert_start(operation, user, reason, origin or {})
    operation = revert.reverts
    try:
        _revert_pin(revert, operation, client)
    except BaseException as exc:
        bulk_operation_discard(operation=revert, why=f"The review could not be completed: {exc}")
        raise
    return BulkOperation.objects.get(pk=revert.pk)


def _revert_start(operation, user, reason, origin) -> BulkOperation:
    """Creates the revert under a lock on the reverted operation, so that two
    requests cannot both start one."""
    with transaction.atomic():
        operation = BulkOperation.objects.select_for_update().get(pk=operation.pk)
        if why := revert_refusal(operation):
            raise OperationRefused(why)
        if (draft := revert_of(operation)) is not None:
            bulk_operation_discard(operation=draft, why="Replaced by a newer review of the revert.")
        return BulkOperation.objects.create(
            created_by=user,
            reviewed_from=origin.get("ip"),
            reviewed_user_agent=origin.get("user_agent", ""),
            reason=reason,
            reverts=operation,
            changes=[Change(name, RESTORE, operation.pk).as_json() for name in _fields(operation)],
            pinned_since=pinning_moment(),
        )


def _fields(operation: BulkOperation) -> list[str]:
    return [change["field"] for change in operation.changes]


def _revert_pin(revert: BulkOperation, operation: BulkOperation, client) -> None:
    tally = _RevertTally(revert, operation)
    for pins, now in _pins_with_current(operation, client):
        tally.add(pins, now)
    if tally.total == tally.skipped:
        raise OperationRefused(
            f"Every lead operation {operation.pk} updated has changed since: nothing to revert."
        )
    BulkOperation.objects.filter(pk=revert.pk).update(
        state=State.REVIEWED,
        bodies=[json.loads(key) for key in tally.bodies],
        total=tally.total,
        conflict_count=tally.skipped,
        value_counts={name: counts_for_review(c) for name, c in tally.targets.items()},
        needs_confirmation=tally.total - tally.skipped > settings.BULK_CONFIRM_THRESHOLD,
    )


class _RevertTally:
    """Pins each page of updated leads: back to its before-values (one body per
    distinct before-values) or skipped as a conflict; counts what they go back to."""

    def __init__(self, revert: BulkOperation, operation: BulkOperation):
        self.revert, self.operation = revert, operation
        self.fields = _fields(operation)
        self.bodies: dict[str, int] = {}
        self.targets: dict[str, Counter] = {name: Counter() for name in self.fields}
        self.total = self.skipped = 0

    def add(self, pins: list[PinnedLead], now: dict[int, dict]) -> None:
        keep, conflicts = [], []
        for pin in pins:
            doc = now.get(pin.lead_id)
            found = {name: doc.get(name) for name in self.fields} if doc else None
            set_by_operation = {name: (pin.after or {}).get(name) for name in self.fields}
            if found is None or found != set_by_operation:
                conflicts.append(_skipped(self.revert, self.operation, pin, found))
                continue
            index = self.bodies.setdefault(json.dumps(pin.before, sort_keys=True), len(self.bodies))
            keep.append((pin.lead_id, doc.get("updatedAt", ""), found, index, lead_snapshot(doc)))
            for name in self.fields:
                self.targets[name][value_describe(pin.before.get(name))] += 1
        pins_insert(self.revert, keep)
        PinnedLead.objects.bulk_create(conflicts)
        self.total += len(pins)
        self.skipped += len(conflicts)


def _pins_with_current(operation: BulkOperation, client):
    """(page of the operation's applied pins, those leads as they are now, whole),
    pages read BULK_REVIEW_READERS at a time side by side (blocking httpx calls, so
    threads), in order; memory holds that many pages."""
    readers = settings.BULK_REVIEW_READERS
    pins = PinnedLead.objects.filter(operation=operation, outcome__in=PinnedLead.APPLIED)
    pins = pins.order_by("lead_id")
    rows = pins.only("lead_id", "before", "after").iterator(chunk_size=2000)
    pages = batched(rows, READ_PAGE, strict=False)

    def read(page):
        return _current(client, [pin.lead_id for pin in page])

    with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="revert-reader") as pool:
        for window in batched(pages, readers, strict=False):
            yield from zip(window, pool.map(read, window), strict=True)


def _current(client, ids: list[int]) -> dict[int, dict]:
    """The leads `ids` (sorted) as they are now, every field: the revert keeps each
    whole, like any review (bulk/snapshots.py), for a run that recovers a chunk
    whose PATCH failed on the way. Ids close together are read as one id range (a
    cheap where for the API; the few others in it are dropped), ids spread out as
    an `id in` list."""
    low, high = ids[0], ids[-1]
    if high - low < DENSE * len(ids):
        where = {"and": [{"id": {"greater_than_equal": low}}, {"id": {"less_than_equal": high}}]}
        limit = high - low + 1
    else:
        where, limit = {"id": {"in": ids}}, len(ids)
    found = client.find(where=where, limit=limit)
    wanted = set(ids)
    return {doc["id"]: doc for doc in found.docs if doc["id"] in wanted}


def _skipped(revert, operation, pin, found) -> PinnedLead:
    """A lead changed since the operation set it: kept as a conflict, with both values."""
    if found is None:
        message = "The lead no longer exists; nothing to revert."
    else:
        names = [n for n in found if found[n] != (pin.after or {}).get(n)]
        message = "; ".join(
            f"{lead_field(n).label}: operation {operation.pk} set "
            f"{value_describe((pin.after or {}).get(n))}, "
            f"found {value_describe(found[n])}"
            for n in names
        )
        message = f"Changed since ({message}); not reverted."
    return PinnedLead(
        operation=revert,
        lead_id=pin.lead_id,
        updated_at="",
        before=pin.after or {},
        outcome=Outcome.CONFLICT,
        after=found,
        message=message,
    )
