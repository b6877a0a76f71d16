"""One video, start to finish: hash, measure (or reuse), segment, score, thumbnails, clips.

Runs inside a worker process (:mod:`runner`) or directly. Writes only under the report
folder, every file atomically, and last of all ``videos/SHA256.json``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from tainik.core.errors import N_
from tainik.sealed.durable import storage_error
from tainik.sealed.hashing import sha256_file
from tainik.workstation.triage import clips, evidence, segmentation
from tainik.workstation.triage.activity import ActivityMeter
from tainik.workstation.triage.cache import SignalCache
from tainik.workstation.triage.decoding import MediaReader, Progress, luma
from tainik.workstation.triage.detectors import Detector
from tainik.workstation.triage.errors import ClipError
from tainik.workstation.triage.files import write_atomic
from tainik.workstation.triage.items import TriageItem
from tainik.workstation.triage.loudness import LoudnessMeter, momentary
from tainik.workstation.triage.params import AnalysisParams, TriageParams
from tainik.workstation.triage.report_json import VideoRecord
from tainik.workstation.triage.results import (
    Clip,
    MediaInfo,
    Note,
    Segment,
    Timeline,
    VideoResult,
)
from tainik.workstation.triage.scoring import score
from tainik.workstation.triage.signals import Signals
from tainik.workstation.triage.thumbnails import write_thumbnails
from tainik.workstation.triage.wallclock import OverlayReading, clock_findings

#: The report's timeline has at most this many bins per video.
TIMELINE_BINS = 600
#: Clips (and the thumbnails) cut at the same time for one video.
CUTTERS = 3


@dataclass(frozen=True)
class Job:
    """One video to analyse, with the run's settings and where its results go."""

    item: TriageItem
    params: TriageParams
    report_dir: Path
    threads: int = 0


def analyse(
    job: Job, detectors: Sequence[Detector] = (), progress: Progress | None = None
) -> VideoResult:
    """Analyse one video and write its files; raises a TainikError if it cannot be read."""
    began = time.monotonic()
    item, params = job.item, job.params
    try:
        size = item.path.stat().st_size
    except OSError as exc:
        raise storage_error(exc, item.path) from exc
    digest = item.sha256 or sha256_file(item.path)
    fingerprint = params.analysis.fingerprint()
    # The overlay is read beside the decoding (Tesseract is a process of its own).
    reading = OverlayReading(item.path, digest, job.report_dir, params.overlay)
    cache = SignalCache(job.report_dir)
    signals = cache.load(digest, fingerprint)
    cached = signals is not None
    with MediaReader(item.path, threads=job.threads) as reader:
        info = reader.info
        if signals is None:
            signals = measure(reader, params.analysis, detectors, progress)
            cache.store(digest, fingerprint, signals)
        elif progress is not None:
            progress(size)
    found = evidence.build(signals, params.rules, params.analysis)
    rules = params.rules
    spans = segmentation.segments(
        found.combined().tolist(), found.step, rules.leave_ratio, rules.min_length,
        rules.merge_gap,
    )  # fmt: skip
    notes = list(_notes(signals, info))
    segments = _segments(found, spans, digest, info, job, notes)
    overlay, overlay_notes = reading.result()
    jumps, jump_notes = clock_findings(
        item.path, digest, info, overlay, job.report_dir, len(segments) + 1, rules.padding,
        found.duration, params.clips,
    )  # fmt: skip
    segments += jumps
    notes += overlay_notes + jump_notes
    result = VideoResult(
        sha256=digest,
        label=item.label,
        path=str(item.path),
        origin=item.origin,
        size=size,
        info=info,
        analysed=round(signals.duration, 3),
        frames_decoded=signals.frames_decoded,
        decode_errors=signals.decode_errors,
        segments=tuple(segments),
        timeline=_timeline(found),
        light_changes=tuple(round(float(t), 2) for t in signals.light_changes),
        notes=tuple(notes),
        fingerprint=fingerprint,
        cached=cached,
        elapsed=round(time.monotonic() - began, 3),
        overlay=overlay,
        near_copies=item.near_copies,
    )
    write_atomic(job.report_dir / result.result_file, VideoRecord.of(result, params).encode())
    return result


def measure(
    reader: MediaReader,
    analysis: AnalysisParams,
    detectors: Sequence[Detector] = (),
    progress: Progress | None = None,
) -> Signals:
    """Decode once and take every raw measurement."""
    meter = ActivityMeter(analysis)
    loudness = LoudnessMeter()
    times: list[float] = []
    activity: list[float] = []
    lights: list[float] = []
    detector_times: list[float] = []
    scores: dict[str, list[float]] = {d.name: [] for d in detectors}
    size: tuple[int, int] | None = None  # from the first frame (the header may not say)
    next_detection = 0.0

    def on_frame(t: float, frame: av.VideoFrame) -> None:
        nonlocal next_detection, size
        if size is None:  # later frames of another size are scaled to this one
            size = analysis_size(frame.width, frame.height, analysis.width)
        found = meter.measure(luma(frame, *size))
        times.append(t)
        activity.append(found.activity)
        if found.light_change:
            lights.append(t)
        if detectors and t >= next_detection - 1e-6:
            next_detection = t + 1.0 / analysis.detector_rate
            picture = frame.reformat(width=size[0], height=size[1], format="rgb24")
            rgb = np.asarray(picture.to_ndarray(), dtype=np.uint8)
            detector_times.append(t)
            for detector in detectors:
                scores[detector.name].append(detector.score(rgb))

    has_audio = reader.info.audio_codec is not None
    report = reader.read(
        analysis.fps,
        on_frame,
        loudness.feed if has_audio else None,
        progress,
        skip_nonref=analysis.skip_nonref,
    )
    lufs = momentary(loudness.block_power()) if has_audio else np.empty(0)
    audio_start = report.audio_start or 0.0
    audio_end = audio_start + lufs.size * 0.1
    return Signals(
        duration=max(report.video_end, audio_end),
        video_times=np.array(times, dtype=np.float64),
        activity=np.array(activity, dtype=np.float64),
        light_changes=np.array(lights, dtype=np.float64),
        audio_start=audio_start,
        loudness=lufs,
        detector_times=np.array(detector_times, dtype=np.float64),
        detectors={name: np.array(values, dtype=np.float64) for name, values in scores.items()},
        frames_decoded=report.frames_decoded,
        decode_errors=report.errors,
        stopped=report.stopped,
    )


