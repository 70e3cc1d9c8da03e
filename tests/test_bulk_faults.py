"""A running bulk job meets a failing API (issue 13): it stops with a message that
says what happened and what to check, the chunks already applied stay recorded,
the rest stay pending, and Retry failed runs them once the API is back. Real
HTTP against the sandbox; each fault comes from a transport in front of it.
A 503, a 401 and a read timeout are in test_bulk_operations.py
(test_api_failure_mid_job_stops_with_a_reason_and_retry_runs_the_rest); 429 is
the rate limiter's, in its own tests."""

import httpx
import pytest
from django.utils.html import escape

from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.bulk.operations import bulk_operation_retry
from leadsadmin.bulk.running import bulk_operation_run
from leadsadmin.bulk.selectors import can_retry
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import ScriptedTransport, filter_qs

pytestmark = pytest.mark.django_db(transaction=True)

State = BulkOperation.State
Outcome = PinnedLead.Outcome
FIRST_50 = filter_qs(("id", "less_than_equal", "50"))
LOST = [Change("processStatuses", "replace", "Lost")]
REACHABLE = "Retry failed runs the rest once the API is reachable."
KEY = "Retry failed runs the rest once LEADS_API_KEY is a key the API accepts."


class DownFrom(ScriptedTransport):
    """Forwards to the sandbox until PATCH number `at`; from then on every PATCH
    (retries included) gets `fault` until `down` is set False."""

    def __init__(self, at: int, fault):
        super().__init__()
        self.at, self.fault, self.down = at, fault, True

    def handle_request(self, request):
        if request.method == "PATCH" and self.down and self.patches + 1 >= self.at:
            self.patches += 1
            self.patched_ids.append([])
            if isinstance(self.fault, BaseException):
                raise self.fault
            return httpx.Response(
                self.fault.status_code, headers=self.fault.headers, content=self.fault.content
            )
        return super().handle_request(request)


def _json_error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"message": message}]})


FAULTS = [
    pytest.param(
        httpx.ConnectError("[Errno 111] Connection refused"),
        "could not be reached (ConnectError",
        REACHABLE,
        id="unreachable",
    ),
    pytest.param(
        _json_error(500, "Something went wrong."),
        "(HTTP 500). It said: Something",
        REACHABLE,
        id="500",
    ),
    pytest.param(
        httpx.Response(502, text="<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}),
        "(HTTP 502)",
        REACHABLE,
        id="502",
    ),
    pytest.param(
        _json_error(403, "You are not allowed to perform this action."),
        "(HTTP 403): the API key was refused or lacks permission. Check LEADS_API_KEY.",
        KEY,
        id="403",
    ),
    pytest.param(
        httpx.Response(200, text="<html>Welcome</html>", headers={"Content-Type": "text/html"}),
        "answered PATCH /leads with text/html instead of JSON",
        REACHABLE,
        id="garbage instead of JSON",
    ),
]


@pytest.mark.parametrize(("fault", "said", "then"), FAULTS)
def test_a_job_meeting_a_failing_api_stops_saying_why_and_loses_nothing(
    seeded_sandbox,
    prepare_operation,
    apply_and_run,
    scripted_client,
    settings,
    client,
    make_user,
    fault,
    said,
    then,
):
    settings.BULK_CHUNK_SIZE = 10
    api = scripted_client(transport=DownFrom(3, fault))
    operation = apply_and_run(prepare_operation(FIRST_50, LOST), client=api)

    assert operation.state == State.STOPPED
    assert said in operation.stop_reason and operation.stop_reason.endswith(then)
    if then == KEY:
        assert "reachable" not in operation.stop_reason
    pins = PinnedLead.objects.filter(operation=operation).order_by("lead_id")
    applied = list(pins.filter(outcome=Outcome.UPDATED).values_list("lead_id", flat=True))
    assert applied == list(pins.values_list("lead_id", flat=True)[:20])  # chunks 1 and 2
    assert set(Lead.objects.filter(processStatuses="Lost").values_list("id", flat=True)) >= set(
        applied
    )
    assert pins.filter(outcome=Outcome.PENDING).count() == operation.total - 20
    assert operation.updated_count == 20 and operation.error_count == 0

    client.force_login(make_user("teamlead", username="watcher"))
    page = client.get(operation.get_absolute_url()).content.decode()
    assert escape(operation.stop_reason) in page
    assert "Retry failed" in page and can_retry(operation)

    api.transport.down = False
    retry = bulk_operation_retry(operation=operation, user=operation.created_by)
    bulk_operation_run(retry.pk, retry.run_token, client=api)
    retry.refresh_from_db()
    assert (retry.state, retry.updated_count) == (State.FINISHED, operation.total - 20)
    assert (
        not Lead.objects.filter(id__in=pins.values("lead_id"))
        .exclude(processStatuses="Lost")
        .exists()
    )
    assert set(api.transport.updated.values()) == {1}  # nobody updated twice


def test_a_partly_failed_chunk_records_both_and_retry_runs_the_errors(
    seeded_sandbox, prepare_operation, apply_and_run, scripted_client, settings, client, make_user
):
    """Some docs and some errors in one answer: the job goes on, each lead has its
    own outcome, the page says so, and Retry failed with the errors runs them."""
    settings.BULK_CHUNK_SIZE = 10
    operation = prepare_operation(FIRST_50, [Change("reason", "replace", "Test")])
    broken = sorted(
        PinnedLead.objects.filter(operation=operation).values_list("lead_id", flat=True)
    )
    broken = broken[12:14]
    Lead.objects.filter(id__in=broken).update(processStatuses="Retired status")

    operation = apply_and_run(operation, client=scripted_client())

    assert operation.state == State.FINISHED
    assert (operation.updated_count, operation.error_count) == (operation.total - 2, 2)
    errors = PinnedLead.objects.filter(operation=operation, outcome=Outcome.ERROR)
    assert sorted(errors.values_list("lead_id", flat=True)) == broken
    client.force_login(make_user("teamlead", username="watcher"))
    page = client.get(operation.get_absolute_url()).content.decode()
    assert "2 were refused by the API (see Errors)." in page
    assert "The API refused a value: Process Statuses" in page
    assert "Also retry the 2 leads that failed with an error" in page

    Lead.objects.filter(id__in=broken).update(processStatuses="On Hold")
    retry = bulk_operation_retry(
        operation=operation, user=operation.created_by, include_errors=True
    )
    bulk_operation_run(retry.pk, retry.run_token, client=scripted_client())
    retry.refresh_from_db()
    assert (retry.state, retry.total, retry.updated_count) == (State.FINISHED, 2, 2)
    assert set(Lead.objects.filter(id__in=broken).values_list("reason", flat=True)) == {"Test"}
