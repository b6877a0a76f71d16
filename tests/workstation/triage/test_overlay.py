"""Burned-in overlays read with Tesseract: camera names exact, clocks within a second, every
clock jump found and no false one, nothing guessed where there is no overlay (issue 19)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest

from tainik.workstation.triage.clock import Overlay, clean_label, parse_clock
from tainik.workstation.triage.overlay import read_overlay
from workstation.triage.overlay_clips import PROPORTIONAL, Clock, join, make_clip

T = datetime.datetime


@dataclass(frozen=True)
class Expected:
    """What a clip's overlay says, by construction."""

    camera: str | None
    start: T | None
    end: T | None
    #: (seconds into the video, clock before, clock after)
    jumps: tuple[tuple[float, T, T], ...] = ()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Expected]]:
    """Three cameras with overlapping times, one clock cut twice, one long GOP whose clock
    goes back, one bare clip."""
    d = tmp_path_factory.mktemp("overlay")
    iso = "%Y-%m-%d Mon %H:%M:%S"
    corridor = make_clip(d / "ch03.mp4", 24, Clock(T(2020, 10, 12, 14, 32, 0)), "КАМЕРА 3 КОРИДОР")
    # Camera 2's recorder: 12 s, then a cut of 33 min 8 s (footage gone), then a restart
    # whose clock goes back 10 minutes.
    parts = [
        make_clip(d / "p1.mp4", 12, Clock(T(2020, 10, 12, 14, 31, 50), iso), "CAM 2 GATE", seed=1),
        make_clip(d / "p2.mp4", 10, Clock(T(2020, 10, 12, 15, 5, 10), iso), "CAM 2 GATE", seed=1),
        make_clip(d / "p3.mp4", 8, Clock(T(2020, 10, 12, 14, 55, 20), iso), "CAM 2 GATE", seed=1),
    ]
    gate = join(parts, d / "ch02.mp4")
    for part in parts:
        part.unlink()
    # Camera 1 keeps a keyframe every 10 s; its recorder restarted with its clock 40 s back.
    dotted = "%d.%m.%Y %H:%M:%S"
    parts = [
        make_clip(d / "p4.mp4", 14, Clock(T(2020, 10, 12, 14, 32, 30), dotted), "КАМЕРА 1 ВХОД",
                  gop=250, seed=2, clock_at="bottom"),
        make_clip(d / "p5.mp4", 10, Clock(T(2020, 10, 12, 14, 32, 4), dotted), "КАМЕРА 1 ВХОД",
                  gop=250, seed=2, clock_at="bottom"),
    ]  # fmt: skip
    long_gop = join(parts, d / "ch01.mp4")
    # Camera 7: a proportional font, name and clock on one row, a lighter room (where Otsu's
    # threshold took the text's dark outline for the text).
    yard = make_clip(
        d / "ch07.mp4", 12, Clock(T(2020, 10, 12, 14, 32, 0), "%Y/%m/%d %a %H:%M:%S"),
        "Камера 07 Прогулочный двор", size="640x360", seed=4, clock_at="top-right",
        font=PROPORTIONAL, ground="0x707070",
    )  # fmt: skip
    bare = make_clip(d / "bare.mp4", 12, None, None, seed=3)
    return {
        "corridor": (
            corridor,
            Expected("КАМЕРА 3 КОРИДОР", T(2020, 10, 12, 14, 32, 0), T(2020, 10, 12, 14, 32, 24)),
        ),
        "gate": (
            gate,
            Expected(
                "CAM 2 GATE",
                T(2020, 10, 12, 14, 31, 50),
                T(2020, 10, 12, 14, 55, 28),
                (
                    (12.0, T(2020, 10, 12, 14, 32, 1), T(2020, 10, 12, 15, 5, 10)),
                    (22.0, T(2020, 10, 12, 15, 5, 19), T(2020, 10, 12, 14, 55, 20)),
                ),
            ),
        ),
        "long_gop": (
            long_gop,
            Expected(
                "КАМЕРА 1 ВХОД",
                T(2020, 10, 12, 14, 32, 30),
                T(2020, 10, 12, 14, 32, 14),
                ((14.0, T(2020, 10, 12, 14, 32, 43), T(2020, 10, 12, 14, 32, 4)),),
            ),
        ),
        "yard": (
            yard,
            Expected(
                "Камера 07 Прогулочный двор",
                T(2020, 10, 12, 14, 32, 0),
                T(2020, 10, 12, 14, 32, 12),
            ),
        ),
        "bare": (bare, Expected(None, None, None)),
    }


