"""The overlay in a triage run: read beside the decoding, kept for re-runs, jumps as findings.

:class:`OverlayReading` reads a video's burned-in overlay (:func:`overlay.read_overlay`) in a
thread while the analysis decodes: Tesseract runs as a separate process, so its work overlaps
the decoder's. The result is kept in ``REPORT_DIR/cache/SHA256-overlay-N.json`` (N:
:data:`overlay.ALGORITHM`), so a re-run reads nothing again. A reading that fails becomes a
note; the analysis stands.

:func:`clock_findings` turns each clock jump into a segment (``why = ["clock"]``) with a
thumbnail and a clip of the moment, ranked with the rest (docs/triage.md).
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import av

from tainik.core.errors import N_
from tainik.core.jsonfields import RecordError
from tainik.sealed.hashing import sha256_file
from tainik.workstation.triage import clips, overlay
from tainik.workstation.triage.clock import ClockJump, Overlay
from tainik.workstation.triage.errors import ClipError, OverlayError
from tainik.workstation.triage.files import write_atomic
from tainik.workstation.triage.report_json import dumps, parse_overlay
from tainik.workstation.triage.results import Clip, MediaInfo, Note, Segment
from tainik.workstation.triage.thumbnails import write_thumbnails

#: The signal name of a clock jump in segments' ``why`` and ``peaks``.
CLOCK = "clock"


def cache_path(report_dir: Path, sha256: str) -> Path:
    """Where a video's overlay reading is kept."""
    return report_dir / "cache" / f"{sha256}-overlay-{overlay.ALGORITHM}.json"


class OverlayReading:
    """The overlay of one video, read in a thread (or taken from the cache)."""

    def __init__(self, path: Path, sha256: str, report_dir: Path, wanted: bool) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[tuple[Overlay | None, list[Note]]] | None = None
        if wanted:
            self._pool = ThreadPoolExecutor(max_workers=1)
            self._future = self._pool.submit(_read, path, cache_path(report_dir, sha256))

    def result(self) -> tuple[Overlay | None, list[Note]]:
        """The overlay (None when not asked for or unreadable) and notes about it."""
        if self._future is None or self._pool is None:
            return None, []
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()


def cached_overlay(path: Path, sha256: str, report_dir: Path) -> Overlay | None:
    """The overlay of one video, from the cache or read now (and kept); None if unreadable."""
    return _read(path, cache_path(report_dir, sha256))[0]


def _read(path: Path, cached: Path) -> tuple[Overlay | None, list[Note]]:
    try:
        return parse_overlay(cached.read_bytes(), cached.name), []
    except (OSError, RecordError):
        pass
    try:
        found = overlay.read_overlay(path)
    except OverlayError as error:
        return None, [Note(error.template, dict(error.params))]
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        return None, [Note(N_("The overlay could not be read: {reason}"), {"reason": reason})]
    write_atomic(cached, dumps(found.to_json()))
    return found, []


def clock_score(jump: ClockJump) -> float:
    """0.6 for a jump of a few seconds, rising to 0.9 for an hour or more: a cut, deleted
    footage or a restart is evidence in itself."""
    size = min(1.0, math.log1p(abs(jump.seconds)) / math.log1p(3600))
    return round(0.6 + 0.3 * size, 3)


def clock_findings(
    video: Path,
    sha256: str,
    info: MediaInfo,
    found: Overlay | None,
    report_dir: Path,
    first_index: int,
    padding: float,
    duration: float,
    cut_clips: bool,
) -> tuple[list[Segment], list[Note]]:
    """One segment per clock jump, numbered from ``first_index``, with thumbnail and clip."""
    if found is None or not found.jumps:
        return [], []
    segments: list[Segment] = []
    notes: list[Note] = []
    shots = []
    for jump in found.jumps:
        thumb = Path("thumbs") / f"{sha256[:16]}-{round(jump.at * 1000):09d}.jpg"
        if not (report_dir / thumb).is_file():
            shots.append((jump.at, report_dir / thumb))
    written = write_thumbnails(video, shots)
    missing = {p for _, p in shots} - written
    for index, jump in enumerate(found.jumps, first_index):
        start = round(max(0.0, jump.at - overlay.RESOLUTION), 3)
        window = (max(0.0, start - padding), min(duration, jump.at + padding))
        thumb = Path("thumbs") / f"{sha256[:16]}-{round(jump.at * 1000):09d}.jpg"
        clip = None
        if cut_clips:
            clip, note = _clip(video, sha256, info, window, report_dir)
            notes += [note] if note is not None else []
        segments.append(
            Segment(
                index=index,
                start=start,
                end=jump.at,
                review_start=round(window[0], 3),
                review_end=round(window[1], 3),
                score=clock_score(jump),
                why=(CLOCK,),
                peak_time=jump.at,
                peaks={CLOCK: round(jump.seconds, 3)},
                thumbnail=None if report_dir / thumb in missing else thumb.as_posix(),
                clip=clip,
            )
        )
    return segments, notes


def _clip(
    video: Path, sha256: str, info: MediaInfo, window: tuple[float, float], report_dir: Path
) -> tuple[Clip | None, Note | None]:
    start_ms, end_ms = round(window[0] * 1000), round(window[1] * 1000)
    name = Path("clips") / f"{sha256[:16]}-{start_ms:09d}-{end_ms:09d}{clips.suffix_for(info)}"
    target = report_dir / name
    try:
        digest = sha256_file(target) if target.is_file() else clips.cut(video, *window, target)
    except ClipError as error:
        note = Note(
            N_("No clip for the segment at {at}: {reason}"),
            {"at": error.params["start"], "reason": error.params["reason"]},
        )
        return None, note
    return Clip(name.as_posix(), digest, round(window[0], 3), round(window[1], 3)), None
