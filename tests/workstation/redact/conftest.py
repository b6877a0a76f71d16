"""Fixtures: the synthetic scene (built once) and one redaction of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from tainik.workstation.redact.records import BoxesRecord, RedactionRecord
from workstation.redact.scene import Scene, make_clip


@dataclass(frozen=True)
class Redacted:
    """The scene, the output of ``tainik redact`` on it, and the files written beside it."""

    scene: Scene
    out: Path
    record: dict[str, Any]
    boxes: dict[str, Any]
    report: Path
    stderr: str


@pytest.fixture(scope="session")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    return make_clip(tmp_path_factory.mktemp("scene") / "clip.mp4")


@pytest.fixture(scope="session")
def redacted(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Redacted:
    folder = tmp_path_factory.mktemp("redacted")
    out = folder / "clip-redacted.mp4"
    boxes = folder / "boxes.json"
    result = run_cli(["redact", str(scene.path), "--out", str(out), "--boxes-out", str(boxes)])
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    record = folder / "clip-redacted.mp4.redaction.json"
    # What the command wrote, the codec reads (and would write byte for byte).
    for path, codec in ((record, RedactionRecord), (boxes, BoxesRecord)):
        assert codec.parse(path.read_bytes(), path.name).encode() == path.read_bytes()
    return Redacted(
        scene=scene,
        out=out,
        record=json.loads(record.read_text()),
        boxes=json.loads(boxes.read_text()),
        report=folder / "clip-redacted.mp4.qa.html",
        stderr=result.stderr,
    )
