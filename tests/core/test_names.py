"""Hostile original names always become one safe path component (docs/format.md)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tainik.core.manifest import Kind
from tainik.core.names import numbered, safe_name

HOSTILE = [
    b"../x",
    b"../../../../etc/passwd",
    b"/etc/shadow",
    b"C:\\Windows\\system32\\evil.dll",
    b"..",
    b".",
    b"",
    b"a\x00b",
    b"\x1b[31mred\x07",
    "invoice\u202egpj.exe".encode(),
    "zero\u200bwidth\ufeff".encode(),
    b"x" * 4000,
    b"y" * 3990 + b".mp4",
    "\u0438\u0306".encode() * 300,
    b"\xff\xfe\xfd",
    b"con.txt",
    b"LPT1",
    b"  .hidden  ",
    b"a/b\\c/..",
]


def check(name: str, base: Path) -> None:
    assert name
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert name not in {".", ".."}
    assert not name.startswith(".")
    assert len(name.encode("utf-8")) <= 200
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} for c in name)
    resolved = (base / name).resolve()
    assert resolved.parent == base.resolve()


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_examples(raw: bytes, tmp_path: Path) -> None:
    check(safe_name(raw), tmp_path)


@given(st.binary(max_size=5000), st.sampled_from(list(Kind)))
@example(b"../" * 50, Kind.FILE)
def test_any_bytes_give_one_safe_component(raw: bytes, kind: Kind) -> None:
    check(safe_name(raw, kind), Path("/srv/out"))


@given(st.text(max_size=600))
def test_any_text_give_one_safe_component(text: str) -> None:
    check(safe_name(text.encode("utf-8", "surrogatepass")), Path("/srv/out"))


def test_ordinary_names_survive() -> None:
    russian = "Видео с камеры 3.mp4"
    assert safe_name(russian.encode()) == russian
    assert safe_name(b"report.final.pdf") == "report.final.pdf"
    assert safe_name(b"", Kind.MESSAGE) == "message.txt"


def test_long_names_keep_their_extension() -> None:
    name = safe_name(b"z" * 4000 + b".mp4")
    assert name.endswith(".mp4")
    assert len(name.encode()) == 200


@given(st.binary(max_size=400), st.integers(2, 9999))
def test_numbered_alternatives_stay_safe(raw: bytes, number: int) -> None:
    name = numbered(safe_name(raw), number)
    assert f"({number})" in name
    assert "/" not in name
    assert len(name.encode()) <= 255
    assert os.path.basename(name) == name
