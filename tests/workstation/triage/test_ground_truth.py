"""Acceptance: the segments found in the synthetic scene match its ground truth.

Each true interval (moving objects, sound bursts) is overlapped with IoU >= 0.8 by exactly
one segment, which names the right signal; the slow darkening and the sudden brightness jump
(the trap) produce no segment; nothing else is found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from tainik.workstation.triage.segmentation import Span, iou
from workstation.triage.conftest import Triaged
from workstation.triage.synthetic import DURATION, MOTION, SLOW_LIGHT, SOUND, TRAP

TRUTH = [(span, "motion") for span in MOTION] + [(span, "sound") for span in SOUND]


def spans(segments: list[dict[str, Any]]) -> list[Span]:
    return [Span(s["start"], s["end"]) for s in segments]


def check_against_truth(segments: list[dict[str, Any]]) -> None:
    found = spans(segments)
    for truth, signal in TRUTH:
        matches = [(iou(truth, span), s) for span, s in zip(found, segments, strict=True)]
        good = [(value, s) for value, s in matches if value >= 0.8]
        assert len(good) == 1, f"{truth}: IoU with the segments {found}: {matches}"
        assert signal in good[0][1]["why"], f"{truth}: {good[0][1]}"
    assert len(found) == len(TRUTH), f"unexpected segments: {found}"
    for span in found:
        assert span.end <= TRAP - 1.0, f"a segment at the brightness jump: {span}"
        assert iou(span, SLOW_LIGHT) == 0.0, f"a segment at the slow light change: {span}"


def test_segments_match_the_ground_truth(triaged: Triaged) -> None:
    check_against_truth(triaged.scene_json()["segments"])


def test_the_trap_is_seen_as_a_light_change(triaged: Triaged) -> None:
    changes = triaged.scene_json()["light_changes"]
    assert any(abs(t - TRAP) <= 0.3 for t in changes), changes
    assert all(t > SLOW_LIGHT.end for t in changes), "the slow change is not a jump"


def test_segment_timing_and_padding(triaged: Triaged) -> None:
    document = triaged.scene_json()
    padding = document["analysis"]["rules"]["padding"]
    for segment in document["segments"]:
        assert segment["review_start"] == pytest.approx(max(0.0, segment["start"] - padding))
        assert segment["review_end"] == pytest.approx(min(DURATION, segment["end"] + padding))
        assert segment["start"] <= segment["peak_time"] <= segment["end"]
        assert 0.0 < segment["score"] <= 1.0
    assert document["analysis"]["analysed_seconds"] == pytest.approx(DURATION, abs=0.2)


def test_knn_finds_the_same(triaged: Triaged, tmp_path: Path) -> None:
    scene = triaged.footage.scene
    result = run_cli(
        ["triage", str(scene), "--out", str(tmp_path), "--subtractor", "knn", "--no-clips"]
    )
    assert result.code == 0, result.stderr
    check_against_truth(Triaged(triaged.footage, result, tmp_path).scene_json()["segments"])
