"""The upload lifecycle as the API meets it (docs/protocol.md, "Lifecycle"): the stored state
decides, so parts sent after a complete are refused as ``wrong_state``, a commit that
stopped half-way is finished by the next complete or put back by recovery."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from backends import sealed_dir
from tainik import crypto
from tainik.core.upload import UploadState
from tainik.sealed import durable
from tainik.sealed.reader import SealedOpener
from tainik.sealed.tarball import sealed_file_tar
from tainik.server.app import source_app
from tainik.service import uploads
from tainik.service.instance import Instance
from tainik.service.maintenance import ServeLock, recover
from tainik.storage import schema
from tainik.storage.blobs import BlobStore
from tainik.storage.coarse import MINUTE, round_down

from .conftest import csrf, known_source
from .test_uploads_api import S, Upload, all_but_complete, headers, put

COMMITTING = UploadState.COMMITTING.value


@pytest.fixture
def source(client: TestClient) -> TestClient:
    known_source(client)
    csrf(client)
    return client


def _state(instance: Instance, sealed_id: str) -> str | None:
    with instance.engine.begin() as db:
        found: str | None = db.execute(
            select(schema.uploads.c.state).where(schema.uploads.c.sealed_id == sealed_id)
        ).scalar()
    return found


def _set_state(instance: Instance, sealed_id: str, state: str) -> None:
    """What a complete in another server process has written when it stops (is killed) after
    its first step: the upload is committing."""
    with instance.engine.begin() as db:
        db.execute(
            update(schema.uploads)
            .where(schema.uploads.c.sealed_id == sealed_id)
            .values(state=state)
        )


def _recorded(instance: Instance, sealed_id: str) -> list[str]:
    """The kinds recorded for ``sealed_id`` (one submission, or none)."""
    with instance.engine.begin() as db:
        return list(
            db.execute(
                select(schema.submissions.c.kind).where(schema.submissions.c.sealed_id == sealed_id)
            ).scalars()
        )


def _refused(response: Any, message: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "wrong_state"
    assert message in response.json()["message"]


def _opens(instance: Instance, org: crypto.Identity, upload: Upload, tmp_path: Path) -> None:
    blob = sealed_dir(instance, upload.manifest.id, tmp_path / "blobs")
    assert not [p.name for p in blob.iterdir() if p.name.startswith(".")]
    opened = SealedOpener([org], jobs=1).open(blob, tmp_path / upload.manifest.id)
    assert opened.path.read_bytes() == upload.data


def _segment_retried_across_complete(
    source: TestClient,
    instance: Instance,
    upload: Upload,
    reached: threading.Event,
    releases: list[threading.Event],
) -> Any:
    """Retry segment 0 from another tab; once its write is ``reached`` (held there by the
    test), complete the upload from ``source``, then set ``releases``. The retry's answer."""
    path = f"/api/uploads/{upload.manifest.id}"
    answers: list[Any] = []

    def retry_segment() -> None:
        with TestClient(source_app(instance)) as tab:
            tab.cookies.update(source.cookies)
            answers.append(
                tab.put(f"{path}/segments/0", headers=headers(tab), content=upload.segment(0))
            )

    thread = threading.Thread(target=retry_segment)
    thread.start()
    try:
        assert reached.wait(30)
        assert source.post(f"{path}/complete", headers=headers(source)).status_code == 200
    finally:
        for release in releases:
            release.set()
        thread.join(30)
    return answers[0]


def test_parts_sent_after_complete_are_refused_as_wrong_state(
    source: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path
) -> None:
    """Once complete, an upload takes nothing more: a segment, the manifest or an abandon
    are ``409 wrong_state`` (they were a ``404`` that told the client nothing), and the
    sealed file stays as it was committed."""
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    path = f"/api/uploads/{upload.manifest.id}"
    assert source.post(f"{path}/complete", headers=headers(source)).status_code == 200
    size = instance.blobs.size_of(upload.manifest.id)

    again = source.put(f"{path}/segments/0", headers=headers(source), content=upload.segment(0))
    _refused(again, "This upload is complete; nothing more can be sent to it")
    manifest = crypto.encrypt(upload.manifest.encode(), [org.recipient])
    _refused(source.put(f"{path}/manifest", headers=headers(source), content=manifest), "complete")
    _refused(source.delete(path, headers=headers(source)), "complete")
    russian = {**headers(source), "Accept-Language": "ru"}
    _refused(source.put(f"{path}/segments/1", headers=russian, content=b"x"), "Эта загрузка")
    # Not an upload any more (the sender relies on this), and still complete, once.
    assert source.get(path).status_code == 404
    assert source.post(f"{path}/complete", headers=headers(source)).json() == {"complete": True}
    assert _recorded(instance, upload.manifest.id) == ["file"]
    assert instance.blobs.size_of(upload.manifest.id) == size
    _opens(instance, org, upload, tmp_path)


