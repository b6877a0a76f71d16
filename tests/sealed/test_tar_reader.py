"""The strict reader of sealed-file tars (docs/format.md, "Transport"; tainik.sealed.ustar).

Archives come from a networked machine. CPython's tarfile looped for ever on a member with a
negative base-256 size (CVE-2025-8194: ``tainik open``, ``vault import`` and pull's check all
hung with memory growing) and expanded GNU sparse members before any check (a 2.5 KB tar wrote
196 MB). Hostile archives are run in a subprocess with a time and memory limit, so that a
regression fails instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealed_tar_support import SEGMENT, seal_sample, whole
from tainik import crypto
from tainik.core.errors import ExitCode, FormatError, TainikError
from tainik.sealed import tarball, ustar

SRC = Path(__file__).resolve().parents[2] / "src"
ID = "a" * 26
TOP = f"{ID}.sealed"
LIMIT_S = 60
MEMORY = 3 * 1024**3


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, crypto.Identity]:
    return seal_sample(tmp_path_factory.mktemp("sealed"), 2 * SEGMENT + 777)


def _limited() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child with a time and memory bound: a hang fails, never blocks."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    try:
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=LIMIT_S,
            env=env,
            preexec_fn=_limited,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {LIMIT_S} s: the reader hangs on this input")


OPEN = "import sys; from tainik.cli.main import main; sys.exit(main(sys.argv[1:]))"


def _tainik(*args: str) -> subprocess.CompletedProcess[str]:
    return _python(OPEN, *args)


def _retype(header: bytes, **fields: bytes) -> bytes:
    """``header`` with raw fields replaced (``size``, ``typeflag``…) and its checksum redone."""
    where = {"size": (124, 12), "typeflag": (156, 1), "magic": (257, 8), "rest": (345, 167)}
    block = bytearray(header)
    for name, value in fields.items():
        start, length = where[name]
        block[start : start + length] = value.ljust(length, b"\x00")
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)


def _negative_size_tar() -> bytes:
    """CVE-2025-8194: a member whose base-256 size is −512 points back at its own header."""
    evil = _retype(
        ustar.encode_header(f"{TOP}/manifest.age", 0),
        size=b"\xff" + (256**11 - 512).to_bytes(11, "big"),
    )
    return ustar.encode_header(TOP + "/", 0, directory=True) + evil + ustar.END_OF_ARCHIVE


def _sparse_tar() -> bytes:
    """A GNU sparse member: 512 bytes stored, 60 MB once tarfile expands it."""
    header = bytearray(ustar.encode_header(f"{TOP}/manifest.age", 512))
    sparse_map = b"%011o\x00%011o\x00" % (0, 512)  # one region: offset 0, 512 bytes
    header[386 : 386 + 24] = sparse_map
    header[483:495] = b"%011o\x00" % (60 * 1000 * 1000)  # realsize
    block = _retype(bytes(header), typeflag=b"S", magic=b"ustar  \x00")
    directory = ustar.encode_header(TOP + "/", 0, directory=True)
    return directory + block + b"x" * 512 + ustar.END_OF_ARCHIVE


@pytest.fixture
def key(sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path) -> Path:
    path = tmp_path / "org.key"
    path.write_text(crypto.identity_file_text(sealed[2]))
    return path


# -- the CVE and the sparse member, through every command that read tars -----------------------


def test_open_refuses_a_negative_base256_size(key: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    archive.write_bytes(_negative_size_tar())
    assert archive.stat().st_size <= 2048
    out = tmp_path / "out"
    result = _tainik("open", str(archive), "-i", str(key), "--out", str(out))
    assert result.returncode == ExitCode.INTEGRITY, result.stderr
    assert "base-256 size" in result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "code",
    [
        # pull's check of a download
        "from pathlib import Path; import sys\n"
        "from tainik.workstation.pull.sync import check_sealed_tar\n"
        "from tainik.core.errors import TainikError\n"
        "try: check_sealed_tar(Path(sys.argv[1]), sys.argv[2])\n"
        "except TainikError as e: print('refused:', e.english()); sys.exit(0)\n"
        "sys.exit('accepted')",
        # vault import's look at a pulled tar before it opens it
        "from pathlib import Path; import sys\n"
        "from tainik.workstation.vault.importer import Importer\n"
        "from tainik.core.errors import TainikError\n"
        "try: Importer._manifest_hash(Path(sys.argv[1]))\n"
        "except TainikError as e: print('refused:', e.english()); sys.exit(0)\n"
        "sys.exit('accepted')",
    ],
    ids=["pull check", "vault import"],
)
def test_pull_and_import_refuse_a_negative_base256_size(code: str, tmp_path: Path) -> None:
    archive = tmp_path / f"{TOP}.tar"
    archive.write_bytes(_negative_size_tar())
    result = _python(code, str(archive), ID)
    assert result.returncode == 0, result.stderr
    assert "refused:" in result.stdout


def test_a_gnu_sparse_member_is_refused_unexpanded(key: Path, tmp_path: Path) -> None:
    archive = tmp_path / "sparse.tar"
    archive.write_bytes(_sparse_tar())
    assert archive.stat().st_size < 3000
    out = tmp_path / "out"
    result = _tainik("open", str(archive), "-i", str(key), "--out", str(out))
    assert result.returncode == ExitCode.INTEGRITY, result.stderr
    assert "not a sealed-file tar" in result.stderr
    assert "type 'S'" in result.stderr
    assert list(out.iterdir()) == []


# -- the codec -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "directory"),
    [(f"{TOP}/", 0, True), (f"{TOP}/manifest.age", 321, False), (f"{ID}.sealed.tar", 10**9, False)],
)
def test_headers_are_the_bytes_tarfile_wrote_before(name: str, size: int, directory: bool) -> None:
    """The writer's bytes did not change when tarfile stopped writing them."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.size, info.mode, info.mtime, info.uname, info.gname = (
        size,
        0o700 if directory else 0o600,
        0,
        "",
        "",
    )
    expected = info.tobuf(format=tarfile.USTAR_FORMAT, encoding="ascii", errors="strict")
    assert ustar.encode_header(name, size, directory=directory) == expected
    assert ustar.decode_header(expected, "x") == (name, size, directory)


