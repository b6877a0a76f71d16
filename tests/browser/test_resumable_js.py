"""The browser's resumable uploader (js/src/upload.js, docs/protocol.md) in Chromium, JS on.

- A 300 MiB file is sealed in the page and uploaded segment by segment; the page is reloaded
  in the middle, the source logs in again in a new browser context, sees the unfinished upload
  with its progress, chooses the same file again, and only the missing segments are sent.
  ``tainik open`` gives back exactly the original, and no plaintext canary is left in the
  instance or in the temporary folders.
- A small file and a message: progress shows, Pause holds back new segments, Resume finishes.
- Segment PUTs that fail on the network are retried by the page on its own.
- With JavaScript off, the same page is not enhanced (the classic form posts).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, Route

from browser.source_pages import (
    MIB,
    SEGMENT,
    UPLOAD_TIMEOUT_MS,
    NewPage,
    Served,
    bar,
    get_codename,
    log_in,
    pump,
    received_count,
    segment_files,
    upload_folders,
    wait_enhanced,
    wait_sent,
)
from canary import scan as canary_scan
from live_server import LiveServer, make_instance
from source_client import blob_state, open_sealed, open_sealed_paths

IN_FLIGHT = 2  # the page keeps at most two segment PUTs in flight
BIG_SIZE = 300 * MIB
SMALL_SIZE = 9 * MIB
CANARY_EVERY = MIB
RANDOM_BLOCK = 16 * MIB
READ_CHUNK = 4 * MIB
MAX_SCANNED = 400 * 1000 * 1000
TEMP_ROOTS = (Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
SEGMENT_URL = re.compile(r"/api/uploads/([a-z2-7]{26})/segments/(\d+)$")
SEGMENT_ROUTE = re.compile(r"/api/uploads/[a-z2-7]{26}/segments/\d+$")
# What the page shows after a retry and while paused (English, the default locale).
RETRYING = "The connection dropped; retrying…"
PAUSED = "Paused."


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A fresh instance served on free loopback ports, with its identity file."""
    data_dir, identity, _recipient = make_instance(tmp_path)
    with LiveServer(data_dir, tmp_path / "logs") as server:
        yield Served(server, data_dir, identity)


# -- files ------------------------------------------------------------------------------------


def make_file(path: Path, size: int, canary: bytes) -> str:
    """Write ``size`` random bytes with ``canary`` at every MiB; returns the SHA-256 (hex)."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        written = 0
        while written < size:
            block = bytearray(os.urandom(min(RANDOM_BLOCK, size - written)))
            for offset in range(0, len(block) - len(canary) + 1, CANARY_EVERY):
                block[offset : offset + len(canary)] = canary
            out.write(block)
            digest.update(block)
            written += len(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- the server's disk --------------------------------------------------------------------------


def wait_quiet(data_dir: Path, folder: Path, quiet_s: float = 1.5) -> dict[str, tuple[int, int]]:
    """Wait until ``folder``'s segments stop changing for ``quiet_s``; return them."""
    deadline = time.monotonic() + 30
    last = segment_files(folder)
    since = time.monotonic()
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() < deadline, "the upload did not stop after the reload"
        time.sleep(0.1)
        now = segment_files(folder)
        if now != last:
            last, since = now, time.monotonic()
    return last


# -- the canary scan ----------------------------------------------------------------------------


def scan(
    roots: list[Path], needle: bytes, *, since: float | None, skip: Path | None = None
) -> tuple[list[Path], int]:
    """Files under ``roots`` holding ``needle`` (over 400 MB left out), and how many were
    scanned."""
    return canary_scan(roots, needle, since=since, max_size=MAX_SCANNED, skip=skip)


# -- the pages ----------------------------------------------------------------------------------


