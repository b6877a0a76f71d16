"""What ``tainik redact`` writes as JSON, one codec for writing and reading, and the words in it.

- :class:`RedactionRecord` (``OUT.redaction.json``, format ``tainik.org/redaction/v1``): what
  was derived from what, and how. ``tainik publish`` reads it back, and its details go into the
  vault's ``derive`` custody record.
- :class:`BoxesRecord` (``--boxes-out``, format ``tainik.org/redaction-boxes/v1``): every
  covered box of every frame, the face tracks, and the events to check.

docs/redaction.md describes both. ``to_json`` gives plain JSON data, ``parse`` reads a file's
bytes back strictly (:mod:`tainik.core.jsonfields`). The module is light (no OpenCV, NumPy or
PyAV), so that readers of the records need not load the pipeline.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from tainik.core.jsonfields import Fields, JsonObject, load_json
from tainik.workstation.redact.audio import AudioMode

RECORD_FORMAT = "tainik.org/redaction/v1"
BOXES_FORMAT = "tainik.org/redaction-boxes/v1"


class RenderMode(enum.StrEnum):
    """How a covered box looks."""

    SOLID = "solid"
    MOSAIC = "mosaic"
    BLUR = "blur"


class CoverKind(enum.StrEnum):
    """Why a box is covered."""

    DETECTED = "detected"
    GAP = "gap"  # between two detections of one track
    PADDING = "padding"  # before the first or after the last detection of a track
    WEAK = "weak"  # a weak detection that continued no track
    MANUAL = "manual"


class EventKind(enum.StrEnum):
    """What the QA report asks a person to check."""

    WEAK = "weak"  # the detector was unsure
    GAP = "gap"  # a track was not detected for a while; covered by prediction
    LOST = "lost"  # a track was never found again; covered by prediction, then not at all


def encode(document: JsonObject) -> bytes:
    """A record's file bytes (as ``durable.replace_json`` writes them: sorted keys, ASCII)."""
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _values(kind: type[enum.StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in kind)


# --- OUT.redaction.json --------------------------------------------------------------------


@dataclass(frozen=True)
class NamedFile:
    """A file by content hash and name (``original``, ``output``)."""

    sha256: str
    name: str

    def to_json(self) -> JsonObject:
        """The ``original`` or ``output`` object."""
        return {"sha256": self.sha256, "name": self.name}

    @classmethod
    def from_fields(cls, f: Fields) -> NamedFile:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(sha256=f.hex("sha256", 64), name=f.text("name"))


@dataclass(frozen=True)
class RedactionTool:
    """``tool``: the program, its version, and the face model it ran."""

    name: str
    version: str
    detector: str
    model_sha256: str

    def to_json(self) -> JsonObject:
        """The ``tool`` object."""
        return {
            "name": self.name,
            "version": self.version,
            "detector": self.detector,
            "model_sha256": self.model_sha256,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> RedactionTool:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                name=f.text("name"),
                version=f.text("version"),
                detector=f.text("detector"),
                model_sha256=f.hex("model_sha256", 64),
            )


@dataclass(frozen=True)
class RedactionSummary:
    """``redaction``: what was done to the video."""

    mode: RenderMode
    face_tracks: int
    frames: int
    frames_with_covered_regions: int
    #: In the command-line syntax, ``X,Y,W,H@T0-T1`` (``regions.ManualRegion.describe``).
    manual_regions: tuple[str, ...]
    audio: AudioMode
    metadata: str = "removed"
    reencoded: bool = True

    def to_json(self) -> JsonObject:
        """The ``redaction`` object."""
        return {
            "mode": self.mode.value,
            "face_tracks": self.face_tracks,
            "frames": self.frames,
            "frames_with_covered_regions": self.frames_with_covered_regions,
            "manual_regions": list(self.manual_regions),
            "audio": self.audio.value,
            "metadata": self.metadata,
            "reencoded": self.reencoded,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> RedactionSummary:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                mode=RenderMode(f.choice("mode", _values(RenderMode))),
                face_tracks=f.integer("face_tracks"),
                frames=f.integer("frames"),
                frames_with_covered_regions=f.integer("frames_with_covered_regions"),
                manual_regions=f.texts("manual_regions"),
                audio=AudioMode(f.choice("audio", _values(AudioMode))),
                metadata=f.text("metadata"),
                reencoded=f.boolean("reencoded"),
            )


@dataclass(frozen=True)
class RedactionSettings:
    """``settings``: the numbers the run used (in both records)."""

    threshold: float
    margin: float
    max_gap_seconds: float
    pad_seconds: float
    window_seconds: float
    detect_scale: float
    crf: int

    def to_json(self) -> JsonObject:
        """The ``settings`` object."""
        return {
            "threshold": self.threshold,
            "margin": self.margin,
            "max_gap_seconds": self.max_gap_seconds,
            "pad_seconds": self.pad_seconds,
            "window_seconds": self.window_seconds,
            "detect_scale": self.detect_scale,
            "crf": self.crf,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> RedactionSettings:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                threshold=f.number("threshold"),
                margin=f.number("margin"),
                max_gap_seconds=f.number("max_gap_seconds"),
                pad_seconds=f.number("pad_seconds"),
                window_seconds=f.number("window_seconds"),
                detect_scale=f.number("detect_scale"),
                crf=f.integer("crf"),
            )


@dataclass(frozen=True)
class RedactionRecord:
    """The redaction record: what was derived from what, and how (``OUT.redaction.json``)."""

    original: NamedFile
    output: NamedFile
    tool: RedactionTool
    redaction: RedactionSummary
    settings: RedactionSettings

    def to_json(self) -> JsonObject:
        """The document as plain JSON data."""
        return {
            "format": RECORD_FORMAT,
            "original": self.original.to_json(),
            "output": self.output.to_json(),
            "tool": self.tool.to_json(),
            "redaction": self.redaction.to_json(),
            "settings": self.settings.to_json(),
        }

    def encode(self) -> bytes:
        """The file's bytes."""
        return encode(self.to_json())

    @classmethod
    def from_json(cls, value: object, record: str) -> RedactionRecord:
        """The record in JSON data ``value`` (from the file named ``record``)."""
        with Fields(value, record) as f:
            f.constant("format", RECORD_FORMAT)
            return cls(
                original=NamedFile.from_fields(f.nested("original")),
                output=NamedFile.from_fields(f.nested("output")),
                tool=RedactionTool.from_fields(f.nested("tool")),
                redaction=RedactionSummary.from_fields(f.nested("redaction")),
                settings=RedactionSettings.from_fields(f.nested("settings")),
            )

    @classmethod
    def parse(cls, data: bytes, record: str) -> RedactionRecord:
        """Read an ``OUT.redaction.json`` file's bytes; ``record`` names it in errors."""
        return cls.from_json(load_json(data, record), record)


# --- --boxes-out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxesSource:
    """``source``: the original video, by hash, and its frames."""

    sha256: str
    width: int
    height: int
    fps: float
    frames: int

    def to_json(self) -> JsonObject:
        """The ``source`` object."""
        return {
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frames": self.frames,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> BoxesSource:
        """Read back what :meth:`to_json` wrote."""
        with f:
            return cls(
                sha256=f.hex("sha256", 64),
                width=f.integer("width"),
                height=f.integer("height"),
                fps=f.number("fps"),
                frames=f.integer("frames"),
            )


@dataclass(frozen=True)
class TrackSummary:
    """One face track: the frames of its first and last detection, how many, and whether it
    was lost (never found again before the video ended)."""

    id: int
    first_frame: int
    last_frame: int
    detections: int
    lost: bool

    def to_json(self) -> JsonObject:
        """A ``tracks[]`` object."""
        return {
            "id": self.id,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "detections": self.detections,
            "lost": self.lost,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> TrackSummary:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            id=f.integer("id"),
            first_frame=f.integer("first_frame"),
            last_frame=f.integer("last_frame"),
            detections=f.integer("detections"),
            lost=f.boolean("lost"),
        )


@dataclass(frozen=True)
class Event:
    """A run of frames to check, ``first`` to ``last`` inclusive."""

    kind: EventKind
    first: int
    last: int
    track: int | None = None

    def to_json(self) -> JsonObject:
        """An ``events[]`` object."""
        return {"kind": self.kind.value, "first": self.first, "last": self.last,
                "track": self.track}  # fmt: skip

    @classmethod
    def from_fields(cls, f: Fields) -> Event:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            kind=EventKind(f.choice("kind", _values(EventKind))),
            first=f.integer("first"),
            last=f.integer("last"),
            track=f.optional_integer("track"),
        )


@dataclass(frozen=True)
class CoveredBox:
    """One box covered in one frame: ``[x1, y1, x2, y2]`` in pixels (to 0.1 px), why, the
    track it belongs to, and the detector's score (to 4 places) where there was one."""

    box: tuple[float, float, float, float]
    kind: CoverKind
    track: int | None
    score: float | None

    def to_json(self) -> JsonObject:
        """A ``frames[].boxes[]`` object."""
        return {
            "box": list(self.box),
            "kind": self.kind.value,
            "track": self.track,
            "score": self.score,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> CoveredBox:
        """Read back what :meth:`to_json` wrote."""
        box = f.numbers("box")
        if len(box) != 4:
            raise f.invalid("box", "[x1, y1, x2, y2]")
        return cls(
            box=(box[0], box[1], box[2], box[3]),
            kind=CoverKind(f.choice("kind", _values(CoverKind))),
            track=f.optional_integer("track"),
            score=f.optional_number("score"),
        )


@dataclass(frozen=True)
class FrameBoxes:
    """The boxes covered in one frame (frames with none are left out)."""

    index: int
    time: float
    boxes: tuple[CoveredBox, ...]

    def to_json(self) -> JsonObject:
        """A ``frames[]`` object."""
        return {"index": self.index, "time": self.time,
                "boxes": [b.to_json() for b in self.boxes]}  # fmt: skip

    @classmethod
    def from_fields(cls, f: Fields) -> FrameBoxes:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            index=f.integer("index"),
            time=f.number("time"),
            boxes=f.objects("boxes", CoveredBox.from_fields),
        )


@dataclass(frozen=True)
class BoxesRecord:
    """Every covered box of every frame, the tracks and the events (``--boxes-out``)."""

    source: BoxesSource
    settings: RedactionSettings
    tracks: tuple[TrackSummary, ...]
    events: tuple[Event, ...]
    frames: tuple[FrameBoxes, ...]

    def to_json(self) -> JsonObject:
        """The document as plain JSON data."""
        return {
            "format": BOXES_FORMAT,
            "source": self.source.to_json(),
            "settings": self.settings.to_json(),
            "tracks": [t.to_json() for t in self.tracks],
            "events": [e.to_json() for e in self.events],
            "frames": [frame.to_json() for frame in self.frames],
        }

    def encode(self) -> bytes:
        """The file's bytes."""
        return encode(self.to_json())

    @classmethod
    def from_json(cls, value: object, record: str) -> BoxesRecord:
        """The record in JSON data ``value`` (from the file named ``record``)."""
        with Fields(value, record) as f:
            f.constant("format", BOXES_FORMAT)
            return cls(
                source=BoxesSource.from_fields(f.nested("source")),
                settings=RedactionSettings.from_fields(f.nested("settings")),
                tracks=f.objects("tracks", TrackSummary.from_fields),
                events=f.objects("events", Event.from_fields),
                frames=f.objects("frames", FrameBoxes.from_fields),
            )

    @classmethod
    def parse(cls, data: bytes, record: str) -> BoxesRecord:
        """Read a ``--boxes-out`` file's bytes; ``record`` names it in errors."""
        return cls.from_json(load_json(data, record), record)