@pytest.fixture(scope="module")
def readings(clips: dict[str, tuple[Path, Expected]]) -> dict[str, Overlay]:
    """Each clip's overlay, read once."""
    return {name: read_overlay(path) for name, (path, _) in clips.items()}


def _close(a: T | None, b: T | None, seconds: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) <= seconds


@pytest.mark.media
@pytest.mark.parametrize("name", ["corridor", "gate", "long_gop", "yard", "bare"])
def test_overlay_read_from_the_picture(clips: dict[str, tuple[Path, Expected]], name: str) -> None:
    path, expected = clips[name]
    found = read_overlay(path)
    assert found.camera == expected.camera  # exact, or None: never a guess
    assert _close(found.start, expected.start, 1.0), found
    assert _close(found.end, expected.end, 1.0), found
    assert len(found.jumps) == len(expected.jumps), found.jumps
    for jump, (at, before, after) in zip(found.jumps, expected.jumps, strict=True):
        assert abs(jump.at - at) <= 0.5, jump
        assert _close(jump.before, before, 1.0), jump
        assert _close(jump.after, after, 1.0), jump
    if name == "bare":
        assert found == Overlay()
        assert found.to_json() == {"camera": None, "start": None, "end": None, "jumps": []}


@pytest.mark.media
def test_reading_is_sparse(readings: dict[str, Overlay]) -> None:
    """Without jumps only the samples are read; a jump costs a few closer reads."""
    plain = readings["corridor"]
    assert plain.reads <= 2 * 8  # two boxes on at most eight samples
    cut = readings["gate"]
    assert plain.reads < cut.reads <= plain.reads + 2 * 3 * 6


@pytest.mark.media
def test_jump_report_format(readings: dict[str, Overlay]) -> None:
    document = readings["gate"].to_json()
    assert document["camera"] == "CAM 2 GATE"
    assert document["start"] == "2020-10-12T14:31:50"
    jumps = document["jumps"]
    assert isinstance(jumps, list)
    assert [set(j) for j in jumps] == [{"at", "from", "to"}] * 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "moment", "rest"),
    [
        ("12-10-2020 Пн 14:32:05", T(2020, 10, 12, 14, 32, 5), ""),
        ("2020-10-12 Mon 14:32:05", T(2020, 10, 12, 14, 32, 5), ""),
        ("12.10.2020 14:32:05", T(2020, 10, 12, 14, 32, 5), ""),
        ("12/10/2020 ВТ 23:59:59", T(2020, 10, 12, 23, 59, 59), ""),
        ("14:32:05 2020/10/12", T(2020, 10, 12, 14, 32, 5), ""),
        ("КАМЕРА 3 12-10-2020 Пн 14:32:05", T(2020, 10, 12, 14, 32, 5), "КАМЕРА 3"),
        ("1O-1O-2O2O 14:32:O5", T(2020, 10, 10, 14, 32, 5), ""),  # O read for 0
    ],
)
def test_recorder_clock_formats(line: str, moment: T, rest: str) -> None:
    found = parse_clock(line)
    assert found is not None
    assert found.time == moment
    assert found.rest == rest


@pytest.mark.parametrize(
    "line",
    [
        "КАМЕРА 3 КОРИДОР",  # no clock
        "12-19-2020 Пн 14:32:05",  # no 19th month: a misread, not a date
        "12-10-2020 Пн 25:32:05",  # no 25th hour
        "12-10-2020 14:32",  # no seconds
        "12-10-2020 13-10-2020 14:32:05",  # two dates
        "02:14:32:05 12-10-2020",  # digits run on
    ],
)
def test_not_a_clock(line: str) -> None:
    assert parse_clock(line) is None


def test_labels_made_plain() -> None:
    assert clean_label("  KAMEPA 3  КОРИДОР ") == "KAMEPA 3 КОРИДОР"  # all Latin stays Latin
    assert clean_label("КАМEРA 3 КОРИДOР.") == "КАМЕРА 3 КОРИДОР"  # mixed words go Cyrillic
    assert clean_label(" .,;| ") is None
