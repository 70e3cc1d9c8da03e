"""Reverting an ended operation: each lead it updated goes back to its value
before, unless someone changed it since.

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

State = BulkOperation.State
Outcome = PinnedLead.Outcome
READ_PAGE = 500  # ids per read of the current values


def revert_refusal(operation: BulkOperation) -> str:
    """Why `operation` cannot be reverted now ("" when it can)."""
    if not operation.has_ended:
        return "Only an operation that has ended can be reverted."
    if operation.updated_count == 0:
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
    fields = _fields(operation)
    bodies: dict[str, int] = {}
    targets: dict[str, Counter] = {name: Counter() for name in fields}
    total = skipped = 0
    for pins in _updated_pins(operation):
        now = _current(client, [pin.lead_id for pin in pins], fields)
        keep, conflicts = [], []
        for pin in pins:
            doc = now.get(pin.lead_id)
            found = {name: doc.get(name) for name in fields} if doc else None
            if found is not None and found == {
                name: (pin.after or {}).get(name) for name in fields
            }:
                key = json.dumps(pin.before, sort_keys=True)
                index = bodies.setdefault(key, len(bodies))
                keep.append((pin.lead_id, doc.get("updatedAt", ""), found, index))
                for name in fields:
                    targets[name][value_describe(pin.before.get(name))] += 1
            else:
                conflicts.append(_skipped(revert, operation, pin, found))
        pins_insert(revert, keep)
        PinnedLead.objects.bulk_create(conflicts)
        total, skipped = total + len(pins), skipped + len(conflicts)
    if total == skipped:
        raise OperationRefused(
            f"Every lead operation {operation.pk} updated has changed since: nothing to revert."
        )
    BulkOperation.objects.filter(pk=revert.pk).update(
        state=State.REVIEWED,
        bodies=[json.loads(key) for key in bodies],
        total=total,
        conflict_count=skipped,
        value_counts={name: counts_for_review(counter) for name, counter in targets.items()},
        needs_confirmation=total > settings.BULK_CONFIRM_THRESHOLD,
    )


def _updated_pins(operation: BulkOperation):
    """The operation's updated leads, a page at a time."""
    pins = PinnedLead.objects.filter(operation=operation, outcome=Outcome.UPDATED).order_by(
        "lead_id"
    )
    page = []
    for pin in pins.iterator(chunk_size=2000):
        page.append(pin)
        if len(page) == READ_PAGE:
            yield page
            page = []
    if page:
        yield page


def _current(client, ids: list[int], fields: list[str]) -> dict[int, dict]:
    found = client.find(
        where={"id": {"in": ids}}, limit=len(ids), select=["id", "updatedAt", *fields]
    )
    return {doc["id"]: doc for doc in found.docs}


def _skipped(revert, operation, pin, found) -> PinnedLead:
    """A lead changed since the operation set it: kept as a conflict, with both values."""
    if found is None:
        message = "The lead no longer exists; nothing to revert."
    else:
        names = [n for n in found if found[n] != (pin.after or {}).get(n)]
        message = "; ".join(
            f"{n}: operation {operation.pk} set {value_describe((pin.after or {}).get(n))}, "
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
