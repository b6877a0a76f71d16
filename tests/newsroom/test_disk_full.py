"""A full disk (issue 15, A): 507 everywhere, a margin for new uploads, staff still get in.

These run the instance on a real, small file system (a tmpfs of a few MiB, mounted for the
test), filled with a file until it refuses more: the server meets ENOSPC from its own writes
and SQLITE_FULL from the database, as on a real full disk. Mounting needs root (or
CAP_SYS_ADMIN), which `make test` has in CI; where it is missing these tests fail and say why,
rather than pass having checked nothing.
"""

from __future__ import annotations

import base64
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tainik import crypto
from tainik.config import CONFIG_NAME, init_instance, load_config, set_key
from tainik.crypto import FAST_TEST_PARAMS
from tainik.sealed.writer import new_sealed_id
from tainik.server.app import newsroom_app, source_app
from tainik.service import maintenance
from tainik.service.instance import Instance
from tainik.storage import newsroom_schema as ns
from tainik.storage import schema

from .conftest import BASE, Clock, Staffer, csrf, log_in, new_staffer, seed_source

MIB = 1024 * 1024
DISK = 24 * MIB
MARGIN = 4 * MIB
RESERVE = 2 * MIB  # four pieces of 512 KiB


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of :data:`DISK` bytes, mounted for this test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            "cannot mount a small tmpfs for the disk-full tests (needs root or CAP_SYS_ADMIN): "
            + done.stderr.decode(errors="replace").strip()
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def configure(data_dir: Path, **limits: int) -> None:
    path = data_dir / CONFIG_NAME
    text = path.read_text()
    for key, value in limits.items():
        text = set_key(text, "limits", key, value)
    path.write_text(text)


@pytest.fixture
def small(disk: Path, org: crypto.Identity, clock: Clock) -> Iterator[Instance]:
    """An instance on the small disk: a 4 MiB margin, a 2 MiB reserve."""
    data_dir = disk / "instance"
    init_instance(data_dir, [org.recipient], kdf=FAST_TEST_PARAMS)
    configure(data_dir, min_free_bytes=MARGIN, reserve_bytes=RESERVE)
    opened = Instance.open(load_config(data_dir))
    opened.clock = clock
    lock = maintenance.ServeLock(opened)
    maintenance.recover(opened, lock)  # as at start: the reserve is allocated
    yield opened
    lock.release()
    opened.close()


@pytest.fixture
def staff(small: Instance) -> Iterator[TestClient]:
    with TestClient(newsroom_app(small), base_url=BASE, follow_redirects=False) as test:
        yield test


