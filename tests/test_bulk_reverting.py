"""Revert: each lead the operation updated goes back to its value before, unless
it changed since (a conflict with both values); the revert is an operation like
any other, linked both ways, once per operation."""

import httpx
import pytest

from leadsadmin.api import get_client
from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.bulk.operations import OperationRefused, bulk_operation_apply
from leadsadmin.bulk.reverting import bulk_revert_prepare, revert_refusal
from leadsadmin.bulk.running import bulk_operation_run
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import DUMMY_TASKS, filter_qs

State = BulkOperation.State
OPEN = filter_qs(("processStatuses", "in", ["Qualified Lead", "On Hold"]))


def _statuses(ids) -> dict:
    return dict(Lead.objects.filter(id__in=ids).values_list("id", "processStatuses"))


def _lost():
    return [Change("processStatuses", "replace", "Lost"), Change("reason", "replace", "Duplicate")]


@pytest.fixture
def applied(seeded_sandbox, prepare_operation, apply_and_run):
    operation = prepare_operation(OPEN, _lost())
    before = {p.lead_id: p.before for p in PinnedLead.objects.filter(operation=operation)}
    operation = apply_and_run(operation)
    assert operation.state == State.FINISHED and operation.updated_count == len(before)
    return operation, before


def _revert(operation, **kwargs):
    return bulk_revert_prepare(
        operation=operation, user=operation.created_by, reason="Wrong filter", **kwargs
    )


def test_a_revert_puts_every_lead_back_except_the_one_changed_since(applied, apply_and_run):
    operation, before = applied
    changed = min(before)
    list(get_client().update_ids([changed], {"processStatuses": "On Hold"}))

    revert = _revert(operation)
    assert (revert.state, revert.reverts, revert.total) == (State.REVIEWED, operation, len(before))
    assert revert.conflict_count == 1
    skipped = PinnedLead.objects.get(operation=revert, lead_id=changed)
    assert skipped.outcome == "conflict"
    assert skipped.after["processStatuses"] == "On Hold"  # the value found
    assert "set Lost, found On Hold" in skipped.message
    # Leads going back to the same values share one PATCH body.
    assert len(revert.bodies) == len({str(sorted(v.items())) for v in before.values()})

    revert = apply_and_run(revert)
    assert revert.state == State.FINISHED
    assert revert.updated_count == len(before) - 1
    now = _statuses(before)
    for lead_id, values in before.items():
        expected = "On Hold" if lead_id == changed else values["processStatuses"]
        assert now[lead_id] == expected
    assert list(operation.reverted_by.all()) == [revert]


def test_leads_the_operation_did_not_update_are_not_touched(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings
):
    settings.BULK_CHUNK_SIZE = 10
    client = scripted_client({2: httpx.Response(503, json={})})
    operation = apply_and_run(prepare_operation(OPEN, _lost()), client=client)
    assert operation.state == State.STOPPED and operation.updated_count == 10
    not_sent = set(
        PinnedLead.objects.filter(operation=operation, outcome="pending").values_list(
            "lead_id", flat=True
        )
    )
    untouched = Lead.objects.filter(id__in=not_sent).values_list("id", "updatedAt")
    untouched_before = dict(untouched)
    revert = _revert(operation)
    assert revert.total == 10
    assert not_sent.isdisjoint(revert.pinned.values_list("lead_id", flat=True))
    bulk_operation_run(revert.pk, _apply(revert), client=get_client())
    assert BulkOperation.objects.get(pk=revert.pk).updated_count == 10
    assert dict(untouched) == untouched_before  # not one of them was written
    assert "Lost" not in _statuses(not_sent).values()


def _apply(revert) -> str:
    bulk_operation_apply(
        operation=revert, user=revert.created_by, confirmation=str(revert.to_change)
    )
    return BulkOperation.objects.get(pk=revert.pk).run_token


def test_a_second_revert_is_refused_and_names_the_first(applied, apply_and_run):
    operation, _ = applied
    first = apply_and_run(_revert(operation))
    assert revert_refusal(operation) == (
        f"Operation {operation.pk} was reverted already, by operation {first.pk}."
    )
    with pytest.raises(OperationRefused, match="reverted already"):
        _revert(operation)


def test_a_revert_can_be_reverted(applied, apply_and_run):
    operation, before = applied
    first = apply_and_run(_revert(operation))
    again = apply_and_run(_revert(first))
    assert again.reverts == first
    assert set(_statuses(before).values()) == {"Lost"}


def test_a_draft_revert_is_replaced_by_a_new_review(applied):
    operation, _ = applied
    draft = _revert(operation)
    newer = _revert(operation)
    assert BulkOperation.objects.get(pk=draft.pk).state == State.DISCARDED
    assert newer.state == State.REVIEWED


def test_an_operation_that_updated_nothing_cannot_be_reverted(make_operation, db):
    operation = make_operation(outcomes={1: ("error", "The following field is invalid: x")})
    assert "updated no lead" in revert_refusal(operation)
    running = make_operation(state=State.RUNNING, outcomes={1: ("pending", "")})
    assert "has ended" in revert_refusal(running)


def test_the_revert_pages_review_then_apply(applied, client_as, settings):
    settings.TASKS = DUMMY_TASKS
    operation, _ = applied
    client = client_as("teamlead")
    page = client.get(f"/bulk/{operation.pk}/revert")
    assert "Review the revert" in page.text
    missing = client.post(f"/bulk/{operation.pk}/revert", {"reason": ""})
    assert "Give a reason" in missing.text
    response = client.post(f"/bulk/{operation.pk}/revert", {"reason": "Wrong filter"})
    revert = BulkOperation.objects.get(reverts=operation)
    assert response["Location"] == f"/bulk/{revert.pk}/review"
    review = client.get(response["Location"]).text
    assert f"will go back to their values before operation {operation.pk}" in review
    assert "Changed since, skipped" in review
    assert client_as("salesops").get(f"/bulk/{operation.pk}/revert").status_code == 403


@pytest.mark.parametrize("ids", [list(range(10, 60)), list(range(10, 200, 7))])
def test_current_values_are_read_as_an_id_range_or_an_id_list(seeded_sandbox, ids):
    """Close ids are read as one range (the others in it dropped), spread ones by `in`."""
    from leadsadmin.bulk.reverting import _current

    found = _current(get_client(), ids)
    assert sorted(found) == ids
    # Whole leads: the revert keeps a snapshot of each, like any review.
    assert all(
        set(doc) >= {"id", "updatedAt", "processStatuses", "exterior", "createdAt"}
        for doc in found.values()
    )


def test_a_large_revert_asks_to_type_the_number_that_will_go_back(applied, settings):
    operation, before = applied
    list(get_client().update_ids([min(before)], {"processStatuses": "On Hold"}))
    settings.BULK_CONFIRM_THRESHOLD = 1
    revert = _revert(operation)
    assert revert.needs_confirmation and revert.to_change == len(before) - 1
    with pytest.raises(OperationRefused, match=f"Type {len(before) - 1} to confirm"):
        bulk_operation_apply(operation=revert, user=revert.created_by, confirmation="1")
    assert bulk_operation_apply(
        operation=revert, user=revert.created_by, confirmation=str(len(before) - 1)
    )
