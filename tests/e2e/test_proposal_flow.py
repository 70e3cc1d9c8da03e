"""Four eyes in a real Chromium: sales ops propose a bulk edit from the leads page,
a team lead sees it counted in the navigation, reviews the leads now, approves and
applies it (the job runs in the request), and the proposer is told the outcome."""

import re

import pytest
from playwright.sync_api import expect

from leadsadmin.api import get_client
from leadsadmin.proposals.models import Proposal
from tests.e2e.conftest import sign_in_on
from tests.fixtures_bulk import IMMEDIATE_TASKS, filter_qs

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HOLD = filter_qs(("processStatuses", "equals", "On Hold"))
WHERE = {"or": [{"and": [{"processStatuses": {"equals": "On Hold"}}]}]}


def _sales_ops_proposes_lost(page, url, expected):
    page.goto(f"{url}/leads/?{HOLD}")
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()
    # A link drawn as a button (role="button"), like Bulk edit beside it for team leads.
    expect(page.get_by_role("button", name="Bulk edit", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Propose bulk edit").click()
    expect(page).to_have_url(re.compile(r"/proposals/new\?.*f0=processStatuses"))
    page.get_by_label("Field to change").select_option("processStatuses")
    page.get_by_role("button", name="Add field to change").click()
    page.get_by_label("Process status", exact=True).select_option("Lost")
    page.get_by_label("Reason for this change").fill("Lost at the fair")
    page.get_by_role("button", name="Review changes").click()
    expect(page.get_by_text(f"{expected} leads match now")).to_be_visible()
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text("was sent for approval")).to_be_visible()


def test_sales_ops_propose_a_team_lead_approves_and_the_proposer_hears_back(
    page, new_page, make_user, seeded_sandbox, live_server, settings
):
    settings.TASKS = IMMEDIATE_TASKS  # no worker runs in tests: the job runs in the request
    url = live_server.url
    expected = get_client().count(WHERE)
    assert expected > 0
    sign_in_on(page, url, make_user("salesops", username="sam"))
    _sales_ops_proposes_lost(page, url, expected)
    proposal = Proposal.objects.get()

    lead_page = new_page()
    sign_in_on(lead_page, url, make_user("teamlead", username="tessa"))
    nav = lead_page.get_by_role("navigation", name="Main")
    expect(nav.get_by_text("1 open")).to_be_visible()
    nav.get_by_role("link", name="Proposals", exact=True).click()
    lead_page.get_by_role("link", name=f"Proposal {proposal.pk}").click()
    expect(lead_page.get_by_text("Proposed by sam")).to_be_visible()
    expect(
        lead_page.get_by_text("Reason for this change: Lost at the fair", exact=True)
    ).to_be_visible()
    expect(lead_page.get_by_text(f"{expected} leads match now; {expected} matched")).to_be_visible()
    expect(lead_page.get_by_text(f"On Hold {expected} → Lost")).to_be_visible()
    lead_page.get_by_role("button", name="Approve and apply").click()
    expect(lead_page).to_have_url(re.compile(r"/bulk/\d+/$"))
    expect(lead_page.get_by_text(f"Updated {expected} of {expected} leads")).to_be_visible()
    expect(nav.get_by_text("1 open")).to_have_count(0)
    assert get_client().count(WHERE) == 0

    page.get_by_role("link", name="My proposals").click()
    expect(page.get_by_text(f"Approved and applied: {expected} leads updated")).to_be_visible()
    page.reload()
    expect(page.get_by_text(f"Approved and applied: {expected} leads updated")).to_have_count(0)
    expect(page.get_by_role("cell", name="Approved", exact=True)).to_be_visible()
