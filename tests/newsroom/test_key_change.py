"""Changing the organisation's keys on a live server (issue 14, item 11).

A stolen administrator session must not be enough to redirect every future leak: the change
needs each new key's fingerprint typed back, the password and a fresh TOTP code; it is audited
loudly and announced to every staff member; and what sources send next (without JavaScript,
through the server's segment workers) is sealed to the new keys, which the stock ``age`` CLI
and ``tainik open`` read with the new identity only. Real HTTP against ``tainik serve``.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select

from backends import sealed_dir
from live_server import LiveServer, make_instance, tainik_cli
from source_client import SourceClient, open_sealed
from tainik.config import CONFIG_NAME, load_config
from tainik.sealed import layout
from tainik.service.instance import Instance
from tainik.storage import newsroom_schema as ns

from .live import LiveStaffer, past_session, ready_staffer, web_login

STAFF_COOKIE = "tainik_staff"
CSRF_COOKIE = "tainik_csrf"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
SHOWN = re.compile(r'<span class="fingerprint" id="fingerprint-\d+">([0-9a-f ]+)</span>')


@dataclass
class Newsroom:
    server: LiveServer
    data_dir: Path
    identity: Path  # the organisation's key, made by `tainik keys new`
    recipient: str
    admin: LiveStaffer
    journalist: LiveStaffer
    tmp: Path


@pytest.fixture
def newsroom(tmp_path: Path) -> Iterator[Newsroom]:
    data_dir, identity, recipient = make_instance(tmp_path)
    admin = ready_staffer(data_dir, "ada", admin=True)
    journalist = ready_staffer(data_dir, "jo")
    with LiveServer(data_dir, tmp_path / "logs") as server:
        yield Newsroom(server, data_dir, identity, recipient, admin, journalist, tmp_path)


def new_key(tmp: Path, name: str) -> tuple[Path, str, str]:
    """A new organisation key made as its holder would: (identity file, recipient,
    fingerprint as `tainik keys show --fingerprint` prints it)."""
    path = tmp / f"{name}.key"
    made = subprocess.run(
        tainik_cli("keys", "new", "--out", str(path), "--no-passphrase"),
        capture_output=True,
        text=True,
        check=True,
    )
    shown = subprocess.run(
        tainik_cli("keys", "show", "--fingerprint", str(path)),
        capture_output=True,
        text=True,
        check=True,
    )
    fingerprint = shown.stdout.strip()
    assert re.fullmatch(r"([0-9a-f]{4} ){5}[0-9a-f]{4}", fingerprint), shown.stdout
    assert fingerprint in made.stderr  # `keys new` says it too
    return path, made.stdout.strip(), fingerprint


@contextlib.contextmanager
def session_client(base_url: str, cookie: str, language: str = "en") -> Iterator[httpx.Client]:
    """An httpx client with nothing but a session cookie (and the CSRF cookie any visitor
    gets from the login page)."""
    with httpx.Client(
        base_url=base_url,
        follow_redirects=False,
        timeout=60,
        headers={"Accept-Language": language},
    ) as client:
        client.get("/login")
        client.cookies.set(STAFF_COOKIE, cookie)
        yield client


def propose(client: httpx.Client, recipients: list[str]) -> httpx.Response:
    """Send the settings form with ``recipients`` (limits as they are)."""
    return client.post(
        "/admin/settings",
        data={
            "csrf": client.cookies[CSRF_COOKIE],
            "recipients": "\r\n".join(recipients),
            "max_upload_bytes": "0",
            "unfinished_upload_hours": "72",
        },
    )


def confirm(
    client: httpx.Client, proposal: str, fingerprints: list[str], password: str, code: str
) -> httpx.Response:
    """Send the confirmation form of ``proposal`` (the page the settings form answered)."""
    hidden = {name: html.unescape(value) for name, value in HIDDEN.findall(proposal)}
    hidden["csrf"] = client.cookies[CSRF_COOKIE]
    return client.post(
        "/admin/settings/keys",
        data={**hidden, "fingerprint": fingerprints, "password": password, "code": code},
    )


def other_code(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def saved_recipients(data_dir: Path) -> list[str]:
    return list(tomllib.loads((data_dir / CONFIG_NAME).read_text())["organisation"]["recipients"])


def audit_rows(data_dir: Path, *actions: str) -> list[tuple[str, str, str | None, str | None]]:
    """(action, actor, object_ref, detail) of the audit entries of ``actions``, oldest first."""
    instance = Instance.open(load_config(data_dir))
    try:
        with instance.engine.begin() as db:
            rows = db.execute(
                select(ns.audit_log)
                .where(ns.audit_log.c.action.in_(actions))
                .order_by(ns.audit_log.c.id)
            ).all()
    finally:
        instance.close()
    return [(r.action, r.actor, r.object_ref, r.detail) for r in rows]


def banner(page: str) -> str | None:
    """The text of the key-change banner of a newsroom page, if it has one."""
    match = re.search(r'<div class="alarm" role="alert" id="keys-changed">(.*?)</div>', page, re.S)
    if match is None:
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


KEY_CHANGES = ("recipients-changed", "recipient-added", "recipient-removed")


def test_a_stolen_admin_session_cannot_change_the_keys(newsroom: Newsroom) -> None:
    thief_key, thief_recipient, thief_fingerprint = new_key(newsroom.tmp, "thief")
    cookie = past_session(newsroom.data_dir, newsroom.admin)
    before = saved_recipients(newsroom.data_dir)
    with session_client(newsroom.server.newsroom_url, cookie) as thief:
        # The settings form alone writes nothing: it asks for a confirmation.
        proposal = propose(thief, [thief_recipient])
        assert proposal.status_code == 200, proposal.text
        assert "Confirm the new encryption keys" in proposal.text
        assert thief_fingerprint in proposal.text
        assert saved_recipients(newsroom.data_dir) == before
        # The thief can read the fingerprint off the page, but has no password or code.
        for password, code in [("", ""), ("guessed password", "123456")]:
            refused = confirm(thief, proposal.text, [thief_fingerprint], password, code)
            assert refused.status_code == 400, refused.text
            assert "Your password or the code is wrong" in refused.text
            assert "Nothing was changed" in refused.text
        # A code seen over the shoulder at login is spent.
        login_code = pyotp.TOTP(newsroom.admin.totp_secret).at(
            datetime.now(UTC) - timedelta(seconds=30)
        )
        refused = confirm(thief, proposal.text, [thief_fingerprint], "guessed", login_code)
        assert refused.status_code == 400
    with session_client(newsroom.server.newsroom_url, cookie, "ru") as thief_ru:
        refused = confirm(thief_ru, proposal.text, [thief_fingerprint], "guessed", "123456")
        assert refused.status_code == 400
        assert "Пароль или код неверен" in refused.text, refused.text
        assert "Ничего не изменено" in refused.text
    assert saved_recipients(newsroom.data_dir) == before
    assert audit_rows(newsroom.data_dir, *KEY_CHANGES) == []
    refusals = audit_rows(newsroom.data_dir, "recipients-change-refused")
    assert len(refusals) == 4
    assert {(actor, detail) for _a, actor, _r, detail in refusals} == {
        ("ada", "wrong password or code")
    }
    # Nothing to announce; and what sources send is still sealed to the organisation's key.
    with web_login(newsroom.server.newsroom_url, newsroom.journalist) as journalist:
        assert banner(journalist.get("/inbox").text) is None
    sealed = send_without_javascript(newsroom, "after the refused change")
    opened = open_sealed(sealed, newsroom.identity, newsroom.tmp / "opened")
    assert b"after the refused change" in opened.values()
    with pytest.raises(AssertionError):
        open_sealed(sealed, thief_key, newsroom.tmp / "thief-opened")


def test_a_confirmed_change_is_in_force_audited_and_announced(
    newsroom: Newsroom, age_cli: str
) -> None:
    new_identity, new_recipient, fingerprint = new_key(newsroom.tmp, "new")
    admin = newsroom.admin
    cookie = past_session(newsroom.data_dir, admin)  # the admin's own session this time
    with session_client(newsroom.server.newsroom_url, cookie) as client:
        settings = client.get("/admin/settings").text
        old_fingerprint = load_config(newsroom.data_dir).recipients[0].fingerprint
        assert old_fingerprint in settings  # the keys in force, with their fingerprints
        proposal = propose(client, [new_recipient])  # replace the key
        assert proposal.status_code == 200
        assert re.search(r'id="removed-keys">.*' + old_fingerprint, proposal.text, re.S)
        # A wrong fingerprint, with the right password and code: refused, nothing spent.
        wrong = fingerprint[:-1] + ("0" if fingerprint[-1] != "0" else "1")
        refused = confirm(client, proposal.text, [wrong], admin.password, admin.code())
        assert refused.status_code == 400
        assert "is not that key&#39;s fingerprint" in refused.text
        assert "Nothing was changed" in refused.text
        # A wrong code, then a wrong password: refused.
        refused = confirm(
            client, proposal.text, [fingerprint], admin.password, other_code(admin.code())
        )
        assert refused.status_code == 400
        refused = confirm(client, proposal.text, [fingerprint], "not the password", admin.code())
        assert refused.status_code == 400
        assert saved_recipients(newsroom.data_dir) == [newsroom.recipient]
        # Typed back in capitals without spaces, with the password and a fresh code.
        typed = fingerprint.replace(" ", "").upper()
        done = confirm(client, proposal.text, [typed], admin.password, admin.code())
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/admin/settings?done=keys"
        assert saved_recipients(newsroom.data_dir) == [new_recipient]
        audit_page = client.get("/admin/audit").text
        assert re.search(r'class="entry loud" data-action="recipients-changed"', audit_page)
    rows = audit_rows(newsroom.data_dir, *KEY_CHANGES)
    assert rows == [
        ("recipients-changed", "ada", None, f"before: {old_fingerprint}; after: {fingerprint}"),
        ("recipient-added", "ada", fingerprint, new_recipient),
        ("recipient-removed", "ada", old_fingerprint, newsroom.recipient),
    ]
    assert [r[3] for r in audit_rows(newsroom.data_dir, "recipients-change-refused")] == [
        f"wrong fingerprint typed for {fingerprint}",
        "wrong password or code",
        "wrong password or code",
    ]
    # Every staff member is told, in their language, on the inbox and the other pages.
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    with web_login(newsroom.server.newsroom_url, newsroom.journalist) as journalist:
        told = banner(journalist.get("/inbox").text)
        assert told is not None
        assert f"The organisation's encryption keys were changed on {today}" in told
        assert "by ada" in told
        assert "If you did not expect this" in told
        assert banner(journalist.get("/account/password").text) == told
        journalist.cookies.set("tainik_lang", "ru")
        told_ru = banner(journalist.get("/inbox").text)
        assert told_ru is not None
        assert f"Ключи шифрования организации изменены {today}" in told_ru
        assert "пользователем ada" in told_ru
    # What a source sends next without JavaScript is sealed to the new key only: every part
    # opens with the stock age CLI and the new identity, none with the old one.
    sealed = send_without_javascript(newsroom, "after the change", os.urandom(5_000_000))
    for container in sealed:
        parts = [container / layout.MANIFEST, *sorted(container.glob("segment-*.age"))]
        assert len(parts) >= 2
        for part in parts:
            ok = subprocess.run([age_cli, "-d", "-i", str(new_identity), str(part)],
                                capture_output=True, check=False)  # fmt: skip
            assert ok.returncode == 0, (part.name, ok.stderr)
            old = subprocess.run([age_cli, "-d", "-i", str(newsroom.identity), str(part)],
                                 capture_output=True, check=False)  # fmt: skip
            assert old.returncode != 0, part.name
    opened = open_sealed(sealed, new_identity, newsroom.tmp / "opened")
    assert b"after the change" in opened.values()


def test_a_hand_edited_tainik_toml_is_audited_and_announced(newsroom: Newsroom) -> None:
    _key, added, fingerprint = new_key(newsroom.tmp, "by-hand")
    newsroom.server.stop()
    path = newsroom.data_dir / CONFIG_NAME
    text = path.read_text()
    path.write_text(text.replace(f'"{newsroom.recipient}"', f'"{newsroom.recipient}", "{added}"'))
    assert saved_recipients(newsroom.data_dir) == [newsroom.recipient, added]
    newsroom.server.start()
    rows = audit_rows(newsroom.data_dir, *KEY_CHANGES)
    old_fingerprint = load_config(newsroom.data_dir).recipients[0].fingerprint
    assert rows == [
        (
            "recipients-changed",
            "(tainik.toml)",
            None,
            f"before: {old_fingerprint}; after: {old_fingerprint}, {fingerprint}",
        ),
        ("recipient-added", "(tainik.toml)", fingerprint, added),
    ]
    with web_login(newsroom.server.newsroom_url, newsroom.journalist) as journalist:
        told = banner(journalist.get("/inbox").text)
    assert told is not None
    assert "by an edit of tainik.toml on the server" in told
    # Announced once: the next start finds the recipients it recorded.
    newsroom.server.restart()
    assert len(audit_rows(newsroom.data_dir, "recipients-changed")) == 1


def send_without_javascript(newsroom: Newsroom, message: str, file: bytes = b"") -> list[Path]:
    """A new source sends ``message`` (and ``file``) with the no-JS form; the sealed
    containers of what it sent."""
    with SourceClient(newsroom.server.source_url) as source:
        source.generate()
        source.submit_ok(message, [("evidence.bin", file)] if file else [])
    headers = {"Authorization": f"Bearer {newsroom.journalist.api_token}"}
    listed = httpx.get(
        f"{newsroom.server.newsroom_url}/api/v1/submissions", headers=headers, timeout=60
    ).json()["items"]
    newest_source = max(item["source_id"] for item in listed)
    instance = Instance.open(load_config(newsroom.data_dir))
    try:
        return [
            sealed_dir(instance, i["sealed_id"], newsroom.data_dir.parent / "fetched")
            for i in listed
            if i["source_id"] == newest_source
        ]
    finally:
        instance.close()
