"""`manage.py bulk_resume`: re-enqueues operations whose worker died, and only those."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from leadsadmin.bulk.models import BulkOperation
from tests.fixtures_bulk import DUMMY_TASKS

State = BulkOperation.State


@pytest.mark.django_db
def test_bulk_resume_requeues_only_stalled_operations(
    make_operation, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    from django.tasks import default_task_backend

    pending = {1: ("updated", ""), 2: ("pending", ""), 3: ("pending", "")}
    stalled = make_operation(
        state=State.RUNNING, outcomes=pending, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    alive = make_operation(state=State.RUNNING, outcomes=pending)
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("bulk_resume", stdout=out)

    assert out.getvalue().strip() == f"Resumed bulk operation(s) {stalled.pk}."
    stalled.refresh_from_db()
    alive.refresh_from_db()
    assert stalled.state == State.QUEUED and stalled.run_token != "t0"
    assert alive.state == State.RUNNING and alive.run_token == "t0"
    assert [r.args for r in default_task_backend.results] == [[stalled.pk, stalled.run_token]]

    out = StringIO()
    call_command("bulk_resume", stdout=out)
    assert "No stalled bulk operation." in out.getvalue()
