"""Acceptance: no frame of the redacted synthetic clip leaves a face box under 95% covered."""

from __future__ import annotations

import numpy as np

from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.records import RenderMode
from tainik.workstation.redact.render import cover
from workstation.redact.conftest import Redacted
from workstation.redact.scene import exposed_frames, read_rgb, render_frames


def test_every_face_box_is_covered_in_every_frame(redacted: Redacted) -> None:
    frames = read_rgb(redacted.out)
    assert len(frames) == len(redacted.scene.boxes)
    assert sum(len(b) for b in redacted.scene.boxes) > 80  # the scene does have faces
    assert exposed_frames(frames, redacted.scene.boxes) == []


def test_the_scene_defeats_detection_alone(redacted: Redacted) -> None:
    """The test can fail: covering only what was detected in each frame leaves faces bare.

    Re-render the clean frames covering only the "detected" boxes of the plan (no gaps, no
    padding, no weak ones): some frames must then expose a face, so it is tracking that makes
    the test above pass.
    """
    images, truth = render_frames(
        redacted.scene.width, redacted.scene.height, len(redacted.scene.boxes), 0.5, 0.32
    )
    by_frame = {f["index"]: f["boxes"] for f in redacted.boxes["frames"]}
    covered = []
    for index, image in enumerate(images):
        boxes = [Box(*b["box"]) for b in by_frame.get(index, []) if b["kind"] == "detected"]
        frame = image.copy()
        cover(frame, boxes, RenderMode.SOLID)
        covered.append(frame)
    assert len(exposed_frames(covered, truth)) >= 3
    kinds = {b["kind"] for boxes in by_frame.values() for b in boxes}
    assert {"detected", "gap", "padding"} <= kinds


def test_ground_truth_is_measured_against_the_fill(redacted: Redacted) -> None:
    """The coverage measure itself: an unredacted frame counts as exposed."""
    clean = read_rgb(redacted.scene.path)
    assert len(exposed_frames(clean, redacted.scene.boxes)) == sum(
        1 for boxes in redacted.scene.boxes if boxes
    )
    # Nothing in the scene is near the black fill colour.
    dark = np.mean([float((frame.max(axis=2) <= 24).mean()) for frame in clean])
    assert dark < 0.001


def test_records_describe_the_run(redacted: Redacted) -> None:
    record = redacted.record
    assert record["format"] == "tainik.org/redaction/v1"
    assert len(record["original"]["sha256"]) == 64
    assert record["redaction"]["mode"] == "solid"
    assert record["redaction"]["face_tracks"] >= 2
    boxes = redacted.boxes
    assert boxes["format"] == "tainik.org/redaction-boxes/v1"
    assert boxes["source"]["sha256"] == record["original"]["sha256"]
    assert boxes["source"]["frames"] == len(redacted.scene.boxes)
    assert any(e["kind"] == "gap" for e in boxes["events"])
