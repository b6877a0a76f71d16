"""The JSON reports, one codec for writing and reading: :class:`VideoRecord` (one per video,
``videos/SHA256.json``) and :class:`RunRecord` (one per run, ``report.json``).

Both are ``tainik.org/triage/v1`` documents, described field by field in docs/triage.md.
Times are seconds from the start of the video; paths are relative to the report folder.
:meth:`VideoRecord.of` and :meth:`RunRecord.of` make them from results; ``encode`` gives the
file's bytes and ``parse`` reads them back strictly (:mod:`tainik.core.jsonfields`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tainik import __version__
from tainik.core.jsonfields import Fields, Json, JsonObject, load_json
from tainik.workstation.triage.clock import Overlay
from tainik.workstation.triage.params import AnalysisParams, SegmentRules, TriageParams
from tainik.workstation.triage.results import (
    Clip,
    Failure,
    MediaInfo,
    NearCopy,
    Note,
    Segment,
    Timeline,
    VideoResult,
)
from tainik.workstation.triage.scoring import Ranked, review_seconds

FORMAT = "tainik.org/triage/v1"
#: What every clip derives from, in words (docs/triage.md, "Clips").
CLIP_DERIVATION = "ffmpeg stream copy (-c copy) of the video"


def tool() -> str:
    """The ``tool`` field: this program and its version."""
    return f"tainik {__version__}"


def dumps(document: Json) -> bytes:
    """Stable, readable JSON (sorted keys, UTF-8)."""
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


# --- parts of both documents ---------------------------------------------------------------


def segment_json(segment: Segment) -> JsonObject:
    """One segment as JSON (in ``segments`` and, with more fields, in ``ranking``)."""
    clip = segment.clip
    return {
        "index": segment.index,
        "start": segment.start,
        "end": segment.end,
        "review_start": segment.review_start,
        "review_end": segment.review_end,
        "score": segment.score,
        "why": list(segment.why),
        "peak_time": segment.peak_time,
        "peaks": dict(segment.peaks),
        "thumbnail": segment.thumbnail,
        "clip": None
        if clip is None
        else {
            "path": clip.path,
            "sha256": clip.sha256,
            "start": clip.start,
            "end": clip.end,
            "derived_from": CLIP_DERIVATION,
        },
    }


def _clip(f: Fields) -> Clip:
    with f:
        f.constant("derived_from", CLIP_DERIVATION)
        return Clip(path=f.text("path"), sha256=f.hex("sha256", 64), start=f.number("start"),
                    end=f.number("end"))  # fmt: skip


def read_segment(f: Fields) -> Segment:
    """The segment fields of ``f`` (the caller checks for unknown fields)."""
    clip = f.optional_nested("clip")
    return Segment(
        index=f.integer("index"),
        start=f.number("start"),
        end=f.number("end"),
        review_start=f.number("review_start"),
        review_end=f.number("review_end"),
        score=f.number("score"),
        why=f.texts("why"),
        peak_time=f.number("peak_time"),
        peaks=f.number_map("peaks"),
        thumbnail=f.optional_text("thumbnail"),
        clip=None if clip is None else _clip(clip),
    )


def _note(f: Fields) -> Note:
    return Note(template=f.text("template"), params=f.scalar_map("params"))


def _settings(f: Fields) -> AnalysisParams:
    with f:
        return AnalysisParams.from_fields(f)


def _rules(f: Fields) -> SegmentRules:
    with f:
        return SegmentRules.from_fields(f)


# --- videos/SHA256.json --------------------------------------------------------------------


@dataclass(frozen=True)
class VideoFile:
    """``video``: the file analysed, its copies, and what its container says."""

    sha256: str
    label: str
    path: str
    origin: str
    size: int
    copies: tuple[str, ...]
    info: MediaInfo
    near_copies: tuple[NearCopy, ...] = ()

    def to_json(self) -> JsonObject:
        """The ``video`` object (the container's fields beside the file's)."""
        i = self.info
        near: JsonObject = {}
        if self.near_copies:
            near["near_copies"] = [
                {"sha256": n.sha256, "label": n.label, "similarity": n.similarity}
                for n in self.near_copies
            ]
        return near | {
            "sha256": self.sha256,
            "label": self.label,
            "path": self.path,
            "origin": self.origin,
            "size": self.size,
            "copies": list(self.copies),
            "container": i.container,
            "duration": i.duration,
            "width": i.width,
            "height": i.height,
            "fps": i.fps,
            "video_codec": i.video_codec,
            "audio_codec": i.audio_codec,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> VideoFile:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                sha256=f.hex("sha256", 64),
                label=f.text("label"),
                path=f.text("path"),
                origin=f.text("origin"),
                size=f.integer("size"),
                copies=f.texts("copies"),
                info=MediaInfo(
                    container=f.text("container"),
                    duration=f.optional_number("duration"),
                    width=f.integer("width"),
                    height=f.integer("height"),
                    fps=f.optional_number("fps"),
                    video_codec=f.text("video_codec"),
                    audio_codec=f.optional_text("audio_codec"),
                ),
                near_copies=f.objects("near_copies", _near_copy) if f.has("near_copies") else (),
            )


def _near_copy(f: Fields) -> NearCopy:
    return NearCopy(f.hex("sha256", 64), f.text("label"), f.number("similarity"))


@dataclass(frozen=True)
class Analysis:
    """``analysis``: how the measurements were made, and what decoding found."""

    fingerprint: str
    settings: AnalysisParams
    rules: SegmentRules
    analysed_seconds: float
    frames_decoded: int
    decode_errors: int
    reused_from_cache: bool

    def to_json(self) -> JsonObject:
        """The ``analysis`` object."""
        return {
            "fingerprint": self.fingerprint,
            "settings": self.settings.to_json(),
            "rules": self.rules.to_json(),
            "analysed_seconds": self.analysed_seconds,
            "frames_decoded": self.frames_decoded,
            "decode_errors": self.decode_errors,
            "reused_from_cache": self.reused_from_cache,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> Analysis:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                fingerprint=f.hex("fingerprint", 16),
                settings=_settings(f.nested("settings")),
                rules=_rules(f.nested("rules")),
                analysed_seconds=f.number("analysed_seconds"),
                frames_decoded=f.integer("frames_decoded"),
                decode_errors=f.integer("decode_errors"),
                reused_from_cache=f.boolean("reused_from_cache"),
            )


@dataclass(frozen=True)
class VideoRecord:
    """Everything found in one video, recorded against its SHA-256 (``videos/SHA256.json``)."""

    tool: str
    video: VideoFile
    analysis: Analysis
    notes: tuple[Note, ...]
    light_changes: tuple[float, ...]
    review_seconds: float
    segments: tuple[Segment, ...]
    timeline: Timeline
    #: ``overlay`` (docs/triage.md); absent from the file when it was not read.
    overlay: Overlay | None = None

    @classmethod
    def of(cls, result: VideoResult, params: TriageParams) -> VideoRecord:
        """The record of ``result``, analysed with ``params``."""
        return cls(
            tool=tool(),
            video=VideoFile(
                sha256=result.sha256,
                label=result.label,
                path=result.path,
                origin=result.origin,
                size=result.size,
                copies=result.copies,
                info=result.info,
                near_copies=result.near_copies,
            ),
            analysis=Analysis(
                fingerprint=result.fingerprint,
                settings=params.analysis,
                rules=params.rules,
                analysed_seconds=result.analysed,
                frames_decoded=result.frames_decoded,
                decode_errors=result.decode_errors,
                reused_from_cache=result.cached,
            ),
            notes=result.notes,
            light_changes=result.light_changes,
            review_seconds=round(review_seconds(result.segments), 3),
            segments=result.segments,
            timeline=result.timeline,
            overlay=result.overlay,
        )

    def to_json(self) -> JsonObject:
        """The document as plain JSON data."""
        extra: JsonObject = {} if self.overlay is None else {"overlay": self.overlay.to_json()}
        return extra | {
            "format": FORMAT,
            "tool": self.tool,
            "video": self.video.to_json(),
            "analysis": self.analysis.to_json(),
            "notes": [{"template": n.template, "params": _scalars(n.params)} for n in self.notes],
            "light_changes": list(self.light_changes),
            "review_seconds": self.review_seconds,
            "segments": [segment_json(s) for s in self.segments],
            "timeline": {
                "bin_seconds": self.timeline.bin_seconds,
                "series": {k: list(v) for k, v in self.timeline.series.items()},
            },
        }

    def encode(self) -> bytes:
        """The file's bytes."""
        return dumps(self.to_json())

    @classmethod
    def from_json(cls, value: object, record: str) -> VideoRecord:
        """The record in JSON data ``value`` (from the file named ``record``)."""
        with Fields(value, record) as f:
            f.constant("format", FORMAT)
            timeline = f.nested("timeline")
            with timeline:
                plot = Timeline(timeline.number("bin_seconds"), timeline.numbers_map("series"))
            return cls(
                tool=f.text("tool"),
                video=VideoFile.from_fields(f.nested("video")),
                analysis=Analysis.from_fields(f.nested("analysis")),
                notes=f.objects("notes", _note),
                light_changes=f.numbers("light_changes"),
                review_seconds=f.number("review_seconds"),
                segments=f.objects("segments", read_segment),
                timeline=plot,
                overlay=Overlay.from_fields(f.nested("overlay")) if f.has("overlay") else None,
            )

    @classmethod
    def parse(cls, data: bytes, record: str) -> VideoRecord:
        """Read a ``videos/SHA256.json`` file's bytes; ``record`` names it in errors."""
        return cls.from_json(load_json(data, record), record)