@pytest.fixture
def sources_side(small: Instance) -> Iterator[TestClient]:
    with TestClient(source_app(small), base_url="http://source.test") as test:
        yield test


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` until at most ``leave`` bytes stay free."""
    path = folder / f"filler-{len(list(folder.glob('filler-*')))}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for block in (MIB, 64 * 1024, 4096):
            chunk = b"\xa5" * block
            while free_bytes(folder) - block >= leave:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return path


def rows(instance: Instance, table: str) -> int:
    with instance.engine.begin() as db:
        return int(
            db.execute(select(func.count()).select_from(schema.metadata.tables[table])).scalar_one()
        )


def send(client: TestClient, message: str) -> int:
    client.get("/")
    response = client.post(
        "/submit",
        data={"csrf": client.cookies["tainik_csrf"], "message": message},
        files=[("files", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    return response.status_code


def test_new_uploads_stop_at_the_margin(
    small: Instance, sources_side: TestClient, org: crypto.Identity
) -> None:
    """Below the margin a submission is refused before its body is read, and a new resumable
    upload too; an upload under way may go on into the first half of the margin."""
    client = sources_side
    client.get("/")
    token = client.cookies["tainik_csrf"]
    client.post("/generate", data={"csrf": token})
    assert send(client, "while there is room") == 303
    api = {"x-csrf-token": token}
    recipient = client.get("/api/session").json()["recipient"]  # a stored source now
    note = base64.b64encode(crypto.encrypt(b"{}", [crypto.Recipient(recipient)])).decode()
    first = new_sealed_id()
    started = client.post(
        "/api/uploads", headers=api, json={"id": first, "segments": 2, "note": note}
    )
    assert started.status_code == 201
    fill(small.config.data_dir, leave=MARGIN - MIB)  # inside the margin, above its half
    assert send(client, "now the disk is nearly full") == 507
    assert rows(small, "submissions") == 1
    refused = client.post(
        "/api/uploads", headers=api, json={"id": new_sealed_id(), "segments": 1, "note": note}
    )
    assert refused.status_code == 507
    assert refused.json()["error"] == "storage_full"
    last = crypto.encrypt(b"the end", [org.recipient])  # the last segment may be short
    put = f"/api/uploads/{first}/segments/1"
    assert client.put(put, headers=api, content=last).status_code == 200
    fill(small.config.data_dir, leave=MARGIN // 2 - 1)  # past the half: nothing more
    answer = client.put(put, headers=api, content=last)
    assert answer.status_code == 507
    assert answer.json()["error"] == "storage_full"


def test_a_full_disk_is_507_everywhere_and_staff_still_get_in_and_free_it(
    small: Instance, staff: TestClient, sources_side: TestClient, clock: Clock
) -> None:
    journalist = new_staffer(small, "jo")
    log_in(staff, journalist, clock)  # first login: the one-time password is changed
    staff.post("/logout", data={"csrf": csrf(staff)})
    staff.cookies.clear()
    big = seed_source(small, file=os.urandom(3 * MIB))
    source_cookie = big.cookie
    fill(small.config.data_dir)  # to the last byte
    with pytest.raises(OSError, match="No space"):
        (small.config.data_dir / "probe").write_bytes(b"x" * 4096)

    # The source side: whatever needs a write answers 507, never 500; a new codename needs
    # none, so it still works.
    client = sources_side
    client.get("/")
    token = client.cookies["tainik_csrf"]
    assert client.post("/generate", data={"csrf": token}).status_code == 200
    client.cookies.set("tainik_source", source_cookie, domain="source.test")
    assert send(client, "a message on a full disk") == 507
    assert client.get("/lookup").status_code == 200  # reading needs no room

    # Staff: the login writes (attempt, session, audit) draw on the reserve.
    log_in(staff, journalist, clock)
    assert small.reserve.held() < 4  # it took a piece of the reserve
    assert staff.get("/inbox").status_code == 200
    # Full again: a page that would refresh the session's last-seen time still loads.
    fill(small.config.data_dir)
    clock.advance(120)
    assert staff.get("/inbox").status_code == 200
    # Deleting the source frees its 3 MiB.
    free = free_bytes(small.config.data_dir)
    response = staff.post(f"/sources/{big.id}/delete", data={"csrf": csrf(staff), "confirm": "1"})
    assert response.status_code == 303, response.text
    assert rows(small, "sources") == 0
    assert free_bytes(small.config.data_dir) >= free + 2 * MIB  # the WAL keeps some


def test_the_api_says_storage_full_for_a_database_that_cannot_grow(
    small: Instance, sources_side: TestClient
) -> None:
    """SQLite's "database or disk is full" is 507 storage_full, not 500 internal."""
    client = sources_side
    client.get("/")
    token = client.cookies["tainik_csrf"]
    client.post("/generate", data={"csrf": token})
    assert send(client, "first") == 303  # a source the server keeps
    codename_login = client.post("/logout", data={"csrf": token})
    assert codename_login.status_code == 200
    fill(small.config.data_dir)
    api = {"x-csrf-token": token}
    answer = client.post("/api/sources", headers=api)
    assert answer.status_code == 201  # stores nothing
    # Readying the keys writes nothing either; the first upload would, and is refused.
    assert client.post("/api/session", headers=api).status_code == 200
    note = base64.b64encode(b"age-encryption.org/v1\nx").decode()
    refused = client.post(
        "/api/uploads", headers=api, json={"id": new_sealed_id(), "segments": 1, "note": note}
    )
    assert refused.status_code == 507
    assert refused.json()["error"] == "storage_full"
    assert rows(small, "sources") == 1


def test_deletion_frees_space_when_even_the_reserve_is_gone(
    disk: Path, org: crypto.Identity, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = disk / "instance"
    init_instance(data_dir, [org.recipient], kdf=FAST_TEST_PARAMS)
    configure(data_dir, min_free_bytes=MARGIN, reserve_bytes=0)  # no reserve at all
    instance = Instance.open(load_config(data_dir))
    instance.clock = clock
    try:
        with TestClient(newsroom_app(instance), base_url=BASE, follow_redirects=False) as staff:
            journalist: Staffer = new_staffer(instance, "jo")
            log_in(staff, journalist, clock)
            big = seed_source(instance, file=os.urandom(4 * MIB))
            kept = seed_source(instance, file=b"small")
            fill(data_dir)
            with pytest.raises(OSError, match="No space"):
                (data_dir / "probe").write_bytes(b"x" * 4096)
            response = staff.post(
                f"/sources/{big.id}/delete", data={"csrf": csrf(staff), "confirm": "1"}
            )
            assert response.status_code == 303, response.text
            with instance.engine.begin() as db:
                left = set(db.execute(select(schema.sources.c.id)).scalars())
            assert left == {kept.id}
            assert len(list(instance.blobs.ids())) == 2  # the kept source's message and file
            assert free_bytes(data_dir) >= 3 * MIB
            assert "files removed before their rows" in caplog.text
            with instance.engine.begin() as db:
                actions = set(db.execute(select(ns.audit_log.c.action)).scalars())
            assert "delete-source" in actions  # recorded, after the files made room for it
    finally:
        instance.close()


def test_housekeeping_refills_the_reserve_once_there_is_room(
    small: Instance, staff: TestClient, clock: Clock
) -> None:
    journalist = new_staffer(small, "jo")
    filler = fill(small.config.data_dir)
    log_in(staff, journalist, clock)
    assert small.reserve.held() < 4
    maintenance.housekeeping(small)
    assert small.reserve.held() < 4  # still no room above the margin
    filler.unlink()
    maintenance.housekeeping(small)
    assert small.reserve.held() == 4
