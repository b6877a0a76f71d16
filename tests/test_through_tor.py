"""End to end through the private Tor network (tests/tornet.py): the source pages in Chromium
with JavaScript off and on, ``tainik send`` surviving its Tor killed mid-upload, ``tainik
pull`` through the newsroom onion with and without the staff member's client-authorization
key, and then the canary and log scans of tests/browser/test_storage_scan.py over what those
runs left behind.

The server publishes its listeners itself (``[tor] enabled``, joined to the private network:
tests/onion_host.py). The session's network is shared; this module adds three tors (the
server's, a source's, a staff member's), started in parallel.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload

from browser.source_pages import get_codename, wait_enhanced, wait_sent
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS
from canary import files_under, holds, log_leaks
from live_server import LiveServer, make_instance
from newsroom.live import LiveStaffer, ready_staffer
from onion_host import (
    PUBLISH_TIMEOUT_S,
    CountingRelay,
    Onions,
    client_tor,
    enable_tor,
    grant_key,
    newnym,
    wait_answering,
    wait_published,
)
from source_client import open_sealed
from tornet import TorNetwork, TorNode

MIB = 1024 * 1024
# The server's temporary folder is its own (TMPDIR), scanned whole; the shared ones since the
# module began. (tests/browser/test_storage_scan.py scans all of /tmp for the same server.)
SHARED_TEMP = (Path("/var/tmp"), Path("/dev/shm"))
MAX_SCANNED = 200 * MIB
# The trove: several files, some MiB (segments are 4 MiB).
TROVE = {"cam1.bin": 6 * MIB, "cam2.bin": 3 * MIB, "notes.txt": 300 * 1024}


@dataclass
class Site:
    """The instance behind its onion services, and the tors that reach it."""

    network: TorNetwork
    server: LiveServer
    onions: Onions
    identity: Path
    source_tor: TorNode  # a source's tor (ExtendedErrors, no key)
    staff_tor: TorNode  # jo's tor, holding jo's client-authorization key
    staffer: LiveStaffer
    token_file: Path
    outside: Path  # the source's computer and the workstation: plaintext is expected there
    server_tmp: Path  # the server's TMPDIR
    canary: str = field(default_factory=lambda: "CANARY-" + secrets.token_hex(16))
    started: float = field(default_factory=lambda: time.time() - 2)
    codenames: list[str] = field(default_factory=list)
    sent_with_canary: int = 0  # items sent holding the canary, for the scan's last check

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir


@pytest.fixture(scope="module")
def site(tor_network: TorNetwork, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("through-tor")
    outside = tmp / "outside"
    outside.mkdir()
    data_dir, identity, _recipient = make_instance(tmp)
    staffer = ready_staffer(data_dir, "jo")
    token_file = outside / "token"
    token_file.write_text(staffer.api_token + "\n")
    enable_tor(data_dir, tor_network)
    onions = Onions.of(data_dir)  # the keys are made before tor first runs
    # What Tor Browser's key prompt, or a system tor's ClientOnionAuthDir, holds: the line
    # jo was handed (as 'tainik users add' and the admin page show it, once).
    staff_keys = outside / "jo-tor-keys"
    staff_keys.mkdir()
    (staff_keys / "newsroom.auth_private").write_text(grant_key(data_dir, "jo") + "\n")
    source_tor = client_tor(tor_network, "source")
    staff_tor = client_tor(tor_network, "staff", auth_dir=staff_keys)
    server_tmp = tmp / "server-tmp"
    server_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(server_tmp)}
    server = LiveServer(data_dir, tmp / "logs", env=env, start_timeout=PUBLISH_TIMEOUT_S)
    try:
        source_tor.start()
        staff_tor.start()
        with server:  # tainik serve starts its tor and publishes both onions first
            wait_published(server)
            for tor in (source_tor, staff_tor):
                tor.wait_bootstrapped()
            wait_answering(source_tor, onions.source)
            wait_answering(staff_tor, onions.newsroom)
            yield Site(
                tor_network,
                server,
                onions,
                identity,
                source_tor,
                staff_tor,
                staffer,
                token_file,
                outside,
                server_tmp,
            )
    finally:
        for tor in (source_tor, staff_tor):
            tor.stop()


def tainik(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tainik", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def onion_browser(browser: Browser, site: Site) -> Iterator[Browser]:
    """Chromium as Tor Browser sees an onion: through Tor's SOCKS port (``--proxy-server``:
    Chromium hands SOCKS5 the host name, never resolving it), and with the onion origin a
    secure context (Tor Browser treats every .onion so; the uploader needs
    ``crypto.subtle``, which browsers give secure contexts only)."""
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            f"--proxy-server=socks5://127.0.0.1:{site.network.client.socks_port}",
            f"--unsafely-treat-insecure-origin-as-secure={site.onions.source_url}",
        ],
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.mark.parametrize("js", [False, True], ids=["js-off", "js-on"])
def test_source_flow_in_chromium_through_tor(site: Site, onion_browser: Browser, js: bool) -> None:
    """The whole source flow on the source onion: a codename, a message and a file."""
    context = onion_browser.new_context(java_script_enabled=js)
    context.set_default_timeout(90_000)
    try:
        page = context.new_page()
        base = site.onions.source_url
        site.codenames.append(get_codename(page, base))
        page.fill("#message", f"Through Tor, JavaScript {'on' if js else 'off'}: {site.canary}")
        content = f"{site.canary} evidence\n".encode() * 4000  # ~200 KB
        upload = FilePayload(
            name=f"tor-{js}-{site.canary}.txt", mimeType="text/plain", buffer=content
        )
        if js:
            wait_enhanced(page)
            page.set_input_files("#files", upload)
            page.click("#send")
            wait_sent(page, base, 2)
        else:
            page.set_input_files("#files", upload)
            with page.expect_navigation():
                page.click("#send")
            assert page.url == base + "/lookup?sent=2", page.inner_text("main")
        site.sent_with_canary += 2
    finally:
        context.close()


def _bytes_held(data_dir: Path, before: set[Path], earlier: set[str]) -> int:
    """Sealed bytes the server holds of this send: the containers completed since ``before``,
    and the segments of its uploads (not in ``earlier``) not completed yet."""
    done = _new_containers(data_dir, before)
    completed = {p.name.split(".")[0] for p in done}
    held = sum(_size(p) for p in done)
    uploads = data_dir / "uploads"
    if uploads.is_dir():
        for folder in uploads.iterdir():
            if folder.name not in completed | earlier:
                held += sum(p.stat().st_size for p in folder.glob("segment-*.age"))
    return held


def _size(container: Path) -> int:
    """The bytes of a sealed container (a folder: manifest and segments)."""
    return sum(p.stat().st_size for p in container.rglob("*") if p.is_file())


def _upload_ids(data_dir: Path) -> set[str]:
    uploads = data_dir / "uploads"
    return {p.name for p in uploads.iterdir()} if uploads.is_dir() else set()


def _new_containers(data_dir: Path, before: set[Path]) -> list[Path]:
    return sorted(set((data_dir / "blobs").glob("*.sealed")) - before)


def test_send_survives_its_tor_killed_mid_upload(site: Site) -> None:
    """SIGKILL the source's tor mid-upload, restart it: the same run resumes (saying what is
    wrong meanwhile) and re-sends what the server lacked, not much more."""
    folder = site.outside / "trove"
    folder.mkdir()
    expected = {}
    for name, size in TROVE.items():
        data = site.canary.encode() + os.urandom(size - len(site.canary))
        (folder / name).write_bytes(data)
        expected[name] = hashlib.sha256(data).hexdigest()
    before = set((site.data_dir / "blobs").glob("*.sealed"))
    earlier = _upload_ids(site.data_dir)
    relay = CountingRelay(site.source_tor.socks_port)
    codename = site.outside / "codename.txt"
    with relay:
        sender = subprocess.Popen(
            [
                sys.executable, "-m", "tainik", "send",
                "--server", site.onions.source_url,
                "--proxy", relay.url,
                "--new-codename-out", str(codename),
                "--message", f"The trove, through Tor {site.canary}",
                *(str(folder / name) for name in TROVE),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while (
                _bytes_held(site.data_dir, before, earlier) < 4 * MIB
            ):  # a segment of cam1, at least
                assert sender.poll() is None, sender.communicate()
                assert time.monotonic() < deadline, "the upload did not progress"
                time.sleep(0.05)
            killed_at = time.monotonic()
            site.source_tor.kill()
            time.sleep(3)  # what was in flight inside the network lands, or is dropped
            held = _bytes_held(site.data_dir, before, earlier)
            site.source_tor.start()
            site.source_tor.wait_bootstrapped()
            _, stderr = sender.communicate(timeout=300)
        finally:
            if sender.poll() is None:
                sender.kill()
        after_kill = relay.sent_since(killed_at)
    assert sender.returncode == 0, stderr
    assert "Trying again in" in stderr  # not silent while Tor was down
    assert "Everything is delivered" in stderr
    site.codenames.append(codename.read_text().strip())
    site.sent_with_canary += len(TROVE) + 1
    containers = _new_containers(site.data_dir, before)
    assert len(containers) == len(TROVE) + 1  # the files and the message
    total = sum(_size(p) for p in containers)
    missing = total - held
    assert missing > 0, (held, total, sorted(_upload_ids(site.data_dir)), containers)
    assert after_kill <= 1.25 * missing, (after_kill, missing, held, total)
    opened = open_sealed(containers, site.identity, site.outside / "opened-trove")
    for name, digest in expected.items():
        assert hashlib.sha256(opened[name]).hexdigest() == digest


def test_pull_needs_the_staff_members_key(site: Site) -> None:
    """With jo's key in jo's tor, pull works; a tor without it is told at once what is
    missing (Tor's 0xF4), instead of retrying."""
    pulled = site.outside / "pulled"
    common = ["--server", site.onions.newsroom_url, "--token-file", str(site.token_file)]
    done = tainik("pull", *common, "--out", str(pulled), "--proxy", site.staff_tor.socks_url)
    assert done.returncode == 0, done.stderr
    assert list(pulled.rglob("*.sealed.tar")), done.stderr
    started = time.monotonic()
    refused = tainik(
        "pull", *common, "--out", str(site.outside / "no-key"), "--proxy", site.source_tor.socks_url
    )
    assert refused.returncode == 2, refused.stderr
    assert "requires client authorization, and this Tor holds no key for it" in refused.stderr
    assert time.monotonic() - started < 90
    assert not list((site.outside / "no-key").rglob("*.sealed.tar"))


def test_pull_fails_once_the_account_is_deactivated(site: Site) -> None:
    """``tainik users deactivate`` takes jo's key back from the running server's tor: once the
    descriptor without it is published, jo's tor is refused and pull says why (until then a
    cached descriptor may still lead in, where the ended token is refused instead)."""
    done = tainik("users", "deactivate", "jo", "--data", str(site.data_dir), timeout=60)
    assert done.returncode == 0, done.stderr
    common = ["--server", site.onions.newsroom_url, "--token-file", str(site.token_file)]
    deadline = time.monotonic() + 90
    while True:
        newnym(site.staff_tor)  # forget the cached descriptor, which still held the key
        done = tainik(
            "pull", *common, "--out", str(site.outside / "revoked"), "--proxy",
            site.staff_tor.socks_url, timeout=120,
        )  # fmt: skip
        if done.returncode == 2 or time.monotonic() > deadline:
            break
        assert done.returncode == 3, done.stderr  # reached the server: the token has ended
        time.sleep(2)
    assert done.returncode == 2, done.stderr
    assert "did not accept the client-authorization key" in done.stderr, done.stderr
    assert not list((site.outside / "revoked").rglob("*.sealed.tar"))


def test_no_plaintext_or_identifier_left_by_the_tor_runs(site: Site) -> None:
    """The scans of tests/browser/test_storage_scan.py, over the instance (its tor's files
    included), the server's log (its tor's notices included) and the temporary folders,
    after the runs above; then the canary is found in what the organisation opens (the scan
    was not vacuous)."""
    needle = site.canary.encode()
    roots = [site.data_dir, site.server.log_dir, site.server_tmp]
    found = [p for p in files_under(roots, since=None, max_size=MAX_SCANNED) if holds(p, needle)]
    assert not found, f"canary found: {found}"
    temp = [
        path
        for path in files_under(list(SHARED_TEMP), since=site.started, max_size=MAX_SCANNED)
        if holds(path, needle)
    ]
    assert not temp, f"canary found in temporary folders: {temp}"
    needles = {site.canary: "canary", **{c: "codename" for c in site.codenames}}
    listen = {site.server.source_port, site.server.newsroom_port}
    assert not log_leaks(site.server.log_text(), listen, needles)
    containers = sorted((site.data_dir / "blobs").glob("*.sealed"))
    opened = open_sealed(containers, site.identity, site.outside / "opened-all")
    assert site.sent_with_canary, "nothing was sent through Tor: run the whole module"
    assert sum(needle in content for content in opened.values()) == site.sent_with_canary
