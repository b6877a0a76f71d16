"""A SIGKILL in the middle of an upload loses nothing acknowledged and records nothing partial.

A real ``tainik serve`` process: a source completes two submissions (each acknowledged with a
303), then starts a ~40 MiB upload through a raw socket, sent slowly; once more than 10 MiB
have gone out and the server has sealed part of it to disk, the whole server process group
gets SIGKILL. After a restart on the same folder: both acknowledged submissions open intact
with ``tainik open``, the interrupted one left no row and no ``ID.sealed`` container, and its
hidden ``.partial`` container was swept.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from backends import sealed_dir
from live_server import LiveServer, make_instance
from source_client import RawUpload, SourceClient, blob_state, open_sealed, query_db
from tainik.config import load_config
from tainik.service.instance import Instance

MIB = 1024 * 1024
INTERRUPTED_SIZE = 40 * MIB
KILL_AFTER = 10 * MIB
PIECE = 256 * 1024
PAUSE_S = 0.005  # between pieces: a slow sender, so the kill lands mid-body


def _submission_rows(data_dir: Path) -> set[tuple[str, str]]:
    return {
        (str(sealed_id), str(kind))
        for sealed_id, kind in query_db(data_dir, "SELECT sealed_id, kind FROM submissions")
    }


def test_sigkill_mid_upload_keeps_acknowledged_and_records_nothing_partial(
    tmp_path: Path,
) -> None:
    data_dir, identity, _recipient = make_instance(tmp_path)
    server = LiveServer(data_dir, tmp_path / "logs")
    server.start()
    try:
        client = SourceClient(server.source_url)
        client.generate()

        # Two acknowledged submissions; remember which containers each one made.
        expected: dict[str, bytes] = {}
        acknowledged: set[str] = set()
        for number, size in [(1, 3 * MIB + 12345), (2, 5 * MIB + 1)]:
            message = f"acknowledged message {number}: Привет"
            name = f"evidence-{number}.bin"
            content = os.urandom(size)
            before = blob_state(data_dir).complete
            assert client.submit_ok(message, [(name, content)]) == 2
            made = blob_state(data_dir).complete - before
            assert len(made) == 2
            acknowledged |= made
            expected[name] = content
            expected[f"message {number}"] = message.encode("utf-8")
        assert {sealed_id for sealed_id, _kind in _submission_rows(data_dir)} == acknowledged

        # A third upload, slow, cut by SIGKILL once > 10 MiB are out and sealing has begun.
        upload = RawUpload(
            client,
            filename="interrupted.bin",
            message="this one is never acknowledged",
            file_size=INTERRUPTED_SIZE,
        )
        piece = os.urandom(PIECE)
        killed_at = None
        deadline = time.monotonic() + 120
        try:
            while upload.sent - len(upload.head) < INTERRUPTED_SIZE:
                assert time.monotonic() < deadline, "the upload took too long"
                upload.send(piece)
                time.sleep(PAUSE_S)
                if upload.sent >= KILL_AFTER and blob_state(data_dir).begun():
                    killed_at = upload.sent
                    status = server.kill(signal.SIGKILL)
                    assert status == -signal.SIGKILL, f"exit status {status}"
                    break
        finally:
            upload.close()
        assert killed_at is not None, (
            f"the server sealed nothing to disk while receiving {upload.sent} bytes; "
            f"blobs: {blob_state(data_dir)}"
        )
        assert killed_at < upload.content_length  # it really was mid-body
        left = blob_state(data_dir)
        assert left.partial, "the kill left no partial container (nothing to sweep)"
        assert left.complete == acknowledged

        # Restart on the same folder and ports.
        server.start()
        after = blob_state(data_dir)
        assert not after.partial, f"not swept at restart: {after.partial}"
        assert after.complete == acknowledged, (
            f"unrecorded containers: {sorted(after.complete - acknowledged)}; "
            f"missing: {sorted(acknowledged - after.complete)}"
        )
        rows = _submission_rows(data_dir)
        assert {sealed_id for sealed_id, _kind in rows} == acknowledged
        assert sorted(kind for _id, kind in rows) == ["file", "file", "message", "message"]

        # Both acknowledged submissions open intact (bytes and names).
        instance = Instance.open(load_config(data_dir))
        try:
            containers = [sealed_dir(instance, i, tmp_path / "blobs") for i in acknowledged]
        finally:
            instance.close()
        opened = open_sealed(containers, identity, tmp_path / "opened")
        for name in ("evidence-1.bin", "evidence-2.bin"):
            assert opened.pop(name, None) == expected[name], f"{name} differs or is missing"
        assert sorted(opened.values()) == sorted([expected["message 1"], expected["message 2"]]), (
            f"messages differ: {list(opened)}"
        )

        # The source's session survived the crash, and it can send again.
        assert client.lookup().status_code == 200
        assert client.submit_ok("after the restart") == 1
        client.close()
    finally:
        server.kill(signal.SIGTERM)
