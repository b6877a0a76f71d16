"""One triage run as the command line asks for it: check everything first, then do the work.

:func:`prepare` takes what was asked (:class:`TriageRequest`) and fails in seconds on what
would otherwise fail after hours of decoding: settings out of range, a detector model that
cannot be read or loaded, FFmpeg missing while clips are wanted, inputs that name no video.
:func:`run` then analyses every video, writes the reports, and says how it went
(:class:`RunOutcome`). The command line (``cli/triage.py``) only parses options, shows
progress and prints; docs/triage.md describes the run.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tainik.core.errors import N_, TainikError, UsageError
from tainik.workstation.triage import clips, detectors, ocr, trove
from tainik.workstation.triage.cache import SignalCache
from tainik.workstation.triage.errors import ToolMissingError
from tainik.workstation.triage.items import ItemSource, PlainFiles, TriageItem, resolve_items
from tainik.workstation.triage.params import TriageParams
from tainik.workstation.triage.report import write_reports
from tainik.workstation.triage.results import Failure
from tainik.workstation.triage.runner import RunEvents, RunResult, default_jobs, triage
from tainik.workstation.triage.scoring import review_seconds


@dataclass(frozen=True)
class TriageRequest:
    """What a person asked for.

    ``params`` holds every setting but the detectors, which are named by their model files
    (``detector_models``) and described (hashed) by :func:`prepare`. ``sources`` turn
    arguments into items before plain files and folders do (the vault's, docs/triage.md).
    """

    inputs: Sequence[str]
    report_dir: Path
    params: TriageParams = field(default_factory=TriageParams)
    detector_models: Sequence[Path] = ()
    detector_threshold: float = 0.5
    jobs: int | None = None
    sources: Sequence[ItemSource] = ()
    #: A vault whose every video item is triaged too (:mod:`trove`).
    vault: Path | None = None


@dataclass(frozen=True)
class PreparedRun:
    """A run that passed every check: its settings (detectors described) and its items."""

    params: TriageParams
    items: Sequence[TriageItem]
    report_dir: Path
    jobs: int | None
    #: Near-duplicates in the vault that are not analysed (listed under their original).
    collapsed: int = 0

    @property
    def total_bytes(self) -> int:
        """Bytes of video to read (what progress counts)."""
        return sum(_size(item.path) for item in self.items)

    def already_measured(self) -> dict[str, int]:
        """SHA-256 and size of the items whose hash is known (the vault's) and whose
        measurements an earlier run left in the report folder: a resumed run skips them."""
        cache = SignalCache(self.report_dir)
        fingerprint = self.params.analysis.fingerprint()
        return {
            item.sha256: _size(item.path)
            for item in self.items
            if item.sha256 is not None and cache.path(item.sha256, fingerprint).is_file()
        }


@dataclass(frozen=True)
class RunOutcome:
    """How a run went: its results, the reviewers' page, and the totals the summary shows."""

    run: RunResult
    index: Path
    #: The first failure heard of, whose exit code the command returns; None when none failed.
    first_failure: TainikError | None

    @property
    def segments(self) -> int:
        """Segments found in every video."""
        return sum(len(r.segments) for r in self.run.results)

    @property
    def review_seconds(self) -> float:
        """Seconds to watch to see every segment once."""
        return sum(review_seconds(r.segments) for r in self.run.results)

    @property
    def footage_seconds(self) -> float:
        """Seconds of video analysed."""
        return sum(r.analysed for r in self.run.results)

    @property
    def exit_code(self) -> int:
        """0, or the exit code of the first failure."""
        return 0 if self.first_failure is None else self.first_failure.exit_code


def prepare(request: TriageRequest) -> PreparedRun:
    """Check the request (see the module docstring); raises the first problem found."""
    if request.jobs is not None and request.jobs < 1:
        raise UsageError(N_("--jobs must be at least 1"))
    specs = tuple(
        detectors.describe(path, None, request.detector_threshold)
        for path in request.detector_models
    )
    params = replace(request.params, analysis=replace(request.params.analysis, detectors=specs))
    params.check()
    for spec in specs:
        detectors.load(spec)  # a broken model fails now, not in every worker
    if params.clips:
        clips.ffmpeg()  # fail now, not after hours of decoding
    if params.overlay and not ocr.available():
        raise ToolMissingError(tool="tesseract", package="tesseract-ocr")
    sources = [*request.sources, PlainFiles(exclude=[request.report_dir])]
    items = resolve_items(request.inputs, sources)
    collapsed = 0
    if request.vault is not None:
        found = trove.from_vault(request.vault, request.report_dir, request.jobs or default_jobs())
        seen = {item.path.resolve() for item in found.items}
        items = [*found.items, *(i for i in items if i.path.resolve() not in seen)]
        collapsed = found.collapsed
    if not items:
        if request.vault is not None:
            raise UsageError(N_("No video items in the vault {vault}"), vault=str(request.vault))
        raise UsageError(N_("No video files found in the given folders"))
    return PreparedRun(params, items, request.report_dir, request.jobs, collapsed)


def run(
    prepared: PreparedRun, events: RunEvents, translations: gettext.NullTranslations
) -> RunOutcome:
    """Analyse every item (failures are reported through ``events`` and the run goes on),
    then write the reports."""
    heard: list[TainikError] = []

    def failed(failure: Failure) -> None:
        heard.append(failure.error)
        events.failed(failure)

    result = triage(
        prepared.items,
        prepared.params,
        prepared.report_dir,
        jobs=prepared.jobs,
        events=RunEvents(progress=events.progress, finished=events.finished, failed=failed),
    )
    index = write_reports(prepared.report_dir, result, prepared.params, translations)
    return RunOutcome(result, index, heard[0] if heard else None)


def _size(path: Path) -> int:
    """Bytes in ``path``, or 0 if it went away (its worker then reports why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
