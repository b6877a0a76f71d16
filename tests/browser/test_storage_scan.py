"""The canary scan: no plaintext and no source identifier reaches the server's disk or log.

A source sends a message and files full of a random canary (the canary is in a file name
too), logs in again, and then breaks off an upload in the middle. Afterwards every file of
the instance (database, its WAL, sealed files, logs) and every file written since the test
began in the temporary folders must be free of the canary, and the server's log must hold
no client address, user agent, codename, session cookie or canary.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

from canary import log_leaks
from canary import scan as canary_scan
from live_server import LiveServer, make_instance
from source_client import RawUpload, SourceClient, blob_state, open_sealed

MAX_SCANNED = 200 * 1024 * 1024
TEMP_ROOTS = (Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
ABORTED_DECLARED = 64 * 1024 * 1024  # what the aborted upload claims it will send
ABORTED_SENT = 6 * 1024 * 1024  # what it sends before breaking off (more than a segment)


def scan(roots: list[Path], needle: bytes, *, since: float | None) -> tuple[list[Path], int]:
    """Files under ``roots`` holding ``needle`` (over 200 MB left out), and how many were
    scanned."""
    return canary_scan(roots, needle, since=since, max_size=MAX_SCANNED)


def _abort_upload(client: SourceClient, server: LiveServer, data_dir: Path, canary: str) -> None:
    """Start an upload of a canary file, send a part of it, and reset the connection."""
    upload = RawUpload(
        client,
        filename=f"aborted-{canary}.bin",
        file_size=ABORTED_DECLARED,
        message=f"aborted message {canary}",
        user_agent=client.http.headers["User-Agent"],
    )
    piece = (canary + "\n").encode() * (64 * 1024 // (len(canary) + 1))
    try:
        while upload.sent < ABORTED_SENT:
            upload.send(piece)
        # The server must have begun sealing it (a partial container exists) before we cut.
        deadline = time.monotonic() + 20
        while not blob_state(data_dir).partial:
            assert time.monotonic() < deadline, "the server never started sealing the upload"
            assert server.running, server.log_text()
            time.sleep(0.02)
    finally:
        upload.abort()
    deadline = time.monotonic() + 20
    while blob_state(data_dir).partial:
        assert time.monotonic() < deadline, (
            f"the aborted upload's partial container was not removed: "
            f"{blob_state(data_dir).partial}"
        )
        time.sleep(0.05)


def test_no_plaintext_or_identifier_on_disk_or_in_log(tmp_path: Path) -> None:
    started = time.time() - 2  # file systems round mtimes; be generous
    canary = "CANARY-" + secrets.token_hex(16)
    needle = canary.encode("ascii")
    user_agent = f"Mozilla/5.0 (X11; ScanAgent-{secrets.token_hex(8)}) Gecko/20100101"
    data_dir, identity, _recipient = make_instance(tmp_path)
    server = LiveServer(data_dir, tmp_path / "logs")
    with server:
        with SourceClient(server.source_url, user_agent=user_agent) as client:
            codename = client.generate()
            first_session = client.session_cookie
            big = (canary + " ").encode() * (5 * 1024 * 1024 // (len(canary) + 1))  # > 1 segment
            small = f"{canary}\n".encode() * 100
            count = client.submit_ok(
                f"a message with {canary} in it",
                [(f"{canary}.bin", big), (f"notes {canary}.txt", small)],
            )
            assert count == 3
            client.logout()
            client.http.cookies.delete("tainik_source")
            assert client.login(codename).status_code == 303
            assert client.submit_ok(f"second message {canary}") == 1
            csrf, session = client.csrf, client.session_cookie
            assert session is not None
            _abort_upload(client, server, data_dir, canary)
            # A wrong login and a forged form are answered (and perhaps logged) too.
            assert client.login("alpha beta gamma delta epsilon zeta eta").status_code in {
                400,
                403,
            }
            assert client.http.post("/generate", data={"csrf": "forged"}).status_code == 403
            assert client.lookup().status_code == 200
        stored = blob_state(data_dir)
        assert len(stored.complete) == 4
        assert not stored.partial

        # Scan while serving (the WAL holds the latest pages), then again after a stop.
        instance_hits, instance_count = scan([data_dir], needle, since=None)
        assert instance_count >= 6  # config, db, wal/shm, sealed parts
        assert not instance_hits, f"canary found in the instance: {instance_hits}"
    assert not server.running

    instance_hits, _count = scan([data_dir, tmp_path / "logs"], needle, since=None)
    assert not instance_hits, f"canary found in the instance after stop: {instance_hits}"
    temp_hits, temp_count = scan(list(TEMP_ROOTS), needle, since=started)
    assert temp_count > 0
    assert not temp_hits, f"canary found in temporary folders: {temp_hits}"

    # The log: only the two listen addresses; no client, agent, codename or secrets.
    needles = {
        user_agent: "user agent",
        "ScanAgent": "user agent",
        codename: "codename",
        canary: "canary",
        first_session or "": "session cookie",
        session: "session cookie",
        session.split(".")[0]: "session token",
        csrf: "CSRF token",
    }
    assert all(needles), needles
    leaks = log_leaks(server.log_text(), {server.source_port, server.newsroom_port}, needles)
    assert not leaks, leaks

    # And the scan was not vacuous: what was acknowledged opens, canary and all.
    containers = sorted((data_dir / "blobs").glob("*.sealed"))
    opened = open_sealed(containers, identity, tmp_path / "opened")
    assert opened[f"{canary}.bin"] == big
    assert opened[f"notes {canary}.txt"] == small
    assert sum(needle in content for content in opened.values()) == 4