def segment_puts(page: Page) -> list[tuple[str, int]]:
    """A list that fills with ``(upload id, index)`` of each segment PUT the page makes."""
    puts: list[tuple[str, int]] = []

    def record(request: Request) -> None:
        match = SEGMENT_URL.search(request.url)
        if request.method == "PUT" and match:
            puts.append((match.group(1), int(match.group(2))))

    page.on("request", record)
    return puts


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_reload_midway_then_resume_sends_only_missing_segments(
    served: Served, new_page: NewPage, tmp_path: Path
) -> None:
    began = time.monotonic()
    started = time.time() - 2  # file systems round mtimes; be generous
    canary = ("CANARY-" + secrets.token_hex(16)).encode("ascii")
    tag = secrets.token_hex(6)
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    original = plain_dir / f"footage-{tag}.bin"
    original_sha = make_file(original, BIG_SIZE, canary)
    segments = math.ceil(BIG_SIZE / SEGMENT)
    timings: dict[str, float] = {"generate_s": time.monotonic() - began}

    # First session: get a codename, choose the file, send, and reload midway.
    page = new_page(js=True)
    codename = get_codename(page, served.base)
    wait_enhanced(page)
    page.set_input_files("#files", str(original))
    clicked = time.monotonic()
    page.click("#send")
    deadline = clicked + 120
    first_segment_at = None
    while (count := received_count(served.data_dir)) < 12:
        assert time.monotonic() < deadline, f"only {count} segments arrived in 120 s"
        assert served.server.running, served.server.log_text()
        if count and first_segment_at is None:
            first_segment_at = time.monotonic()
        time.sleep(0.02)
    reload_at = time.monotonic()
    first_segment_at = first_segment_at or reload_at
    page.reload()
    wait_enhanced(page)
    [folder] = upload_folders(served.data_dir)
    upload_id = folder.name
    before = wait_quiet(served.data_dir, folder)
    present = {int(name[len("segment-") : -len(".age")]) for name in before}
    assert 0 < len(present) < segments, f"{len(present)} of {segments} segments present"
    assert not blob_state(served.data_dir).complete
    timings["hash_pass_1_s"] = first_segment_at - clicked
    pass_1_s = max(reload_at - first_segment_at, 1e-3)
    timings["upload_pass_1_MiBps"] = (count - 1) * SEGMENT / MIB / pass_1_s
    page.close()

    # A new session (a new browser context): the unfinished upload is listed with its progress.
    page = new_page(js=True)
    log_in(page, served.base, codename)
    wait_enhanced(page)
    item = page.locator("li.unfinished-upload")
    item.wait_for(timeout=10_000)
    assert item.count() == 1
    percent = math.floor(len(present) / segments * 100)  # IEEE doubles, as in the page
    listed = item.inner_text()
    assert original.name in listed, listed
    assert "314.6 MB" in listed, listed  # 300 MiB in decimal units, as CLDR has them
    assert re.search(rf"\b{percent}% received\b", listed), (listed, percent)
    assert page.locator("#unfinished-box").is_visible()

    # Choose the same file again and send: only the missing segments travel.
    assert segment_files(folder) == before
    puts = segment_puts(page)
    page.set_input_files("#files", str(original))
    resumed_at = time.monotonic()
    page.click("#send")
    page.wait_for_function(
        "() => document.querySelector('#upload-status').textContent.startsWith('Encrypting')",
        timeout=UPLOAD_TIMEOUT_MS,
        polling=50,
    )
    hashed_at = time.monotonic()
    wait_sent(page, served.base, 1)
    done_at = time.monotonic()
    missing = set(range(segments)) - present
    assert {upload_id} == {sealed_id for sealed_id, _index in puts}
    sent = sorted(index for _id, index in puts)
    assert sent == sorted(missing), f"re-sent {sorted(set(sent) & present)}; sent {sent}"

    # The server committed the upload; the segments it had kept were not replaced.
    assert blob_state(served.data_dir).complete == {upload_id}
    assert not upload_folders(served.data_dir)
    container = served.data_dir / "blobs" / f"{upload_id}.sealed"
    after = segment_files(container)
    assert len(after) == segments
    replaced = sorted(name for name, stamp in before.items() if after[name] != stamp)
    assert not replaced, f"segments present before the resume were re-uploaded: {replaced}"
    timings["hash_pass_2_s"] = hashed_at - resumed_at
    timings["upload_pass_2_MiBps"] = len(missing) * SEGMENT / MIB / (done_at - hashed_at)

    # The organisation opens it: exactly the original.
    opened_at = time.monotonic()
    [opened] = open_sealed_paths([container], served.identity, tmp_path / "opened")
    assert opened.name == original.name
    assert opened.stat().st_size == BIG_SIZE
    assert sha256_file(opened) == original_sha
    opened.unlink()
    timings["open_s"] = time.monotonic() - opened_at

    # No plaintext on the server's disk, in its log or in the temporary folders.
    scanned_at = time.monotonic()
    hits, scanned = scan([served.data_dir, tmp_path / "logs"], canary, since=None)
    assert scanned >= segments + 3, scanned  # segments, manifest, database, config
    assert not hits, f"canary found in the instance: {hits}"
    hits, _count = scan([served.data_dir], original.name.encode(), since=None)
    assert not hits, f"the file name is stored in the clear: {hits}"
    hits, scanned = scan(list(TEMP_ROOTS), canary, since=started, skip=tmp_path)
    assert scanned > 0
    assert not hits, f"canary found in temporary folders: {hits}"
    timings["scan_s"] = time.monotonic() - scanned_at
    timings["total_s"] = time.monotonic() - began
    print(
        "\nresumable 300 MiB: "
        + ", ".join(f"{name}={value:.1f}" for name, value in timings.items())
        + f"; segments present at reload {len(present)}/{segments}"
    )


