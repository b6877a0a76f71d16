"""Coverage does not hang on one frame's detection (issue: the face that slipped through frame 33).

A half-turned head can score low and come out as a small box in one frame, while the frames
around it see the whole face. The plan covers, in every frame of a track, the union of the
track's detections within ``window`` frames either side, so one frame's detector noise cannot
expose a face that its neighbours saw.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tainik.workstation.redact.detector import Detection
from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.plan import PlanSettings, build_plan
from tainik.workstation.redact.tracker import Track


def _contains(outer: Box, inner: Box) -> bool:
    return (
        outer.x1 <= inner.x1
        and outer.y1 <= inner.y1
        and outer.x2 >= inner.x2
        and (outer.y2 >= inner.y2)
    )


@st.composite
def boxes(draw: st.DrawFn) -> Box:
    x = draw(st.floats(0, 600))
    y = draw(st.floats(0, 400))
    w = draw(st.floats(2, 200))
    h = draw(st.floats(2, 200))
    return Box(x, y, x + w, y + h)


@given(
    frames=st.lists(boxes(), min_size=3, max_size=9),
    window=st.integers(1, 3),
    gaps=st.sets(st.integers(1, 7)),
)
def test_a_face_seen_around_frame_t_is_covered_in_t(
    frames: list[Box], window: int, gaps: set[int]
) -> None:
    """Whatever one frame detected (or missed), its neighbours' boxes are covered in it."""
    detections = {
        i: Detection(box, 0.9)
        for i, box in enumerate(frames)
        if i not in gaps or i in (0, len(frames) - 1)
    }
    track = Track(id=1, first_frame=0, detections=detections)
    settings = PlanSettings(margin=0.0, pad=1, window=window)
    plan = build_plan([i / 25 for i in range(len(frames))], [track], {}, [], 0.5, settings)
    for t in range(len(frames)):
        covered = [c.box for c in plan.covers[t]]
        for other in range(t - window, t + window + 1):
            if other in detections:
                assert any(_contains(c, detections[other].box) for c in covered), (t, other)


def test_a_small_noisy_detection_between_two_whole_faces() -> None:
    """The frame-33 case by hand: whole face at t-1 and t+1, a small box at t."""
    whole = Box(100, 50, 140, 110)
    small = Box(105, 52, 130, 90)
    track = Track(
        id=1,
        first_frame=0,
        detections={0: Detection(whole, 0.8), 1: Detection(small, 0.15), 2: Detection(whole, 0.8)},
    )
    plan = build_plan([0.0, 0.04, 0.08], [track], {}, [], 0.1, PlanSettings(margin=0.0, pad=1))
    (cover,) = plan.covers[1]
    assert _contains(cover.box, whole)
