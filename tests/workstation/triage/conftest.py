"""Synthetic footage, made once per session, and one triage run over it shared by tests.

The browser fixtures (headless Chromium through Playwright) come from tests/conftest.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, run_cli
from tainik.workstation.triage.report_json import RunRecord, VideoRecord
from workstation.triage.synthetic import make_scene, truncate


@dataclass(frozen=True)
class Footage:
    """The inputs of the shared run."""

    scene: Path
    copy: Path
    truncated: Path
    garbage: Path
    cut_short: Path


@dataclass(frozen=True)
class Triaged:
    """The shared run: its inputs, its CLI result and its report folder."""

    footage: Footage
    result: CliResult
    out: Path

    def run_json(self) -> dict[str, Any]:
        """report.json (which the codec reads too)."""
        data = (self.out / "report.json").read_bytes()
        RunRecord.parse(data, "report.json")
        document: dict[str, Any] = json.loads(data)
        return document

    def video_json(self, sha256: str) -> dict[str, Any]:
        """videos/SHA256.json (which the codec reads too)."""
        data = (self.out / f"videos/{sha256}.json").read_bytes()
        assert VideoRecord.parse(data, sha256).video.sha256 == sha256
        document: dict[str, Any] = json.loads(data)
        return document

    def scene_json(self) -> dict[str, Any]:
        """The per-video report of the scene."""
        (entry,) = [v for v in self.run_json()["videos"] if v["label"] == "scene.mp4"]
        return self.video_json(entry["sha256"])


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Footage:
    """The 90 s scene, an identical copy, and three damaged files."""
    folder = tmp_path_factory.mktemp("footage")
    scene = make_scene(folder / "scene.mp4")
    copy = folder / "copy-of-scene.mp4"
    shutil.copyfile(scene, copy)
    # A plain MP4 keeps its index at the end: cut off, it cannot be opened at all.
    truncated = truncate(scene, folder / "truncated.mp4", 0.4)
    garbage = folder / "garbage.mp4"
    garbage.write_bytes(bytes(range(256)) * 400)
    # A "fast start" MP4 keeps its index in front: cut off, what is there can be analysed.
    whole = make_scene(folder / "faststart.mp4", duration=30.0, faststart=True)
    cut_short = truncate(whole, folder / "cut-short.mp4", 0.6)
    whole.unlink()
    return Footage(scene, copy, truncated, garbage, cut_short)


@pytest.fixture(scope="session")
def triaged(footage: Footage, tmp_path_factory: pytest.TempPathFactory) -> Triaged:
    """``tainik triage`` over all of the footage, on two workers."""
    out = tmp_path_factory.mktemp("report")
    inputs = [footage.truncated, footage.scene, footage.garbage, footage.copy, footage.cut_short]
    result = run_cli(["triage", *map(str, inputs), "--out", str(out), "--jobs", "2"])
    return Triaged(footage, result, out)
