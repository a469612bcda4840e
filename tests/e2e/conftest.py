"""Browser fixtures: Debian's chromium driven by Playwright (never `playwright install`),
headless, one browser per session and one fresh context per test, with JavaScript on
and off.

Every test gets a fresh person of its own (signed up through the frontend's /signup
form with requests, then the session cookie handed to the browser context), so their
first list starts empty, page 1 holds everything and the counter is exact; names are
still unique per test so a failure points at the test that made them. The tests that
are about signing up and logging in do it through the pages (``visitor_page``).

``page`` and ``visitor_page`` run each test with JavaScript on and off; a test whose
pages have no script to speak of narrows that with
``@pytest.mark.parametrize("javascript", [False])``. A Chromium navigation costs
about 0.1 s of CPU here, so tests share one browser and sign people up without it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from .ui import REPO, TIMEOUT, App, Person

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "tools" / "node" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(reason: str):
    """Without a browser (or axe-core) the suite can't run: skip on a laptop, fail in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests: `make tools` installs what they need)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, temporary user-data dir.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (tools/install-axe.sh puts it there; `make test` runs that)."""
    if not AXE.exists():
        _missing(f"{AXE} is missing: bash tools/install-axe.sh")
    return AXE.read_text()


@pytest.fixture(scope="session")
def app(stack) -> App:
    return App(stack)


@pytest.fixture
def unique() -> str:
    """A short tag to make this test's names unique."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def person(app: App) -> Person:
    """A fresh account for this test alone (its one list, "My list", is empty)."""
    return app.sign_up()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request) -> bool:
    return request.param


@pytest.fixture
def new_context(browser, app: App):
    """Make a context (its own cookies) with custom options (viewport...), signed in
    as ``person`` when one is given; closed after the test."""
    made = []

    def make(javascript: bool = True, person: Person | None = None, **options):
        context = browser.new_context(java_script_enabled=javascript, **options)
        context.set_default_timeout(TIMEOUT * 1000)
        made.append(context)
        if person is not None:
            app.sign_in(context, person)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context, person, javascript):
    """The test's person, signed in; JavaScript on or off, as the test is parametrized."""
    return new_context(javascript=javascript, person=person).new_page()


@pytest.fixture
def js_page(new_context, person):
    return new_context(javascript=True, person=person).new_page()


@pytest.fixture
def visitor_page(new_context, javascript):
    """Nobody signed in yet; JavaScript on or off, as the test is parametrized."""
    return new_context(javascript=javascript).new_page()