def analysis_size(width: int, height: int, target: int) -> tuple[int, int]:
    """Analysis frame size: ``target`` wide (never wider than the source), even sides."""
    out_width = min(target, width) // 2 * 2 or 2
    out_height = max(2, round(height * out_width / max(width, 1) / 2) * 2)
    return out_width, out_height


def _segments(
    found: evidence.Evidence,
    spans: Sequence[segmentation.Span],
    digest: str,
    info: MediaInfo,
    job: Job,
    notes: list[Note],
) -> list[Segment]:
    rules, report_dir = job.params.rules, job.report_dir
    scored = [score(found, span) for span in spans]
    windows = [segmentation.pad(span, rules.padding, found.duration) for span in spans]
    thumbs = [Path("thumbs") / f"{digest[:16]}-{round(s.peak_time * 1000):09d}.jpg" for s in scored]
    shots = [
        (s.peak_time, report_dir / thumb)
        for s, thumb in zip(scored, thumbs, strict=True)
        if not (report_dir / thumb).is_file()
    ]
    # Thumbnails and clips come after the decoding pass, when the cores are free again:
    # ffmpeg processes and PyAV (which releases the GIL while decoding) run side by side.
    with ThreadPoolExecutor(max_workers=CUTTERS) as cutters:
        pictures = cutters.submit(write_thumbnails, job.item.path, shots)
        cuts = [
            cutters.submit(_clip, job, digest, info, window) if job.params.clips else None
            for window in windows
        ]
        written = pictures.result()
        made = [(None, None) if cut is None else cut.result() for cut in cuts]
    missing = {path for _, path in shots} - written
    segments: list[Segment] = []
    for index, (span, mark, window, thumb, (clip, note)) in enumerate(
        zip(spans, scored, windows, thumbs, made, strict=True), 1
    ):
        if note is not None:
            notes.append(note)
        segments.append(
            Segment(
                index=index,
                start=round(span.start, 3),
                end=round(span.end, 3),
                review_start=round(window.start, 3),
                review_end=round(window.end, 3),
                score=mark.score,
                why=mark.why,
                peak_time=mark.peak_time,
                peaks=mark.peaks,
                thumbnail=None if report_dir / thumb in missing else thumb.as_posix(),
                clip=clip,
            )
        )
    return segments


def _clip(
    job: Job, digest: str, info: MediaInfo, window: segmentation.Span
) -> tuple[Clip | None, Note | None]:
    start_ms, end_ms = round(window.start * 1000), round(window.end * 1000)
    name = Path("clips") / f"{digest[:16]}-{start_ms:09d}-{end_ms:09d}{clips.suffix_for(info)}"
    target = job.report_dir / name
    try:
        clip_hash = sha256_file(target) if target.is_file() else None
        if clip_hash is None:
            clip_hash = clips.cut(job.item.path, window.start, window.end, target)
    except ClipError as error:
        note = Note(
            N_("No clip for the segment at {at}: {reason}"),
            {"at": error.params["start"], "reason": error.params["reason"]},
        )
        return None, note
    return Clip(name.as_posix(), clip_hash, round(window.start, 3), round(window.end, 3)), None


def _notes(signals: Signals, info: MediaInfo) -> list[Note]:
    notes: list[Note] = []
    if signals.stopped is not None:
        notes.append(
            Note(
                N_("Reading stopped at {at} s ({reason}); the rest of the file was not analysed"),
                {"at": round(signals.duration, 1), "reason": signals.stopped},
            )
        )
    elif info.duration and signals.duration < info.duration - max(2.0, 0.02 * info.duration):
        notes.append(
            Note(
                N_("The pictures end at {at} s although the file claims {claimed} s: "
                   "it may be truncated"),
                {"at": round(signals.duration, 1), "claimed": round(info.duration, 1)},
            )
        )  # fmt: skip
    if signals.decode_errors:
        notes.append(Note(N_("Damaged packets skipped: {count}"), {"count": signals.decode_errors}))
    return notes


def _timeline(found: evidence.Evidence) -> Timeline:
    steps = max(1, math.ceil(math.ceil(found.duration / found.step) / TIMELINE_BINS))
    series: dict[str, tuple[float, ...]] = {}
    for name, values in found.series.items():
        pad = (-values.size) % steps
        pooled = np.pad(values, (0, pad)).reshape(-1, steps).max(axis=1)
        series[name] = tuple(round(float(v), 3) for v in np.minimum(pooled, 10.0))
    return Timeline(bin_seconds=round(steps * found.step, 3), series=series)
