"""Playwright in the system Chromium (Playwright cannot download its own browser here)."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls that
    # the fixtures make around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Opens a page in a browser context of its own, with Playwright's context
    options (JavaScript off, another time zone…); every context closes at teardown."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


# Chromium reports a CSP violation to the page as an event; this makes it a console
# error too, so one listener catches both. An init script is not subject to the CSP.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def small_page(browser):
    """A 1280x800 page (a laptop screen), as the journeys are checked at."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def watch_problems(page, *, http_errors: bool = True) -> list[str]:
    """The list that console errors, CSP violations, uncaught page errors (and, if
    asked, answers of 400 or more) are appended to as the page is used."""
    problems: list[str] = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    if http_errors:
        page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    return problems


def fits_the_window(page) -> bool:
    """No horizontal scroll."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def sign_in_on(page, live_server_url: str, user):
    """Signs `user` (password "pw") in through the login form."""
    page.goto(f"{live_server_url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def sign_in(page, make_user):
    """Signs a new user of the given kind in through the login form."""

    def sign_in_as(live_server_url: str, kind: str):
        user = make_user(kind)
        sign_in_on(page, live_server_url, user)
        return user

    return sign_in_as
