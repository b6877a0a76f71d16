"""The sealed-file tar (docs/format.md, "Transport"): fixed layout, ranges, careful unpacking."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import run_cli
from sealed_tar_support import SEGMENT, seal_sample, whole
from tainik import crypto
from tainik.core.errors import ExitCode, FormatError
from tainik.sealed import tarball, ustar
from tainik.sealed.files import FileSealer


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, crypto.Identity]:
    """A sealed file of three 64 KiB segments (the last one short), its plaintext and key."""
    return seal_sample(tmp_path_factory.mktemp("sealed"), 2 * SEGMENT + 1234)


def test_layout_is_the_documented_ustar(sealed: tuple[Path, bytes, crypto.Identity]) -> None:
    container, _plaintext, _identity = sealed
    layout = tarball.sealed_file_tar(container)
    data = whole(layout)
    assert len(data) == layout.size
    parts = [container / "manifest.age", *sorted(container.glob("segment-*.age"))]
    # docs/format.md: one directory header, then per part a header and padded content, then
    # two zero blocks; no further padding.
    expected = 512 + sum(512 + -(-p.stat().st_size // 512) * 512 for p in parts) + 1024
    assert layout.size == expected
    assert data.endswith(bytes(1024))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == [container.name] + [
            f"{container.name}/{p.name}" for p in parts
        ]
        for member in members:
            assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (
                0, 0, 0, "", ""
            )  # fmt: skip
            assert member.mode == (0o700 if member.isdir() else 0o600)
        for member, part in zip(members[1:], parts, strict=True):
            extracted = archive.extractfile(member)
            assert extracted is not None
            assert extracted.read() == part.read_bytes()
    assert data[257:265] == b"ustar\x0000"
    assert whole(tarball.sealed_file_tar(container)) == data  # the same bytes every time


def test_the_stock_tar_extracts_it(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, _plaintext, _identity = sealed
    archive = tmp_path / "x.tar"
    archive.write_bytes(whole(tarball.sealed_file_tar(container)))
    listing = subprocess.run(
        ["tar", "-tvf", str(archive)], capture_output=True, text=True, check=True
    ).stdout
    assert "1970-01-01" in listing
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tmp_path)], check=True)
    copy = tmp_path / container.name
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in container.iterdir())
    for part in container.iterdir():
        assert (copy / part.name).read_bytes() == part.read_bytes()


@given(st.data())
def test_any_range_is_the_same_bytes(
    sealed: tuple[Path, bytes, crypto.Identity], data: st.DataObject
) -> None:
    container, _plaintext, _identity = sealed
    layout = tarball.sealed_file_tar(container)
    full = whole(layout)
    start = data.draw(st.integers(0, layout.size))
    stop = data.draw(st.integers(start, layout.size))
    assert b"".join(layout.stream(start, stop)) == full[start:stop]


def test_streaming_holds_little_memory(tmp_path: Path) -> None:
    identity = crypto.Identity.generate()
    (tmp_path / "big").write_bytes(os.urandom(48 * 1024 * 1024))
    with FileSealer([identity.recipient], jobs=1) as sealer:
        container = sealer.seal(tmp_path / "big", tmp_path / "out")
    layout = tarball.selection_tar([(container.name[:26], tarball.sealed_file_tar(container))])
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in layout.stream())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == layout.size > 48 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, peak


def test_tainik_open_takes_a_tar_and_a_selection(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, plaintext, identity = sealed
    key = tmp_path / "org.key"
    key.write_text(crypto.identity_file_text(identity))
    single = tmp_path / "one.tar"
    single.write_bytes(whole(tarball.sealed_file_tar(container)))
    inner = tarball.sealed_file_tar(container)
    selection = tmp_path / "all.tar"
    selection.write_bytes(whole(tarball.selection_tar([(container.name[:26], inner)])))
    for archive in (single, selection):
        out = tmp_path / f"out-{archive.stem}"
        result = run_cli(["open", str(archive), "-i", str(key), "--out", str(out)])
        assert result.code == 0, result.stderr
        assert [p.name for p in out.iterdir()] == ["clip.mp4"]  # no unpacking folder left
        assert (out / "clip.mp4").read_bytes() == plaintext


def test_a_tampered_tar_releases_nothing(
    sealed: tuple[Path, bytes, crypto.Identity], tmp_path: Path
) -> None:
    container, _plaintext, identity = sealed
    key = tmp_path / "org.key"
    key.write_text(crypto.identity_file_text(identity))
    data = bytearray(whole(tarball.sealed_file_tar(container)))
    data[-2000] ^= 1  # inside the last segment's ciphertext
    archive = tmp_path / "bad.tar"
    archive.write_bytes(bytes(data))
    out = tmp_path / "out"
    result = run_cli(["open", str(archive), "-i", str(key), "--out", str(out)])
    assert result.code == ExitCode.INTEGRITY
    assert "bad.tar" in result.stderr
    assert list(out.iterdir()) == []


Entry = tuple[bytes, bytes]  # a header, and the content that follows it


def _tar(entries: list[Entry]) -> bytes:
    """An archive in the writer's layout (tainik.sealed.ustar), or with any header given."""
    body = b"".join(header + content + bytes(-len(content) % 512) for header, content in entries)
    return body + ustar.END_OF_ARCHIVE


