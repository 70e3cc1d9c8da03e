"""Screenshots of every screen, for each role, at 1,280 px: docs/screens/<role>-<screen>.png.

    uv run python docs/screens.py                      # starts a demo of its own, then stops it
    uv run python docs/screens.py --url http://127.0.0.1:8000 --password PASSWORD

Without --url it runs `manage.py demo` on a free port with a temporary database, so
your own data is never touched. With --url it signs in to that running demo as its
users (salesops, teamlead, auditor, admin) and adds what the screens need: a saved
filter, a proposal, a bulk edit and its revert, and a lockout of the made-up user
name "locked-out-example".

Each screen is a step below that says which named URLs it shows; the URL conf
names that no screen shows are either in NOT_SCREENS (actions, downloads, the API)
or printed at the end, so a new page is not forgotten.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import django
import httpx
from django.urls import URLResolver, get_resolver
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 800
ROLES = ("salesops", "teamlead", "auditor", "admin")

# URL names that are not a screen of their own, and why.
NOT_SCREENS = {
    "home": "redirects to the role's landing page",
    "logout": "POST: signs out",
    "healthz": "JSON for a monitor",
    "favicon": "redirect to the static icon",
    "leads:load_where": "the leads page again, with a pasted where loaded",
    "leads:condition": "htmx fragment: one filter row (in the leads screens)",
    "leads:export": "download: CSV",
    "leads:detail_closed": "htmx fragment: closes the detail panel",
    "leads:saved_new": "POST: saves a filter (see salesops-saved-filters)",
    "leads:saved_delete": "POST: deletes a saved filter",
    "bulk:field_row": "htmx fragment: one change row (in the bulk and proposal forms)",
    "bulk:apply": "POST: applies a review",
    "bulk:cancel": "POST: cancels a running operation",
    "bulk:retry": "POST: retries what failed",
    "bulk:errors_csv": "download: CSV",
    "bulk:edit": "the bulk form again, refilled from a review (as teamlead-bulk-new)",
    "bulk:discard": "POST: discards a draft",
    "bulk:review_again": "POST: reviews the conflicting leads again",
    "sandbox:leads": "the sandbox API (JSON)",
    "sandbox:leads_count": "the sandbox API (JSON)",
    "sandbox:lead": "the sandbox API (JSON)",
    "audit:export": "download: CSV or JSON",
    "audit:operation_export": "download: CSV or JSON",
    "proposals:from_review": "POST: sends a team lead's review for approval",
    "proposals:edit": "the proposal form again, filled in from a draft (see proposal-new)",
    "proposals:send": "POST: sends a draft proposal",
    "proposals:approve": "POST: approves and applies",
    "proposals:reject": "POST: rejects",
    "proposals:withdraw": "POST: withdraws",
}

HOLD = urlencode([("c0", "0"), ("f0", "processStatuses"), ("op0", "equals")])
HOLD += "&v0=On+Hold"
REASONS = urlencode(
    [("c0", "0"), ("f0", "reason"), ("op0", "in"), ("v0", "Duplicate"), ("v0", "Test")]
)


@dataclass
class Screen:
    role: str  # who looks at it; "anonymous" before signing in
    name: str
    shows: tuple[str, ...]  # the URL names on screen
    take: Callable[[Tour], None]  # goes there; the shot is taken when it returns
    status: int  # what the page answers: a refusal's console error is expected


SCREENS: list[Screen] = []


def screen(role: str, name: str, *shows: str, status: int = 200):
    def register(take):
        SCREENS.append(Screen(role, name, shows, take, status))
        return take

    return register


@dataclass
class Tour:
    """One browser page per role, and what earlier screens made (ids)."""

    base: str
    pages: dict[str, Page]
    made: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    role: str = ""

    @property
    def page(self) -> Page:
        return self.pages[self.role]

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


# ---- anonymous -----------------------------------------------------------------


@screen("anonymous", "login", "login")
def login(tour: Tour) -> None:
    tour.go("/login/")


# ---- sales ops -----------------------------------------------------------------


@screen("salesops", "leads", "leads:index")
def salesops_leads(tour: Tour) -> None:
    expect(tour.go("/leads/").get_by_text(re.compile(r"[\d,]+ leads match"))).to_be_visible()


@screen("salesops", "leads-preview", "leads:index")
def salesops_preview(tour: Tour) -> None:
    page = tour.go(f"/leads/?{REASONS}&sort=-createdAt")
    expect(page.locator(".leads-table")).to_be_visible()
    page.locator(".where-panel summary").click()


@screen("salesops", "lead-detail", "leads:detail")
def salesops_lead_detail(tour: Tour) -> None:
    page = tour.page
    page.locator(".leads-table tbody tr").first.get_by_role("link").first.click()
    panel = page.get_by_role("complementary", name="Lead details")
    expect(panel.get_by_role("button", name="Close details")).to_be_visible()


@screen("salesops", "leads-out-of-date", "leads:index", "leads:condition")
def salesops_out_of_date(tour: Tour) -> None:
    page = tour.page
    page.get_by_role("button", name="Close details").click()
    page.get_by_label("Operator").first.select_option("not_in")
    expect(page.get_by_text("Out of date: press Preview")).to_be_visible()


@screen("salesops", "saved-filters", "leads:index")
def salesops_saved_filters(tour: Tour) -> None:
    page = tour.go(f"/leads/?{HOLD}")
    page.get_by_label("Filter name").fill("On hold")
    page.get_by_label("Share with everyone").check()
    page.get_by_role("button", name="Save filter").click()
    expect(page.get_by_role("link", name="On hold", exact=True)).to_be_visible()


@screen("salesops", "proposal-new", "proposals:new")
def salesops_proposal_new(tour: Tour) -> None:
    page = tour.go(f"/proposals/new?{HOLD}")
    add_change_row(page)
    page.get_by_label("Reason for this change").fill("Cold for a year: close them")


@screen("salesops", "proposal-draft", "proposals:detail")
def salesops_proposal_draft(tour: Tour) -> None:
    page = tour.page
    page.get_by_role("button", name="Review changes").click()
    expect(page.get_by_role("button", name="Send for approval")).to_be_visible()
    tour.made["proposal"] = int(re.search(r"/proposals/(\d+)/", page.url)[1])


@screen("salesops", "my-proposals", "proposals:mine")
def salesops_my_proposals(tour: Tour) -> None:
    tour.page.get_by_role("button", name="Send for approval").click()
    tour.go("/proposals/mine")


@screen("salesops", "403", "bulk:new", status=403)
def salesops_refused(tour: Tour) -> None:
    tour.go(f"/bulk/new?{HOLD}")


# ---- team lead -----------------------------------------------------------------


@screen("teamlead", "leads-selection", "leads:index")
def teamlead_selection(tour: Tour) -> None:
    page = tour.go(f"/leads/?{HOLD}")
    rows = page.locator(".leads-table tbody tr")
    for n in (0, 2, 3):
        rows.nth(n).get_by_role("checkbox").check()
        expect(rows.nth(n).get_by_role("checkbox")).to_be_checked()


def add_change_row(page: Page) -> None:
    page.get_by_label("Field to change").select_option("processStatuses")
    page.get_by_role("button", name="Add field to change").click()
    page.get_by_label("Process status", exact=True).select_option("Lost")


@screen("teamlead", "bulk-new", "bulk:new")
def teamlead_bulk_new(tour: Tour) -> None:
    page = tour.go(f"/bulk/new?{HOLD}")
    add_change_row(page)
    page.get_by_label("Reason for this change").fill("On hold since the fair: lost")


@screen("teamlead", "bulk-review", "bulk:review")
def teamlead_bulk_review(tour: Tour) -> None:
    page = tour.page
    page.get_by_role("button", name="Review changes").click()
    expect(page.get_by_role("button", name="Apply changes")).to_be_visible()


def apply_review(page: Page) -> None:
    confirmation = page.get_by_label(re.compile(r"^Type [\d,]+ to confirm"))
    if confirmation.count():
        label = confirmation.evaluate("el => el.labels[0].textContent")
        confirmation.fill(re.search(r"Type ([\d,]+)", label)[1].replace(",", ""))
    page.get_by_role("button", name="Apply changes").click()
    page.wait_for_url(re.compile(r"/bulk/\d+/$"))


@screen("teamlead", "bulk-operation-running", "bulk:operation")
def teamlead_running(tour: Tour) -> None:
    page = tour.page
    apply_review(page)
    tour.made["operation"] = int(re.search(r"/bulk/(\d+)/", page.url)[1])
    # The worker takes it within a second; the page then shows each chunk as it ends.
    expect(page.locator("#status-heading")).to_have_text("Running", timeout=10_000)


@screen("teamlead", "bulk-operation-finished", "bulk:operation")
def teamlead_finished(tour: Tour) -> None:
    heading = tour.page.locator("#status-heading")
    expect(heading).not_to_have_text(re.compile("Waiting|Running"), timeout=60_000)


@screen("teamlead", "revert", "bulk:revert")
def teamlead_revert(tour: Tour) -> None:
    page = tour.go(f"/bulk/{tour.made['operation']}/revert")
    page.get_by_label("Reason for this change").fill("Wrong filter: they were on hold for a reason")


@screen("teamlead", "revert-review", "bulk:review")
def teamlead_revert_review(tour: Tour) -> None:
    page = tour.page
    page.get_by_role("button", name="Review the revert").click()
    expect(page.get_by_role("button", name="Apply changes")).to_be_visible()


@screen("teamlead", "my-operations", "audit:index")
def teamlead_my_operations(tour: Tour) -> None:
    apply_review(tour.page)
    heading = tour.page.locator("#status-heading")
    expect(heading).not_to_have_text(re.compile("Waiting|Running"), timeout=60_000)
    tour.go("/audit/?mine=1")


@screen("teamlead", "proposals", "proposals:index")
def teamlead_proposals(tour: Tour) -> None:
    tour.go("/proposals/")


@screen("teamlead", "proposal-review", "proposals:detail")
def teamlead_proposal_review(tour: Tour) -> None:
    page = tour.go(f"/proposals/{tour.made['proposal']}/")
    expect(page.get_by_role("button", name="Approve and apply")).to_be_visible()


# ---- auditor -------------------------------------------------------------------


@screen("auditor", "audit", "audit:index")
def auditor_audit(tour: Tour) -> None:
    tour.go("/")


@screen("auditor", "audit-filtered", "audit:index")
def auditor_audit_filtered(tour: Tour) -> None:
    page = tour.page
    page.get_by_label("Reviewed by").select_option("teamlead")
    page.get_by_label("Field changed").select_option("processStatuses")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"user=teamlead"))


@screen("auditor", "audit-operation", "audit:operation")
def auditor_operation(tour: Tour) -> None:
    tour.go(f"/audit/operations/{tour.made['operation']}/")


@screen("auditor", "lead-history", "audit:lead")
def auditor_lead_history(tour: Tour) -> None:
    page = tour.page
    page.locator("table a[href*='/audit/leads/']").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"History of lead \d+"))).to_be_visible()
    tour.made["lead"] = int(re.search(r"/audit/leads/(\d+)/", page.url)[1])


@screen("auditor", "lead-search-not-found", "audit:lead_search")
def auditor_lead_search(tour: Tour) -> None:
    page = tour.go("/audit/")
    page.get_by_label("Lead history: lead id or email").fill("nobody@example.com")
    page.get_by_role("button", name="Show history").click()
    expect(page.get_by_text("No lead has the email nobody@example.com.")).to_be_visible()


@screen("auditor", "lead-detail", "leads:detail")
def auditor_lead_detail(tour: Tour) -> None:
    tour.go(f"/leads/{tour.made['lead']}/")


@screen("auditor", "proposal", "proposals:detail")
def auditor_proposal(tour: Tour) -> None:
    tour.go(f"/proposals/{tour.made['proposal']}/")


@screen("auditor", "403", "leads:index", status=403)
def auditor_refused(tour: Tour) -> None:
    tour.go("/leads/")


# ---- superuser -----------------------------------------------------------------


@screen("admin", "leads", "leads:index")
def admin_leads(tour: Tour) -> None:
    expect(tour.go("/").get_by_text(re.compile(r"[\d,]+ leads match"))).to_be_visible()


# ---- anonymous again: five wrong passwords lock a user name out ----------------


@screen("anonymous", "locked-out", "login", status=429)
def locked_out(tour: Tour) -> None:
    page = tour.page
    for _ in range(6):
        if page.get_by_text(re.compile("locked", re.I)).count():
            break
        tour.go("/login/")
        page.get_by_label("Username").fill("locked-out-example")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()


# ---- running it ----------------------------------------------------------------


def url_names(resolver=None, namespace: str = "") -> list[str]:
    """Every named URL of the URL conf but the admin's own."""
    names = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names += url_names(pattern, inner)
        else:
            names.append(namespace + (pattern.name or str(pattern.pattern)))
    return names


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def demo(count: int):
    """`manage.py demo` on a free port and a temporary database; stopped on exit."""
    port = _free_port()
    password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="leadsadmin-screens-") as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LEADS_API_", "SANDBOX_"))},
            "DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3",
            "DEMO_PASSWORD": password,
            "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
            # Small chunks sent at most 4 a second, so that the running operation is
            # seen running (it ended between two polls of its page otherwise); two wrong
            # passwords lock out (each costs a password hash: seconds on a busy machine).
            "BULK_CHUNK_SIZE": "10",
            "LEADS_API_MAX_PER_SECOND": "4",
            "AXES_FAILURE_LIMIT": "2",
        }
        command = [sys.executable, "manage.py", "demo", "--addrport", f"127.0.0.1:{port}"]
        with open(Path(tmp) / "demo.log", "w+b") as log:
            server = subprocess.Popen(
                [*command, "--count", str(count)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_serving(server, base, log)
                yield base, password
            finally:
                os.killpg(server.pid, signal.SIGINT)
                server.wait(timeout=30)


def _wait_until_serving(server: subprocess.Popen, base: str, log) -> None:
    deadline = time.monotonic() + 180
    while True:
        if server.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            sys.exit(f"The demo did not start:\n{log.read().decode(errors='replace')[-3000:]}")
        try:
            httpx.get(f"{base}/login/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)


def _watch(page: Page, tour: Tour) -> None:
    """Console errors and CSP violations become problems the run reports."""
    page.add_init_script(
        'document.addEventListener("securitypolicyviolation", (e) => '
        "console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"
    )
    page.on("console", lambda m: m.type == "error" and tour.problems.append(m.text))
    page.on("pageerror", lambda error: tour.problems.append(str(error)))


def tour_all(base: str, password: str) -> tuple[list[Screen], list[str]]:
    """Takes every screen in order; returns the screens taken and what went wrong."""
    OUT.mkdir(parents=True, exist_ok=True)
    taken, failed = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pages = {}
        for role in ("anonymous", *ROLES):
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            pages[role] = context.new_page()
            pages[role].set_default_timeout(15_000)
        tour = Tour(base, pages)
        for page in pages.values():
            _watch(page, tour)
        for role in ROLES:
            sign_in(pages[role], base, role, password)
        for shot in SCREENS:
            name = f"{shot.role}-{shot.name}"
            tour.role = shot.role
            began, seen = time.monotonic(), len(tour.problems)
            try:
                shot.take(tour)
                tour.page.wait_for_load_state("load")
                tour.page.screenshot(
                    path=OUT / f"{name}.png", full_page=True, animations="disabled"
                )
            except Exception as error:  # one screen failing must not lose the others
                failed.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
                continue
            if shot.status != 200:  # the browser reports the refusal itself
                refusal = f"status of {shot.status}"
                tour.problems[seen:] = [p for p in tour.problems[seen:] if refusal not in p]
            taken.append(shot)
            print(f"  {name}.png ({time.monotonic() - began:.1f} s)")
        browser.close()
    return taken, failed + [f"console: {problem}" for problem in tour.problems]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running demo, e.g. http://127.0.0.1:8000")
    parser.add_argument("--password", help="the demo users' password (with --url)")
    parser.add_argument("--count", type=int, default=1000, help="leads to seed (1000)")
    args = parser.parse_args()
    if args.url and not args.password:
        parser.error("--url needs --password")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadsadmin.settings")
    django.setup()
    started = time.monotonic()
    if args.url:
        taken, problems = tour_all(args.url.rstrip("/"), args.password)
    else:
        with demo(args.count) as (base, password):
            print(f"Demo on {base} ({time.monotonic() - started:.0f} s to start)")
            taken, problems = tour_all(base, password)
    shown = {name for shot in taken for name in shot.shows}
    print(f"{len(taken)} screens in {OUT.relative_to(ROOT)} ({time.monotonic() - started:.0f} s)")
    print(f"Not pages (NOT_SCREENS): {', '.join(n for n in url_names() if n in NOT_SCREENS)}")
    for name in url_names():
        if name not in shown and name not in NOT_SCREENS:
            print(f"  NO SCREEN: {name}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
