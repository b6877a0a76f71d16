"""PostgreSQL or SeaweedFS restarted in the middle of an upload loses nothing acknowledged.

A real ``tainik serve`` on PostgreSQL + SeaweedFS (tests/backends.py), a source that has sent
one message (acknowledged), and ``tainik send`` uploading a 64 MiB file segment by segment.
Once some segments are stored, one backend is stopped: while it is down the server answers
``503`` with ``Retry-After`` (never ``500``, never a stack trace, never an acknowledgement) to a
message sent then and to the sender, which waits and tries again; then the backend comes back
(PostgreSQL after an immediate shutdown, as after a crash; SeaweedFS after SIGKILL). The sender
finishes; the file opens bit for bit, the first message is intact, the message refused during
the outage exists nowhere, and no unfinished upload is left listed as complete.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backends import PostgresCluster, SeaweedS3, sealed_dir
from live_server import LiveServer, make_instance
from source_client import SourceClient, blob_state, open_sealed, query_db
from tainik.config import load_config
from tainik.service.instance import Instance

pytestmark = [pytest.mark.slow, pytest.mark.pg]

MIB = 1024 * 1024
SIZE = 64 * MIB  # 16 segments of 4 MiB
DOWN_S = 3.0


def _stored_segments(data_dir: Path) -> int:
    """Segments of unfinished uploads in the bucket now."""
    state = blob_state(data_dir)
    instance = Instance.open(load_config(data_dir))
    try:
        return sum(len(instance.uploads.received(str(i))) for i in state.partial)
    finally:
        instance.close()


def _outage(
    tmp_path: Path, stop: Callable[[], object], start: Callable[[], object], *, probe_lookup: bool
) -> None:
    data_dir, identity, _recipient = make_instance(tmp_path, backend="pg")
    trove = tmp_path / "trove.bin"
    content = os.urandom(SIZE)
    trove.write_bytes(content)
    with (
        LiveServer(data_dir, tmp_path / "logs") as server,
        SourceClient(server.source_url) as source,
    ):
        codename = source.generate()
        assert source.submit_ok("before the outage: Привет") == 1
        [(first_id,)] = query_db(data_dir, "SELECT sealed_id FROM submissions")
        codename_file = tmp_path / "codename.txt"
        codename_file.write_text(codename + "\n")
        sender = subprocess.Popen(
            [
                *(sys.executable, "-m", "tainik", "send", "--server", server.source_url),
                *("--codename-file", str(codename_file), "--give-up-after", "120", str(trove)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while _stored_segments(data_dir) < 2:
                assert sender.poll() is None, sender.communicate()
                assert time.monotonic() < deadline, "the upload did not progress"
                time.sleep(0.05)
            stop()
            assert sender.poll() is None, "the upload finished before the outage"
            down_until = time.monotonic() + DOWN_S
            # A message sent while the backend is away: refused, never acknowledged.
            refused = source.submit("during the outage")
            assert refused.status_code == 503, (refused.status_code, refused.text[:300])
            assert refused.headers["retry-after"].isdigit()
            assert "Traceback" not in refused.text
            assert "not reachable" in refused.text
            if probe_lookup:
                page = source.lookup()
                assert page.status_code == 503, page.status_code
            time.sleep(max(0.0, down_until - time.monotonic()))
            start()
            _, stderr = sender.communicate(timeout=300)
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait()
        assert sender.returncode == 0, stderr
        log = server.log_text()
    assert "Traceback" not in log
    rows = query_db(data_dir, "SELECT sealed_id, kind FROM submissions ORDER BY id")
    assert [kind for _id, kind in rows] == ["message", "file"]
    assert rows[0][0] == first_id
    assert query_db(data_dir, "SELECT count(*) FROM uploads") == [(0,)]
    state = blob_state(data_dir)
    assert state.complete == {str(sealed_id) for sealed_id, _kind in rows}
    assert state.partial == ()  # nothing unfinished is left, nothing incomplete is complete
    instance = Instance.open(load_config(data_dir))
    try:
        containers = [sealed_dir(instance, str(i), tmp_path / "blobs") for i, _k in rows]
    finally:
        instance.close()
    opened = open_sealed(containers, identity, tmp_path / "opened")
    assert opened["message.txt"] == "before the outage: Привет".encode()
    assert hashlib.sha256(opened["trove.bin"]).digest() == hashlib.sha256(content).digest()


def test_postgresql_restarted_mid_upload_loses_nothing(
    tmp_path: Path, postgres: PostgresCluster, seaweed: SeaweedS3
) -> None:
    _outage(
        tmp_path,
        lambda: postgres.stop("immediate"),
        postgres.start,
        probe_lookup=True,
    )


def test_seaweedfs_restarted_mid_upload_loses_nothing(
    tmp_path: Path, postgres: PostgresCluster, seaweed: SeaweedS3
) -> None:
    _outage(tmp_path, lambda: seaweed.stop(signal.SIGKILL), seaweed.start, probe_lookup=False)
