"""An auditor follows a team lead's bulk edit, and the team lead reverts it, in a
real Chromium: apply → the auditor lands on the audit, filters by the team lead,
opens the operation and a lead's history → Revert this operation → the sandbox
has every lead back except the one changed in between (a conflict)."""

import re

import pytest
from playwright.sync_api import expect

from leadsadmin.api import get_client
from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.sandbox.models import Lead
from tests.e2e.conftest import sign_in_on
from tests.fixtures_bulk import IMMEDIATE_TASKS, filter_qs

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HOLD = filter_qs(("processStatuses", "equals", "On Hold"))


def _team_lead_applies_lost(page, url):
    page.goto(f"{url}/bulk/new?{HOLD}")
    page.get_by_label("Field to change").select_option("processStatuses")
    page.get_by_role("button", name="Add field to change").click()
    page.get_by_label("Process status", exact=True).select_option("Lost")
    page.get_by_label("Reason for this change").fill("Lost at the fair")
    page.get_by_role("button", name="Review changes").click()
    page.get_by_role("button", name="Apply changes").click()
    expect(page).to_have_url(re.compile(r"/bulk/\d+/$"))


def test_auditor_follows_and_team_lead_reverts_a_bulk_edit(
    page, new_page, make_user, seeded_sandbox, live_server, settings
):
    settings.TASKS = IMMEDIATE_TASKS  # no worker runs in tests: the job runs in the request
    url = live_server.url
    before = dict(
        Lead.objects.filter(processStatuses="On Hold").values_list("id", "processStatuses")
    )
    lead = make_user("teamlead", username="tessa")
    sign_in_on(page, url, lead)
    _team_lead_applies_lost(page, url)
    operation = BulkOperation.objects.get()
    expect(page.get_by_text(f"Updated {len(before)} of {len(before)} leads")).to_be_visible()

    auditor_page = new_page()
    sign_in_on(auditor_page, url, make_user("auditor"))
    expect(auditor_page).to_have_url(f"{url}/audit/")
    auditor_page.get_by_label("Reviewed by").select_option("tessa")
    auditor_page.get_by_role("button", name="Apply filters").click()
    expect(auditor_page.get_by_text("1 operation")).to_be_visible()
    auditor_page.get_by_role("link", name=f"Operation {operation.pk}").click()
    expect(auditor_page.get_by_role("heading", name=f"Operation {operation.pk}")).to_be_visible()
    expect(auditor_page.get_by_text("Lost at the fair")).to_be_visible()
    first = min(before)
    auditor_page.get_by_role("link", name=str(first), exact=True).click()
    expect(auditor_page.get_by_role("heading", name=f"History of lead {first}")).to_be_visible()
    expect(auditor_page.get_by_text("Process status: On Hold → Lost")).to_be_visible()
    expect(auditor_page.get_by_role("button", name="Revert this operation")).to_have_count(0)

    changed = max(before)  # someone else touches one lead in between
    list(get_client().update_ids([changed], {"processStatuses": "Qualified Lead"}))

    page.goto(f"{url}/audit/operations/{operation.pk}/")
    page.get_by_role("button", name="Revert this operation").click()
    page.get_by_label("Reason for this change").fill("Wrong filter")
    page.get_by_role("button", name="Review the revert").click()
    expect(page.get_by_text(f"{len(before) - 1} leads will go back")).to_be_visible()
    expect(page.get_by_text("1 lead changed after operation")).to_be_visible()
    page.get_by_role("button", name="Apply changes").click()
    summary = (
        f"Updated {len(before) - 1} of {len(before)} leads. 1 was changed by someone else "
        f"after operation {operation.pk} and was left alone."
    )
    expect(page.get_by_text(summary, exact=True)).to_be_visible()

    now = dict(Lead.objects.filter(id__in=before).values_list("id", "processStatuses"))
    assert now == {**before, changed: "Qualified Lead"}
    revert = BulkOperation.objects.get(reverts=operation)
    conflict = PinnedLead.objects.get(operation=revert, outcome="conflict")
    assert conflict.lead_id == changed
    assert "set Lost, found Qualified Lead" in conflict.message
