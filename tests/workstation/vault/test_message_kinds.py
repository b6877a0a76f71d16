"""Issue 14: a message enters the vault as a message whichever way the source sent it.

The server cannot read a manifest, so what the newsroom (and the pulled sidecar) calls an item
is the uploading client's word. Three sources send a message: through the no-JS form (the
server seals it and knows), through the upload API without stating a kind (as the browser
page did before it stated one, and an older client may), and with ``tainik send`` (which
states it). All three are pulled and imported as
messages; the one the server mislabelled is recorded and warned about, not refused.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

from live_server import LiveServer, make_instance
from newsroom.live import ready_staffer
from source_client import SourceClient
from tainik import crypto
from tainik.core.manifest import Kind
from tainik.sealed.writer import new_sealed_id
from tainik.sender.plan import plan_message
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.items import all_items
from tainik.workstation.vault.vault import Vault

FORM = "Sent with JavaScript off."
API = "Sent by a client that states no kind."
SEND = "Sent with tainik send."


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tainik", *args], capture_output=True, text=True, check=False
    )


def send_without_a_kind(source: SourceClient, text: str) -> None:
    """The upload protocol as the browser page spoke it before it stated the kind (see
    tests/browser/test_messages_enter_the_vault.py for the page today): ``complete`` with no
    body."""
    http = source.http
    headers = {"X-CSRF-Token": source.csrf}
    session = http.post("/api/session", headers=headers).json()  # ready to send: keys derived
    plan = plan_message(text, new_sealed_id())
    manifest = plan.manifest
    note = crypto.encrypt(plan.note(), [crypto.Recipient(session["recipient"])])
    organisation = [crypto.Recipient(r) for r in session["organisation"]]
    created = http.post(
        "/api/uploads",
        headers=headers,
        json={"id": manifest.id, "segments": 1, "note": base64.b64encode(note).decode()},
    )
    assert created.status_code == 201, created.text
    for path, body in (
        ("/segments/0", crypto.encrypt(text.encode(), organisation)),
        ("/manifest", crypto.encrypt(manifest.encode(), organisation)),
    ):
        put = http.put(f"/api/uploads/{manifest.id}{path}", headers=headers, content=body)
        assert put.status_code == 200, put.text
    done = http.post(f"/api/uploads/{manifest.id}/complete", headers=headers)
    assert done.status_code == 200, done.text


def test_messages_from_the_form_the_api_and_tainik_send_all_enter_as_messages(
    tmp_path: Path,
) -> None:
    data_dir, identity, _recipient = make_instance(tmp_path)
    staffer = ready_staffer(data_dir, "jo")
    token_file = tmp_path / "token"
    token_file.write_text(staffer.api_token + "\n")
    pulled = tmp_path / "pulled"
    with LiveServer(data_dir, tmp_path / "logs") as server:
        with SourceClient(server.source_url) as source:
            source.generate()
            source.submit_ok(FORM)
        with SourceClient(server.source_url) as source:
            source.generate()
            send_without_a_kind(source, API)
        sent = run(
            "send", "--server", server.source_url,
            "--new-codename-out", str(tmp_path / "codename.txt"),
            "--message", SEND,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        fetched = run(
            "pull", "--server", server.newsroom_url,
            "--token-file", str(token_file), "--out", str(pulled),
        )  # fmt: skip
        assert fetched.returncode == 0, fetched.stderr
    labels = {
        json.loads(p.read_text())["kind"]
        for p in pulled.rglob("*.json")
        if p.parent.name != "sources" and p.name not in ("pull.json", "source.json")
    }
    assert labels == {"message", "file"}  # the kindless client's message is labelled a file

    vault = tmp_path / "vault"
    assert run("vault", "init", str(vault), "-i", str(identity), "--no-passphrase").returncode == 0
    imported = run("vault", "import", str(vault), str(pulled))
    assert imported.returncode == 0, imported.stderr
    assert "3 imported, 0 already in the vault, 0 failed" in imported.stderr
    assert imported.stderr.count("warning:") == 1
    assert "listed it as a file, but the sealed file is a message" in imported.stderr

    with Vault.open(vault) as opened:
        items = all_items(opened)
        records = [CustodyRecord.parse(line) for _seq, line in opened.records()]
    records = [r for r in records if r.action == Action.IMPORT]
    assert sorted(i.kind for i in items) == [Kind.MESSAGE] * 3
    assert sorted(str(r.details.get("server_kind", "")) for r in records) == ["", "", "file"]
    assert all(r.details["kind"] == "message" for r in records)
    checked = run("vault", "verify", str(vault))
    assert checked.returncode == 0, checked.stderr