@pytest.mark.embedded
def test_a_segment_in_flight_when_the_upload_completes_is_refused_not_lost(
    source: TestClient,
    instance: Instance,
    org: crypto.Identity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retried segment still being written when another tab completes the upload: its
    write finds the folder renamed into the blob store. The answer is ``wrong_state``, not a
    500, and nothing of it lands in the committed sealed file."""
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    writing, release = threading.Event(), threading.Event()
    write_file = durable.write_file

    def held(target: Path, data: bytes | list[bytes]) -> None:
        """The real write, once the complete has happened (the state was checked before)."""
        writing.set()
        assert release.wait(30)
        write_file(target, data)

    monkeypatch.setattr(durable, "write_file", held)
    answer = _segment_retried_across_complete(source, instance, upload, writing, [release])
    _refused(answer, "complete")
    assert _recorded(instance, upload.manifest.id) == ["file"]
    _opens(instance, org, upload, tmp_path)


@pytest.mark.embedded
def test_a_part_half_written_when_the_upload_commits_does_not_stay_in_the_sealed_file(
    source: TestClient,
    instance: Instance,
    org: crypto.Identity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The narrower race: the retried segment's temporary file is made after the commit
    cleared the folder's temporaries and before it renamed the folder, so it is carried into
    the blob store. It was left there, and a sealed file with a stray entry cannot be
    downloaded or opened; now the commit removes it, and the segment is refused."""
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    assert isinstance(instance.blobs, BlobStore)
    blob = instance.blobs.path_of(upload.manifest.id)
    at_write, may_write, written, may_finish = (threading.Event() for _ in range(4))
    write_file, move_into_place, rename = durable.write_file, durable.move_into_place, os.rename

    def write_held(target: Path, data: bytes | list[bytes]) -> None:
        at_write.set()
        assert may_write.wait(30)
        write_file(target, data)

    def finish_held(temp: Path, target: Path, **options: bool) -> None:
        written.set()
        assert may_finish.wait(30)
        move_into_place(temp, target, **options)

    def commit_rename(source_path: Any, destination: Any) -> None:
        """The commit's rename of the folder: the writer makes its temporary file first."""
        if Path(destination) == blob:
            may_write.set()
            assert written.wait(30)
            rename(source_path, destination)
            may_finish.set()
            return
        rename(source_path, destination)

    monkeypatch.setattr(durable, "write_file", write_held)
    monkeypatch.setattr(durable, "move_into_place", finish_held)
    monkeypatch.setattr(os, "rename", commit_rename)
    answer = _segment_retried_across_complete(
        source, instance, upload, at_write, [may_write, may_finish]
    )
    monkeypatch.undo()
    _refused(answer, "complete")
    sealed_file_tar(blob)  # a download of it is possible
    _opens(instance, org, upload, tmp_path)


def test_two_sessions_of_a_source_complete_once_and_both_are_marked_active(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    """Complete from two clients of one source (a sender and a browser): one commit, both
    told it is complete, and each session marked active by its own complete."""
    codename = known_source(source)
    csrf(source)
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    path = f"/api/uploads/{upload.manifest.id}/complete"
    with TestClient(source_app(instance)) as other:
        csrf(other)
        login = other.post("/api/login", headers=headers(other), json={"codename": codename})
        assert login.status_code == 204, login.text
        later = instance.clock() + timedelta(minutes=20)
        instance.clock = lambda: later
        assert source.post(path, headers=headers(source)).json() == {"complete": True}
        even_later = later + timedelta(minutes=20)
        instance.clock = lambda: even_later
        assert other.post(path, headers=headers(other)).json() == {"complete": True}
    with instance.engine.begin() as db:
        seen = sorted(db.execute(select(schema.source_sessions.c.last_seen)).scalars())
    assert [s.replace(tzinfo=None) for s in seen[-2:]] == [
        round_down(later, MINUTE).replace(tzinfo=None),
        round_down(even_later, MINUTE).replace(tzinfo=None),
    ]
    assert _recorded(instance, upload.manifest.id) == ["file"]


@pytest.mark.parametrize("renamed", [False, True])
def test_a_commit_that_stopped_half_way_is_finished_by_the_next_complete(
    source: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path, renamed: bool
) -> None:
    """A complete in another process wrote ``committing`` and stopped, before or after it
    renamed the parts into the blob store. The upload then takes no part and no abandon, lists
    as holding everything (so a client sends nothing), and the next complete finishes it."""
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    sealed_id = upload.manifest.id
    _set_state(instance, sealed_id, COMMITTING)
    if renamed:
        instance.uploads.commit(sealed_id, instance.blobs)
    path = f"/api/uploads/{sealed_id}"
    refused = source.put(f"{path}/segments/0", headers=headers(source), content=b"x")
    _refused(refused, "This upload is being completed")
    _refused(source.delete(path, headers=headers(source)), "being completed")
    view = source.get(path).json()
    assert view["received"] == [0, 1]
    assert view["manifest"] is True
    assert source.get("/api/uploads").json()["uploads"][0]["received"] == [0, 1]
    done = source.post(f"{path}/complete", headers=headers(source), json={"kind": "message"})
    assert done.json() == {"complete": True}
    assert _state(instance, sealed_id) is None
    assert _recorded(instance, sealed_id) == ["message"]
    _opens(instance, org, upload, tmp_path)


def _recover(instance: Instance) -> None:
    lock = ServeLock(instance)
    try:
        recover(instance, lock)
    finally:
        lock.release()


def test_recovery_puts_a_commit_not_renamed_back_to_receiving(
    source: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path
) -> None:
    """A crash after ``committing`` was written, before the rename: the client was never
    told, so the upload receives again (nothing recorded as the client did not state it),
    and its complete, retried, commits it with the kind it states."""
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    _set_state(instance, upload.manifest.id, COMMITTING)
    _recover(instance)
    assert _state(instance, upload.manifest.id) == UploadState.RECEIVING
    assert _recorded(instance, upload.manifest.id) == []
    assert put(source, upload, 1) == 200
    done = source.post(
        f"/api/uploads/{upload.manifest.id}/complete",
        headers=headers(source),
        json={"kind": "message"},
    )
    assert done.json() == {"complete": True}
    assert _recorded(instance, upload.manifest.id) == ["message"]
    _opens(instance, org, upload, tmp_path)


def test_recovery_records_a_commit_renamed_but_not_recorded(
    source: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path
) -> None:
    upload = Upload(os.urandom(S + 10), org)
    all_but_complete(source, upload)
    _set_state(instance, upload.manifest.id, COMMITTING)
    instance.uploads.commit(upload.manifest.id, instance.blobs)
    _recover(instance)
    assert _state(instance, upload.manifest.id) is None
    assert _recorded(instance, upload.manifest.id) == ["file"]
    _opens(instance, org, upload, tmp_path)


def test_a_committing_upload_does_not_expire(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    """Expiry removes uploads that receive; one committing is finished or put back, never
    removed under a complete that is renaming it."""
    committing, idle = Upload(b"a" * 5, org), Upload(b"b" * 5, org)
    for upload in (committing, idle):
        all_but_complete(source, upload)
    _set_state(instance, committing.manifest.id, COMMITTING)
    later = instance.clock() + timedelta(hours=instance.config.unfinished_upload_hours + 1)
    instance.clock = lambda: later
    assert uploads.expire_uploads(instance) == 1
    assert _state(instance, committing.manifest.id) == COMMITTING
    assert _state(instance, idle.manifest.id) is None
    assert instance.uploads.exists(committing.manifest.id)
