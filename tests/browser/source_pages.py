"""Helpers for browser tests of the source pages and the uploader (js/src/upload.js).

Import as ``from browser.source_pages import ...`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Dialog, Page

from live_server import LiveServer, make_instance

MIB = 1024 * 1024
SEGMENT = 4 * MIB  # docs/protocol.md, "Segment size"
UPLOAD_TIMEOUT_MS = 240_000

NewPage = Callable[..., Page]


@dataclass(frozen=True)
class Served:
    """A running server and what the organisation keeps offline."""

    server: LiveServer
    data_dir: Path
    identity: Path

    @property
    def base(self) -> str:
        """The source interface's base URL."""
        return self.server.source_url


@contextmanager
def serve(tmp_path: Path, *, max_upload_bytes: int | None = None) -> Iterator[Served]:
    """A fresh instance (with the organisation's size limit, if given) on loopback ports."""
    data_dir, identity, _recipient = make_instance(tmp_path)
    if max_upload_bytes is not None:
        config = data_dir / "tainik.toml"
        text = config.read_text()
        assert "max_upload_bytes = 0" in text
        limit = f"max_upload_bytes = {max_upload_bytes}"
        config.write_text(text.replace("max_upload_bytes = 0", limit))
    with LiveServer(data_dir, tmp_path / "logs") as server:
        yield Served(server, data_dir, identity)


# -- the server's disk --------------------------------------------------------------------------


def upload_folders(data_dir: Path) -> list[Path]:
    """The folders of unfinished uploads."""
    root = data_dir / "uploads"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def segment_files(folder: Path) -> dict[str, tuple[int, int]]:
    """``{segment file name: (inode, mtime_ns)}`` of the segments in ``folder``."""
    found: dict[str, tuple[int, int]] = {}
    for entry in os.scandir(folder):
        if entry.name.startswith("segment-") and entry.name.endswith(".age"):
            info = entry.stat(follow_symlinks=False)
            found[entry.name] = (info.st_ino, info.st_mtime_ns)
    return found


def received_count(data_dir: Path) -> int:
    """How many segments the server holds over all unfinished uploads."""
    return sum(len(segment_files(folder)) for folder in upload_folders(data_dir))


def sealed_containers(data_dir: Path) -> list[Path]:
    """The complete sealed files in the blob store."""
    return sorted((data_dir / "blobs").glob("*.sealed"))


# -- the pages ----------------------------------------------------------------------------------


def get_codename(page: Page, base: str) -> str:
    """Get a codename on the index page and continue to /lookup; returns the codename."""
    page.goto(base + "/")
    with page.expect_navigation():
        page.click("#get-codename")
    words = [w.strip() for w in page.locator("#codename span").all_inner_texts()]
    assert len(words) == 7, words
    with page.expect_navigation():
        page.click("#continue")
    assert page.url == base + "/lookup"
    return " ".join(words)


def log_in(page: Page, base: str, codename: str) -> None:
    """Log in on /login; lands on /lookup."""
    page.goto(base + "/login")
    page.fill("#codename", codename)
    with page.expect_navigation():
        page.click("#login")
    assert page.url == base + "/lookup", page.inner_text("main")


def wait_enhanced(page: Page) -> None:
    """Wait until upload.js has taken over the form."""
    page.wait_for_selector("#submit-form[data-enhanced=js]", state="attached", timeout=10_000)
    assert page.get_attribute("#upload-ui", "hidden") is None  # shown, empty while idle


def bar(page: Page) -> tuple[float, float]:
    """``(value, max)`` of the progress bar."""
    value, maximum = page.eval_on_selector("#upload-bar", "e => [e.value, e.max]")
    return float(value), float(maximum)


def wait_sent(page: Page, base: str, count: int) -> None:
    """Wait for the thank-you page of ``count`` items."""
    page.wait_for_url(base + f"/lookup?sent={count}", timeout=UPLOAD_TIMEOUT_MS)
    assert page.locator("#sent").is_visible()


def pump(page: Page, condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    """Wait for ``condition``, letting Playwright dispatch events (route handlers) meanwhile."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(25)


def upload_controls(page: Page) -> list[str]:
    """Which of the uploader's Pause button and bar show."""
    return [name for name in ("#upload-pause", "#upload-bar") if page.locator(name).is_visible()]


def throttle_upload(page: Page, bytes_per_second: int) -> None:
    """Chromium's own network throttling (DevTools): uploads leave at about this rate."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


# Every change of the uploader's status, bar and line, with the time (ms since the epoch, the
# browser's clock), handed to the test as it happens (so the record survives a navigation).
RECORDER = """() => {
  const start = () => {
    const ui = document.querySelector('#upload-ui');
    if (!ui || window.uploadRecorder) return;
    window.uploadRecorder = true;
    const bar = document.querySelector('#upload-bar');
    const note = () => window.tainikRecord({
      at: Date.now(),
      status: document.querySelector('#upload-status').textContent,
      detail: document.querySelector('#upload-detail').textContent,
      value: bar.value,
      max: bar.max,
      bar: !bar.hidden,
      pause: !document.querySelector('#upload-pause').hidden,
    });
    new MutationObserver(note).observe(ui, {
      subtree: true, childList: true, characterData: true, attributes: true,
    });
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}"""


def record_upload_ui(page: Page) -> list[dict[str, Any]]:
    """A list that fills with what the uploader shows, on this page and the next ones."""
    records: list[dict[str, Any]] = []

    def note(record: dict[str, Any]) -> None:
        records.append(record)

    page.expose_function("tainikRecord", note)
    page.add_init_script(f"({RECORDER})()")
    page.evaluate(RECORDER)
    return records


@dataclass
class LeaveDialogs:
    """The ``beforeunload`` dialogs a page opened; each is dismissed (stay) or accepted."""

    stay: bool = True
    seen: list[str] | None = None

    def attach(self, page: Page) -> LeaveDialogs:
        """Answer the page's dialogs from now on."""
        self.seen = []
        page.on("dialog", self._answer)
        return self

    def _answer(self, dialog: Dialog) -> None:
        assert self.seen is not None
        self.seen.append(dialog.type)
        if self.stay:
            dialog.dismiss()
        else:
            dialog.accept()


def make_file(path: Path, size: int) -> bytes:
    """Write ``size`` random bytes to ``path``; returns them."""
    content = os.urandom(size)
    path.write_bytes(content)
    return content
