from __future__ import annotations

import numpy as np

from tainik.workstation.redact.detector import Detection, non_maximum_suppression
from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.plan import PlanSettings, build_plan
from tainik.workstation.redact.records import CoverKind, EventKind
from tainik.workstation.redact.regions import parse_region
from tainik.workstation.redact.tracker import FaceTracker


def test_pixels_round_outwards_and_clip() -> None:
    assert Box(1.2, 1.8, 3.1, 4.0).pixels(10, 10) == (1, 1, 4, 4)
    assert Box(-5, -5, 3, 3).pixels(10, 10) == (0, 0, 3, 3)
    assert Box(20, 20, 30, 30).pixels(10, 10) is None


def test_grown_uses_the_longer_side() -> None:
    assert Box(0, 0, 10, 40).grown(0.25) == Box(-10, -10, 20, 50)


def test_nms_keeps_the_strongest_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=np.float64)
    scores = np.array([0.5, 0.9, 0.4])
    assert non_maximum_suppression(boxes, scores, 0.3) == [1, 2]


def _face(x: float, score: float = 0.9) -> Detection:
    return Detection(Box(x, 50, x + 40, 100), score)


def _run(per_frame: list[list[Detection]], max_gap: int = 5) -> FaceTracker:
    tracker = FaceTracker(threshold=0.5, max_gap=max_gap)
    for index, detections in enumerate(per_frame):
        tracker.step(index, detections)
    return tracker


def test_a_track_bridges_a_gap_and_the_plan_covers_it() -> None:
    frames = [[_face(10 + 5 * i)] if i not in (4, 5, 6) else [] for i in range(12)]
    tracks = _run(frames).finish()
    assert len(tracks) == 1
    assert sorted(tracks[0].predictions) == list(range(1, 12))
    plan = build_plan([i / 25 for i in range(12)], tracks, {}, [], 0.5, PlanSettings(pad=2))
    for i in (4, 5, 6):
        (gap,) = plan.covers[i]
        assert gap.kind is CoverKind.GAP
        truth = _face(10 + 5 * i).box
        assert gap.box.intersection(truth) == truth.area  # fully covered
    assert [(e.kind, e.first, e.last) for e in plan.events] == [(EventKind.GAP, 4, 6)]


def test_padding_before_and_after_a_track() -> None:
    empty: list[list[Detection]] = [[] for _ in range(3)]
    frames = empty + [[_face(100 + 3 * i)] for i in range(5)] + [[] for _ in range(4)]
    tracks = _run(frames, max_gap=1).finish()
    plan = build_plan([i / 25 for i in range(12)], tracks, {}, [], 0.5, PlanSettings(pad=2))
    kinds = [[c.kind for c in covers] for covers in plan.covers]
    assert kinds[0] == []
    assert kinds[1] == kinds[2] == [CoverKind.PADDING]
    assert kinds[8] == kinds[9] == [CoverKind.PADDING]
    assert kinds[10] == []
    assert tracks[0].lost
    assert (EventKind.LOST, 8, 9) in [(e.kind, e.first, e.last) for e in plan.events]


def test_weak_detections_continue_tracks_only_where_they_overlap() -> None:
    tracker = FaceTracker(threshold=0.5, max_gap=3)
    tracker.step(0, [_face(100)])
    assert tracker.step(1, [_face(102, 0.3)]) == []  # overlaps: continues the track
    far = _face(160, 0.3)  # near enough for a strong detection, too far for a weak one
    assert tracker.step(2, [far]) == [far]
    (track,) = tracker.finish()
    assert sorted(track.detections) == [0, 1]


def test_a_jump_does_not_drag_the_prediction_off_the_face() -> None:
    """Half a face beside an obstacle: covered, but the track keeps its own course."""
    tracker = FaceTracker(threshold=0.5, max_gap=5)
    for i in range(5):
        tracker.step(i, [_face(10 * i)])
    tracker.step(5, [Detection(Box(20, 60, 40, 90), 0.9)])  # a part, well behind
    (track,) = tracker.finish()
    predicted = track.predictions[5]
    assert abs(predicted.center[0] - _face(50).box.center[0]) < 6


def test_manual_regions_follow_time() -> None:
    region = parse_region("1,2,3,4@0.04-0.08")
    plan = build_plan([0.0, 0.04, 0.08, 0.12], [], {}, [region], 0.5, PlanSettings())
    assert [len(c) for c in plan.covers] == [0, 1, 1, 0]
    assert plan.covers[1][0].kind is CoverKind.MANUAL