def test_progress_pause_and_resume(served: Served, new_page: NewPage, tmp_path: Path) -> None:
    tag = secrets.token_hex(6)
    original = tmp_path / f"small-{tag}.bin"
    content = os.urandom(SMALL_SIZE)
    original.write_bytes(content)
    message = f"a note MESSAGE-{tag}\nsecond line, «quoted»"
    total = SMALL_SIZE + len(message.encode())  # the page counts the message in UTF-8 bytes

    page = new_page(js=True)
    get_codename(page, served.base)
    wait_enhanced(page)
    assert page.get_attribute("#submit-form", "data-enhanced") == "js"
    assert bar(page)[0] == 0

    # Hold every segment PUT of the file until the test lets it through (the message, one
    # small segment, goes first and is let through).
    held: list[Route] = []
    passing = False

    def hold(route: Route) -> None:
        body = route.request.post_data_buffer or b""
        if passing or route.request.method != "PUT" or len(body) < MIB:
            route.continue_()
        else:
            held.append(route)

    page.route(SEGMENT_ROUTE, hold)
    page.fill("#message", message)
    page.set_input_files("#files", str(original))
    page.click("#send")
    pump(page, lambda: len(held) == IN_FLIGHT, "the first segment PUTs")

    # Pause while two segments are in flight: they finish, but nothing new starts.
    page.click("#upload-pause")
    assert page.inner_text("#upload-pause").strip() == "Resume"
    assert page.inner_text("#upload-status").strip() == PAUSED
    for route in held:
        route.continue_()
    pump(page, lambda: received_count(served.data_dir) == IN_FLIGHT, "the released segments")
    page.wait_for_function(
        f"() => document.querySelector('#upload-bar').value >= {IN_FLIGHT * SEGMENT}",
        timeout=10_000,
    )
    value, maximum = bar(page)
    assert (value, maximum) == (len(message.encode()) + IN_FLIGHT * SEGMENT, total)
    detail = page.inner_text("#upload-detail").strip()
    assert detail == "8.4 MB / 9.4 MB", detail  # paused: no rate, no time left
    page.wait_for_timeout(1500)
    assert len(held) == IN_FLIGHT, "a segment PUT started while paused"
    assert received_count(served.data_dir) == IN_FLIGHT, "a segment arrived while paused"
    assert bar(page)[0] == value
    assert len(blob_state(served.data_dir).complete) == 1  # the message, sent first

    # Resume: the rest goes, with a rate, and the file arrives too.
    passing = True
    page.click("#upload-pause")
    assert page.inner_text("#upload-pause").strip() == "Pause"
    wait_sent(page, served.base, 2)
    containers = sorted((served.data_dir / "blobs").glob("*.sealed"))
    assert len(containers) == 2
    opened = open_sealed(containers, served.identity, tmp_path / "opened")
    assert opened.pop(original.name, None) == content, f"{original.name} differs or is missing"
    assert list(opened.values()) == [message.encode("utf-8")], f"left over: {list(opened)}"


