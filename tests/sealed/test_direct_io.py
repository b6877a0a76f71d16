"""Aligned buffers go to the disk with O_DIRECT, and every byte lands where it should.

`durable.write_file` and `durable.PositionalWriter` write the aligned head of a page-aligned
buffer with O_DIRECT (no copy into the page cache) and the rest through the cache; a file
system that refuses O_DIRECT (tmpfs on older kernels) or a device that wants another alignment
must fall back without losing or misplacing a byte.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tainik import crypto
from tainik.core.errors import StorageError
from tainik.sealed import durable
from tainik.sealed.files import FileSealer
from tainik.sealed.reader import SealedOpener

ALIGN = durable.DIRECT_ALIGNMENT
SIZES = [1, ALIGN - 1, ALIGN, ALIGN + 1, 3 * ALIGN + 17, 64 * 1024 * 16 + 300]


def _takes_direct(folder: Path) -> bool:
    probe = folder / ".direct-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)
    except OSError:
        return False
    os.close(fd)
    probe.unlink()
    return True


def _filled(size: int) -> memoryview:
    buffer = durable.aligned_buffer(size)
    buffer[:] = os.urandom(size)
    return buffer


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[bool, int]]:
    """Record, for each call of ``os.<name>``, whether its descriptor had O_DIRECT and the
    length it was given."""
    calls: list[tuple[bool, int]] = []
    real: Callable[..., int] = getattr(os, name)

    def spy(fd: int, data: memoryview, *rest: int) -> int:
        calls.append((bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT), len(data)))
        return real(fd, data, *rest)

    monkeypatch.setattr(os, name, spy)
    return calls


@pytest.fixture(autouse=True)
def _forget_refusals() -> None:
    durable._no_direct.clear()


def test_aligned_buffers_start_on_a_page() -> None:
    import ctypes

    for size in (1, 5000, 4 * 1024 * 1024):
        view = durable.aligned_buffer(size)
        assert len(view) == size
        assert ctypes.addressof(ctypes.c_char.from_buffer(view)) % ALIGN == 0


def test_a_forked_child_does_not_share_aligned_buffers() -> None:
    """Worker processes fork with their parent's scratch buffers: a shared mapping would let
    them seal into each other's bytes (as a vault import test once showed)."""
    view = durable.aligned_buffer(ALIGN)
    view[:4] = b"mine"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        view[:4] = b"kids"
        os._exit(0)
    os.waitpid(pid, 0)
    assert bytes(view[:4]) == b"mine"


