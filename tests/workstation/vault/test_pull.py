"""End to end: a source submits through the no-JS form, staff reply, ``tainik pull`` fetches
(resuming after a SIGKILL, through SOCKS5 when asked), ``vault import`` verifies and stores,
and the thread shows the message and the reply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from live_server import LiveServer, make_instance
from newsroom.live import ready_staffer
from socks5 import Socks5Proxy
from source_client import SourceClient
from workstation.vault.relay import SlowRelay

BIG = 24 * 1024 * 1024


def tainik(*args: str) -> list[str]:
    return [sys.executable, "-m", "tainik", *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(tainik(*args), capture_output=True, text=True, check=False)


@dataclass
class Newsroom:
    server: LiveServer
    identity: Path
    token_file: Path
    headers: dict[str, str]
    big: bytes


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:
    """A live server where a source sent a message and two files, and staff replied."""
    tmp = tmp_path_factory.mktemp("newsroom")
    data_dir, identity, _recipient = make_instance(tmp)
    staffer = ready_staffer(data_dir, "jo")
    big = os.urandom(BIG)
    with LiveServer(data_dir, tmp / "logs") as server:
        with SourceClient(server.source_url) as source:
            source.generate()
            source.submit_ok(
                "The videos are from block B, cameras 3 and 4.",
                [("cam3.mp4", os.urandom(200_000)), ("cam4.mp4", big)],
            )
        headers = {"Authorization": f"Bearer {staffer.api_token}"}
        api = f"{server.newsroom_url}/api/v1"
        [listed] = httpx.get(f"{api}/sources", headers=headers).json()["items"]
        answer = httpx.post(
            f"{api}/sources/{listed['id']}/replies",
            headers=headers,
            json={"text": "Thank you. Are the cameras' clocks right?"},
        )
        assert answer.status_code == 201, answer.text
        token_file = tmp / "token"
        token_file.write_text(staffer.api_token + "\n")
        yield Newsroom(server, identity, token_file, headers, big)


def pull(newsroom: Newsroom, out: Path, *extra: str, server: str | None = None) -> list[str]:
    return tainik(
        "pull",
        "--server", server or newsroom.server.newsroom_url,
        "--token-file", str(newsroom.token_file),
        "--out", str(out),
        *extra,
    )  # fmt: skip


def test_submit_pull_import_thread(newsroom: Newsroom, tmp_path: Path) -> None:
    pulled = tmp_path / "pulled"
    first = subprocess.run(pull(newsroom, pulled), capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "4 fetched, 0 already here, 0 still uploading, 0 failed" in first.stderr
    tars = sorted(pulled.rglob("*.sealed.tar"))
    assert len(tars) == 4
    for tar in tars:
        sidecar = json.loads(
            tar.with_name(tar.name.removesuffix(".sealed.tar") + ".json").read_text()
        )
        assert sidecar["server"] == newsroom.server.newsroom_url
        assert sidecar["tar_size"] == tar.stat().st_size
    again = subprocess.run(pull(newsroom, pulled), capture_output=True, text=True, check=False)
    assert "0 fetched, 4 already here" in again.stderr  # idempotent

    vault = tmp_path / "vault"
    assert (
        run("vault", "init", str(vault), "-i", str(newsroom.identity), "--no-passphrase").returncode
        == 0
    )
    imported = run("vault", "import", str(vault), str(pulled))
    assert imported.returncode == 0, imported.stderr
    assert "4 imported" in imported.stderr
    listed = run("vault", "list", str(vault))
    lines = listed.stdout.splitlines()
    message = next(i for i, line in enumerate(lines) if "The videos are from block B" in line)
    reply = next(i for i, line in enumerate(lines) if "Are the cameras' clocks right?" in line)
    assert message < reply
    assert sum("cam3.mp4" in line or "cam4.mp4" in line for line in lines) == 2
    checked = run("vault", "verify", str(vault))
    assert checked.returncode == 0, checked.stderr


def test_sigkill_during_pull_then_resume(newsroom: Newsroom, tmp_path: Path) -> None:
    pulled = tmp_path / "pulled"
    with SlowRelay(("127.0.0.1", newsroom.server.newsroom_port), rate=4 * 1024 * 1024) as relay:
        process = subprocess.Popen(
            pull(newsroom, pulled, server=relay.url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        part: Path | None = None
        while time.monotonic() < deadline and process.poll() is None:
            parts = [p for p in pulled.rglob(".*.part") if p.stat().st_size > 4 * 1024 * 1024]
            if parts:
                part = parts[0]
                break
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert part is not None, "the big download never started"
        kept = part.stat().st_size
        assert 0 < kept < BIG
        sealed_id = part.name.removeprefix(".").removesuffix(".sealed.tar.part")
        assert not (part.parent / f"{sealed_id}.sealed.tar").exists()  # nothing half-named
        assert not (part.parent / f"{sealed_id}.json").exists()

        relay.rate = 0
        resumed = subprocess.run(
            pull(newsroom, pulled, server=relay.url), capture_output=True, text=True, check=False
        )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{sealed_id}: resuming at byte {kept} of" in resumed.stderr
    assert not list(pulled.rglob(".*.part"))
    vault = tmp_path / "vault"
    run("vault", "init", str(vault), "-i", str(newsroom.identity), "--no-passphrase")
    imported = run("vault", "import", str(vault), str(pulled))
    assert imported.returncode == 0, imported.stderr
    checked = run("vault", "verify", str(vault))
    assert checked.returncode == 0, checked.stderr
    stored = {p.stat().st_size: p for p in (vault / "objects").rglob("*") if p.is_file()}
    assert stored[BIG].read_bytes() == newsroom.big


def test_pull_through_socks5(newsroom: Newsroom, tmp_path: Path) -> None:
    """A socks5:// proxy is used as socks5h:// (the name goes to the proxy), and it says so."""
    pulled = tmp_path / "pulled"
    url = f"http://localhost:{newsroom.server.newsroom_port}"
    with Socks5Proxy() as proxy:
        given = proxy.url.replace("socks5h://", "socks5://")
        done = subprocess.run(
            pull(newsroom, pulled, "--proxy", given, server=url),
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "4 fetched" in done.stderr
    assert ("localhost", newsroom.server.newsroom_port, True) in proxy.requests
    assert f"--proxy {given} is used as {proxy.url}" in done.stderr


def test_stale_partial_from_another_archive_is_not_spliced(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    """A .part left from an archive with another ETag: If-Range makes the server send it all."""
    pulled = tmp_path / "pulled"
    assert subprocess.run(pull(newsroom, pulled), capture_output=True, check=False).returncode == 0
    [tar] = [t for t in pulled.rglob("*.sealed.tar") if t.stat().st_size > BIG]
    good = tar.read_bytes()
    part = tar.with_name(f".{tar.name}.part")
    part.write_bytes(b"\xff" * 5_000_000)  # not a prefix of the archive
    part.with_name(part.name + ".json").write_text(
        json.dumps({"etag": '"stale"', "size": len(good)})
    )
    tar.unlink()
    tar.with_name(tar.name.removesuffix(".sealed.tar") + ".json").unlink()
    done = subprocess.run(pull(newsroom, pulled), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "1 fetched, 3 already here" in done.stderr
    assert tar.read_bytes() == good


def test_refused_token_is_a_key_error(newsroom: Newsroom, tmp_path: Path) -> None:
    bad = tmp_path / "token"
    bad.write_text("not-a-token\n")
    done = subprocess.run(
        tainik(
            "pull", "--server", newsroom.server.newsroom_url, "--token-file", str(bad),
            "--out", str(tmp_path / "pulled"),
        ),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert "The server refused the token (401)" in done.stderr
    assert "not-a-token" not in done.stderr
