"""Every bulk operation is an audit record: who, when, from where, each lead's
values before and after; sealed into the hash chain when it ends, and frozen."""

import pytest
from django.contrib import admin
from django.db import connection

from leadsadmin.audit.chain import chain_verify
from leadsadmin.audit.models import ChainLink
from leadsadmin.audit.records import filter_in_words
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead
from leadsadmin.bulk.operations import (
    bulk_operation_apply,
    bulk_operation_cancel,
    bulk_operation_discard,
)
from leadsadmin.core.records import RecordFrozen
from tests.fixtures_bulk import DUMMY_TASKS, filter_qs

State = BulkOperation.State
HOLD = filter_qs(("processStatuses", "equals", "On Hold"))


def _sealed(operation) -> bool:
    return ChainLink.objects.filter(record_type="operation", record_id=operation.pk).exists()


# ---------------------------------------------------------------- frozen once ended


@pytest.mark.parametrize("state", [s for s in State.values if s in BulkOperation.ENDED_STATES])
def test_an_ended_operation_and_its_rows_refuse_every_change(make_operation, state, db):
    operation = make_operation(state=state)
    operation.reason = "rewritten"
    with pytest.raises(RecordFrozen):
        operation.save()
    with pytest.raises(RecordFrozen):
        BulkOperation.objects.filter(pk=operation.pk).update(reason="rewritten")
    pin = PinnedLead.objects.filter(operation=operation).first()
    pin.message = "rewritten"
    with pytest.raises(RecordFrozen):
        pin.save()
    with pytest.raises(RecordFrozen):
        PinnedLead.objects.filter(operation=operation).update(message="rewritten")
    with pytest.raises(RecordFrozen):
        BulkChunk.objects.filter(operation=operation).update(message="rewritten")
    assert BulkOperation.objects.get(pk=operation.pk).reason == "Duplicate leads"


def test_no_operation_or_row_is_ever_deleted(make_operation, db):
    running = make_operation(state=State.RUNNING, outcomes={1: ("pending", "")})
    for delete in (
        running.delete,
        BulkOperation.objects.all().delete,
        PinnedLead.objects.all().delete,
        BulkChunk.objects.all().delete,
        PinnedLead.objects.first().delete,
    ):
        with pytest.raises(RecordFrozen):
            delete()
    assert BulkOperation.objects.count() == 1


def test_a_running_operation_may_still_be_written(make_operation, db):
    running = make_operation(state=State.RUNNING, outcomes={1: ("pending", "")})
    assert BulkOperation.objects.filter(pk=running.pk).update(heartbeat_at=None) == 1
    PinnedLead.objects.filter(operation=running).update(outcome="updated")


def test_django_admin_shows_audit_records_read_only(make_operation, rf, make_user, db):
    request = rf.get("/admin/")
    request.user = make_user("admin")
    for model in (BulkOperation, PinnedLead, BulkChunk, ChainLink):
        model_admin = admin.site._registry[model]
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_add_permission(request)


# ---------------------------------------------------------------- every outcome recorded


def test_an_applied_operation_records_who_when_where_and_each_leads_values(
    seeded_sandbox, client_as, settings
):
    settings.TASKS = DUMMY_TASKS
    client = client_as("teamlead")
    agent = {"HTTP_USER_AGENT": "Firefox/140"}
    client.post(
        f"/bulk/new?{HOLD}",
        {"action": "review", "fields": ["reason"], "value-reason": "Duplicate", "reason": "Dupes"},
        **agent,
    )
    operation = BulkOperation.objects.get()
    client.post(f"/bulk/{operation.pk}/apply", {"confirmation": str(operation.total)}, **agent)
    operation.refresh_from_db()
    assert (operation.created_by.username, operation.applied_by.username) == ("teamlead",) * 2
    assert (operation.reviewed_from, operation.applied_from) == ("127.0.0.1", "127.0.0.1")
    assert operation.reviewed_user_agent == operation.applied_user_agent == "Firefox/140"
    assert operation.filter_query and operation.where
    assert operation.created_at <= operation.applied_at
    assert operation.pinned.count() == operation.total > 0
    assert all("reason" in pin.before for pin in operation.pinned.all())


def test_a_finished_operation_is_sealed_with_its_leads_and_verifies(
    seeded_sandbox, prepare_operation, apply_and_run
):
    operation = apply_and_run(prepare_operation(HOLD, _lost()))
    assert operation.state == State.FINISHED
    assert operation.duration is not None
    assert _sealed(operation)
    assert chain_verify().message == "audit chain intact: 1 records"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bulk_pinnedlead SET after = %s WHERE operation_id = %s",
            ['{"processStatuses": "On Hold"}', operation.pk],
        )
    assert not chain_verify().intact


def test_cancelled_and_discarded_operations_are_sealed_and_a_draft_is_not(
    make_operation, django_capture_on_commit_callbacks, db
):
    queued = make_operation(state=State.QUEUED, outcomes={1: ("pending", "")})
    draft = make_operation(state=State.REVIEWED, outcomes={1: ("pending", "")})
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_operation_cancel(operation=queued)
    assert _sealed(queued)
    assert not _sealed(draft)
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_operation_discard(operation=draft)
    draft = BulkOperation.objects.get(pk=draft.pk)
    assert (draft.state, _sealed(draft)) == (State.DISCARDED, True)
    assert not bulk_operation_apply(operation=draft, user=draft.created_by)
    with pytest.raises(RecordFrozen):
        draft.save()


def _lost():
    from leadsadmin.bulk.changes import Change

    return [Change("processStatuses", "replace", "Lost")]


# ---------------------------------------------------------------- the filter in words


def test_the_filter_reads_as_chosen_not_as_the_lead_ids_it_was_sent_as(make_operation, db):
    chosen = filter_qs(
        ("exterior", "all", ["Red", "Blue"]),
        ("processStatuses", "in", ["On Hold", "Lost"]),
    )
    operation = make_operation(
        filter_query=f"{chosen}&ids=4,9",
        where={"and": [{"id": {"in": [4, 9, 12]}}, {"id": {"in": [4, 9]}}]},
    )

    assert filter_in_words(operation) == [
        "The 2 selected leads of Exterior color has all of Red, Blue (sent to the API as the "
        "ids of the leads it matched at review) and Process status is any of On Hold, Lost"
    ]
    everyone = make_operation(filter_query="", where={})
    assert filter_in_words(everyone) == ["Every lead (no filter)"]
    # A filter that no longer reads (a field renamed since): the where the API got.
    unreadable = make_operation(
        filter_query=filter_qs(("gone", "equals", "x")),
        where={"processStatuses": {"equals": "Lost"}},
    )
    assert filter_in_words(unreadable) == ["Process status equals Lost"]
