"""The auditor's journey in Chromium at 1280x800, by keyboard alone (Tab, Enter,
arrows) with the focus visible at every step: sign in → the audit → filter by who
→ a lead's history found by email → the operation's record → its CSV and JSON,
and the list's CSV. No console error, no CSP violation, no sideways scroll."""

import csv
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from leadsadmin.sandbox.models import Lead
from tests.e2e.conftest import REPORT_CSP_VIOLATIONS, fits_the_window
from tests.fixtures_bulk import filter_qs

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOLD = filter_qs(("processStatuses", "equals", "On Hold"))

FOCUS_IS_VISIBLE = """() => {
  const element = document.activeElement;
  if (!element || element === document.body || !element.matches(":focus-visible")) return false;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== "none";
}"""


def tab_to(page, target, presses=60):
    """Presses Tab until `target` has the focus (it must be reachable so), and
    checks that the focus shows."""
    for _ in range(presses):
        if target.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(target).to_be_focused()
    assert page.evaluate(FOCUS_IS_VISIBLE), "the focus does not show"


def read_csv(download) -> list[list[str]]:
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def test_auditor_follows_an_operation_by_keyboard_alone(
    small_page, make_user, seeded_sandbox, live_server, prepare_operation, apply_and_run, lost
):
    page = small_page
    problems = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    tessa = make_user("teamlead", username="tessa")
    operation = apply_and_run(prepare_operation(HOLD, lost, user=tessa, reason="Lost at the fair"))
    make_user("teamlead", username="other")  # a second name to choose from
    assert operation.updated_count == operation.total > 0
    pinned = operation.pinned.values_list("lead_id", flat=True)
    lead = Lead.objects.filter(id__in=pinned).exclude(email=None).exclude(email="").first()

    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    make_user("auditor", username="audrey")
    page.keyboard.type("audrey")
    page.keyboard.press("Tab")
    page.keyboard.type("pw")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/audit/")  # the auditor's landing page
    expect(page.get_by_role("heading", name="Audit", exact=True)).to_be_visible()
    assert fits_the_window(page)

    tab_to(page, page.get_by_label("Reviewed by"))
    page.keyboard.type("tessa")  # a closed select takes the option typed
    expect(page.get_by_label("Reviewed by")).to_have_value("tessa")
    tab_to(page, page.get_by_role("button", name="Apply filters"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"user=tessa"))
    expect(page.locator(".audit-count")).to_contain_text("1 operation")
    assert fits_the_window(page)

    with page.expect_download() as listed:
        tab_to(page, page.locator(".audit-count").get_by_role("link", name="CSV"))
        page.keyboard.press("Enter")
    rows = read_csv(listed.value)
    assert rows[1][:2] == [str(operation.pk), "Finished"]
    assert len(rows) == 2

    tab_to(page, page.get_by_label("Lead history: lead id or email"))
    page.keyboard.type(lead.email)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"History of lead {lead.id}")).to_be_visible()
    expect(page.get_by_text("Process status: On Hold → Lost")).to_be_visible()
    assert fits_the_window(page)

    tab_to(page, page.get_by_role("link", name=f"Operation {operation.pk}"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Operation {operation.pk}")).to_be_visible()
    expect(page.get_by_text("Lost at the fair")).to_be_visible()
    expect(page.get_by_role("link", name="Revert this operation")).to_have_count(0)
    assert fits_the_window(page)

    leads = page.get_by_role("region", name="Leads, before → after")
    with page.expect_download() as record:
        tab_to(page, leads.get_by_role("link", name="CSV"))
        page.keyboard.press("Enter")
    rows = read_csv(record.value)
    assert len(rows) == 1 + operation.total
    assert str(lead.id) in {row[0] for row in rows[1:]}

    # The JSON is a download too (an attachment with a file name).
    with page.expect_download() as record:
        tab_to(page, leads.get_by_role("link", name="JSON"))
        page.keyboard.press("Enter")
    assert record.value.suggested_filename.endswith(".json")
    exported = json.loads(Path(record.value.path()).read_text())
    assert problems == []
    assert exported["operation"]["operation"] == operation.pk
    assert len(exported["leads"]) == operation.total
