"""Changing the organisation's keys in Chromium, without JavaScript (issue 14, item 11).

The administrator replaces the key on the settings page, is asked to confirm, switches the
confirmation page to Russian without losing it, types the fingerprint back, the password and a
fresh code, and the keys change; a journalist then sees the banner on the inbox. The HTTP tests
beside the newsroom's (tests/newsroom/test_key_change.py) cover the refusals and the sealing.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from live_server import LiveServer, make_instance, tainik_cli
from newsroom.live import past_session, ready_staffer
from tainik.config import CONFIG_NAME
from tainik.crypto import Recipient

NewPage = Callable[..., Page]


def test_an_administrator_changes_the_keys_in_the_browser(
    new_page: NewPage, tmp_path: Path
) -> None:
    data_dir, _identity, old_recipient = make_instance(tmp_path)
    admin = ready_staffer(data_dir, "ada", admin=True)
    journalist = ready_staffer(data_dir, "jo")
    key = tmp_path / "new.key"
    new_recipient = subprocess.run(
        tainik_cli("keys", "new", "--out", str(key), "--no-passphrase"),
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    fingerprint = subprocess.run(
        tainik_cli("keys", "show", "--fingerprint", str(key)),
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    with LiveServer(data_dir, tmp_path / "logs") as server:
        staff = new_page(js=False, locale="en-US")
        # A session from a login a step ago, so that the current code is still unspent.
        staff.context.add_cookies(
            [{"name": "tainik_staff", "value": past_session(data_dir, admin),
              "url": server.newsroom_url}]
        )  # fmt: skip
        staff.goto(server.newsroom_url + "/admin/settings")
        assert Recipient(old_recipient).fingerprint in staff.inner_text("#current-keys")
        staff.fill("#recipients", new_recipient)
        with staff.expect_navigation():
            staff.click("#save-settings")
        assert staff.title().startswith("Confirm the new encryption keys")
        assert staff.inner_text("#fingerprint-1") == fingerprint
        assert old_recipient in staff.inner_text("#removed-keys")
        saved = tomllib.loads((data_dir / CONFIG_NAME).read_text())
        assert saved["organisation"]["recipients"] == [old_recipient]  # not yet

        # The language switch shows the same confirmation in Russian.
        with staff.expect_navigation():
            staff.click("nav.languages button[lang=ru]")
        assert staff.title().startswith("Подтвердите новые ключи шифрования")
        assert staff.inner_text("#fingerprint-1") == fingerprint

        staff.fill("#typed-1", fingerprint.upper())
        staff.fill("#password", admin.password)
        staff.fill("#code", admin.code())
        with staff.expect_navigation():
            staff.click("#confirm-keys")
        assert staff.url.endswith("/admin/settings?done=keys"), staff.inner_text("main")
        assert "Ключи организации сменены" in staff.inner_text("#notice")
        assert "пользователем ada" in staff.inner_text("#keys-changed")
        saved = tomllib.loads((data_dir / CONFIG_NAME).read_text())
        assert saved["organisation"]["recipients"] == [new_recipient]

        # Another staff member, in English, is told on the inbox.
        other = new_page(js=False, locale="en-US")
        other.goto(server.newsroom_url + "/login")
        other.fill("#name", journalist.name)
        other.fill("#password", journalist.password)
        other.fill("#code", journalist.code())
        with other.expect_navigation():
            other.click("#login")
        assert other.url == server.newsroom_url + "/inbox"
        banner = other.inner_text("#keys-changed")
        assert "The organisation's encryption keys were changed on" in banner
        assert "by ada" in banner
        assert "If you did not expect this" in banner
        assert "Administrators:" not in banner  # that line is for administrators
