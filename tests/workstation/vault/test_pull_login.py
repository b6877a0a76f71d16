"""The workstation path in one step, against a live server: `tainik pull login` gets a read-only
token (password and code asked, never on the command line) and saves it with mode 0600; `tainik
pull --into-vault` fetches and imports, each item in its source's thread; and tars downloaded by
hand from the newsroom's pages land in the same thread, not in "unsorted"."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from live_server import LiveServer, make_instance
from newsroom.live import LiveStaffer, ready_staffer, web_login
from source_client import SourceClient


def tainik(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tainik", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


@dataclass
class Newsroom:
    server: LiveServer
    identity: Path
    staff: dict[str, LiveStaffer]  # one account per test: each logs in once with today's code


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:
    """A live server where a source sent a message and a file, and staff replied."""
    tmp = tmp_path_factory.mktemp("newsroom")
    data_dir, identity, _recipient = make_instance(tmp)
    staff = {name: ready_staffer(data_dir, name) for name in ("jo", "ann", "kim", "lee")}
    with LiveServer(data_dir, tmp / "logs") as server:
        with SourceClient(server.source_url) as source:
            source.generate()
            source.submit_ok("Block B, cameras 3 and 4.", [("cam3.mp4", os.urandom(300_000))])
        headers = {"Authorization": f"Bearer {staff['jo'].api_token}"}
        api = f"{server.newsroom_url}/api/v1"
        [listed] = httpx.get(f"{api}/sources", headers=headers).json()["items"]
        answer = httpx.post(
            f"{api}/sources/{listed['id']}/replies", headers=headers, json={"text": "Thank you."}
        )
        assert answer.status_code == 201, answer.text
        yield Newsroom(server, identity, staff)


def new_vault(newsroom: Newsroom, path: Path) -> Path:
    made = tainik("vault", "init", str(path), "-i", str(newsroom.identity), "--no-passphrase")
    assert made.returncode == 0, made.stderr
    return path


def threads(vault: Path) -> dict[str, list[str]]:
    """Source key -> the sealed ids of its thread, from `vault list --json`."""
    listed = tainik("vault", "list", str(vault), "--json")
    assert listed.returncode == 0, listed.stderr
    return {
        thread["source"]["key"]: sorted(item["sealed_id"] for item in thread["items"])
        for thread in json.loads(listed.stdout)
    }


def login(
    newsroom: Newsroom, user: str, config: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    staffer = newsroom.staff[user]
    return tainik(
        "pull", "login", "--server", newsroom.server.newsroom_url, "--user", user,
        "--config", str(config), "--password-stdin", *extra,
        stdin=f"{staffer.password}\n{staffer.code()}\n",
    )  # fmt: skip


def test_login_then_pull_into_the_vault(newsroom: Newsroom, tmp_path: Path) -> None:
    config = tmp_path / "config" / "tainik" / "pull.json"
    done = login(newsroom, "jo", config)
    assert done.returncode == 0, done.stderr
    assert "Logged in to" in done.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    saved = json.loads(config.read_text())
    assert saved["server"] == newsroom.server.newsroom_url
    assert saved["scope"] == "read"
    token = saved["token"]
    assert token not in done.stdout + done.stderr
    # The saved token may read but not delete or reply.
    api = f"{newsroom.server.newsroom_url}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{api}/me", headers=headers).json()["scope"] == "read"
    [source] = httpx.get(f"{api}/sources", headers=headers).json()["items"]
    assert httpx.delete(f"{api}/sources/{source['id']}", headers=headers).status_code == 403
    refused = httpx.post(f"{api}/sources/{source['id']}/replies", headers=headers,
                         json={"text": "x"})  # fmt: skip
    assert refused.status_code == 403

    vault = new_vault(newsroom, tmp_path / "vault")
    pulled = tmp_path / "pulled"
    first = tainik(
        "pull", "--config", str(config), "--out", str(pulled), "--into-vault", str(vault)
    )
    assert first.returncode == 0, first.stderr
    assert "3 fetched" in first.stderr
    assert "3 imported, 0 already in the vault, 0 failed" in first.stderr
    key = f"{newsroom.server.newsroom_url}/{source['id']}"
    found = threads(vault)
    assert list(found) == [key]  # all three in the source's thread, none unsorted
    assert len(found[key]) == 3
    # XDG_CONFIG_HOME finds the same file without --config; a re-run imports nothing new.
    again = tainik("pull", "--out", str(pulled), "--into-vault", str(vault),
                   env={"XDG_CONFIG_HOME": str(tmp_path / "config")})  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "0 fetched, 3 already here" in again.stderr
    assert "0 imported, 3 already in the vault" in again.stderr


def test_hand_downloaded_tars_keep_their_source(newsroom: Newsroom, tmp_path: Path) -> None:
    """A tar saved from the pages (one item, or a selection) is filed in its source's thread,
    the same thread `tainik pull` files it in."""
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    with web_login(newsroom.server.newsroom_url, newsroom.staff["ann"]) as staff:
        source_id = staff.get("/inbox").text.split('data-source-id="')[1].split('"')[0]
        page = staff.get(f"/sources/{source_id}").text
        first = re.findall(r'href="(/(?:submissions|replies)/\d+/download)"', page)[0]
        one = staff.get(first)
        assert one.status_code == 200
        chosen = re.findall(r'data-sealed-id="([a-z2-7]{26})"', page)
        assert len(chosen) == 3
        several = staff.post(
            f"/sources/{source_id}/items",
            data={"csrf": staff.cookies["tainik_csrf"], "action": "download", "item": chosen[1:]},
        )
        assert several.status_code == 200
    for response in (one, several):
        [name] = re.findall(r'filename="([^"]+)"', response.headers["content-disposition"])
        (downloads / name).write_bytes(response.content)
    vault = new_vault(newsroom, tmp_path / "vault")
    imported = tainik("vault", "import", str(vault), *map(str, sorted(downloads.iterdir())))
    assert imported.returncode == 0, imported.stderr
    assert "3 imported" in imported.stderr
    key = f"{newsroom.server.newsroom_url}/{source_id}"
    assert threads(vault) == {key: sorted(chosen)}  # nothing "unsorted"

    # `tainik pull` of the same items files them in that same thread: nothing new.
    config = tmp_path / "pull.json"
    assert login(newsroom, "kim", config).returncode == 0
    pulled = tmp_path / "pulled"
    done = tainik("pull", "--config", str(config), "--out", str(pulled), "--into-vault", str(vault))
    assert done.returncode == 0, done.stderr
    assert "0 imported, 3 already in the vault" in done.stderr
    assert threads(vault) == {key: sorted(chosen)}


def test_login_refusals(newsroom: Newsroom, tmp_path: Path) -> None:
    config = tmp_path / "pull.json"
    staffer = newsroom.staff["lee"]
    wrong = tainik(
        "pull", "login", "--server", newsroom.server.newsroom_url, "--user", "lee",
        "--config", str(config), "--password-stdin",
        stdin=f"not the password\n{staffer.code()}\n",
    )  # fmt: skip
    assert wrong.returncode == 3, wrong.stderr
    assert "the name, password or code is wrong" in wrong.stderr
    assert not config.exists()
    # No terminal and no --password-stdin: refused, nothing read from the pipe.
    piped = tainik(
        "pull", "login", "--server", newsroom.server.newsroom_url, "--user", "lee",
        "--config", str(config), stdin="secret\n123456\n",
    )  # fmt: skip
    assert piped.returncode == 2
    assert "--password-stdin" in piped.stderr
    # No configuration: pull says how to get one.
    none = tainik("pull", "--config", str(config), "--out", str(tmp_path / "pulled"))
    assert none.returncode == 2
    assert "tainik pull login" in none.stderr
    # A configuration others may read is refused.
    config.write_text(json.dumps({"format": "tainik.org/pull-config/v1"}))
    config.chmod(0o644)
    exposed = tainik("pull", "--config", str(config), "--out", str(tmp_path / "pulled"))
    assert exposed.returncode == 2
    assert "others may read it" in exposed.stderr