def parse_overlay(data: bytes, record: str) -> Overlay:
    """An ``overlay`` object on its own (the overlay cache, docs/triage.md)."""
    return Overlay.from_fields(Fields(load_json(data, record), record))


def _scalars(params: Mapping[str, object]) -> dict[str, Json]:
    """A note's or a failure's fields as JSON: numbers and strings stay, anything else is
    written as its text (as the message shows it)."""
    return {k: v if v is None or isinstance(v, str | int | float | bool) else str(v)
            for k, v in params.items()}  # fmt: skip


# --- report.json ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """``totals``: counts and durations over the whole run."""

    videos: int
    failed: int
    footage_seconds: float
    review_seconds: float
    segments: int

    def to_json(self) -> JsonObject:
        """The ``totals`` object."""
        return {
            "videos": self.videos,
            "failed": self.failed,
            "footage_seconds": self.footage_seconds,
            "review_seconds": self.review_seconds,
            "segments": self.segments,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> Totals:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                videos=f.integer("videos"),
                failed=f.integer("failed"),
                footage_seconds=f.number("footage_seconds"),
                review_seconds=f.number("review_seconds"),
                segments=f.integer("segments"),
            )


@dataclass(frozen=True)
class RankedEntry:
    """One line of ``ranking``: a segment, its rank across videos, and its video."""

    rank: int
    sha256: str
    label: str
    result: str
    segment: Segment

    def to_json(self) -> JsonObject:
        """The segment's fields with the rank and the video's beside them."""
        return {
            "rank": self.rank,
            "sha256": self.sha256,
            "label": self.label,
            "result": self.result,
            **segment_json(self.segment),
        }

    @classmethod
    def from_fields(cls, f: Fields) -> RankedEntry:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            rank=f.integer("rank"),
            sha256=f.hex("sha256", 64),
            label=f.text("label"),
            result=f.text("result"),
            segment=read_segment(f),
        )


