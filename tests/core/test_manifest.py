from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tainik.core.errors import FormatError
from tainik.core.manifest import Kind, Manifest, encode_id, is_valid_id
from tainik.core.segments import CHUNK, SegmentPlan


def make(size: int = 3, name: bytes = b"video.mp4", segment_size: int = CHUNK) -> Manifest:
    plan = SegmentPlan(size, segment_size)
    return Manifest(
        id=encode_id(bytes(range(16))),
        kind=Kind.FILE,
        name=name,
        size=size,
        segment_size=segment_size,
        sha256=hashlib.sha256(b"whole").digest(),
        segment_hashes=tuple(hashlib.sha256(bytes([i % 256])).digest() for i in range(plan.count)),
    )


def test_encoding_is_the_documented_text() -> None:
    text = make().encode().decode()
    lines = text.splitlines()
    assert lines[0] == "tainik.org/sealed/v1"
    assert lines[1] == "id aaaqeayeaudaocajbifqydiob4"
    assert lines[2:6] == ["kind file", "name dmlkZW8ubXA0", "size 3", "segment-size 65536"]
    assert lines[-1] == "end"
    assert text.endswith("end\n")


@given(
    size=st.integers(0, 40 * CHUNK),
    name=st.binary(max_size=300),
    kind=st.sampled_from(list(Kind)),
)
def test_round_trip(size: int, name: bytes, kind: Kind) -> None:
    manifest = make(size, name)
    manifest = Manifest(**{**{f: getattr(manifest, f) for f in manifest.__slots__}, "kind": kind})
    assert Manifest.decode(manifest.encode()) == manifest


@given(st.binary(max_size=2000))
@example(make().encode() + b"\n")
@example(make().encode().replace(b"size 3", b"size 03"))
def test_fuzz_decode_is_canonical(data: bytes) -> None:
    """Any input either fails cleanly or re-encodes to exactly the same bytes."""
    try:
        manifest = Manifest.decode(data)
    except FormatError:
        return
    assert manifest.encode() == data


@given(st.data())
def test_fuzz_mutations_of_a_valid_manifest(data: st.DataObject) -> None:
    original = bytearray(make(5 * CHUNK + 7).encode())
    position = data.draw(st.integers(0, len(original) - 1))
    original[position] = data.draw(st.integers(0, 255).filter(lambda b: b != original[position]))
    try:
        manifest = Manifest.decode(bytes(original))
    except FormatError:
        return
    assert manifest.encode() == bytes(original)


BAD_EDITS = [
    (b"tainik.org/sealed/v1", b"tainik.org/sealed/v2"),
    (b"size 3", b"size 03"),
    (b"size 3", b"size +3"),
    (b"size 3", b"size  3"),
    (b"kind file", b"kind video"),
    (b"name dmlkZW8ubXA0", b"name dmlkZW8ubXA0="),
    (b"segment-size 65536", b"segment-size 65537"),
    (b"id aaaqeayeaudaocajbifqydiob4", b"id AAAQEAYEAUDAOCAJBIFQYDIOB4"),
    (b"\nend\n", b"\nend\nextra\n"),
    (b"\nend\n", b"\n"),
]


@pytest.mark.parametrize(("old", "new"), BAD_EDITS)
def test_non_canonical_or_wrong_manifests_are_rejected(old: bytes, new: bytes) -> None:
    data = make().encode()
    assert old in data
    with pytest.raises(FormatError):
        Manifest.decode(data.replace(old, new, 1))


def test_uppercase_hash_and_wrong_segment_count_are_rejected() -> None:
    data = make(CHUNK + 1).encode()
    first = data.index(b"segment ") + 8
    with pytest.raises(FormatError):
        Manifest.decode(data[:first] + data[first : first + 64].upper() + data[first + 64 :])
    one_line = data.index(b"segment ")
    line_end = data.index(b"\n", one_line) + 1
    with pytest.raises(FormatError, match="segment hashes"):
        Manifest.decode(data[:one_line] + data[line_end:])


def test_ids() -> None:
    assert is_valid_id(encode_id(b"\xff" * 16))
    assert not is_valid_id("a" * 25)
    assert not is_valid_id("7" * 26)  # non-zero trailing bits: not canonical
