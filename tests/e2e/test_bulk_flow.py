"""A team lead's bulk edit in a real Chromium: filter → Bulk edit → choose a
change and a reason → Review changes → Apply changes → results."""

import re

import pytest
from playwright.sync_api import expect

from leadsadmin.api import get_client
from tests.fixtures_bulk import IMMEDIATE_TASKS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_filter_bulk_edit_review_apply_and_see_the_results(
    page, sign_in, seeded_sandbox, live_server, settings
):
    settings.TASKS = IMMEDIATE_TASKS  # no worker runs in tests: the job runs in the request
    where = {"or": [{"and": [{"processStatuses": {"equals": "On Hold"}}]}]}
    expected = get_client().count(where)
    assert expected > 0
    sign_in(live_server.url, "teamlead")

    # Choosing the field swaps its row in through htmx: wait until it has settled.
    with page.expect_response(re.compile(r"/leads/condition/0")):
        page.get_by_label("Field").first.select_option("processStatuses")
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-added")).to_have_count(0)
    page.get_by_label("Value").first.select_option("On Hold")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()

    page.get_by_role("button", name="Bulk edit").or_(
        page.get_by_role("link", name="Bulk edit")
    ).click()
    expect(page).to_have_url(re.compile(r"/bulk/new\?.*f0=processStatuses"))
    expect(page.get_by_text(f"{expected} leads match the filter")).to_be_visible()

    page.get_by_label("Field to change").select_option("processStatuses")
    page.get_by_role("button", name="Add field to change").click()
    row = page.get_by_role("group", name="Process status")
    expect(row).to_be_visible()
    expect(row.get_by_label("Clear value")).not_to_be_checked()
    # The picker no longer offers the field already chosen.
    expect(
        page.get_by_label("Field to change").locator("option[value=processStatuses]")
    ).to_have_count(0)
    page.get_by_label("Process status", exact=True).select_option("Lost")
    page.get_by_label("Reason for this change").fill("Duplicate")
    page.get_by_role("button", name="Review changes").click()

    expect(page.get_by_text(f"You are about to update {expected} leads")).to_be_visible()
    expect(page.get_by_text(f"On Hold {expected} → Lost")).to_be_visible()
    expect(page.get_by_role("link", name="Back to edit")).to_have_attribute(
        "href", re.compile(r"^/bulk/\d+/edit$")
    )
    page.get_by_role("button", name="Apply changes").click()

    expect(page).to_have_url(re.compile(r"/bulk/\d+/$"))
    expect(page.get_by_text(f"Updated {expected} of {expected} leads")).to_be_visible()
    expect(page.get_by_role("heading", name="Errors")).to_be_visible()
    expect(page.get_by_role("heading", name="Conflicts")).to_be_visible()
    # Nothing failed, so there is no errors file to offer (issue 12).
    expect(page.get_by_role("link", name="Download errors as CSV")).to_have_count(0)
    progress = page.get_by_label(re.compile(r"Progress: \d+ of \d+ leads done"))
    expect(progress).to_have_attribute("value", str(expected))
    assert get_client().count(where) == 0