def test_a_written_tar_reads_back_exactly(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, _plaintext, _identity = sealed
    archive = tmp_path / f"{TOP}.tar"
    archive.write_bytes(whole(tarball.sealed_file_tar(container)))
    [found] = tarball.index(archive)
    parts = [container / "manifest.age", *sorted(container.glob("segment-*.age"))]
    data = archive.read_bytes()
    read = [found.manifest, *found.segments]
    assert [data[m.offset : m.offset + m.size] for m in read] == [p.read_bytes() for p in parts]
    # Re-encoding what was read gives back the archive, byte for byte.
    again = ustar.encode_header(container.name + "/", 0, directory=True)
    for member in read:
        again += ustar.encode_header(member.name, member.size)
        again += data[member.offset : member.offset + ustar.padded(member.size)]
    assert again + ustar.END_OF_ARCHIVE == data


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"size": b"\x80" + bytes(10) + b"\x01"}, "base-256 size"),
        ({"size": b"0000000001 \x00"}, "malformed size"),
        ({"typeflag": b"2"}, "type '2'"),
        ({"typeflag": b"1"}, "type '1'"),
        ({"typeflag": b"L"}, "type 'L'"),
        ({"typeflag": b"x"}, "type 'x'"),
        ({"typeflag": b"g"}, "type 'g'"),
        ({"typeflag": b"S"}, "type 'S'"),
        ({"typeflag": b"3"}, "type '3'"),
        ({"typeflag": b"6"}, "type '6'"),
        ({"magic": b"ustar  \x00"}, "not ustar"),
        ({"rest": b"prefix"}, "not the one docs/format.md specifies"),
    ],
)
def test_headers_other_than_the_writers_are_refused(change: dict[str, bytes], problem: str) -> None:
    header = _retype(ustar.encode_header(f"{TOP}/manifest.age", 5), **change)
    with pytest.raises(ustar.TarFormatError, match=problem):
        ustar.decode_header(header, "x")


def test_a_bad_checksum_is_refused() -> None:
    header = bytearray(ustar.encode_header(f"{TOP}/manifest.age", 5))
    header[0] ^= 1
    with pytest.raises(ustar.TarFormatError, match="checksum does not match"):
        ustar.decode_header(bytes(header), "x")


