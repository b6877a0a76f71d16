"""The process pool: a worker that dies takes only its own video down; progress adds up;
the vault's recorder hears of every video."""

from __future__ import annotations

import os
from pathlib import Path

from tainik.workstation.triage.analysis import Job
from tainik.workstation.triage.errors import DecoderCrashError
from tainik.workstation.triage.items import PlainFiles, TriageItem, resolve_items
from tainik.workstation.triage.params import TriageParams
from tainik.workstation.triage.results import VideoResult
from tainik.workstation.triage.runner import Outcome, RunEvents, triage, work
from tainik.workstation.triage.segmentation import Span
from workstation.triage.synthetic import make_bright_box


def dies_on_crash_mp4(index: int, job: Job) -> Outcome:
    """A worker whose "decoder" kills the process on one file, as a native crash would."""
    if job.item.path.name == "crash.mp4":
        os._exit(70)
    return work(index, job)


class Recorder:
    """What the vault would implement: results recorded against the item's hash."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, Path]] = []

    def record(self, result: VideoResult, result_file: Path) -> None:
        assert result_file.is_file()
        self.recorded.append((result.sha256, result_file))


def test_a_dying_worker_takes_only_its_own_video(tmp_path: Path) -> None:
    videos = [  # different boxes: different bytes (identical copies would be merged)
        make_bright_box(tmp_path / f"{name}.mp4", 4.0, Span(1, 1 + n))
        for n, name in enumerate("abc")
    ]
    (tmp_path / "crash.mp4").write_bytes(b"whatever: the worker dies before reading it")
    items = resolve_items([str(tmp_path)], [PlainFiles()])
    assert [i.label for i in items] == ["a.mp4", "b.mp4", "c.mp4", "crash.mp4"]
    progress: list[int] = []
    recorder = Recorder()
    params = TriageParams(clips=False)
    run = triage(
        items,
        params,
        tmp_path / "out",
        jobs=2,
        events=RunEvents(progress=progress.append),
        recorder=recorder,
        worker=dies_on_crash_mp4,
    )
    assert [r.label for r in run.results] == ["a.mp4", "b.mp4", "c.mp4"]
    (failure,) = run.failures
    assert failure.label == "crash.mp4"
    assert isinstance(failure.error, DecoderCrashError)
    assert sum(progress) == sum(v.stat().st_size for v in videos)
    assert [sha for sha, _ in recorder.recorded] == [r.sha256 for r in run.results]


def test_a_vault_item_brings_its_own_hash(tmp_path: Path) -> None:
    video = make_bright_box(tmp_path / "v.mp4", 3.0, Span(1, 2))
    vouched = "ab" * 32
    item = TriageItem(path=video, label="item #12", sha256=vouched, origin="vault")
    run = triage([item], TriageParams(clips=False), tmp_path / "out", jobs=1)
    (result,) = run.results
    assert result.sha256 == vouched
    assert result.origin == "vault"
    assert (tmp_path / "out" / "videos" / f"{vouched}.json").is_file()
