"""``vault scrub``: a metadata-free working copy of a stored original, recorded as derived from it.

- Video: a full re-encode with ffmpeg (H.264 + AAC in MP4), never a remux. The streams are
  routed through a filter graph, so ffmpeg starts the outputs afresh: no stream metadata, no
  side data (display matrices, SEI user data, HDR or spherical descriptors), no chapters, no
  data or subtitle tracks, no timestamps (``-fflags +bitexact`` zeroes the container's dates);
  the encoder's own SEI message is removed from the bitstream. Rotation is applied to the
  pixels instead of being carried as a display matrix.
- Documents, images and audio: mat2 (Debian package ``mat2``).

Then the result is checked, not trusted: exiftool must find nothing but what the container
requires (videos), and mat2 must find no metadata left (the rest). A copy that fails the check
is refused. The original is never modified: the tools read a copy in the vault's staging folder.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_
from tainik.sealed import durable
from tainik.workstation.vault.canonical import JsonValue
from tainik.workstation.vault.errors import ToolError
from tainik.workstation.vault.media import exiftool_tags, is_local, probe

TOOL_TIMEOUT_S = 6 * 3600
VIDEO_CRF = 18
# What an MP4 written by ffmpeg must contain (docs/workstation.md, "Scrubbing"): structure,
# sizes, codecs and zeroed dates. Anything else found by exiftool is a leftover.
_STRUCTURE_NAMES = """MajorBrand MinorVersion CompatibleBrands MediaDataSize MediaDataOffset
    MovieHeaderVersion CreateDate ModifyDate TimeScale Duration PreferredRate PreferredVolume
    MatrixStructure
    PreviewTime PreviewDuration PosterTime SelectionTime SelectionDuration CurrentTime
    NextTrackID HandlerType HandlerVendorID TrackHeaderVersion TrackCreateDate TrackModifyDate
    TrackID TrackDuration TrackLayer TrackVolume ImageWidth ImageHeight MediaHeaderVersion
    MediaCreateDate MediaModifyDate MediaTimeScale MediaDuration MediaLanguageCode
    HandlerDescription GraphicsMode OpColor CompressorID SourceImageWidth SourceImageHeight
    XResolution YResolution CompressorName BitDepth PixelAspectRatio BufferSize MaxBitrate
    AverageBitrate VideoFrameRate Balance AudioFormat AudioChannels AudioBitsPerSample
    AudioSampleRate"""
MP4_STRUCTURE = frozenset(_STRUCTURE_NAMES.split())
DATE_TAGS = re.compile(r"Date$")
ZERO_DATE = "0000:00:00 00:00:00"
ALLOWED_HANDLERS = frozenset({"VideoHandler", "SoundHandler"})


@dataclass(frozen=True, slots=True)
class ScrubbedFile:
    """A scrubbed copy in the staging folder, and how it was made."""

    path: Path
    method: str  # "reencode" or "mat2"
    tool: str  # the tool and its settings, for the custody record
    extension: str


def _which(name: str, package: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise ToolError(
            N_("{tool} is not installed (Debian package {package})"), tool=name, package=package
        )
    return exe


def _run(argv: list[str], what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(N_("{tool} took too long"), tool=what) from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ToolError(
            N_("{tool} failed: {reason}"),
            tool=what,
            reason=(lines[-1] if lines else f"exit status {done.returncode}")[:300],
        )
    return done.stdout.decode("utf-8", errors="replace")


def tool_version(argv: list[str]) -> str:
    """The first line a tool prints for its version."""
    try:
        out = subprocess.run(argv, capture_output=True, timeout=60, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = out.decode("utf-8", errors="replace").strip().splitlines()
    return first[0].split(" Copyright")[0][:100] if first else "unknown"


def scrub(original: Path, work: Path) -> ScrubbedFile:
    """Make a scrubbed copy of ``original`` inside the folder ``work``, and check it."""
    tags = exiftool_tags(original)
    mime = str(tags.get("File:MIMEType", ""))
    extension = str(tags.get("File:FileTypeExtension", "")).lower()
    if not re.fullmatch(r"[a-z0-9]{1,8}", extension):
        raise ToolError(
            N_("Cannot scrub this file: its type is unknown ({mime})"), mime=mime or "?"
        )
    if mime.startswith("video/"):
        result = _reencode(original, work)
    else:
        result = _mat2(original, work, extension)
    return result


# -- video --------------------------------------------------------------------------------------


def _reencode(original: Path, work: Path) -> ScrubbedFile:
    ffmpeg = _which("ffmpeg", "ffmpeg")
    info = probe(original)
    streams = info.get("streams", []) if info else []
    kinds = (
        [s.get("type") for s in streams if isinstance(s, dict)] if isinstance(streams, list) else []
    )
    if "video" not in kinds:
        raise ToolError(N_("Cannot scrub this video: ffmpeg finds no video stream in it"))
    has_audio = "audio" in kinds
    graph = "[0:v:0]null[v]" + (";[0:a:0]anull[a]" if has_audio else "")
    out = work / "scrubbed.mp4"
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(original),
        # Outputs of a filter graph have no input stream: nothing is copied from the original.
        "-filter_complex", graph, "-map", "[v]", *(["-map", "[a]"] if has_audio else []),
        "-map_metadata", "-1", "-map_chapters", "-1", "-dn", "-sn",
        "-c:v", "libx264", "-preset", "medium", "-crf", str(VIDEO_CRF), "-pix_fmt", "yuv420p",
        "-bsf:v", "filter_units=remove_types=6",  # drop SEI NAL units (x264's own notes)
        *(["-c:a", "aac", "-b:a", "160k"] if has_audio else []),
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart",
        str(out),
    ]  # fmt: skip
    _run(argv, "ffmpeg")
    _check_video(out)
    version = tool_version([ffmpeg, "-hide_banner", "-version"])
    setting = f"{version}; libx264 crf {VIDEO_CRF} preset medium" + (
        "; aac 160k" if has_audio else ""
    )
    return ScrubbedFile(out, "reencode", setting, "mp4")


def leftover_video_tags(tags: dict[str, JsonValue]) -> list[str]:
    """Tags in a scrubbed MP4 that the container does not require (should be none)."""
    left = []
    for tag, value in tags.items():
        group, _, name = tag.rpartition(":")
        if is_local(tag) or group == "Composite":
            continue
        text = str(value)
        unexpected = name not in MP4_STRUCTURE
        dated = DATE_TAGS.search(name) is not None and text != ZERO_DATE
        named = name == "HandlerDescription" and text not in ALLOWED_HANDLERS
        if unexpected or dated or named:
            left.append(f"{tag}={text[:60]}")
    return left


def _check_video(path: Path) -> None:
    left = leftover_video_tags(exiftool_tags(path))
    info = probe(path)
    streams = info.get("streams", []) if info else []
    for stream in streams if isinstance(streams, list) else []:
        if isinstance(stream, dict) and stream.get("side_data"):
            left.append(f"stream {stream.get('index')} side data {stream.get('side_data')}")
    if left:
        raise ToolError(
            N_("The re-encoded copy still carries metadata ({tags}); refusing it"),
            tags=", ".join(left)[:500],
        )


# -- everything else -------------------------------------------------------------------------


def _mat2(original: Path, work: Path, extension: str) -> ScrubbedFile:
    mat2 = _which("mat2", "mat2")
    # mat2 picks its parser by the file name's extension, so the copy gets the real one
    # (from the content, as exiftool identified it; the sender's name is not trusted).
    stem = f"original-{secrets.token_hex(4)}"
    copy = work / f"{stem}.{extension}"
    try:
        shutil.copyfile(original, copy)
    except OSError as exc:
        raise durable.storage_error(exc, copy) from exc
    _run([mat2, "--", str(copy)], "mat2")
    cleaned = work / f"{stem}.cleaned.{extension}"
    if not cleaned.is_file():
        raise ToolError(N_("Mat2 failed: it wrote no cleaned file"))
    copy.unlink()
    shown = _run([mat2, "--show", "--", str(cleaned)], "mat2")
    if "No metadata found" not in shown:
        raise ToolError(
            N_("The cleaned copy still carries metadata ({tags}); refusing it"),
            tags=" ".join(shown.split())[:500],
        )
    version = tool_version([mat2, "--version"])
    return ScrubbedFile(cleaned, "mat2", version, extension)