@dataclass(frozen=True)
class VideoEntry:
    """One line of ``videos``: a video analysed, and where its record is."""

    sha256: str
    label: str
    path: str
    result: str

    def to_json(self) -> JsonObject:
        """The ``videos[]`` object."""
        return {"sha256": self.sha256, "label": self.label, "path": self.path,
                "result": self.result}  # fmt: skip

    @classmethod
    def from_fields(cls, f: Fields) -> VideoEntry:
        """Read back what :meth:`to_json` wrote."""
        return cls(f.hex("sha256", 64), f.text("label"), f.text("path"), f.text("result"))


@dataclass(frozen=True)
class FailureEntry:
    """One line of ``failures``: a video that could not be analysed, and why."""

    label: str
    path: str
    template: str
    params: Mapping[str, str]
    message: str

    def to_json(self) -> JsonObject:
        """The ``failures[]`` object."""
        return {
            "label": self.label,
            "path": self.path,
            "template": self.template,
            "params": dict(self.params),
            "message": self.message,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> FailureEntry:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            label=f.text("label"),
            path=f.text("path"),
            template=f.text("template"),
            params=f.text_map("params"),
            message=f.text("message"),
        )


@dataclass(frozen=True)
class RunRecord:
    """The run: settings, totals, the ranking across videos, and what failed
    (``report.json``)."""

    tool: str
    settings: AnalysisParams
    rules: SegmentRules
    totals: Totals
    ranking: tuple[RankedEntry, ...]
    videos: tuple[VideoEntry, ...]
    failures: tuple[FailureEntry, ...]

    @classmethod
    def of(
        cls,
        results: Sequence[VideoResult],
        failures: Sequence[Failure],
        ranked: Sequence[Ranked],
        params: TriageParams,
    ) -> RunRecord:
        """The record of a run."""
        footage = sum(r.analysed for r in results)
        review = sum(review_seconds(r.segments) for r in results)
        return cls(
            tool=tool(),
            settings=params.analysis,
            rules=params.rules,
            totals=Totals(
                videos=len(results),
                failed=len(failures),
                footage_seconds=round(footage, 3),
                review_seconds=round(review, 3),
                segments=len(ranked),
            ),
            ranking=tuple(
                RankedEntry(r.rank, r.video.sha256, r.video.label, r.video.result_file, r.segment)
                for r in ranked
            ),
            videos=tuple(VideoEntry(r.sha256, r.label, r.path, r.result_file) for r in results),
            failures=tuple(
                FailureEntry(
                    label=f.label,
                    path=f.path,
                    template=f.error.template,
                    params={k: str(v) for k, v in f.error.params.items()},
                    message=f.error.english(),
                )
                for f in failures
            ),
        )

    def to_json(self) -> JsonObject:
        """The document as plain JSON data."""
        return {
            "format": FORMAT,
            "tool": self.tool,
            "settings": self.settings.to_json(),
            "rules": self.rules.to_json(),
            "totals": self.totals.to_json(),
            "ranking": [r.to_json() for r in self.ranking],
            "videos": [v.to_json() for v in self.videos],
            "failures": [f.to_json() for f in self.failures],
        }

    def encode(self) -> bytes:
        """The file's bytes."""
        return dumps(self.to_json())

    @classmethod
    def from_json(cls, value: object, record: str) -> RunRecord:
        """The record in JSON data ``value`` (from the file named ``record``)."""
        with Fields(value, record) as f:
            f.constant("format", FORMAT)
            return cls(
                tool=f.text("tool"),
                settings=_settings(f.nested("settings")),
                rules=_rules(f.nested("rules")),
                totals=Totals.from_fields(f.nested("totals")),
                ranking=f.objects("ranking", RankedEntry.from_fields),
                videos=f.objects("videos", VideoEntry.from_fields),
                failures=f.objects("failures", FailureEntry.from_fields),
            )

    @classmethod
    def parse(cls, data: bytes, record: str) -> RunRecord:
        """Read a ``report.json`` file's bytes; ``record`` names it in errors."""
        return cls.from_json(load_json(data, record), record)
