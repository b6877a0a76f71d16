"""The canary scan with the newsroom at work: no plaintext on disk or in the log, replies included.

A source sends a canary message and file; a journalist reads the inbox, downloads a selection,
and replies with a canary of its own through the newsroom pages and through the API; the source
reads the replies. Then the instance folder, the log and every file written since the start in
the temporary folders must be free of both canaries, and of the staff secrets.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

from backends import sealed_dir
from canary import files_under, holds
from live_server import LiveServer, make_instance
from source_client import SourceClient, open_sealed
from tainik.config import load_config
from tainik.core.manifest import is_valid_id
from tainik.service.instance import Instance

from .live import ready_staffer, web_login

TEMP_ROOTS = (Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
MAX_SCANNED = 200 * 1024 * 1024


def holding(roots: list[Path], needles: list[bytes], since: float | None = None) -> list[Path]:
    """The files that contain any of ``needles``."""
    found = []
    for path in files_under(roots, since=since, max_size=MAX_SCANNED):
        if any(holds(path, needle) for needle in needles):
            found.append(path)
    return found


def test_no_plaintext_of_submissions_or_replies_on_disk(tmp_path: Path) -> None:
    started = time.time() - 2
    canary = "CANARY-" + secrets.token_hex(12)
    reply_canary = "REPLY-CANARY-" + secrets.token_hex(12)
    data_dir, identity, _recipient = make_instance(tmp_path)
    staffer = ready_staffer(data_dir, "jo")
    with LiveServer(data_dir, tmp_path / "logs") as server:
        with SourceClient(server.source_url) as source:
            codename = source.generate()
            source.submit_ok(f"message {canary}", [(f"{canary}.txt", f"{canary}\n".encode() * 500)])
            with web_login(server.newsroom_url, staffer) as staff:
                inbox = staff.get("/inbox").text
                source_id = int(inbox.split('data-source-id="')[1].split('"')[0])
                page = staff.get(f"/sources/{source_id}").text
                chosen = [s.split('"')[0] for s in page.split('data-sealed-id="')[1:]]
                assert len(chosen) == 2
                assert all(is_valid_id(s) for s in chosen)
                csrf = staff.cookies["tainik_csrf"]
                archive = staff.post(
                    f"/sources/{source_id}/items",
                    data={"csrf": csrf, "action": "download", "item": chosen},
                )
                assert archive.status_code == 200
                assert canary.encode() not in archive.content
                sent = staff.post(
                    f"/sources/{source_id}/reply",
                    data={"csrf": csrf, "text": f"web {reply_canary}"},
                )
                assert sent.status_code == 303
                api = staff.post(
                    f"/api/v1/sources/{source_id}/replies",
                    json={"text": f"api {reply_canary}"},
                    headers={"Authorization": f"Bearer {staffer.api_token}"},
                )
                assert api.status_code == 201
            # The source reads both replies (decrypted in the server's memory only).
            lookup = source.lookup().text
            assert f"web {reply_canary}" in lookup
            assert f"api {reply_canary}" in lookup
        needles = [canary.encode(), reply_canary.encode(), codename.encode(), PASSWORD_BYTES]
        assert not holding([data_dir], needles), "plaintext in the instance while serving"
    assert not holding([data_dir, tmp_path / "logs"], needles), "plaintext after the stop"
    assert not holding(list(TEMP_ROOTS), needles, since=started), "plaintext in a temp folder"
    log = server.log_text()
    secrets_of_staff = (staffer.password, staffer.totp_secret, staffer.api_token)
    for needle in (canary, reply_canary, codename, *secrets_of_staff):
        assert needle not in log
    # Not vacuous: the organisation opens the replies, canary and all.
    instance = Instance.open(load_config(data_dir))
    try:
        replies = [
            sealed_dir(instance, sealed_id, tmp_path / "blobs")
            for sealed_id in instance.blobs.ids()
            if sealed_id not in chosen
        ]
    finally:
        instance.close()
    assert len(replies) == 2
    opened = open_sealed(replies, identity, tmp_path / "opened")
    assert sorted(opened.values()) == sorted(
        [f"api {reply_canary}".encode(), f"web {reply_canary}".encode()]
    )


PASSWORD_BYTES = b"a long and private passphrase"
