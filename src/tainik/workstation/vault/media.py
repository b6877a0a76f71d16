"""``vault info``: technical metadata of a stored file, and what in it could identify a source.

Two independent readers: PyAV (FFmpeg's libraries) for the container, streams, codecs,
durations, tags and frame side data; exiftool for every tag it knows (EXIF, XMP, QuickTime
keys and user data, embedded GPS tracks with ``-ee``). Warnings are produced by name patterns
over both: they point a person at what to look at; they are not a proof of absence. Burned-in
overlays (a timestamp or camera name drawn into the picture) are not metadata and are never
found here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from tainik.core.errors import N_
from tainik.workstation.vault.canonical import JsonValue
from tainik.workstation.vault.errors import ToolError

EXIFTOOL_TIMEOUT_S = 600
# Groups that describe the copy on this disk (its name here, its mode), not the original.
LOCAL_GROUPS = frozenset({"ExifTool", "System", "File"})
_ZERO_DATE = re.compile(r"0000:00:00 00:00:00")


class Concern:
    """Why a tag could identify a source (the categories of a warning)."""

    LOCATION = "location"
    DEVICE = "device"
    SERIAL = "serial number"
    PERSON = "person"
    TIME = "time"
    IDENTIFIER = "unique identifier"
    SOFTWARE = "software"
    TEXT = "free text"


# Checked in order; the first match names the concern. Patterns match "Group:TagName".
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (Concern.LOCATION, re.compile(r"gps|location|iso6709|©xyz|latitude|longitude|geotag", re.I)),
    (Concern.SERIAL, re.compile(r"serial|imei|bodyid|cameraid|deviceid", re.I)),
    (
        Concern.IDENTIFIER,
        re.compile(r"uuid|uniqueid|documentid|instanceid|content\.identifier|guid", re.I),
    ),
    (
        Concern.PERSON,
        re.compile(
            r"artist|author|creator(?!tool)|owner|by-?line|copyright|lastmodifiedby|company|"
            r"publisher|contact|e-?mail|user(name)?$",
            re.I,
        ),
    ),
    (
        Concern.DEVICE,
        re.compile(r"^make$|model|lens|manufacturer|device|camera|hostcomputer|\.make$", re.I),
    ),
    (
        Concern.TIME,
        re.compile(r"date|time(?!scale)|creation_time|timecode|offsettime", re.I),
    ),
    (
        Concern.SOFTWARE,
        re.compile(
            r"software|encoder|creatortool|producer|firmware|application|writer|sei_user_data",
            re.I,
        ),
    ),
    (
        Concern.TEXT,
        re.compile(r"comment|description|title|keywords|subject|caption|label|notes?$", re.I),
    ),
]
# Tag names that match a pattern above but describe structure, not the world.
_BENIGN = re.compile(
    r"(timescale|duration|previewtime|postertime|selectiontime|currenttime|"
    r"mediatimescale|trackduration|mediaduration|tracklayer|handlertype|framerate|"
    r"compressorname|^.*:modeltype$)$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Warning:
    """A tag that could identify the source, and why."""

    concern: str
    tag: str
    value: str


@dataclass
class MediaInfo:
    """What the two readers found in one file."""

    container: dict[str, JsonValue] | None
    tags: dict[str, JsonValue]
    warnings: list[Warning] = field(default_factory=list)

    def to_json(self) -> dict[str, JsonValue]:
        """Everything, for ``--json``."""
        return {
            "container": self.container if self.container is not None else {},
            "tags": self.tags,
            "warnings": [
                {"concern": w.concern, "tag": w.tag, "value": w.value} for w in self.warnings
            ],
        }


def describe(path: Path) -> MediaInfo:
    """Read ``path`` with PyAV and exiftool and list the warnings."""
    container = probe(path)
    tags = exiftool_tags(path)
    return MediaInfo(container, tags, identifying(tags, container))


def _text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _rate(value: Fraction | None) -> str | None:
    return None if value is None else f"{float(value):.3f}".rstrip("0").rstrip(".")


def probe(path: Path) -> dict[str, JsonValue] | None:
    """Container, streams and side data as PyAV sees them; None if it is not media."""
    try:
        container = av.open(str(path), metadata_errors="replace")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        return None
    if not container.streams:
        container.close()
        return None
    try:
        streams: list[JsonValue] = []
        for stream in container.streams:
            codec = stream.codec_context
            entry: dict[str, JsonValue] = {
                "index": stream.index,
                "type": stream.type,
                "codec": codec.name if codec is not None else "",
                "tags": {str(k): str(v) for k, v in stream.metadata.items()},
            }
            if stream.duration is not None and stream.time_base is not None:
                entry["duration_s"] = f"{float(stream.duration * stream.time_base):.3f}"
            if stream.type == "video" and codec is not None:
                entry["width"] = int(getattr(codec, "width", 0) or 0)
                entry["height"] = int(getattr(codec, "height", 0) or 0)
                rate = _rate(getattr(stream, "average_rate", None))
                if rate:
                    entry["frame_rate"] = rate
                entry["side_data"] = _frame_side_data(container, stream.index)
            elif stream.type == "audio" and codec is not None:
                entry["sample_rate"] = int(getattr(codec, "sample_rate", 0) or 0)
                entry["channels"] = int(getattr(codec, "channels", 0) or 0)
            streams.append(entry)
        result: dict[str, JsonValue] = {
            "format": container.format.name,
            "format_long": container.format.long_name,
            "tags": {str(k): str(v) for k, v in container.metadata.items()},
            "streams": streams,
        }
        if container.duration is not None:
            result["duration_s"] = f"{container.duration / av.time_base:.3f}"
        if container.bit_rate:
            result["bit_rate"] = int(container.bit_rate)
        return result
    finally:
        container.close()


def _frame_side_data(container: av.container.InputContainer, index: int) -> list[JsonValue]:
    """Side data of the first decoded frame of a video stream (display matrix, SEI, …)."""
    try:
        container.seek(0)
        for frame in container.decode(container.streams[index]):
            side_data = getattr(frame, "side_data", None) or ()
            return [str(getattr(getattr(sd, "type", sd), "name", sd)) for sd in side_data]
    except (av.FFmpegError, ValueError):
        return []
    return []


def exiftool_tags(path: Path) -> dict[str, JsonValue]:
    """Every tag exiftool reads (``-a -G1 -ee``), as ``Group:Tag`` → value."""
    exe = shutil.which("exiftool")
    if exe is None:
        raise ToolError(N_("Exiftool is not installed (Debian package libimage-exiftool-perl)"))
    try:
        done = subprocess.run(
            [exe, "-json", "-a", "-G1", "-s", "-ee", "-api", "LargeFileSupport=1", "--", str(path)],
            capture_output=True,
            timeout=EXIFTOOL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(N_("Exiftool took too long on {path}"), path=str(path)) from exc
    try:
        value = json.loads(done.stdout.decode("utf-8", errors="replace") or "[]")
    except json.JSONDecodeError as exc:
        raise ToolError(N_("Exiftool gave no readable answer for {path}"), path=str(path)) from exc
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        raise ToolError(N_("Exiftool gave no readable answer for {path}"), path=str(path))
    return {str(k): v for k, v in value[0].items() if k != "SourceFile"}


def is_local(tag: str) -> bool:
    """Whether a ``Group:Tag`` describes this copy on disk rather than the original."""
    return tag.split(":", 1)[0] in LOCAL_GROUPS


def identifying(
    tags: dict[str, JsonValue], container: dict[str, JsonValue] | None = None
) -> list[Warning]:
    """Tags that could identify a source, from exiftool's tags and PyAV's container tags."""
    named: list[tuple[str, JsonValue]] = [(k, v) for k, v in tags.items() if not is_local(k)]
    if container is not None:
        ctags = container.get("tags")
        if isinstance(ctags, dict):
            named += [(f"FFmpeg:{k}", v) for k, v in ctags.items()]
        streams = container.get("streams")
        for stream in streams if isinstance(streams, list) else []:
            if not isinstance(stream, dict):
                continue
            prefix = f"FFmpeg:stream{stream.get('index')}"
            stags = stream.get("tags")
            if isinstance(stags, dict):
                named += [(f"{prefix}:{k}", v) for k, v in stags.items()]
            side = stream.get("side_data")
            if isinstance(side, list) and "SEI_UNREGISTERED" in side:
                # Free-form user data in the bitstream: encoder settings, sometimes camera notes.
                named.append((f"{prefix}:sei_user_data", "present"))
    found: list[Warning] = []
    for tag, value in named:
        concern = classify(tag, value)
        if concern is not None:
            found.append(Warning(concern, tag, _text(value)[:200]))
    return found


def classify(tag: str, value: JsonValue) -> str | None:
    """The concern a tag raises, or None for structure (sizes, codecs, zero dates)."""
    text = _text(value).strip()
    if not text or _ZERO_DATE.fullmatch(text) or tag.startswith("Composite:Rotation"):
        return None
    group, _, name = tag.rpartition(":")
    if name in ("handler_name", "HandlerDescription"):
        return None if text in _DEFAULT_HANDLERS else Concern.TEXT
    if tag.startswith("FFmpeg:") and name in _FFMPEG_STRUCTURAL:
        return None
    if _BENIGN.search(name):
        return None
    if group.split(":", 1)[0] in ("GPS", "XMP-exif") and name.startswith("GPS"):
        return Concern.LOCATION
    for concern, pattern in _PATTERNS:
        if pattern.search(name):
            return concern
    return None


# Container tags FFmpeg always reports that carry no information about the source.
_FFMPEG_STRUCTURAL = frozenset(
    {"major_brand", "minor_version", "compatible_brands", "language", "vendor_id"}
)
_DEFAULT_HANDLERS = frozenset(
    {
        "VideoHandler",
        "SoundHandler",
        "DataHandler",
        "SubtitleHandler",
        "Core Media Video",
        "Core Media Audio",
        "Core Media Data",
        "Core Media Metadata",
        "Video Media Handler",
        "Sound Media Handler",
    }
)