def test_failed_segment_puts_are_retried(served: Served, new_page: NewPage, tmp_path: Path) -> None:
    original = tmp_path / f"retried-{secrets.token_hex(6)}.bin"
    content = os.urandom(SMALL_SIZE)
    original.write_bytes(content)
    page = new_page(js=True)
    get_codename(page, served.base)
    wait_enhanced(page)
    aborted: list[str] = []

    def fail_twice(route: Route) -> None:
        if route.request.method == "PUT" and len(aborted) < 2:
            aborted.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(SEGMENT_ROUTE, fail_twice)
    puts = segment_puts(page)
    page.set_input_files("#files", str(original))
    page.click("#send")
    page.wait_for_function(
        f"() => document.querySelector('#upload-status').textContent === {RETRYING!r}",
        timeout=20_000,
        polling=20,
    )
    wait_sent(page, served.base, 1)
    assert len(aborted) == 2
    segments = math.ceil(SMALL_SIZE / SEGMENT)
    assert len(puts) == segments + 2, puts
    assert {index for _id, index in puts} == set(range(segments))
    containers = sorted((served.data_dir / "blobs").glob("*.sealed"))
    assert len(containers) == 1
    assert open_sealed(containers, served.identity, tmp_path / "opened") == {original.name: content}


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, new_page: NewPage
) -> None:
    """The organisation's size limit is checked in the page before hashing (and again by the
    server, tests/server/test_uploads_api.py): nothing is uploaded."""
    data_dir, _identity, _recipient = make_instance(tmp_path)
    config = data_dir / "tainik.toml"
    config.write_text(
        config.read_text().replace("max_upload_bytes = 0", "max_upload_bytes = 100000")
    )
    original = tmp_path / "too-large.bin"
    original.write_bytes(os.urandom(200_000))
    with LiveServer(data_dir, tmp_path / "logs") as server:
        page = new_page(js=True)
        get_codename(page, server.source_url)
        wait_enhanced(page)
        page.set_input_files("#files", str(original))
        page.click("#send")
        page.wait_for_function(
            "() => document.querySelector('#upload-status').className === 'error'",
            timeout=10_000,
        )
        status = page.inner_text("#upload-status")
        assert "too-large.bin is larger than this server accepts" in status
        assert page.url == server.source_url + "/lookup"
    assert not upload_folders(data_dir)
    assert not list((data_dir / "blobs").glob("*.sealed"))


def test_without_javascript_the_form_is_not_enhanced(served: Served, new_page: NewPage) -> None:
    page = new_page(js=False)
    get_codename(page, served.base)
    assert page.get_attribute("#submit-form", "data-enhanced") is None
    assert page.get_attribute("#submit-form", "action") == "/submit"
    assert page.get_attribute("#submit-form", "enctype") == "multipart/form-data"
    assert page.get_attribute("#upload-ui", "hidden") is not None
    assert not page.locator("#upload-ui").is_visible()
