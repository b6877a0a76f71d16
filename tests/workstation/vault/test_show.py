"""``vault show``: a static HTML view that headless Chromium opens from disk, with no script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from browser_fixtures import CHROMIUM
from tainik import crypto
from tainik.core.manifest import Kind
from tainik.workstation.vault import show
from tainik.workstation.vault.vault import Vault
from workstation.vault.support import clip, import_into, seal, sidecar


def test_view_shows_thread_with_thumbnails(
    vault: Vault, org_identity: crypto.Identity, tmp_path: Path
) -> None:
    folder = tmp_path / "pulled" / "7"
    video = clip(tmp_path / "clip.mp4", "testsrc2", overlay="red", y=40, seconds=3)
    parts = [
        (Kind.MESSAGE, b"Footage from <b>block B</b> attached.", b""),
        (Kind.FILE, video.read_bytes(), b"cam3 &amp; co.mp4"),
        (Kind.REPLY, b"Received, thank you.", b""),
        (Kind.FILE, os.urandom(3000), b"notes.bin"),
    ]
    for order, (kind, data, name) in enumerate(parts, 1):
        container = seal(data, folder, org_identity.recipient, kind=kind, name=name)
        sidecar(container, kind=kind, created_at=f"2025-05-0{order}T10:00:00Z", order=order)
    import_into(vault, [org_identity], [tmp_path / "pulled"])
    index = show.render(vault, tmp_path / "view", jobs=2)

    seen = browse(index, tmp_path / "thread.png")
    assert seen["title"] == "Vault"
    texts = seen["items"]
    assert isinstance(texts, list)
    assert len(texts) == 4
    assert "Footage from <b>block B</b> attached." in texts[0]  # escaped, not markup
    assert "cam3 &amp; co.mp4" in texts[1]  # shown as written, not decoded
    assert "Received, thank you." in texts[2]
    assert seen["replies"] == 1
    assert seen["thumbnail_width"] == 320  # the thumbnail loaded from disk despite the CSP
    assert seen["scripts"] == 0
    assert "no thumbnail" in texts[3]


# Chromium runs in a child process: the session's other Playwright (tests/browser) holds this
# one's event loop, and two synchronous Playwright instances cannot share a thread.
BROWSE = """
import json, sys
from playwright.sync_api import sync_playwright
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS
index, shot = sys.argv[1], sys.argv[2]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(index)
    title = page.title()
    page.click("text=quiet heron")
    result = {
        "title": title,
        "items": page.locator(".item").all_inner_texts(),
        "replies": page.locator(".reply").count(),
        "thumbnail_width": page.locator(".file img").first.evaluate("i => i.naturalWidth"),
        "scripts": page.locator("script").count(),
    }
    page.screenshot(path=shot, full_page=True)
    browser.close()
print(json.dumps(result))
"""


def browse(index: Path, screenshot: Path) -> dict[str, object]:
    """Open the view in headless Chromium with JavaScript off; what the thread page shows."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'make setup' (Debian package 'chromium')")
    tests = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", BROWSE, index.as_uri(), str(screenshot)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tests,
        env={**os.environ, "PYTHONPATH": str(tests)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    value = json.loads(done.stdout)
    assert isinstance(value, dict)
    return value
