"""Browser fixtures: Debian's chromium driven by Playwright (never `playwright install`),
headless, one fresh context per test, with JavaScript on and off.

Every test starts from an empty list (the writer's ``DELETE /v1/todos``), so page 1
holds everything and the counter is exact; names are still unique per test so a
failure points at the test that made the item.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from .ui import TIMEOUT, App

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(reason: str):
    """Without a browser the suite can't run: skip on a laptop, fail in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests: install chromium with tools/install-chromium.sh)")
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


@pytest.fixture
def app(stack) -> App:
    app = App(stack)
    app.clear()
    return app


@pytest.fixture
def unique() -> str:
    """A short tag to make this test's names unique."""
    return uuid.uuid4().hex[:8]


def _context(browser, *, javascript: bool, **options):
    return browser.new_context(java_script_enabled=javascript, **options)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request) -> bool:
    return request.param


def _fresh_page(browser, javascript: bool):
    """A page in a fresh context (own cookies, so its own session); closed afterwards."""
    context = _context(browser, javascript=javascript)
    context.set_default_timeout(TIMEOUT * 1000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser, javascript):
    """JavaScript on or off, as the test is parametrized."""
    yield from _fresh_page(browser, javascript)


@pytest.fixture
def js_page(browser):
    yield from _fresh_page(browser, True)


@pytest.fixture
def new_context(browser):
    """Make a context with custom options (viewport...); closed after the test."""
    made = []

    def make(javascript: bool = True, **options):
        context = _context(browser, javascript=javascript, **options)
        context.set_default_timeout(TIMEOUT * 1000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
