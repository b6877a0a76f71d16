"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with JS on and off.

Shared by every test folder through tests/conftest.py (one browser per session).

Fixtures:

- ``browser`` (session): one Chromium for the whole session.
- ``browser_locale`` (function): the locale of new contexts, ``"en-US"`` unless a test
  overrides it, e.g. ``@pytest.mark.parametrize("browser_locale", ["ar-EG"])``.
- ``page_nojs`` / ``page_js`` (function): a page in a fresh context with JavaScript off / on.
- ``new_page`` (function): a factory ``new_page(js=..., locale=...)`` for more pages, each
  in its own fresh context (separate cookies), all closed after the test.
- ``live_server`` (function): a fresh instance served by ``tainik serve`` (see live_server.py).

Never run ``playwright install``: it downloads a browser; we use the Debian package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from live_server import LiveServer, make_instance

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm; use /tmp instead
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
DEFAULT_LOCALE = "en-US"

NewPage = Callable[..., Page]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (fails, never skips, when it is missing)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run 'make setup' (Debian packages 'chromium' and "
            "'chromium-driver'); never 'playwright install'"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_locale() -> str:
    """Locale (and Accept-Language) of new browser contexts; override with parametrize."""
    return DEFAULT_LOCALE


@pytest.fixture
def new_page(browser: Browser, browser_locale: str) -> Iterator[NewPage]:
    """Factory: ``new_page(js=True, locale=None)`` opens a page in its own fresh context."""
    contexts: list[BrowserContext] = []

    def factory(*, js: bool = True, locale: str | None = None) -> Page:
        context = browser.new_context(java_script_enabled=js, locale=locale or browser_locale)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page_nojs(new_page: NewPage) -> Page:
    """A page with JavaScript disabled (like Tor Browser at the Safest level)."""
    return new_page(js=False)


@pytest.fixture
def page_js(new_page: NewPage) -> Page:
    """A page with JavaScript enabled."""
    return new_page(js=True)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A new instance (``tainik init``) served by ``tainik serve`` on free loopback ports."""
    data_dir, _identity, _recipient = make_instance(tmp_path)
    with LiveServer(data_dir, tmp_path / "logs") as server:
        yield server
