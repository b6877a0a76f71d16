"""Every kind of tampering makes `tainik open` fail, name the problem, and write nothing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import run_cli
from tainik import crypto
from tainik.core.errors import ExitCode
from tainik.core.segments import CHUNK

SIZE = 3 * CHUNK + 100  # four segments


@pytest.fixture
def sealed(tmp_path: Path, identity: crypto.Identity) -> Path:
    source = tmp_path / "evidence.mp4"
    source.write_bytes(os.urandom(SIZE))
    result = run_cli(
        [
            "seal",
            str(source),
            "--to",
            identity.recipient.text,
            "--out",
            str(tmp_path / "sealed"),
            "--segment-size",
            str(CHUNK),
        ]
    )
    assert result.code == 0, result.stderr
    return Path(result.stdout.strip())


@pytest.fixture
def other_sealed(tmp_path: Path, identity: crypto.Identity) -> Path:
    source = tmp_path / "other.mp4"
    source.write_bytes(os.urandom(SIZE))
    result = run_cli(
        [
            "seal",
            str(source),
            "--to",
            identity.recipient.text,
            "--out",
            str(tmp_path / "other"),
            "--segment-size",
            str(CHUNK),
        ]
    )
    return Path(result.stdout.strip())


def seg(container: Path, index: int) -> Path:
    return container / f"segment-{index:08d}.age"


def flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 0x40
    path.write_bytes(bytes(data))


def swap(a: Path, b: Path) -> None:
    temp = a.with_suffix(".tmp")
    a.rename(temp)
    b.rename(a)
    temp.rename(b)


Tamper = Callable[[Path, Path], object]

CASES: dict[str, tuple[Tamper, str, int]] = {
    "flip a header byte of a segment": (
        lambda c, o: flip(seg(c, 1), 40),
        "segment 1",
        ExitCode.INTEGRITY,
    ),
    "replace a segment with one sealed to someone else": (
        lambda c, o: seg(c, 1).write_bytes(
            crypto.encrypt(b"x" * CHUNK, [crypto.Identity.generate().recipient])
        ),
        "Segment 1 is not encrypted to this identity although the manifest is",
        ExitCode.INTEGRITY,
    ),
    "flip a payload byte of a segment": (
        lambda c, o: flip(seg(c, 2), -100),
        "segment 2: corrupt or truncated",
        ExitCode.INTEGRITY,
    ),
    "flip the last byte of the last segment": (
        lambda c, o: flip(seg(c, 3), -1),
        "segment 3: corrupt or truncated",
        ExitCode.INTEGRITY,
    ),
    "flip a byte of the manifest payload": (
        lambda c, o: flip(c / "manifest.age", -5),
        "manifest: corrupt or truncated",
        ExitCode.INTEGRITY,
    ),
    "drop a segment": (lambda c, o: seg(c, 2).unlink(), "Segment 2 is missing", ExitCode.INTEGRITY),
    "reorder two segments": (
        lambda c, o: swap(seg(c, 0), seg(c, 1)),
        "Segment 0 does not match the manifest",
        ExitCode.INTEGRITY,
    ),
    "truncate a segment": (
        lambda c, o: seg(c, 1).write_bytes(seg(c, 1).read_bytes()[:-1000]),
        "segment 1: corrupt or truncated",
        ExitCode.INTEGRITY,
    ),
    "swap in a segment from another sealed file": (
        lambda c, o: shutil.copyfile(seg(o, 1), seg(c, 1)),
        "Segment 1 does not match the manifest",
        ExitCode.INTEGRITY,
    ),
    "swap in the manifest of another sealed file": (
        lambda c, o: shutil.copyfile(o / "manifest.age", c / "manifest.age"),
        "the manifest belongs to another sealed file",
        ExitCode.INTEGRITY,
    ),
    "add a segment": (
        lambda c, o: shutil.copyfile(seg(c, 3), seg(c, 4)),
        "Segment 4 should not exist",
        ExitCode.INTEGRITY,
    ),
    "remove the manifest": (
        lambda c, o: (c / "manifest.age").unlink(),
        "the manifest is missing",
        ExitCode.INTEGRITY,
    ),
    "put a stray file in the container": (
        lambda c, o: (c / "notes.txt").write_text("x"),
        "unexpected entry 'notes.txt'",
        ExitCode.INTEGRITY,
    ),
    "empty a segment": (
        lambda c, o: seg(c, 0).write_bytes(b""),
        "segment 0: corrupt or truncated",
        ExitCode.INTEGRITY,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_detected(
    case: str, sealed: Path, other_sealed: Path, identity_file: Path, tmp_path: Path
) -> None:
    tamper, message, code = CASES[case]
    tamper(sealed, other_sealed)
    out = tmp_path / "plain"
    result = run_cli(["open", str(sealed), "--identity", str(identity_file), "--out", str(out)])
    assert result.code == code, result.stderr
    assert message.lower() in result.stderr.lower()  # the sentence may begin with it
    assert result.stdout == ""
    assert list(out.iterdir()) == []


def test_intact_file_opens(sealed: Path, identity_file: Path, tmp_path: Path) -> None:
    result = run_cli(["open", str(sealed), "-i", str(identity_file), "--out", str(tmp_path / "p")])
    assert result.code == 0, result.stderr
    assert Path(result.stdout.strip()).stat().st_size == SIZE


def test_wrong_identity_is_not_a_recipient(sealed: Path, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.key"
    stranger.write_text(crypto.identity_file_text(crypto.Identity.generate()))
    out = tmp_path / "plain"
    result = run_cli(["open", str(sealed), "--identity", str(stranger), "--out", str(out)])
    assert result.code == ExitCode.KEY
    assert "manifest: none of the given identities is a recipient of it" in result.stderr
    assert list(out.iterdir()) == []


def test_a_bad_file_does_not_stop_the_others(
    sealed: Path, other_sealed: Path, identity_file: Path, tmp_path: Path
) -> None:
    flip(seg(sealed, 0), -3)
    out = tmp_path / "plain"
    result = run_cli(
        ["open", str(sealed), str(other_sealed), "-i", str(identity_file), "--out", str(out)]
    )
    assert result.code == ExitCode.INTEGRITY
    assert [p.name for p in out.iterdir()] == ["other.mp4"]
