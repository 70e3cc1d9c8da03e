"""Fixtures for the bulk tests (registered in tests/conftest.py).

Bulk runs talk real HTTP to the sandbox (`seeded_sandbox`); faults and crashes
come from `ScriptedTransport`, which forwards to the sandbox and can fail a given
PATCH before or after the sandbox applied it, and which counts, per lead, how
often the API reported it updated (the "never twice" check).
"""

import json
from collections import Counter
from urllib.parse import urlencode

import httpx
import pytest

from leadsadmin.api.client import LeadsClient
from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.operations import (
    bulk_operation_apply,
    bulk_operation_prepare,
)
from leadsadmin.bulk.running import bulk_operation_run

IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def filter_qs(*conditions) -> str:
    """A leads-page query string ANDing (field, operator, values) conditions."""
    pairs = []
    for index, (field, op, values) in enumerate(conditions):
        values = [values] if isinstance(values, str | int) else values
        pairs += [(f"c{index}", "0"), (f"f{index}", field), (f"op{index}", op)]
        pairs += [(f"v{index}", str(value)) for value in values]
    return urlencode(pairs)


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the run catches it, like SIGKILL."""


class ScriptedTransport(httpx.BaseTransport):
    """Forwards to the real server. `script` maps the number of a PATCH (1-based)
    to what happens instead: an httpx.Response returned without forwarding, an
    exception raised before forwarding, or ("after", exception) to forward (the
    API applies it) and then raise as if the answer never arrived."""

    def __init__(self, script=None):
        self.inner = httpx.HTTPTransport()
        self.script = dict(script or {})
        self.patches = 0
        self.updated = Counter()  # lead id → times the API said it updated it
        self.patched_ids = []  # per PATCH, the ids it asked for

    def handle_request(self, request):
        if request.method != "PATCH":
            return self.inner.handle_request(request)
        self.patches += 1
        self.patched_ids.append(_ids_of(request))
        action = self.script.get(self.patches)
        if isinstance(action, httpx.Response):
            return action
        if isinstance(action, BaseException):
            raise action
        response = self.inner.handle_request(request)
        response.read()
        for doc in json.loads(response.content).get("docs", []):
            self.updated[doc["id"]] += 1
        if isinstance(action, tuple) and action[0] == "after":
            raise action[1]
        return response

    def close(self):
        self.inner.close()


def _ids_of(request) -> list[int]:
    ids = []
    for key, value in request.url.params.multi_items():
        if "[id][in]" in key:
            ids += [int(part) for part in value.split(",") if part]
    return ids


@pytest.fixture
def scripted_client(sandbox_api):
    """(make) → a LeadsClient to the sandbox over a ScriptedTransport (or the given
    transport), with the given limiter or the default one."""
    clients = []

    def make(script=None, transport=None, limiter=None):
        transport = transport or ScriptedTransport(script)
        client = LeadsClient(
            sandbox_api.url, sandbox_api.authorization, 10.0, transport=transport, limiter=limiter
        )
        client.transport = transport
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def prepare_operation(make_user):
    """(filter query, [Change], user=None, client=None) → a reviewed BulkOperation."""

    def prepare(filter_query, changes, *, user=None, reason="Duplicate leads", client=None):
        user = user or make_user("teamlead", username=f"lead{BulkOperation.objects.count()}")
        return bulk_operation_prepare(
            user=user, filter_query=filter_query, changes=changes, reason=reason, client=client
        )

    return prepare


@pytest.fixture
def apply_and_run():
    """Applies a reviewed operation and runs it here (no worker runs in tests)."""

    def run(operation, *, client=None):
        bulk_operation_apply(
            operation=operation, user=operation.created_by, confirmation=str(operation.to_change)
        )
        operation.refresh_from_db()
        bulk_operation_run(operation.pk, operation.run_token, client=client)
        operation.refresh_from_db()
        return operation

    return run


@pytest.fixture
def lost():
    return [Change("processStatuses", "replace", "Lost")]


@pytest.fixture
def make_operation(make_user):
    """A BulkOperation written straight to the database (no API): `outcomes` maps
    lead id → (outcome, message); a factory for page tests."""
    from django.utils import timezone

    from leadsadmin.bulk.models import BulkChunk, PinnedLead

    def make(*, state=BulkOperation.State.FINISHED, outcomes=None, user=None, **fields):
        outcomes = outcomes or {
            1: ("updated", ""),
            2: ("error", "The following field is invalid: Reason"),
            3: ("conflict", "Changed since the review; not overwritten."),
        }
        user = user or make_user("teamlead", username=f"owner{BulkOperation.objects.count()}")
        counts = Counter(outcome for outcome, _ in outcomes.values())
        defaults = {
            "created_by": user,
            "reason": "Duplicate leads",
            "filter_query": filter_qs(("processStatuses", "equals", "On Hold")),
            "where": {"or": [{"and": [{"processStatuses": {"equals": "On Hold"}}]}]},
            "changes": [Change("processStatuses", "replace", "Lost").as_json()],
            "bodies": [{"processStatuses": "Lost"}],
            "total": len(outcomes),
            "pinned_since": timezone.now(),
            "value_counts": {"processStatuses": [["On Hold", len(outcomes)]]},
            "state": BulkOperation.State.PINNING,
            "updated_count": counts["updated"],
            "error_count": counts["error"],
            "conflict_count": counts["conflict"],
            "heartbeat_at": timezone.now(),
            "run_token": "t0",
        }
        operation = BulkOperation.objects.create(**{**defaults, **fields})
        chunk = BulkChunk.objects.create(
            operation=operation,
            number=1,
            body_index=0,
            started_at=timezone.now(),
            requested=len(outcomes),
            updated=counts["updated"],
            errors=counts["error"],
            status=400 if counts["error"] else 200,
            message="Unable to update 1 out of 2 Leads." if counts["error"] else "Updated.",
        )
        PinnedLead.objects.bulk_create(
            PinnedLead(
                operation=operation,
                lead_id=lead_id,
                updated_at="2024-01-01T00:00:00.000Z",
                before={"processStatuses": "On Hold"},
                outcome=outcome,
                after={"processStatuses": "Lost"} if outcome == "updated" else None,
                message=message,
                chunk=chunk if outcome != "pending" else None,
            )
            for lead_id, (outcome, message) in outcomes.items()
        )
        # The state last: the rows of an ended operation cannot be written any more.
        BulkOperation.objects.filter(pk=operation.pk).update(state=state)
        operation.refresh_from_db()
        return operation

    return make