@pytest.mark.parametrize("size", SIZES)
def test_write_file_uses_o_direct_for_the_aligned_head(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _filled(size)
    calls = _spy(monkeypatch, "pwrite")
    durable.write_file(tmp_path / "part", data)
    assert (tmp_path / "part").read_bytes() == bytes(data)
    direct = sum(length for is_direct, length in calls if is_direct)
    # Where the file system refuses O_DIRECT (not on CI's disks), nothing may claim it.
    assert direct == (size // ALIGN * ALIGN if _takes_direct(tmp_path) else 0)


def test_write_file_on_tmpfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """tmpfs takes O_DIRECT on newer kernels and refuses it on older ones: right bytes either
    way."""
    shm = Path("/dev/shm")
    assert shm.is_dir(), "Linux always has /dev/shm"
    data = _filled(7 * ALIGN + 3)
    path = shm / f"tainik-test-{os.getpid()}"
    try:
        durable.write_file(path, data)
        assert path.read_bytes() == bytes(data)
    finally:
        path.unlink(missing_ok=True)


def test_unaligned_buffers_go_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _filled(4 * ALIGN + 1)
    calls = _spy(monkeypatch, "pwrite")
    durable.write_file(tmp_path / "a", data[1:])  # starts one byte past a page
    durable.write_file(tmp_path / "b", bytes(data))  # immutable bytes
    assert (tmp_path / "a").read_bytes() == bytes(data[1:])
    assert (tmp_path / "b").read_bytes() == bytes(data)
    assert calls
    assert not any(is_direct for is_direct, _ in calls)


def _failing_direct_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Make every write to a descriptor in O_DIRECT mode fail with ``code``."""
    real = os.pwrite

    def failing(fd: int, data: memoryview, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(code, os.strerror(code))
        return real(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", failing)


def test_a_refused_o_direct_write_falls_back_to_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device that wants another alignment answers EINVAL: nothing may be lost, and its file
    system is not asked again."""
    _failing_direct_writes(monkeypatch, errno.EINVAL)
    data = _filled(5 * ALIGN + 99)
    durable.write_file(tmp_path / "part", data)
    assert (tmp_path / "part").read_bytes() == bytes(data)
    if _takes_direct(tmp_path):
        assert os.stat(tmp_path).st_dev in durable._no_direct


def test_other_write_errors_are_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_direct_writes(monkeypatch, errno.ENOSPC)
    data = _filled(2 * ALIGN)
    if not _takes_direct(tmp_path):  # no O_DIRECT write to fail (not on CI's disks)
        durable.write_file(tmp_path / "part", data)
        assert (tmp_path / "part").read_bytes() == bytes(data)
        return
    with pytest.raises(StorageError, match="no space left"):
        durable.write_file(tmp_path / "part", data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pieces=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 3 * ALIGN + 5), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_positional_writes_land_where_they_were_asked(
    tmp_path: Path, pieces: list[tuple[int, int, bool]]
) -> None:
    """Any mix of aligned and unaligned offsets, lengths and buffers gives the same file as
    plain pwrite would."""
    path = tmp_path / "positional"
    path.unlink(missing_ok=True)
    expected = bytearray()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    writer = durable.PositionalWriter(fd)
    try:
        for pages, length, aligned in pieces:
            offset = pages * ALIGN + (0 if aligned else 7)
            data = _filled(length) if aligned else memoryview(os.urandom(length))
            writer.write(data, offset)
            if length and len(expected) < offset + length:  # pwrite of nothing extends nothing
                expected.extend(bytes(offset + length - len(expected)))
            expected[offset : offset + length] = data
    finally:
        writer.close()
        os.close(fd)
    assert path.read_bytes() == bytes(expected)


def test_tainik_open_writes_its_output_with_o_direct(
    tmp_path: Path, identity: crypto.Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 3 * 1024 * 1024 + 12345
    source = tmp_path / "clip.bin"
    source.write_bytes(os.urandom(size))
    with FileSealer([identity.recipient], segment_size=1024 * 1024, jobs=2) as sealer:
        container = sealer.seal(source, tmp_path / "sealed")
    calls = _spy(monkeypatch, "pwrite")
    opened = SealedOpener([identity], jobs=2).open(container, tmp_path / "out")
    assert opened.path.read_bytes() == source.read_bytes()
    direct = sum(length for is_direct, length in calls if is_direct)
    assert direct == (size // ALIGN * ALIGN if _takes_direct(tmp_path) else 0)


@pytest.mark.parametrize("sizes", [[1], [4096], [1000, 5000, 3], [65536] * 64 + [17]])
def test_chunks_are_gathered_and_written_directly(
    tmp_path: Path, sizes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment PUT arrives as the socket's pieces: gathered into a staging buffer, it goes
    to the disk with O_DIRECT like a sealed segment."""
    chunks = [os.urandom(n) for n in sizes]
    calls = _spy(monkeypatch, "pwrite")
    durable.write_file(tmp_path / "part", chunks)
    assert (tmp_path / "part").read_bytes() == b"".join(chunks)
    if _takes_direct(tmp_path):
        assert sum(n for is_direct, n in calls if is_direct) == sum(sizes) // ALIGN * ALIGN


def test_chunks_are_written_when_every_staging_buffer_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable._Staging, "COUNT", 0)
    monkeypatch.setattr(durable, "_staging", None)
    chunks = [os.urandom(70_000) for _ in range(5)]
    positional, gathered = _spy(monkeypatch, "pwrite"), _spy(monkeypatch, "writev")
    durable.write_file(tmp_path / "part", chunks)
    assert (tmp_path / "part").read_bytes() == b"".join(chunks)
    assert gathered, "written as the pieces came (writev)"
    assert not any(is_direct for is_direct, _ in positional + gathered)


def test_many_threads_share_the_staging_buffers(tmp_path: Path) -> None:
    """More writers than staging buffers, with sizes that make buffers grow: every file holds
    exactly its own bytes."""
    from concurrent.futures import ThreadPoolExecutor

    datas = [[os.urandom(50_000 * (1 + i % 7)) for _ in range(1 + i % 3)] for i in range(24)]
    datas[5] = [os.urandom(durable._Staging.MIN_SIZE + 5000)]  # larger than a staging buffer

    def write(i: int) -> None:
        durable.write_file(tmp_path / f"part{i}", datas[i])

    with ThreadPoolExecutor(8) as threads:
        list(threads.map(write, range(len(datas))))
    for i, chunks in enumerate(datas):
        assert (tmp_path / f"part{i}").read_bytes() == b"".join(chunks)
