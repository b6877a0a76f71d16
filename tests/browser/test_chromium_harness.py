"""The browser harness works on its own: Chromium loads a page with JS on and off."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title></head>
<body>
<div id="status">js-off</div>
<form method="post" action="/submit">
  <input name="message" value="">
  <button type="submit">Send</button>
</form>
<script>document.getElementById("status").textContent = "js-on";</script>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    """Serves PAGE on GET and echoes the posted body length and Accept-Language on POST."""

    def do_GET(self) -> None:
        self._send(PAGE)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        language = self.headers.get("Accept-Language", "")
        self._send(f"<p id=posted>{body.decode()}|{language}</p>".encode())

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def site() -> Iterator[str]:
    """A tiny HTTP server on a free loopback port, in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_script_runs_with_js(page_js: Page, site: str) -> None:
    page_js.goto(site)
    assert page_js.text_content("#status") == "js-on"


def test_script_does_not_run_without_js(page_nojs: Page, site: str) -> None:
    page_nojs.goto(site)
    assert page_nojs.text_content("#status") == "js-off"


def test_form_posts_without_js(page_nojs: Page, site: str) -> None:
    page_nojs.goto(site)
    page_nojs.fill("input[name=message]", "hello")
    with page_nojs.expect_navigation():
        page_nojs.click("button[type=submit]")
    assert page_nojs.text_content("#posted") == "message=hello|en-US"


@pytest.mark.parametrize("browser_locale", ["fr-FR"])
def test_locale_is_sent(page_nojs: Page, site: str) -> None:
    page_nojs.goto(site)
    page_nojs.fill("input[name=message]", "bonjour")
    with page_nojs.expect_navigation():
        page_nojs.click("button[type=submit]")
    text = page_nojs.text_content("#posted")
    assert text is not None
    assert text.split("|")[1].startswith("fr-FR")


def test_screenshot(page_nojs: Page, site: str, tmp_path: Path) -> None:
    page_nojs.goto(site)
    shot = tmp_path / "page.png"
    page_nojs.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
