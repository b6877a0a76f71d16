"""Coarse to fine (docs/triage.md, "Coarse to fine"): keyframes and sound first, every frame
only around candidates, finding what decoding every frame finds.

Two clips with keyframes exactly every 2 s are triaged both ways (the default, and
``--full-decode``): the synthetic scene (two moving boxes, two sounds, a slow darkening and
the infrared-switch trap, springing one frame after a keyframe), and a room where a box is
seen for exactly 2 s twice, once with a keyframe only at its last frame and once only at its
first, so that the coarse pass must compare consecutive keyframes and decode from the
keyframe before. The scene of the shared
run has keyframes 5 s apart: it takes the full decode, and the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from conftest import run_cli
from tainik.workstation.triage.segmentation import Span, iou
from workstation.triage.conftest import Triaged
from workstation.triage.synthetic import (
    BETWEEN,
    BETWEEN_DURATION,
    DURATION,
    TRAP,
    make_between,
    make_scene,
)
from workstation.triage.test_ground_truth import check_against_truth


@dataclass(frozen=True)
class BothWays:
    """Per clip name, the per-video JSON of the coarse run and of the full decode."""

    clips: dict[str, Path]
    coarse: dict[str, dict[str, Any]]
    full: dict[str, dict[str, Any]]


def _triage(inputs: list[Path], out: Path, *options: str) -> dict[str, dict[str, Any]]:
    result = run_cli(["triage", *map(str, inputs), "--out", str(out), "--no-clips", *options])
    assert result.code == 0, result.stderr
    triaged = Triaged(None, result, out)  # type: ignore[arg-type]
    return {v["label"]: triaged.video_json(v["sha256"]) for v in triaged.run_json()["videos"]}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory: pytest.TempPathFactory) -> BothWays:
    folder = tmp_path_factory.mktemp("gop2")
    # The scene's pictures start 0.05 s late, off the 0.2 s analysis grid, so that its trap
    # springs just after a keyframe (a stretch from there must compare it with that frame).
    inputs = [
        make_scene(folder / "scene.mp4", gop=20, late=0.05),
        make_between(folder / "between.mp4"),
    ]
    return BothWays(
        clips={clip.name: clip for clip in inputs},
        coarse=_triage(inputs, tmp_path_factory.mktemp("coarse")),
        full=_triage(inputs, tmp_path_factory.mktemp("full"), "--full-decode"),
    )


def spans(document: dict[str, Any]) -> list[Span]:
    return [Span(s["start"], s["end"]) for s in document["segments"]]


@pytest.mark.parametrize(("name", "duration"), [("scene.mp4", DURATION),
                                                ("between.mp4", BETWEEN_DURATION)])  # fmt: skip
def test_coarse_finds_the_segments_of_the_full_decode(
    both_ways: BothWays, name: str, duration: float
) -> None:
    coarse, full = both_ways.coarse[name], both_ways.full[name]
    assert full["analysis"]["path"] == {
        "kind": "full", "reason": "asked", "keyframe_interval": None, "fine_seconds": duration,
    }  # fmt: skip
    path = coarse["analysis"]["path"]
    assert (path["kind"], path["reason"], path["keyframe_interval"]) == (
        "coarse", "keyframes-close", 2.0,
    )  # fmt: skip
    # It did skip: most of each clip was never decoded frame by frame.
    assert path["fine_seconds"] < 0.75 * duration
    assert coarse["analysis"]["frames_decoded"] < 0.8 * full["analysis"]["frames_decoded"]
    found, wanted = spans(coarse), spans(full)
    assert len(found) == len(wanted) > 0, (found, wanted)
    for want, got in zip(wanted, found, strict=True):
        assert iou(want, got) >= 0.8, (want, got)
    for want, got in zip(full["segments"], coarse["segments"], strict=True):
        assert want["why"] == got["why"]
    assert coarse["light_changes"] == pytest.approx(full["light_changes"], abs=0.01)


def test_the_coarse_pass_ignores_the_light_traps(both_ways: BothWays) -> None:
    scene = both_ways.coarse["scene.mp4"]
    check_against_truth(scene["segments"])  # the slow darkening and the trap give nothing
    assert [round(t) for t in scene["light_changes"]] == [TRAP]


def test_a_2_second_event_between_keyframes_is_found(both_ways: BothWays) -> None:
    # The clip is as meant: each box shows one keyframe only, at its last or its first frame.
    with av.open(str(both_ways.clips["between.mp4"])) as container:
        stream = container.streams.video[0]
        base = stream.time_base
        assert base is not None
        keys = [
            float(p.pts * base)
            for p in container.demux(stream)
            if p.is_keyframe and p.pts is not None
        ]
    first, second = BETWEEN
    assert [k for k in keys if first.start - 0.05 < k < first.end - 0.05] == [10.0]
    assert [k for k in keys if second.start - 0.05 < k < second.end - 0.05] == [20.0]
    found = spans(both_ways.coarse["between.mp4"])
    assert len(found) == len(BETWEEN), found
    for truth, got in zip(BETWEEN, found, strict=True):
        assert iou(truth, got) >= 0.8, (truth, got)


def test_keyframes_5_s_apart_take_the_full_decode_and_say_why(triaged: Triaged) -> None:
    document = triaged.scene_json()
    assert document["analysis"]["path"] == {
        "kind": "full", "reason": "keyframes-far", "keyframe_interval": 5.0,
        "fine_seconds": DURATION,
    }  # fmt: skip
    assert document["analysis"]["settings"]["coarse"] is True
    notes = [n for n in document["notes"] if "Keyframes" in n["template"]]
    assert [n["params"] for n in notes] == [{"seconds": 5.0}]
    assert "every frame was decoded" in triaged.result.stderr