def test_walking_is_bounded_and_forward_only() -> None:
    one = ustar.encode_header(f"{TOP}/manifest.age", 1) + b"x" + bytes(511)
    data = ustar.encode_header(TOP + "/", 0, directory=True) + one * 5 + ustar.END_OF_ARCHIVE

    def read(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    walk = ustar.members(read, 0, len(data), "x", max_members=3, max_size=10)
    with pytest.raises(ustar.TarFormatError, match="more members"):
        list(walk)
    offsets = [m.offset for m in ustar.members(read, 0, len(data), "x", max_members=9, max_size=10)]
    assert offsets == sorted(set(offsets))
    with pytest.raises(ustar.TarFormatError, match="larger than any valid part"):
        list(ustar.members(read, 0, len(data), "x", max_members=9, max_size=0))
    with pytest.raises(ustar.TarFormatError, match="end marker"):
        list(ustar.members(read, 0, len(data) + 512, "x", max_members=9, max_size=10))
    with pytest.raises(ustar.TarFormatError, match=r"past the end|truncated"):
        list(ustar.members(read, 0, len(data) - 1024, "x", max_members=9, max_size=10))


# -- fuzzing ---------------------------------------------------------------------------------


def _check(data: bytes, folder: Path) -> None:
    archive = folder / f"{TOP}.tar"
    archive.write_bytes(data)
    with contextlib.suppress(TainikError):
        tarball.index(archive)
    with contextlib.suppress(TainikError):
        tarball.manifest_ciphertext(archive)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_raise_only_our_error(tmp_path: Path, data: bytes) -> None:
    _check(data, tmp_path)
    _check(ustar.encode_header(TOP + "/", 0, directory=True) + data, tmp_path)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_tars_raise_only_our_error(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path, data: st.DataObject
) -> None:
    container, _plaintext, _identity = sealed
    good = bytearray(whole(tarball.sealed_file_tar(container)))
    headers = [0, 512]  # the folder's and the manifest's; then anywhere
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(
            st.one_of(
                st.sampled_from(headers).flatmap(lambda h: st.integers(h, h + 511)),
                st.integers(0, len(good) - 1),
            )
        )
        good[where] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        good = good[: data.draw(st.integers(0, len(good)))]
    _check(bytes(good), tmp_path)


def test_selection_of_two_reads_back(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, _plaintext, identity = sealed
    inner = tarball.sealed_file_tar(container)
    archive = tmp_path / "all.tar"
    archive.write_bytes(whole(tarball.selection_tar([(container.name[:26], inner)])))
    [found] = tarball.index(archive)
    assert found.sealed_id == container.name[:26]
    with tarball.unpacked(archive, tmp_path, [identity]) as [item]:
        assert item.error is None
        assert sorted(p.name for p in item.container.iterdir()) == sorted(
            p.name for p in container.iterdir()
        )


def test_segments_are_copied_only_after_the_manifest_opens(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, _plaintext, _identity = sealed
    archive = tmp_path / "x.tar"
    archive.write_bytes(whole(tarball.sealed_file_tar(container)))
    stranger = crypto.Identity.generate()
    with tarball.unpacked(archive, tmp_path, [stranger]) as [item]:
        assert item.error is not None
        assert "recipient" in item.error.english()
        assert [p.name for p in item.container.iterdir()] == ["manifest.age"]


def test_a_tar_with_fewer_segments_than_the_manifest_copies_none(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, _plaintext, identity = sealed
    data = whole(tarball.sealed_file_tar(container))
    [found] = tarball.index(_saved(tmp_path / "whole.tar", data))
    cut = found.segments[-1].offset - 512  # drop the last segment's header and content
    shorter = data[:cut] + ustar.END_OF_ARCHIVE
    with tarball.unpacked(_saved(tmp_path / "short.tar", shorter), tmp_path, [identity]) as [item]:
        assert item.error is not None
        assert "Segment 2 is missing" in item.error.english()
        assert [p.name for p in item.container.iterdir()] == ["manifest.age"]


def _saved(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_refusals_are_format_errors(tmp_path: Path) -> None:
    assert issubclass(ustar.TarFormatError, FormatError)
    archive = tmp_path / "x.tar"
    archive.write_bytes(io.BytesIO(b"\x00" * 100).getvalue())
    with pytest.raises(FormatError, match="truncated"):
        tarball.index(archive)


# -- parts that are links, devices or pipes -------------------------------------------------


def _container_with(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path, part: str, kind: str
) -> Path:
    """A copy of the sealed file whose ``part`` is a link to /dev/zero, a FIFO, or a link to
    the real part moved outside the folder."""
    container = sealed[0]
    copy = tmp_path / container.name
    copy.mkdir()
    for entry in container.iterdir():
        (copy / entry.name).write_bytes(entry.read_bytes())
    target = copy / part
    if kind == "outside":
        target.rename(tmp_path / "elsewhere")
        target.symlink_to(tmp_path / "elsewhere")
        return copy
    target.unlink()
    if kind == "zero":
        target.symlink_to("/dev/zero")
    else:
        os.mkfifo(target)
    return copy


@pytest.mark.parametrize(
    ("part", "kind"),
    [
        ("manifest.age", "zero"),
        ("manifest.age", "fifo"),
        ("manifest.age", "outside"),
        ("segment-00000001.age", "outside"),
    ],
)
def test_open_refuses_parts_that_are_not_regular_files(
    sealed: tuple[Path, bytes, crypto.Identity], key: Path, tmp_path: Path, part: str, kind: str
) -> None:
    copy = _container_with(sealed, tmp_path, part, kind)
    out = tmp_path / "out"
    result = _tainik("open", str(copy), "-i", str(key), "--out", str(out))
    assert result.returncode == ExitCode.IO, result.stderr
    assert "not a regular file" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("kind", ["zero", "fifo"])
def test_vault_import_refuses_a_manifest_that_is_not_a_regular_file(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path, kind: str
) -> None:
    copy = _container_with(sealed, tmp_path, "manifest.age", kind)
    code = (
        "from pathlib import Path; import sys\n"
        "from tainik.workstation.vault.importer import Importer\n"
        "from tainik.core.errors import TainikError\n"
        "try: Importer._manifest_hash(Path(sys.argv[1]))\n"
        "except TainikError as e: print('refused:', e.english()); sys.exit(0)\n"
        "sys.exit('accepted')"
    )
    result = _python(code, str(copy))
    assert result.returncode == 0, result.stderr
    assert "not a regular file" in result.stdout
