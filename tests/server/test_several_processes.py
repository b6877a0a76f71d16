"""Several processes serving one instance (issue 18, item 4): nothing that matters lives in one.

Two separate ``tainik serve`` processes on one instance folder, on ports of their own, are the
model of several hosts sharing one database and one store (here SQLite and the folder, which
one host shares between processes), or PostgreSQL and SeaweedFS (``--backend pg``).
``tainik serve --workers N`` is the same on one pair of
ports, with a parent that replaces a killed worker.

- one upload's segment PUTs alternate between two servers, one of which is SIGKILLed in the
  middle of a PUT: every acknowledged segment is kept, the cut one is not shown as received,
  the upload cannot complete while a part is missing, and completes (decryptable with the stock
  ``age`` CLI and ``tainik open``) once the rest is sent;
- a new source's cookie, a source's session and a staff session made on one server work on
  the other, a logout on one ends them on both, and failed staff logins count across both;
- ``--workers 2``: a SIGKILLed worker is replaced, SIGTERM to the parent stops every worker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import backends
from backends import sealed_dir
from live_server import LiveServer, make_instance
from newsroom.live import ready_staffer, web_login
from source_client import SourceClient, open_sealed
from tainik import crypto
from tainik.config import load_config
from tainik.core.manifest import Kind, Manifest
from tainik.core.segments import DEFAULT_SEGMENT_SIZE, SegmentPlan
from tainik.sealed.writer import new_sealed_id
from tainik.service.instance import Instance
from tainik.storage import schema

pytestmark = pytest.mark.slow

SEGMENTS = 6


@pytest.fixture
def instance_dir(tmp_path: Path) -> tuple[Path, Path, str]:
    """An instance folder (SQLite + folder), its organisation key file and recipient."""
    return make_instance(tmp_path)


def two_servers(data_dir: Path, tmp_path: Path) -> tuple[LiveServer, LiveServer]:
    """Two ``tainik serve`` processes on one instance, each on its own pair of ports."""
    return LiveServer(data_dir, tmp_path / "log-a"), LiveServer(data_dir, tmp_path / "log-b")


class SealedUpload:
    """A file sealed on the client side, sent through the segment API."""

    def __init__(self, organisation: str, size: int) -> None:
        self.data = os.urandom(size)
        self.organisation = crypto.Recipient(organisation)
        plan = SegmentPlan(size, DEFAULT_SEGMENT_SIZE)
        self.slices = [
            self.data[plan.offset(i) : plan.offset(i) + plan.size_of(i)] for i in range(plan.count)
        ]
        self.manifest = Manifest(
            id=new_sealed_id(),
            kind=Kind.FILE,
            name=b"cell-block.mp4",
            size=size,
            segment_size=DEFAULT_SEGMENT_SIZE,
            sha256=hashlib.sha256(self.data).digest(),
            segment_hashes=tuple(hashlib.sha256(s).digest() for s in self.slices),
        )
        self.segments = [crypto.encrypt(s, [self.organisation]) for s in self.slices]

    def path(self, base: str, tail: str = "") -> str:
        return f"{base}/api/uploads/{self.manifest.id}{tail}"


def csrf_headers(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["tainik_csrf"]}


def received(client: httpx.Client, base: str, upload: SealedUpload) -> list[int]:
    answer = client.get(upload.path(base))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["received"])


def cut_put(server: LiveServer, client: httpx.Client, upload: SealedUpload, index: int) -> None:
    """Start ``PUT segment index`` on ``server``, send half its body, then SIGKILL the server:
    a PUT the client never sees acknowledged."""
    body = upload.segments[index]
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    head = (
        f"PUT /api/uploads/{upload.manifest.id}/segments/{index} HTTP/1.1\r\n"
        f"Host: {server.host}:{server.source_port}\r\n"
        f"Cookie: {cookies}\r\n"
        f"X-CSRF-Token: {client.cookies['tainik_csrf']}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((server.host, server.source_port), timeout=30) as sock:
        sock.sendall(head.encode("ascii") + body[: len(body) // 2])
        time.sleep(0.3)  # the server is reading the body now
        assert server.kill(signal.SIGKILL) == -signal.SIGKILL


def test_one_upload_across_two_servers_one_killed_mid_put(
    instance_dir: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data_dir, identity, organisation = instance_dir
    upload = SealedUpload(organisation, (SEGMENTS - 1) * DEFAULT_SEGMENT_SIZE + 12345)
    first, second = two_servers(data_dir, tmp_path)
    with first, second, httpx.Client(timeout=60) as client:
        bases = [first.source_url, second.source_url]
        # A new source on the first server (its cookie opens on the second), keys derived on
        # the second, the upload created on the first.
        client.post(f"{bases[0]}/generate", data={"csrf": csrf_token(client, bases[0])})
        recipient = client.post(f"{bases[1]}/api/session", headers=csrf_headers(client))
        assert recipient.status_code == 200, recipient.text
        note = json.dumps({"v": 1, "name": "cell-block.mp4", "kind": "file"}).encode()
        sealed_note = crypto.encrypt(note, [crypto.Recipient(recipient.json()["recipient"])])
        created = client.post(
            f"{bases[0]}/api/uploads",
            headers=csrf_headers(client),
            json={
                "id": upload.manifest.id,
                "segments": SEGMENTS,
                "note": base64.b64encode(sealed_note).decode(),
            },
        )
        assert created.status_code == 201, created.text
        # Segments 5, 0, 3, 1 alternate between the servers, out of order; all acknowledged.
        acknowledged = []
        for turn, index in enumerate((5, 0, 3, 1)):
            answer = client.put(
                upload.path(bases[turn % 2], f"/segments/{index}"),
                headers=csrf_headers(client),
                content=upload.segments[index],
            )
            assert answer.status_code == 200, answer.text
            acknowledged.append(index)
        # Segment 2 is half sent to the second server when it is killed.
        cut_put(second, client, upload, 2)
        # The first server holds every acknowledged segment, and not the cut one.
        assert received(client, bases[0], upload) == sorted(acknowledged)
        manifest = crypto.encrypt(upload.manifest.encode(), [upload.organisation])
        put_manifest = client.put(
            upload.path(bases[0], "/manifest"), headers=csrf_headers(client), content=manifest
        )
        assert put_manifest.status_code == 200
        # Nothing incomplete is shown as complete: the upload refuses to complete.
        refused = client.post(upload.path(bases[0], "/complete"), headers=csrf_headers(client))
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "incomplete"
        assert refused.json()["missing"] == [2, 4]
        assert submissions(data_dir) == []
        # The killed server comes back beside the running one: it must not recover (that
        # would remove work the other is doing), and says so.
        second.start()
        assert "recovery at start skipped" in second.stderr_text()
        for turn, index in enumerate((2, 4)):
            answer = client.put(
                upload.path(bases[1 - turn], f"/segments/{index}"),
                headers=csrf_headers(client),
                content=upload.segments[index],
            )
            assert answer.status_code == 200, answer.text
        done = client.post(upload.path(bases[1], "/complete"), headers=csrf_headers(client))
        assert done.status_code == 200, done.text
        again = client.post(upload.path(bases[0], "/complete"), headers=csrf_headers(client))
        assert again.status_code == 200, again.text  # idempotent, on the other process too
    assert submissions(data_dir) == [upload.manifest.id]
    instance = Instance.open(load_config(data_dir))
    try:
        sealed = sealed_dir(instance, upload.manifest.id, tmp_path / "fetched")
    finally:
        instance.close()
    opened = open_sealed([sealed], identity, tmp_path / "opened")
    assert opened == {"cell-block.mp4": upload.data}
    # Each segment is an age file the stock CLI opens.
    stock = subprocess.run(
        ["age", "-d", "-i", str(identity), str(sealed / "segment-00000002.age")],
        capture_output=True,
        check=True,
    )
    assert stock.stdout == upload.slices[2]


def submissions(data_dir: Path) -> list[str]:
    """The sealed ids of the instance's submissions, whichever its database."""
    instance = Instance.open(load_config(data_dir))
    try:
        with instance.engine.begin() as db:
            return list(db.execute(select(schema.submissions.c.sealed_id)).scalars())
    finally:
        instance.close()


