"""Flushing in the background never lets a failed write look complete.

Parts of a sealed file are fsynced by flusher threads and a container is renamed into place only
after all of them succeeded; `tainik open` flushes its output as it goes and publishes nothing
if any flush failed. A disk that fails at fsync time (write-back errors, a full thin volume) is
simulated by making fsync/fdatasync fail.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
from pathlib import Path

import pytest

from tainik import crypto
from tainik.core.errors import StorageError
from tainik.core.segments import CHUNK
from tainik.sealed import durable, pool
from tainik.sealed.files import FileSealer
from tainik.sealed.reader import SealedOpener


def _failing(*_args: object) -> None:
    raise OSError(errno.EIO, "Input/output error")


def test_a_failed_flush_leaves_no_container(
    tmp_path: Path, identity: crypto.Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(5 * CHUNK + 7))
    out = tmp_path / "out"
    monkeypatch.setattr(os, "fsync", _failing)
    with (
        FileSealer([identity.recipient], segment_size=CHUNK, jobs=2) as sealer,
        pytest.raises(StorageError, match="Input/output error"),
    ):
        sealer.seal(source, out)
    assert list(out.iterdir()) == []  # neither a container nor its hidden partial folder


def test_flushes_complete_before_the_container_appears(
    tmp_path: Path, identity: crypto.Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        real_fsync(fd)
        flushed.append(fd)

    monkeypatch.setattr(os, "fsync", counting)
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(9 * CHUNK))
    with FileSealer([identity.recipient], segment_size=CHUNK, jobs=2) as sealer:
        container = sealer.seal(source, tmp_path / "out")
    # 9 segments and the manifest, each fsynced, then the two directories.
    assert len(flushed) >= 9 + 1 + 2
    assert len(list(container.iterdir())) == 10


def test_open_publishes_nothing_when_a_background_flush_fails(
    tmp_path: Path, identity: crypto.Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(12 * CHUNK))
    with FileSealer([identity.recipient], segment_size=CHUNK, jobs=2) as sealer:
        container = sealer.seal(source, tmp_path / "sealed")
    monkeypatch.setattr(os, "fdatasync", _failing)
    # Flush after every segment so that the failure happens while segments are still opening.
    real = durable.BackgroundSync.__init__

    def eager(self: durable.BackgroundSync, fd: int, path: Path, every: int = 0) -> None:
        real(self, fd, path, every=CHUNK)

    monkeypatch.setattr(durable.BackgroundSync, "__init__", eager)
    out = tmp_path / "opened"
    with pytest.raises(StorageError, match="Input/output error"):
        SealedOpener([identity], jobs=2).open(container, out)
    assert list(out.iterdir()) == []


def test_background_sync_reports_a_failure_from_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fdatasync", _failing)
    path = tmp_path / "f"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        sync = durable.BackgroundSync(fd, path, every=1)
        os.write(fd, b"data")
        sync.wrote(4)
        with pytest.raises(StorageError):
            sync.close()
    finally:
        os.close(fd)


def _seal_in_child(source: str, out: str, recipient: str) -> None:
    with FileSealer([crypto.Recipient(recipient)], segment_size=CHUNK, jobs=2) as sealer:
        sealer.seal(Path(source), Path(out))


def test_a_forked_child_gets_its_own_flusher_threads(
    tmp_path: Path, identity: crypto.Identity
) -> None:
    """A child forked while the parent's flushers exist must not wait on threads it lacks."""
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(6 * CHUNK))
    with FileSealer([identity.recipient], segment_size=CHUNK, jobs=2) as sealer:
        sealer.seal(source, tmp_path / "parent")
    child = multiprocessing.get_context("fork").Process(
        target=_seal_in_child,
        args=(str(source), str(tmp_path / "child"), identity.recipient.text),
    )
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung sealing a file")
    assert child.exitcode == 0
    assert len(list((tmp_path / "child").iterdir())) == 1


def test_a_child_forked_while_another_thread_holds_the_flusher_lock_does_not_hang(
    tmp_path: Path, identity: crypto.Identity
) -> None:
    """The fork may come while a thread of the parent sits inside the flusher lock."""
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(6 * CHUNK))
    child = multiprocessing.get_context("fork").Process(
        target=_seal_in_child,
        args=(str(source), str(tmp_path / "child"), identity.recipient.text),
    )
    with durable._flushing_lock:  # as a parent's flusher thread would, at the wrong moment
        child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung on a lock held in the parent at the fork")
    assert child.exitcode == 0


def test_a_file_that_shrinks_while_sealed_leaves_no_container(
    tmp_path: Path, identity: crypto.Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "growing-then-cut.bin"
    source.write_bytes(os.urandom(8 * CHUNK))
    out = tmp_path / "out"
    real = pool.readinto_exactly

    def cut_after_three(fd: int, view: memoryview, offset: int) -> int:
        if offset >= 3 * CHUNK:
            os.truncate(source, 3 * CHUNK)
        return real(fd, view, offset)

    monkeypatch.setattr(pool, "readinto_exactly", cut_after_three)
    with (
        FileSealer([identity.recipient], segment_size=CHUNK, jobs=2) as sealer,
        pytest.raises(StorageError, match="changed while it was being sealed"),
    ):
        sealer.seal(source, out)
    assert list(out.iterdir()) == []
