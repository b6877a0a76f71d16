"""The S3 blob store on a real SeaweedFS: only ciphertext reaches it, a committed sealed file
never changes, and recovery finds objects no row owns and rows whose objects are gone."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import obstore
import pytest

from backends import SHARED_BUCKET, SeaweedS3, sealed_dir, use_backend
from canary import files_under, holds
from source_client import open_sealed
from tainik import crypto
from tainik.config import init_instance, load_config
from tainik.core.errors import StorageError
from tainik.core.manifest import Kind
from tainik.crypto import FAST_TEST_PARAMS
from tainik.sealed.writer import SegmentSealer, new_sealed_id
from tainik.service import maintenance, sources
from tainik.service.instance import Instance
from tainik.service.intake import Intake
from tainik.service.new_source import NewSource
from tainik.storage.objects import ObjectBlobs, ObjectUploads

pytestmark = pytest.mark.pg
MIB = 1024 * 1024


@pytest.fixture
def org() -> crypto.Identity:
    return crypto.Identity.generate()


@pytest.fixture
def instance(tmp_path: Path, org: crypto.Identity, seaweed: SeaweedS3) -> Iterator[Instance]:
    """An instance on PostgreSQL + SeaweedFS, whatever ``--backend`` says."""
    config = init_instance(tmp_path / "instance", [org.recipient], kdf=FAST_TEST_PARAMS)
    use_backend(config.data_dir, "pg")
    opened = Instance.open(load_config(config.data_dir))
    assert isinstance(opened.blobs, ObjectBlobs)
    yield opened
    opened.close()


def _submit(instance: Instance, message: str, file: bytes) -> int:
    """A new source's first submission (a message and a file) through the service layer."""
    _codename, cookie = sources.new_codename(instance)
    new = sources.identify(instance, cookie.reveal())
    assert isinstance(new, NewSource)
    intake = Intake(instance, sources.with_keys(instance, new))
    intake.add_message(message)
    sealer = intake.start(Kind.FILE, b"evidence.bin")
    sealer.write(file)
    intake.finish_current()
    intake.commit()
    assert intake.new_cookie is not None
    return sources.resume(instance, intake.new_cookie.reveal()).source_id


def _holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in files_under([root], since=None, max_size=1 << 30) if holds(p, needle)]


def test_only_ciphertext_reaches_seaweedfs(
    instance: Instance, seaweed: SeaweedS3, org: crypto.Identity, tmp_path: Path
) -> None:
    """The canary scan of SeaweedFS's own data folder (volumes, filer store): a message, a
    file and a reply with a canary go through the service layer; the canary is nowhere on
    SeaweedFS's disk. The scan is shown to see plaintext that does reach the store."""
    canary = f"canary-{secrets.token_hex(16)}"
    control = f"control-{secrets.token_hex(16)}".encode()
    file = os.urandom(MIB) + canary.encode() * 1000 + os.urandom(MIB)
    source_id = _submit(instance, f"message {canary}", file)
    sources.add_reply(instance, source_id, f"reply {canary}")
    # Positive control: plaintext put straight into the bucket is found by the same scan,
    # small (as the filer may keep it) and large (as a volume does).
    store = seaweed.store(SHARED_BUCKET)
    obstore.put(store, "control/small", control)
    obstore.put(store, "control/large", os.urandom(MIB) + control * 1000)
    try:
        assert _holding(seaweed.data, control), "the scan does not see what SeaweedFS stores"
        assert _holding(seaweed.data, canary.encode()) == []
    finally:
        obstore.delete(store, ["control/small", "control/large"])
    # Not vacuous: the sealed files are in the store and open to the organisation.
    ids = list(instance.blobs.ids())
    assert len(ids) == 3
    opened = open_sealed(
        [sealed_dir(instance, i, tmp_path / "blobs") for i in ids],
        _identity_file(tmp_path, org),
        tmp_path / "opened",
    )
    assert opened["evidence.bin"] == file
    assert sorted(opened) == ["evidence.bin", "message.txt", "reply.txt"]


def _identity_file(tmp_path: Path, org: crypto.Identity) -> Path:
    path = tmp_path / "org.key"
    path.write_text(crypto.identity_file_text(org))
    path.chmod(0o600)
    return path


def test_a_part_sent_after_the_commit_never_changes_the_sealed_file(
    instance: Instance, org: crypto.Identity
) -> None:
    """A segment PUT that passed the state check just before another request committed the
    upload: in a folder its rename fails; in a bucket the write is conditional (no object
    yet), and an object that is there belongs to a committed sealed file, so it is refused."""
    uploads = instance.uploads
    assert isinstance(uploads, ObjectUploads)
    sealed_id = new_sealed_id()
    parts: dict[str, bytes] = {}

    class Capture:
        threadsafe = False

        def put_segment(self, index: int, ciphertext: bytes | bytearray | memoryview) -> None:
            parts[f"segment {index}"] = bytes(ciphertext)
            uploads.put_segment(sealed_id, index, bytes(ciphertext))

        def put_manifest(self, ciphertext: bytes) -> None:
            parts["manifest"] = ciphertext
            uploads.put_manifest(sealed_id, ciphertext)

    sealer = SegmentSealer([org.recipient], Capture(), sealed_id=sealed_id)
    sealer.write(b"evidence")
    sealer.finish()
    # A retry while receiving replaces the part whole, as on disk.
    uploads.put_segment(sealed_id, 0, parts["segment 0"])
    assert uploads.received(sealed_id) == [0]
    uploads.commit(sealed_id, instance.blobs)
    assert instance.blobs.exists(sealed_id)
    assert not uploads.exists(sealed_id)
    late = crypto.encrypt(b"something else", [org.recipient])
    with pytest.raises(StorageError):
        uploads.put_segment(sealed_id, 0, late)
    with pytest.raises(StorageError):
        uploads.put_manifest(sealed_id, late)
    uploads.remove(sealed_id)  # an abandon or expiry never removes a committed file
    assert instance.blobs.read_small(sealed_id, [org], 100).data == b"evidence"


def test_recovery_finds_objects_no_row_owns_and_rows_whose_objects_are_gone(
    instance: Instance, org: crypto.Identity
) -> None:
    source_id = _submit(instance, "kept", b"file")
    recorded = set(instance.blobs.ids())
    assert len(recorded) == 2
    # A sealed file committed to the bucket but never recorded (a crash in between), one
    # whose parts were written but never marked complete, and a recorded one lost.
    unrecorded = instance.blobs.new_sink(new_sealed_id())
    sealer = SegmentSealer([org.recipient], unrecorded, kind=Kind.REPLY)
    sealer.write(b"never acknowledged")
    sealer.finish()
    unrecorded.commit()
    partial_id = new_sealed_id()
    partial = instance.blobs.new_sink(partial_id)
    half = SegmentSealer([org.recipient], partial, sealed_id=partial_id)
    half.write(b"x" * 1000)
    half.finish()  # every part written; the commit (its marker) never came
    lost = sorted(recorded)[0]
    instance.blobs.delete(lost)
    sources.add_reply(instance, source_id, "a reply, kept")
    assert isinstance(instance.blobs, ObjectBlobs)
    assert instance.blobs.bucket.loose_ids() == {partial_id}
    lock = maintenance.ServeLock(instance)
    try:
        found = maintenance.recover(instance, lock)
    finally:
        lock.release()
    assert (found.orphans, found.partials, found.missing) == (1, 1, 1)
    assert len(set(instance.blobs.ids())) == 2  # the other recorded one and the reply
    assert instance.blobs.bucket.loose_ids() == set()