def _dir(name: str) -> Entry:
    return ustar.encode_header(name + "/", 0, directory=True), b""


def _file(name: str, content: bytes = b"x") -> Entry:
    return ustar.encode_header(name, len(content)), content


def _link(name: str, target: str, kind: bytes) -> Entry:
    info = tarfile.TarInfo(name)  # tarfile only writes here: the reader never uses it
    info.type, info.linkname, info.mode = kind, target, 0o600
    return info.tobuf(format=tarfile.USTAR_FORMAT), b""


ID = "a" * 26
OTHER = "b" * 25 + "a"
TOP = f"{ID}.sealed"


def _inner(sealed_id: str) -> bytes:
    """A selection tar's member: a sealed-file tar with a manifest and no segment."""
    top = f"{sealed_id}.sealed"
    return _tar([_dir(top), _file(f"{top}/manifest.age")])


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([_dir(TOP), _file(f"{TOP}/manifest.age"), _file(f"{OTHER}.sealed/segment-00000000.age")],
         "two sealed files"),
        ([_file(f"../{TOP}/manifest.age")], "unexpected member"),
        ([_file(f"/{TOP}/manifest.age")], "unexpected member"),
        ([_file(f"{TOP}/manifest.age")], "unexpected member"),  # no folder first
        ([_dir(TOP), _file(f"{TOP}/../../etc/passwd")], "unexpected member"),
        ([_dir(TOP), _file(f"{TOP}/notes.txt")], "unexpected member"),
        ([_dir(TOP), _dir(f"{TOP}/segment-00000000.age")], "unexpected member"),
        ([_dir(TOP), _link(f"{TOP}/manifest.age", "/etc/passwd", tarfile.SYMTYPE)],
         "unexpected member"),
        ([_dir(TOP), _file(f"{TOP}/manifest.age"),
          _link(f"{TOP}/segment-00000000.age", f"{TOP}/manifest.age", tarfile.LNKTYPE)],
         "unexpected member"),
        ([_dir(TOP), _file(f"{TOP}/manifest.age"), _file(f"{TOP}/manifest.age")],
         "appears twice"),
        ([_dir(TOP), _file(f"{TOP}/manifest.age"), _file(f"{TOP}/segment-00000001.age")],
         "out of order"),
        ([_dir(TOP), _file(f"{TOP}/segment-00000000.age"), _file(f"{TOP}/manifest.age")],
         "out of order"),
        ([_dir("ABC.sealed"), _file("ABC.sealed/manifest.age")], "unexpected member"),
        ([_file(f"{ID}.sealed.tar", _inner(ID)), _file(f"{ID}.sealed.tar", _inner(ID))],
         "appears twice"),
        ([_file(f"{ID}.sealed.tar", _inner(OTHER))], "two sealed files"),
        # Pull metadata: only just before the sealed file of its id, once, and small.
        ([_file(f"{ID}.json", b"{}"), _file(f"{OTHER}.sealed.tar", _inner(OTHER))],
         "unexpected member"),
        ([_file(f"{ID}.sealed.tar", _inner(ID)), _file(f"{ID}.json", b"{}")],
         "unexpected member"),
        ([_file(f"{ID}.json", b"{}"), _file(f"{ID}.json", b"{}"),
          _file(f"{ID}.sealed.tar", _inner(ID))], "unexpected member"),
        ([_file(f"{ID}.json", b" " * (64 * 1024 + 1)), _file(f"{ID}.sealed.tar", _inner(ID))],
         "too large"),
        ([_file("notes.json", b"{}"), _file(f"{ID}.sealed.tar", _inner(ID))],
         "unexpected member"),
        ([], "empty"),
    ],
)  # fmt: skip
def test_unpacking_refuses_what_is_not_a_sealed_file_tar(
    tmp_path: Path, entries: list[Entry], problem: str
) -> None:
    archive = tmp_path / "x.tar"
    archive.write_bytes(_tar(entries))
    out = tmp_path / "out"
    out.mkdir()
    with (
        pytest.raises(FormatError) as raised,
        tarball.unpacked(archive, out, [crypto.Identity.generate()]),
    ):
        pass
    assert problem in raised.value.english()
    assert list(out.iterdir()) == []
    assert not (tmp_path / "etc").exists()


def test_unpacking_refuses_oversized_parts_and_non_tars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tarball, "_MAX_PART", 10)
    archive = tmp_path / "big.tar"
    archive.write_bytes(_tar([_dir(TOP), _file(f"{TOP}/manifest.age", b"x" * 11)]))
    with (
        pytest.raises(FormatError, match="larger than any valid part"),
        tarball.unpacked(archive, tmp_path, [crypto.Identity.generate()]),
    ):
        pass
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(os.urandom(3000))
    with (
        pytest.raises(FormatError, match="not a sealed-file tar"),
        tarball.unpacked(garbage, tmp_path, [crypto.Identity.generate()]),
    ):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tar", "garbage.tar"]
