"""The leads page in a real Chromium: build, preview, sort, page, reload."""

import re

import pytest
from playwright.sync_api import expect

from leadsadmin.api import get_client
from tests.e2e.conftest import sign_in_on, watch_problems

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WHERE = {
    "or": [
        {"and": [{"reason": {"in": ["Test", "Duplicate"]}}]},
        {"and": [{"year": {"greater_than": 2020}}]},
    ]
}


# The htmx request that swaps a condition row after its field or operator changed.
ROW_SWAP = re.compile(r"/leads/condition/\d+")


def settled(page):
    """Waits until no htmx request is in flight and the last swap has settled:
    htmx wires up swapped-in controls only then, and a change made to a control
    before that sends nothing."""
    expect(
        page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    ).to_have_count(0)


def choose(page, control, value):
    """Selects in a Field or Operator picker and waits for its row to be swapped
    in and settled."""
    with page.expect_response(ROW_SWAP):
        control.select_option(value)
    settled(page)


def test_build_a_two_group_filter_preview_sort_page_and_reload(
    page, sign_in, seeded_sandbox, live_server
):
    expected = get_client().count(WHERE)
    assert expected > 25  # so there is a second page
    sign_in(live_server.url, "salesops")
    expect(page.get_by_text("200 leads match")).to_be_visible()

    choose(page, page.get_by_label("Field").first, "reason")
    expect(page.get_by_label("Operator").first).to_have_value("equals")
    choose(page, page.get_by_label("Operator").first, "in")
    options = page.get_by_label("Value").first
    expect(options.get_by_role("checkbox")).not_to_have_count(0)
    options.get_by_label("Filter the options").fill("t")
    options.get_by_role("checkbox", name="Test", exact=True).check()
    options.get_by_role("checkbox", name="Duplicate", exact=True).check()

    page.get_by_role("button", name="Add OR group").click()
    expect(page.get_by_label("Field")).to_have_count(2)
    expect(page.get_by_text("Group 2")).to_be_visible()
    settled(page)
    choose(page, page.get_by_label("Field").nth(1), "year")
    expect(
        page.get_by_label("Operator").nth(1).locator("option[value=greater_than]")
    ).to_have_count(1)
    choose(page, page.get_by_label("Operator").nth(1), "greater_than")
    expect(page.get_by_label("Value").nth(1)).to_have_attribute("type", "number")
    page.get_by_label("Value").nth(1).fill("2020")

    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()
    expect(page).to_have_url(re.compile(r"f0=reason&op0=in&v0=Duplicate&v0=Test&c1=1&f1=year"))

    page.get_by_role("link", name="Email").click()
    email_header = page.get_by_role("columnheader", name="Email")
    expect(email_header).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"sort=email"))
    pages = -(-expected // 25)
    expect(page.get_by_text(f"Page 1 of {pages}")).to_be_visible()

    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text(f"Page 2 of {pages}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"page=2"))
    first_row = page.locator(".leads-table tbody tr").first.inner_text()

    page.reload()
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()
    expect(page.get_by_text(f"Page 2 of {pages}")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Email")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.get_by_label("Field").first).to_have_value("reason")
    expect(page.get_by_label("Operator").first).to_have_value("in")
    expect(page.get_by_label("Field").nth(1)).to_have_value("year")
    expect(page.get_by_label("Value").nth(1)).to_have_value("2020")
    assert page.locator(".leads-table tbody tr").first.inner_text() == first_row

    page.go_back()
    expect(page.get_by_text(f"Page 1 of {pages}")).to_be_visible()

    page.get_by_text("Columns and page size", exact=True).click()
    page.get_by_label("Leads per page").select_option("50")
    expect(page.get_by_text(f"Page 1 of {-(-expected // 50)}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"sort=email&size=50"))


def test_back_after_sort_next_and_reload_raises_no_errors(
    page, sign_in, seeded_sandbox, live_server
):
    """Back after a reload restores the page through htmx's history (its swap
    events carry no target): the page's scripts must not throw."""
    problems = watch_problems(page)
    sign_in(live_server.url, "salesops")
    page.get_by_role("link", name="Email").click()
    expect(page).to_have_url(re.compile(r"sort=email$"))
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 8")).to_be_visible()
    page.reload()
    page.go_back()
    expect(page.get_by_text("Page 1 of 8")).to_be_visible()
    settled(page)
    assert problems == []


def test_invalid_input_is_marked_at_the_condition(page, sign_in, seeded_sandbox, live_server):
    sign_in(live_server.url, "salesops")
    choose(page, page.get_by_label("Field").first, "updatedAt")
    choose(page, page.get_by_label("Operator").first, "in")
    expect(page.get_by_text("Several values: separate them with commas.")).to_be_visible()
    page.get_by_label("Value").first.fill("last tuesday")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text("“last tuesday” is not a date and time")).to_be_visible()
    expect(page.get_by_text("nothing was searched")).to_be_visible()
    expect(page.get_by_label("Value").first).to_have_value("last tuesday")


def test_the_lead_detail_opens_beside_the_table(page, sign_in, seeded_sandbox, live_server):
    sign_in(live_server.url, "salesops")
    page.locator(".leads-table tbody tr").first.get_by_role("link").click()
    panel = page.get_by_role("complementary", name="Lead details")
    expect(panel.get_by_role("heading", name="Vehicle wishes")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/leads/$"))
    expect(panel.get_by_role("button", name="Close details")).to_be_focused()
    panel.get_by_role("button", name="Close details").click()
    expect(panel).to_be_hidden()

    # The keyboard: Enter opens the panel, Escape closes it and the focus goes back.
    link = page.locator(".leads-table tbody tr").nth(1).get_by_role("link")
    link.focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("button", name="Close details")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(link).to_be_focused()


def test_the_builder_works_with_javascript_off(new_page, make_user, seeded_sandbox, live_server):
    page = new_page(java_script_enabled=False)
    sign_in_on(page, live_server.url, make_user("salesops"))
    expect(page.get_by_text("200 leads match")).to_be_visible()

    # No htmx: choosing a field changes nothing until the form is sent.
    page.get_by_label("Field").first.select_option("reason")
    page.get_by_role("button", name="Add OR group").click()
    expect(page.get_by_label("Field")).to_have_count(2)
    expect(page.get_by_label("Operator").first).to_have_value("equals")
    expect(page.get_by_text("Choose a value.")).to_be_visible()  # reason, no value yet

    page.get_by_label("Value").first.select_option("Test")
    page.get_by_label("Field").nth(1).select_option("year")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text("Enter a value.")).to_be_visible()  # year, no value yet
    page.get_by_label("Operator").nth(1).select_option("less_than")
    page.get_by_label("Value").nth(1).fill("2000")
    page.get_by_role("button", name="Preview", exact=True).click()

    where = {
        "or": [
            {"and": [{"reason": {"equals": "Test"}}]},
            {"and": [{"year": {"less_than": 2000}}]},
        ]
    }
    expected = get_client().count(where)
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()

    page.get_by_role("button", name="Remove condition").first.click()
    expect(page.get_by_label("Field")).to_have_count(1)
    expect(page.get_by_label("Field").first).to_have_value("year")
    expected = get_client().count({"year": {"less_than": 2000}})
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()


def test_type_to_search_chooses_the_field(page, sign_in, seeded_sandbox, live_server):
    sign_in(live_server.url, "salesops")
    search = page.get_by_label("Type to search").first
    expect(search).to_have_attribute("list", "lead-field-names")
    search.fill("exterior col")
    with page.expect_response(ROW_SWAP):
        search.press("Tab")
    settled(page)
    expect(page.get_by_label("Field").first).to_have_value("exterior")
    expect(page.get_by_label("Operator").first).to_have_value("equals")
    expect(page.get_by_label("Operator").first.locator("option:checked")).to_have_text("has")
    page.get_by_label("Type to search").first.fill("color")
    with page.expect_response(ROW_SWAP):
        page.get_by_label("Type to search").first.press("Tab")
    settled(page)
    expect(page.get_by_text("“color” matches 2 fields")).to_be_visible()
    expect(page.get_by_label("Field").first).to_have_value("exterior")

    # By keyboard: Add condition, and the focus is in the new row's search box.
    page.get_by_role("button", name="Add condition").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Type to search").nth(1)).to_be_focused()
    settled(page)
    page.keyboard.type("year")
    with page.expect_response(ROW_SWAP):
        page.keyboard.press("Tab")
    settled(page)
    expect(page.get_by_label("Field").nth(1)).to_have_value("year")


def test_the_page_fits_the_window_and_the_console_stays_clean(
    page, sign_in, seeded_sandbox, live_server
):
    """No console errors (CSP violations are reported there), no failed requests
    (a missing favicon or static file), and at 1400px the page does not scroll
    sideways: the table scrolls inside its own box."""
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    sign_in(live_server.url, "salesops")
    choose(page, page.get_by_label("Field").first, "reason")
    page.get_by_label("Value").first.select_option("Test")
    page.get_by_role("button", name="Preview", exact=True).click()
    settled(page)
    page.locator(".leads-table tbody tr").first.get_by_role("link").click()
    page.keyboard.press("Escape")
    settled(page)
    sizes = page.evaluate(
        """() => {
            const box = document.querySelector('.leads-table-wrap').getBoundingClientRect();
            return {page: document.documentElement.scrollWidth, window: innerWidth,
                    tableRight: box.right};
        }"""
    )
    assert sizes["page"] <= sizes["window"]
    assert sizes["tableRight"] <= sizes["window"]
    assert problems == []


def test_date_times_are_shown_in_the_browsers_time_zone(
    new_page, make_user, seeded_sandbox, live_server
):
    page = new_page(timezone_id="America/New_York")
    sign_in_on(page, live_server.url, make_user("salesops"))
    expect(page.get_by_text("200 leads match")).to_be_visible()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text("Times in America/New_York")).to_be_visible()


def test_save_the_filter_on_screen_load_it_and_delete_it(
    page, sign_in, seeded_sandbox, live_server
):
    sign_in(live_server.url, "salesops")
    choose(page, page.get_by_label("Field").first, "reason")
    page.get_by_label("Value").first.select_option("Test")  # not previewed yet
    page.get_by_label("Filter name").fill("Test reasons")
    page.get_by_label("Share with everyone").check()
    page.get_by_role("button", name="Save filter").click()
    expect(page.get_by_text("Saved the filter “Test reasons”.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/leads/\?c0=0&f0=reason&op0=equals&v0=Test$"))

    page.get_by_role("button", name="Clear filter").click()
    expect(page.get_by_text("200 leads match")).to_be_visible()
    page.get_by_role("link", name="Test reasons").click()
    expect(page.get_by_label("Value").first).to_have_value("Test")
    expected = get_client().count({"reason": {"equals": "Test"}})
    expect(page.get_by_text(f"{expected:,} leads match")).to_be_visible()

    page.get_by_role("button", name="Delete saved filter Test reasons").click()
    expect(page.get_by_text("Deleted the saved filter.")).to_be_visible()
    expect(page.get_by_role("link", name="Test reasons")).to_have_count(0)


def test_at_1280px_every_column_scrolls_in_the_tables_box_not_the_page(
    page, sign_in, seeded_sandbox, live_server
):
    """Every column shown, the sales rep by name (its id beside it): the table
    scrolls sideways inside its own box, the page never does."""
    from leadsadmin.leads.columns import COLUMNS

    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(live_server.url, "salesops")
    page.goto(f"{live_server.url}/leads/?cols=" + ",".join(COLUMNS))
    expect(page.locator(".leads-table tbody tr")).to_have_count(25)
    sizes = page.evaluate(
        """() => {
            const wrap = document.querySelector('.leads-table-wrap');
            return {page: document.documentElement.scrollWidth, window: innerWidth,
                    tableRight: wrap.getBoundingClientRect().right,
                    inner: wrap.scrollWidth, outer: wrap.clientWidth};
        }"""
    )
    assert sizes["page"] <= sizes["window"], sizes
    assert sizes["tableRight"] <= sizes["window"], sizes
    assert sizes["inner"] > sizes["outer"], sizes  # the box scrolls: every column is there
    rep = page.locator(".leads-table tbody tr").first.locator("td").nth(6)
    expect(rep).to_have_text(re.compile(r"^\w+ \w+ #\d+$"))  # the sales rep by name, then id
