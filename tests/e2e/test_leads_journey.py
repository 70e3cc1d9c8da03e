"""The sales ops journey in Chromium at 1280x800, by keyboard where a person would:
sign in, build a filter, preview, sort, page, open a lead and close it, export."""

import csv
import re

import pytest
from playwright.sync_api import expect

from leadsadmin.api import get_client
from leadsadmin.leads.columns import COLUMNS, DEFAULT_COLUMNS
from tests.e2e.conftest import fits_the_window, sign_in_on, watch_problems
from tests.e2e.test_leads_page import ROW_SWAP, settled

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REASONS = ["Test", "Duplicate", "Not Responding"]


def press_and_swap(page, key):
    """Presses `key` in a Field or Operator picker and waits for its row's swap."""
    with page.expect_response(ROW_SWAP):
        page.keyboard.press(key)
    settled(page)


def test_sales_ops_builds_previews_sorts_pages_opens_and_exports(
    small_page, make_user, seeded_sandbox, live_server
):
    page = small_page
    problems = watch_problems(page)
    expected = get_client().count({"reason": {"in": REASONS}})
    assert expected > 25  # so there is a second page

    sign_in_on(page, live_server.url, make_user("salesops"))
    expect(page.get_by_text("200 leads match")).to_be_visible()
    assert fits_the_window(page)

    # Field by typing its name; Tab leaves the search box for the operator.
    page.get_by_label("Type to search").first.focus()
    page.keyboard.type("Reason")
    press_and_swap(page, "Tab")
    expect(page.get_by_label("Field").first).to_have_value("reason")
    expect(page.get_by_label("Operator").first).to_be_focused()
    expect(page.get_by_text("Out of date: press Preview")).to_be_visible()
    press_and_swap(page, "ArrowDown")  # is not
    press_and_swap(page, "ArrowDown")  # is any of
    expect(page.get_by_label("Operator").first).to_have_value("in")

    # The options: narrow them by typing, tick one with the space bar.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Filter the options").first).to_be_focused()
    for reason in REASONS:
        page.keyboard.press("Control+A")
        page.keyboard.type(reason)
        page.keyboard.press("Enter")  # narrows, does not send the form
        page.keyboard.press("Tab")
        expect(page.get_by_role("checkbox", name=reason, exact=True)).to_be_focused()
        page.keyboard.press("Space")
        page.keyboard.press("Shift+Tab")
    expect(page.get_by_text("Chosen: Duplicate, Not Responding, Test")).to_be_visible()
    expect(page.get_by_text("200 leads match")).to_be_visible()  # not previewed yet

    page.get_by_role("button", name="Preview", exact=True).focus()
    page.keyboard.press("Enter")
    count = page.get_by_text(f"{expected:,} leads match")
    expect(count).to_be_visible()
    expect(page.locator(".match-count")).to_be_focused()
    expect(page.get_by_text("Out of date: press Preview")).to_be_hidden()
    assert fits_the_window(page)

    page.get_by_role("link", name="Email").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name="Email")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.get_by_role("link", name="Email")).to_be_focused()
    pages = -(-expected // 25)
    page.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Page 2 of {pages}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"sort=email&page=2"))
    assert fits_the_window(page)

    link = page.locator(".leads-table tbody tr").first.get_by_role("link")
    link.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("complementary", name="Lead details")
    expect(panel.get_by_role("button", name="Close details")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(link).to_be_focused()

    with page.expect_download() as download:
        page.get_by_role("button", name="Columns shown").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file))
    assert header == [COLUMNS[key].label for key in DEFAULT_COLUMNS]
    assert fits_the_window(page)
    assert problems == []


def test_a_selection_survives_paging_and_sorting_and_goes_to_bulk_edit(
    small_page, make_user, seeded_sandbox, live_server
):
    page = small_page
    problems = watch_problems(page, http_errors=False)
    sign_in_on(page, live_server.url, make_user("teamlead"))
    expect(page.get_by_text("0 leads selected")).to_be_visible()
    rows = page.locator(".leads-table tbody tr")
    first, second = rows.nth(0).get_by_role("checkbox"), rows.nth(1).get_by_role("checkbox")
    first.check()
    expect(page.get_by_text("1 lead selected")).to_be_visible()
    expect(first).to_be_focused()  # the table was swapped in again around it
    second.press("Space")
    expect(page.get_by_text("2 leads selected")).to_be_visible()
    chosen = [rows.nth(n).get_by_role("checkbox").get_attribute("value") for n in (0, 1)]

    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 8")).to_be_visible()
    rows.nth(0).get_by_role("checkbox").check()
    expect(page.get_by_text("3 leads selected")).to_be_visible()
    chosen.append(rows.nth(0).get_by_role("checkbox").get_attribute("value"))
    page.get_by_role("link", name="Email").click()
    expect(page.get_by_role("columnheader", name="Email")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.get_by_text("3 leads selected")).to_be_visible()
    page.reload()
    expect(page.get_by_text("3 leads selected")).to_be_visible()
    ids = ",".join(str(i) for i in sorted(map(int, chosen)))
    bulk = page.get_by_role("button", name="Bulk edit selected")
    expect(bulk).to_have_attribute("href", f"/bulk/new?ids={ids}")

    page.get_by_role("link", name="Select all 200 matching").click()
    expect(page.get_by_text("All 200 matching leads selected")).to_be_visible()
    expect(page.get_by_role("button", name="Bulk edit selected")).to_have_attribute(
        "href", "/bulk/new?"
    )
    page.get_by_role("link", name="Clear selection").click()
    expect(page.get_by_text("0 leads selected")).to_be_visible()
    assert problems == []