def csrf_token(client: httpx.Client, base: str) -> str:
    if "tainik_csrf" not in client.cookies:
        assert client.get(f"{base}/").status_code == 200
    return client.cookies["tainik_csrf"]


def test_sessions_logouts_and_throttles_hold_across_servers(
    instance_dir: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data_dir, _identity, _organisation = instance_dir
    staffer = ready_staffer(data_dir, "ada")
    first, second = two_servers(data_dir, tmp_path)
    with first, second:
        # A new source's cookie from the first opens on the second, which writes the source.
        with SourceClient(first.source_url) as source:
            codename = source.generate()
            moved = SourceClient(second.source_url)
            moved.http.cookies.update(source.http.cookies)
            assert 'id="new-source"' in moved.expect(moved.lookup(), 200).text
            assert moved.submit_ok("sent through the second server") == 1
            moved.close()
        # A source's session from the second works on the first; its logout on the first
        # ends it on the second.
        with SourceClient(second.source_url) as back:
            assert back.login(codename).status_code == 303
            there = SourceClient(first.source_url)
            there.http.cookies.update(back.http.cookies)
            assert there.expect(there.lookup(), 200).status_code == 200
            there.logout()
            assert back.lookup().status_code == 303  # to the login page
            there.close()
        # A staff session from the first's newsroom works on the second's.
        with web_login(first.newsroom_url, staffer) as staff:
            elsewhere = httpx.get(
                f"{second.newsroom_url}/inbox", cookies=dict(staff.cookies.items())
            )
            assert elsewhere.status_code == 200
            assert "ada" in elsewhere.text
        # Failed logins of one name count across both: alternately, up to the guard.
        statuses = []
        for attempt in range(6):
            server = (first, second)[attempt % 2]
            with httpx.Client(base_url=server.newsroom_url) as stranger:
                stranger.get("/login")
                answer = stranger.post(
                    "/login",
                    data={
                        "csrf": stranger.cookies["tainik_csrf"],
                        "name": "nobody",
                        "password": "a wrong guess",
                        "code": "000000",
                    },
                )
                statuses.append(answer.status_code)
        assert statuses == [403] * 5 + [429]


def children(pid: int) -> set[int]:
    """The processes ``pid`` started that are alive now."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    return {int(part) for part in text.split()}


def wait_for(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_workers_are_replaced_when_killed_and_stop_together(
    instance_dir: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data_dir, _identity, _organisation = instance_dir
    server = LiveServer(data_dir, tmp_path / "log", extra_args=("--workers", "2"))
    with server:
        assert server.process is not None
        parent = server.process.pid
        wait_for(lambda: len(children(parent)) == 2)
        before = children(parent)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in children(parent) and len(children(parent)) == 2)
        after = children(parent)
        assert len(after - before) == 1
        assert "exited with signal 9; starting another" in server.stderr_text()
        # Either worker serves; a codename made by one opens on whichever takes the next.
        with SourceClient(server.source_url) as source:
            source.generate()
            for _ in range(6):
                assert 'id="new-source"' in source.expect(source.lookup(), 200).text
        workers = children(parent)
        # SIGTERM to the parent alone stops every worker, gracefully, and then the parent.
        os.kill(parent, signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_the_instance_lock_is_taken_again_after_postgresql_restarts(
    backend: str, instance_dir: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """A restart of PostgreSQL ends the session that held a server's instance lock: the server
    takes it again, so that a server starting beside it still skips recovery."""
    if backend != "pg":
        pytest.skip("PostgreSQL's advisory lock (SQLite's is a file lock, never lost)")
    data_dir, _identity, _organisation = instance_dir
    first, second = two_servers(data_dir, tmp_path)
    with first:
        backends.session_postgres().restart()
        wait_for(lambda: "the instance lock was lost" in first.stderr_text())
        with second:
            assert "recovery at start skipped" in second.stderr_text()
