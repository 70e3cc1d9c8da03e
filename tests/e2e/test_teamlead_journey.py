"""The team lead's bulk edit in Chromium at 1280x800, by keyboard alone (Tab, Enter,
Space, typing into focused controls): filter → select → Bulk edit selected → the
changes → review → Back to edit → review again → apply → Retry failed → Review
these again → apply. Every page: no console error, no CSP violation, no
horizontal scroll. Then a job that ends while its tab is in the background."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.running import bulk_operation_run
from leadsadmin.sandbox.models import Lead
from tests.e2e.conftest import fits_the_window, sign_in_on, watch_problems
from tests.e2e.test_leads_page import settled
from tests.fixtures_bulk import DUMMY_TASKS, IMMEDIATE_TASKS, filter_qs

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

State = BulkOperation.State
MAKE = "Journeycar"


@pytest.fixture
def journey_leads(seeded_sandbox):
    """Eight leads of make Journeycar: two already Lost with reason Duplicate, one
    holding a colour the API no longer accepts (it fails), the rest plain."""
    ids = list(Lead.objects.order_by("id").values_list("id", flat=True)[:8])
    Lead.objects.filter(id__in=ids).update(make=MAKE, processStatuses="On Hold", reason="Test")
    Lead.objects.filter(id__in=ids[:2]).update(processStatuses="Lost", reason="Duplicate")
    Lead.objects.filter(id=ids[2]).update(exterior=["Retired colour"])
    return ids


def press(page, key="Enter"):
    page.keyboard.press(key)


# Where the focus is from `element`: "here", or the key that moves towards it.
FOCUS_WAY = """element => {
    const active = document.activeElement;
    if (element === active) return element.matches(":focus-visible") ? "here" : "unseen";
    if (!active || active === document.body) return "Tab";
    return active.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_PRECEDING
        ? "Shift+Tab" : "Tab";
}"""


def tab_to(page, locator, *, limit=40):
    """Presses Tab (or Shift+Tab, for a control above) until `locator` has the
    focus, as a person moves through the page, and checks the focus is visible."""
    for _ in range(limit):
        way = locator.evaluate(FOCUS_WAY)
        assert way != "unseen", f"{locator} has the focus but does not show it"
        if way == "here":
            return
        page.keyboard.press(way)
    raise AssertionError(f"Tab never reached {locator}")


def choose(page, select, label):
    """Picks an option of a focused select by typing its first letters."""
    tab_to(page, select)
    page.keyboard.type(label)
    expect(select.locator("option:checked")).to_have_text(label)


def checked_page(page, problems):
    settled(page)
    assert fits_the_window(page), page.url
    assert problems == [], page.url


def add_field(page, label):
    picker = page.get_by_label("Field to change")
    choose(page, picker, label)
    tab_to(page, page.get_by_role("button", name="Add field to change"))
    with page.expect_response(re.compile(r"/bulk/new/field")):
        press(page)
    settled(page)


def test_team_lead_bulk_edits_by_keyboard_reviews_again_retries_and_resolves(
    small_page, make_user, journey_leads, live_server, settings
):
    settings.TASKS = IMMEDIATE_TASKS  # no worker runs in tests: the job runs in the request
    settings.BULK_CONFIRM_THRESHOLD = 5  # so the six leads ask for their number
    page = small_page
    problems = watch_problems(page)
    ids = journey_leads
    sign_in_on(page, live_server.url, make_user("teamlead", username="tessa"))

    # The filter: Make is Journeycar, typed.
    page.get_by_label("Type to search").first.focus()
    page.keyboard.type("Make")
    with page.expect_response(re.compile(r"/leads/condition/0")):
        press(page, "Tab")
    settled(page)
    expect(page.get_by_label("Operator").first).to_have_value("equals")
    press(page, "Tab")
    page.keyboard.type(MAKE)
    tab_to(page, page.get_by_role("button", name="Preview", exact=True))
    press(page)
    expect(page.get_by_text("8 leads match")).to_be_visible()
    checked_page(page, problems)

    # A row's checkbox by Space, then every lead of the filter.
    tab_to(page, page.get_by_role("checkbox", name=f"Select lead {ids[0]}"))
    press(page, "Space")
    expect(page.get_by_text("1 lead selected")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Select all 8 matching"))
    press(page)
    expect(page.get_by_text("All 8 matching leads selected")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Bulk edit selected"))
    press(page)
    expect(page).to_have_url(re.compile(r"/bulk/new\?.*f0=make"))
    expect(page.get_by_text("8 leads match the filter")).to_be_visible()
    checked_page(page, problems)

    # The changes: Process status Lost, Reason Duplicate, and the reason for them.
    add_field(page, "Process status")
    choose(page, page.get_by_label("Process status", exact=True), "Lost")
    add_field(page, "Reason")
    choose(page, page.get_by_label("Reason", exact=True), "Duplicate")
    tab_to(page, page.get_by_label("Reason for this change"))
    page.keyboard.type("Spring fair dupes")
    tab_to(page, page.get_by_role("button", name="Review changes").last)
    press(page)
    expect(page.get_by_text("6 leads will change; 2 already have these values")).to_be_visible()
    expect(page.get_by_text("Reason for this change: Spring fair dupes")).to_be_visible()
    checked_page(page, problems)

    # Back to edit keeps the form as it was; reviewing again leaves one draft.
    tab_to(page, page.get_by_role("link", name="Back to edit"))
    press(page)
    expect(page.get_by_label("Process status", exact=True)).to_have_value("Lost")
    expect(page.get_by_label("Reason", exact=True)).to_have_value("Duplicate")
    expect(page.get_by_label("Reason for this change")).to_have_value("Spring fair dupes")
    expect(page.get_by_text("8 leads match the filter")).to_be_visible()
    expect(page.get_by_role("heading", name="Your drafts")).to_be_visible()
    checked_page(page, problems)
    tab_to(page, page.get_by_role("button", name="Review changes").last)
    press(page)
    expect(page.get_by_text("6 leads will change; 2 already have these values")).to_be_visible()
    draft = BulkOperation.objects.get(state=State.REVIEWED)
    assert BulkOperation.objects.filter(state=State.DISCARDED).count() == 1

    # Someone else edits a lead between the review and Apply: a conflict.
    Lead.objects.filter(id=ids[4]).update(
        firstName="Changed", updatedAt=timezone.now()
    )  # after the review (so a conflict), and before the review of it below
    tab_to(page, page.get_by_label("Type 6 to confirm"))
    page.keyboard.type("6")
    press(page)
    expect(page).to_have_url(re.compile(rf"/bulk/{draft.pk}/$"))
    expect(page.get_by_text("Updated 4 of 6 leads.")).to_be_visible()
    checked_page(page, problems)

    # The failed lead is fixed; Retry failed sends it again (its box is ticked).
    Lead.objects.filter(id=ids[2]).update(exterior=[])
    expect(page.get_by_label(re.compile("Also retry the 1 lead"))).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Retry failed"))
    press(page)
    expect(page.get_by_text("Updated 1 of 1 leads.")).to_be_visible()
    checked_page(page, problems)

    # The conflict: expected and found, then a fresh review of just that lead.
    page.go_back()
    row = page.locator(".conflicts-table").get_by_role("row").nth(1)
    # Lead, field, expected at review, found, when it changed.
    expect(row.get_by_role("cell")).to_have_text(
        [
            str(ids[4]),
            "Process status",
            "On Hold",
            "On Hold",
            re.compile(r"^changed at \d{4}-.*another field changed$"),
        ]
    )
    tab_to(page, page.get_by_role("button", name="Review these again"))
    press(page)
    expect(page.get_by_text("You are about to update 1 lead")).to_be_visible()
    checked_page(page, problems)
    tab_to(page, page.get_by_role("button", name="Apply changes"))
    press(page)
    expect(page.get_by_text("Updated 1 of 1 leads.")).to_be_visible()
    checked_page(page, problems)

    statuses = Lead.objects.filter(id__in=ids).values_list("processStatuses", "reason")
    assert set(statuses) == {("Lost", "Duplicate")}


# The Page Visibility API as a browser reports a tab put in the background and back.
SET_VISIBILITY = """state => {
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def set_visibility(page, state):
    page.evaluate(SET_VISIBILITY, state)


def test_a_job_ending_in_a_background_tab_changes_the_title_and_says_so(
    small_page, make_user, seeded_sandbox, live_server, settings
):
    settings.TASKS = DUMMY_TASKS  # the test runs the job itself, while the tab is hidden
    page = small_page
    problems = watch_problems(page)
    user = make_user("teamlead", username="tessa")
    sign_in_on(page, live_server.url, user)
    page.goto(f"{live_server.url}/bulk/new?{filter_qs(('id', 'in', '1,2,3'))}")
    add_field(page, "Reason")
    choose(page, page.get_by_label("Reason", exact=True), "Duplicate")
    page.get_by_label("Reason for this change").fill("Duplicates")
    page.get_by_role("button", name="Review changes").last.click()
    page.get_by_role("button", name="Apply changes").click()
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    operation = BulkOperation.objects.get()

    set_visibility(page, "hidden")
    bulk_operation_run(operation.pk, BulkOperation.objects.get().run_token)
    expect(page).to_have_title(f"✓ Finished — Bulk operation {operation.pk}")
    notice = page.locator("#job-ended-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("ended while this tab was in the background")
    expect(page.locator("#job-announcer")).to_contain_text(
        f"Bulk operation {operation.pk} finished: Updated"
    )

    set_visibility(page, "visible")
    expect(page).to_have_title(re.compile(r"^Bulk operation \d+ · Leads Admin$"))
    expect(notice).to_be_visible()
    assert problems == []
