"""Issue 14, item 1: a message enters the vault as a message whichever way the source sent it.

Three sources each send a message: with the page and JavaScript on (Chromium; the page seals
it and states its kind to ``complete``), with the page and JavaScript off (the server seals
the form), and with ``tainik send``. The newsroom's pull labels all three as messages, and
``tainik vault import`` takes them in as messages with nothing to warn about: the server's
label and the sealed manifest agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from browser.source_pages import (
    NewPage,
    get_codename,
    serve,
    wait_enhanced,
    wait_sent,
)
from newsroom.live import ready_staffer
from source_client import query_db
from tainik.core.manifest import Kind
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.items import all_items
from tainik.workstation.vault.vault import Vault

WITH_JS = "Отправлено со страницы, JavaScript включён."
WITHOUT_JS = "Sent from the page with JavaScript off."
WITH_SEND = "Sent with tainik send."


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tainik", *args], capture_output=True, text=True, check=False
    )


def test_messages_from_the_page_with_and_without_javascript_and_tainik_send_enter_as_messages(
    new_page: NewPage, tmp_path: Path
) -> None:
    pulled = tmp_path / "pulled"
    with serve(tmp_path) as served:
        staffer = ready_staffer(served.data_dir, "jo")
        token_file = tmp_path / "token"
        token_file.write_text(staffer.api_token + "\n")

        page = new_page(js=True, locale="ru-RU")
        get_codename(page, served.base)
        wait_enhanced(page)
        page.fill("#message", WITH_JS)
        page.click("#send")
        wait_sent(page, served.base, 1)

        page = new_page(js=False)
        get_codename(page, served.base)
        page.fill("#message", WITHOUT_JS)
        with page.expect_navigation():
            page.click("#send")
        wait_sent(page, served.base, 1)

        sent = run(
            "send", "--server", served.base,
            "--new-codename-out", str(tmp_path / "codename.txt"),
            "--message", WITH_SEND,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr

        rows = query_db(served.data_dir, "SELECT kind FROM submissions ORDER BY id")
        assert [kind for (kind,) in rows] == ["message"] * 3
        fetched = run(
            "pull", "--server", served.server.newsroom_url,
            "--token-file", str(token_file), "--out", str(pulled),
        )  # fmt: skip
        assert fetched.returncode == 0, fetched.stderr

    labels = [
        json.loads(p.read_text())["kind"]
        for p in pulled.rglob("*.json")
        if p.parent.name != "sources" and p.name not in ("pull.json", "source.json")
    ]
    assert labels == ["message"] * 3

    vault = tmp_path / "vault"
    made = run("vault", "init", str(vault), "-i", str(served.identity), "--no-passphrase")
    assert made.returncode == 0, made.stderr
    imported = run("vault", "import", str(vault), str(pulled))
    assert imported.returncode == 0, imported.stderr
    assert "3 imported, 0 already in the vault, 0 failed" in imported.stderr
    assert "warning" not in imported.stderr.lower(), imported.stderr

    with Vault.open(vault) as opened:
        items = all_items(opened)
        records = [CustodyRecord.parse(line) for _seq, line in opened.records()]
        texts = sorted(opened.objects.path(i.ref.sha256).read_text("utf-8") for i in items)
    assert [item.kind for item in items] == [Kind.MESSAGE] * 3
    imports = [r for r in records if r.action == Action.IMPORT]
    assert len(imports) == 3
    assert all(r.details["kind"] == "message" for r in imports)
    assert all("server_kind" not in r.details for r in imports)
    assert texts == sorted([WITH_JS, WITHOUT_JS, WITH_SEND])
    checked = run("vault", "verify", str(vault))
    assert checked.returncode == 0, checked.stderr
