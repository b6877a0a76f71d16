"""The triage use case without the command line: everything checked before any work, then one
run that reports its failures, writes its reports and says how it went."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tainik.core.errors import ExitCode, StorageError, TainikError, UsageError
from tainik.i18n import translations
from tainik.workstation.triage.command import TriageRequest, prepare, run
from tainik.workstation.triage.errors import DetectorError, SettingError
from tainik.workstation.triage.items import TriageItem
from tainik.workstation.triage.params import AnalysisParams, TriageParams
from tainik.workstation.triage.report_json import RunRecord
from tainik.workstation.triage.results import Failure, VideoResult
from tainik.workstation.triage.runner import RunEvents
from tainik.workstation.triage.segmentation import Span
from workstation.triage.synthetic import make_bright_box
from workstation.triage.test_detector import bright_model


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bright_box(tmp_path_factory.mktemp("video") / "box.mp4", 4.0, Span(1, 3))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"jobs": 0}, UsageError, "--jobs must be at least 1"),
        ({"detector_models": [Path("missing.onnx")]}, DetectorError, "missing.onnx"),
        ({"params": TriageParams(AnalysisParams(fps=0))}, SettingError, "--fps must be between"),
        ({"inputs": ["nowhere.mp4"]}, StorageError, "no such file or directory"),
        ({"inputs": []}, UsageError, "No video files found"),
    ],
)
def test_what_would_fail_later_fails_before_any_work(
    video: Path, tmp_path: Path, change: dict[str, Any], error: type[TainikError], message: str
) -> None:
    report = tmp_path / "report"
    request = replace(TriageRequest(inputs=[str(video)], report_dir=report), **change)
    with pytest.raises(error, match=message):
        prepare(request)
    assert not report.exists()


def test_a_broken_model_fails_in_prepare(video: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    request = TriageRequest([str(video)], tmp_path / "r", detector_models=[junk])
    with pytest.raises(DetectorError, match="cannot use this detector model"):
        prepare(request)


class Vault:
    """An item source as the vault's would be: an argument naming an item, with its hash."""

    def __init__(self, video: Path) -> None:
        self.video = video

    def resolve(self, argument: str) -> list[TriageItem] | None:
        if argument != "item:7":
            return None
        return [TriageItem(self.video, "item #7", "ab" * 32, "vault")]


def test_a_run_reports_failures_and_goes_on(video: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(bytes(range(256)) * 40)
    report = tmp_path / "report"
    request = TriageRequest(
        inputs=["item:7", str(garbage)],
        report_dir=report,
        params=TriageParams(clips=False),
        detector_models=[bright_model(tmp_path / "bright.onnx")],
        jobs=1,
        sources=[Vault(video)],
    )
    prepared = prepare(request)
    assert [i.label for i in prepared.items] == ["item #7", "garbage.mp4"]
    assert prepared.total_bytes == video.stat().st_size + garbage.stat().st_size
    assert [d.name for d in prepared.params.analysis.detectors] == ["bright"]
    heard: list[str] = []
    progress: list[int] = []

    def finished(result: VideoResult) -> None:
        heard.append(result.label)

    def failed(failure: Failure) -> None:
        heard.append(failure.label)

    outcome = run(prepared, RunEvents(progress.append, finished, failed), translations(["en"]))
    assert sorted(heard) == ["garbage.mp4", "item #7"]
    assert sum(progress) == prepared.total_bytes
    assert outcome.exit_code == ExitCode.INTEGRITY
    assert outcome.first_failure is not None
    assert outcome.index == report / "index.html"
    assert outcome.index.is_file()
    assert outcome.segments >= 1
    assert 0 < outcome.review_seconds <= outcome.footage_seconds == pytest.approx(4.0, abs=0.2)
    record = RunRecord.parse((report / "report.json").read_bytes(), "report.json")
    assert [v.sha256 for v in record.videos] == ["ab" * 32]
    assert [f.label for f in record.failures] == ["garbage.mp4"]
    assert [d.name for d in record.settings.detectors] == ["bright"]
