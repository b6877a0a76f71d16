"""Seal then open, across the sizes the format's edges live at."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik import crypto
from tainik.core.manifest import Kind, encode_id
from tainik.core.segments import CHUNK
from tainik.sealed.files import FileSealer
from tainik.sealed.reader import SealedOpener, read_manifest
from tainik.sealed.writer import DirectorySink, SegmentSealer

S = CHUNK  # the smallest segment size keeps tests fast and multi-segment


def seal_bytes(data: bytes, parent: Path, identity: crypto.Identity, pieces: int = 3) -> Path:
    sink = DirectorySink(parent, "a" * 26)
    sealer = SegmentSealer(
        [identity.recipient], sink, name=b"f.bin", segment_size=S, sealed_id="a" * 26
    )
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        sealer.write(data[start : start + step])
    manifest = sealer.finish()
    assert manifest.sha256 == hashlib.sha256(data).digest()
    return sink.commit()


@pytest.mark.parametrize("size", [0, 1, S - 1, S, S + 1, 3 * S])
@pytest.mark.parametrize("jobs", [1, 2])
def test_round_trip_at_the_edges(
    size: int, jobs: int, tmp_path: Path, identity: crypto.Identity
) -> None:
    data = os.urandom(size)
    source = tmp_path / "in" / "clip.mp4"
    source.parent.mkdir()
    source.write_bytes(data)
    with FileSealer([identity.recipient], segment_size=S, jobs=jobs) as sealer:
        container = sealer.seal(source, tmp_path / "sealed")
    manifest = read_manifest(container, [identity])
    assert manifest.size == size
    assert manifest.name == b"clip.mp4"
    assert manifest.kind is Kind.FILE
    assert len(list(container.glob("segment-*.age"))) == max(1, -(-size // S))
    opened = SealedOpener([identity], jobs=jobs).open(container, tmp_path / "out")
    assert opened.path == tmp_path / "out" / "clip.mp4"
    assert opened.path.read_bytes() == data


@given(data=st.binary(max_size=5 * S + 17), pieces=st.integers(1, 7))
def test_streaming_round_trip(data: bytes, pieces: int, identity: crypto.Identity) -> None:
    with tempfile.TemporaryDirectory() as temp:
        container = seal_bytes(data, Path(temp), identity, pieces)
        opened = SealedOpener([identity], jobs=1).open(container, Path(temp))
        assert opened.path.read_bytes() == data


def test_nothing_is_ever_overwritten(tmp_path: Path, identity: crypto.Identity) -> None:
    container = seal_bytes(b"new evidence", tmp_path, identity)
    (tmp_path / "f.bin").write_bytes(b"older file")
    opened = SealedOpener([identity]).open(container, tmp_path)
    assert opened.path.name == "f (2).bin"
    assert (tmp_path / "f.bin").read_bytes() == b"older file"


def test_sealed_container_holds_no_plaintext_or_name(
    tmp_path: Path, identity: crypto.Identity
) -> None:
    canary = b"CANARY-" + os.urandom(8).hex().encode()
    source = tmp_path / "secret-name-canary.txt"
    source.write_bytes(canary * 1000)
    with FileSealer([identity.recipient], segment_size=S) as sealer:
        container = sealer.seal(source, tmp_path / "sealed")
    assert "secret-name-canary" not in str(container)
    for part in container.iterdir():
        content = part.read_bytes()
        assert canary not in content
        assert b"secret-name-canary" not in content
    assert not [p for p in (tmp_path / "sealed").iterdir() if p.name.startswith(".")]


def test_missing_input_is_a_storage_error(tmp_path: Path, identity: crypto.Identity) -> None:
    from tainik.core.errors import StorageError

    with FileSealer([identity.recipient]) as sealer, pytest.raises(StorageError):
        sealer.seal(tmp_path / "absent", tmp_path)
    assert list(tmp_path.iterdir()) == []


HOSTILE_NAMES = st.one_of(
    st.binary(max_size=4100),
    st.sampled_from(
        [
            b"../x",
            b"/etc/passwd",
            b"a\x00b",
            b"\x1b]0;x\x07",
            b"..",
            b"x" * 4000,
            "\u202eexe.mp4".encode(),
            b"CON",
            b"\\\\server\\share\\f",
        ]
    ),
)


@given(name=HOSTILE_NAMES)
def test_hostile_names_open_as_one_safe_file_inside_the_output(
    name: bytes, identity: crypto.Identity
) -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        sealed_id = encode_id(b"\x01" * 16)
        sink = DirectorySink(root / "sealed", sealed_id)
        sealer = SegmentSealer(
            [identity.recipient], sink, name=name, segment_size=S, sealed_id=sealed_id
        )
        sealer.write(b"payload")
        sealer.finish()
        container = sink.commit()
        out = root / "out"
        opened = SealedOpener([identity], jobs=1).open(container, out)
        assert opened.path.parent == out
        assert opened.path.resolve().parent == out.resolve()
        assert [p.name for p in out.iterdir()] == [opened.path.name]
        assert opened.path.read_bytes() == b"payload"
