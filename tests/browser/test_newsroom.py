"""The newsroom in Chromium (JavaScript off, as the pages need none), end to end.

An administrator made with `tainik users add` logs in and creates a journalist through the
admin page; the journalist logs in with the one-time password and a TOTP code the test computes,
sets a password, finds the submission a source made through the no-JS form, and replies; the
source logs in again with its codename and reads the reply.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

import pyotp
from playwright.sync_api import Page

from live_server import LiveServer, make_instance, tainik_cli

NewPage = Callable[..., Page]
PASSWORD = "correct horse battery staple"


def _log_in(page: Page, base: str, name: str, password: str, totp_secret: str) -> None:
    page.goto(base + "/")
    assert page.url == base + "/login"
    page.fill("#name", name)
    page.fill("#password", password)
    page.fill("#code", pyotp.TOTP(totp_secret).now())
    with page.expect_navigation():
        page.click("#login")
    # First login: the one-time password must be replaced before anything else.
    assert page.url == base + "/account/password", page.inner_text("main")
    assert page.locator("#first-login").is_visible()
    page.goto(base + "/inbox")
    assert page.url == base + "/account/password"
    page.fill("#current", password)
    page.fill("#new", PASSWORD)
    page.fill("#repeat", PASSWORD)
    with page.expect_navigation():
        page.click("#save-password")
    assert page.url == base + "/inbox?done=password"


def test_admin_journalist_and_source(new_page: NewPage, tmp_path: Path) -> None:
    data_dir, _identity, _recipient = make_instance(tmp_path)
    made = subprocess.run(
        tainik_cli("users", "add", "ada", "--admin", "--data", str(data_dir)),
        capture_output=True,
        text=True,
        check=True,
    )
    admin_password = re.search(r"one-time password:\s+(\S+)", made.stdout)
    admin_secret = re.search(r"TOTP secret:\s+([A-Z2-7]+)", made.stdout)
    assert admin_password is not None
    assert admin_secret is not None
    with LiveServer(data_dir, tmp_path / "logs") as server:
        source_base, newsroom = server.source_url, server.newsroom_url

        # A source sends a message and a file through the no-JS form.
        source = new_page(js=False)
        source.goto(source_base + "/")
        with source.expect_navigation():
            source.click("#get-codename")
        codename = " ".join(w.strip() for w in source.locator("#codename span").all_inner_texts())
        with source.expect_navigation():
            source.click("#continue")
        tag = secrets.token_hex(4)
        upload = tmp_path / f"leak-{tag}.txt"
        upload.write_text("the ledger\n")
        source.fill("#message", f"Please look at this, {tag}")
        source.set_input_files("#files", str(upload))
        with source.expect_navigation():
            source.click("#send")
        assert source.url == source_base + "/lookup?sent=2"

        # The administrator logs in and creates a journalist through the admin page.
        admin = new_page(js=False)
        _log_in(admin, newsroom, "ada", admin_password.group(1), admin_secret.group(1))
        with admin.expect_navigation():
            admin.click("#nav-users")
        admin.fill("#new-name", "jo")
        with admin.expect_navigation():
            admin.click("#add")
        one_time = admin.inner_text("#one-time-password").strip()
        totp_secret = admin.inner_text("#totp-secret").strip()
        assert admin.locator("#totp-qr svg").count() == 1
        assert admin.inner_text("#totp-uri").startswith("otpauth://totp/Tainik:jo?")
        admin.screenshot(path=str(tmp_path / "secrets.png"), full_page=True)
        admin.goto(newsroom + "/admin/users")
        assert "waiting for first login" in admin.inner_text("tr[data-name=jo]")

        # The journalist logs in with password and TOTP, and finds the submission.
        journalist = new_page(js=False)
        _log_in(journalist, newsroom, "jo", one_time, totp_secret)
        assert journalist.locator("#nav-users").count() == 0  # not an administrator
        row = journalist.locator("tr.source").first
        assert row.locator(".unread-count").inner_text() == "2"
        designation = row.locator(".designation").inner_text()
        assert re.fullmatch(r"[a-z-]+ [a-z-]+", designation)
        assert not set(designation.split()) & set(codename.split())
        with journalist.expect_navigation():
            row.locator(".designation").click()
        assert journalist.inner_text("#designation") == designation
        kinds = journalist.locator("#items .kind").all_inner_texts()
        assert [k.split()[0] for k in kinds] == ["File", "Message"] or [
            k.split()[0] for k in kinds
        ] == ["Message", "File"]
        assert journalist.locator("#items .state").all_inner_texts() == ["complete", "complete"]
        with journalist.expect_download() as download:
            journalist.locator("#items a.download").first.click()
        # Named after the source, and carrying which source sent it (for 'vault import').
        slug = designation.replace(" ", "-")
        assert re.fullmatch(rf"{slug}-[a-z2-7]{{26}}\.tar", download.value.suggested_filename)
        journalist.screenshot(path=str(tmp_path / "source.png"), full_page=True)

        # It replies.
        reply = f"Thank you ({tag}). Keep your codename safe."
        journalist.fill("#reply-text", reply)
        with journalist.expect_navigation():
            journalist.click("#send-reply")
        assert "reply is sealed" in journalist.inner_text("#notice")
        assert journalist.locator("#replies .author").all_inner_texts() == ["jo"]

        # The source logs in with its codename and reads the reply.
        with source.expect_navigation():
            source.click("#logout")
        source.goto(source_base + "/login")
        source.fill("#codename", codename)
        with source.expect_navigation():
            source.click("#login")
        assert source.url == source_base + "/lookup"
        assert source.locator(".reply .text").all_inner_texts() == [reply]
