"""Many videos on every core, with progress, and no single file able to stop the run.

Each video is analysed in a worker process (:func:`analysis.analyse`). A video that fails
(corrupt, truncated, not a video) comes back as a :class:`Failure` and the others carry on.
A worker that *dies* (a decoder crash on a hostile file, or the kernel's out-of-memory
killer) breaks the pool: the videos that were in progress are then retried one at a time in a
fresh single-worker pool, so the one that kills its worker again is identified and reported,
and the videos that had not started are run again normally.

Workers start with ``forkserver`` (``spawn`` where that is missing), never ``fork``: the
calling process may hold threads (a browser driver in tests, FFmpeg's or OpenCV's pools).
Decoding threads are shared out: with fewer videos than cores, each video gets several.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.queues
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from tainik.core.errors import N_, TainikError
from tainik.workstation.triage.analysis import Job, analyse
from tainik.workstation.triage.detectors import Detector, load
from tainik.workstation.triage.errors import DecoderCrashError
from tainik.workstation.triage.files import make_dirs, write_atomic
from tainik.workstation.triage.items import ResultRecorder, TriageItem
from tainik.workstation.triage.params import DetectorSpec, TriageParams
from tainik.workstation.triage.report_json import VideoRecord
from tainik.workstation.triage.results import Failure, VideoResult

Outcome = VideoResult | Failure
Worker = Callable[[int, Job], Outcome]
#: A worker sends progress at most this often (seconds).
PROGRESS_INTERVAL = 0.5


@dataclass
class RunEvents:
    """What the caller hears while the run goes on (all called in the calling process)."""

    progress: Callable[[int], None] = lambda count: None
    finished: Callable[[VideoResult], None] = lambda result: None
    failed: Callable[[Failure], None] = lambda failure: None


@dataclass(frozen=True)
class RunResult:
    """Results in input order (one per distinct video; copies listed in ``copies``)."""

    results: list[VideoResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def default_jobs() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def triage(
    items: Sequence[TriageItem],
    params: TriageParams,
    report_dir: Path,
    jobs: int | None = None,
    events: RunEvents | None = None,
    recorder: ResultRecorder | None = None,
    worker: Worker | None = None,
) -> RunResult:
    """Analyse every item; results and failures come back in input order.

    ``worker`` replaces the function run in the worker processes (a module-level function
    taking an index and a :class:`Job`; tests use it to make a worker die).
    """
    events = events or RunEvents()
    make_dirs(report_dir)
    workers = min(jobs or default_jobs(), max(1, len(items)))
    threads = max(1, default_jobs() // workers)
    run = _Run(items, params, report_dir, threads, events, worker or work)
    todo = list(range(len(items)))
    while todo:
        fresh = [i for i in todo if run.crashes[i] == 0]
        suspects = [i for i in todo if run.crashes[i] > 0]
        todo = run.pool(fresh, min(workers, len(fresh))) if fresh else []
        for index in suspects:
            todo += run.pool([index], 1)
    results = [
        o for o in (run.outcomes[i] for i in range(len(items))) if isinstance(o, VideoResult)
    ]
    failures = [o for o in (run.outcomes[i] for i in range(len(items))) if isinstance(o, Failure)]
    unique = _merge_copies(results, params, report_dir)
    if recorder is not None:
        for result in unique:
            recorder.record(result, report_dir / result.result_file)
    return RunResult(unique, failures)


class _Run:
    def __init__(
        self,
        items: Sequence[TriageItem],
        params: TriageParams,
        report_dir: Path,
        threads: int,
        events: RunEvents,
        worker: Worker,
    ) -> None:
        self.items = items
        self.worker = worker
        self.jobs = [Job(item, params, report_dir, threads) for item in items]
        self.events = events
        self.outcomes: dict[int, Outcome] = {}
        self.crashes = [0] * len(items)
        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )

    def pool(self, indices: list[int], workers: int) -> list[int]:
        """Run ``indices`` in a pool of ``workers``; returns those to run again."""
        messages = self.context.SimpleQueue()
        started: set[int] = set()
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=self.context,
            initializer=_init,
            initargs=(messages,),
        )
        try:
            futures: dict[Future[Outcome], int] = {
                pool.submit(_begin, self.worker, i, self.jobs[i]): i for i in indices
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                self._drain(messages, started)
                for future in done:
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        continue
                    self._record(futures[future], outcome)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        self._drain(messages, started)
        messages.close()
        unfinished = [i for i in indices if i not in self.outcomes]
        if unfinished and not started:
            raise TainikError(N_("The worker processes for video triage could not start"))
        again: list[int] = []
        for index in unfinished:
            if index in started:
                self.crashes[index] += 1
                if self.crashes[index] >= 2:
                    item = self.items[index]
                    error = DecoderCrashError(path=str(item.path))
                    self._record(index, Failure(item.label, str(item.path), error))
                    continue
            again.append(index)
        return again

    def _drain(
        self, messages: multiprocessing.queues.SimpleQueue[tuple[str, int, int]], started: set[int]
    ) -> None:
        while not messages.empty():
            kind, index, count = messages.get()
            if kind == "start":
                started.add(index)
            elif count:
                self.events.progress(count)

    def _record(self, index: int, outcome: Outcome) -> None:
        self.outcomes[index] = outcome
        if isinstance(outcome, VideoResult):
            self.events.finished(outcome)
        else:
            self.events.failed(outcome)


def _merge_copies(
    results: list[VideoResult], params: TriageParams, report_dir: Path
) -> list[VideoResult]:
    """One result per content hash (the first in input order), naming the other copies."""
    first: dict[str, VideoResult] = {}
    copies: dict[str, list[str]] = {}
    for result in results:
        if result.sha256 in first:
            copies[result.sha256].append(result.path)
        else:
            first[result.sha256] = result
            copies[result.sha256] = []
    unique: list[VideoResult] = []
    for digest, original in first.items():
        result = original
        if copies[digest]:
            # Every copy's worker wrote the same file name; the first copy's label wins.
            result = replace(original, copies=tuple(copies[digest]))
            write_atomic(report_dir / result.result_file, VideoRecord.of(result, params).encode())
        unique.append(result)
    return unique


# Worker process state: the message queue and the detectors loaded so far.
_messages: multiprocessing.queues.SimpleQueue[tuple[str, int, int]] | None = None
_detectors: dict[tuple[DetectorSpec, ...], list[Detector]] = {}


def _init(messages: multiprocessing.queues.SimpleQueue[tuple[str, int, int]]) -> None:
    global _messages  # noqa: PLW0603 - per-process worker state
    _messages = messages
    import cv2  # noqa: PLC0415 - only workers need OpenCV's thread setting

    cv2.setNumThreads(1)  # one video per core already; FFmpeg has its own threads


def _begin(worker: Worker, index: int, job: Job) -> Outcome:
    """Say that ``index`` has started (so that a crash is pinned on it), then run it."""
    if _messages is not None:
        _messages.put(("start", index, 0))  # synchronous: in the pipe before any work
    return worker(index, job)


def work(index: int, job: Job) -> Outcome:
    """Analyse one video in a worker; every error becomes a :class:`Failure`."""
    messages = _messages
    sent, pending, last = 0, 0, time.monotonic()

    def progress(count: int) -> None:
        nonlocal sent, pending, last
        pending += count
        now = time.monotonic()
        if messages is not None and now - last >= PROGRESS_INTERVAL:
            messages.put(("progress", index, pending))
            sent, pending, last = sent + pending, 0, now

    specs = job.params.analysis.detectors
    item = job.item
    try:
        if specs not in _detectors:
            _detectors[specs] = [load(spec) for spec in specs]
        return analyse(job, _detectors[specs], progress)
    except TainikError as error:
        return Failure(item.label, str(item.path), error)
    except Exception as exc:  # a bug, or a library failing in a new way: report, go on
        bug = TainikError(
            N_("{path}: internal error while analysing ({reason}); please report it"),
            path=str(item.path),
            reason=repr(exc),
        )
        return Failure(item.label, str(item.path), bug)
    finally:
        if messages is not None:  # the whole file counts as done, however reading ended
            with contextlib.suppress(OSError):
                rest = item.path.stat().st_size - sent
                if rest > 0:
                    messages.put(("progress", index, rest))
