"""Clips of segments, cut from the original without re-encoding (``ffmpeg -c copy``).

Stream copy keeps the original's compressed pictures bit for bit: fast, and nothing is lost
or altered. The price is keyframe alignment: a cut can only start on a keyframe, so ffmpeg
starts the clip at the last keyframe at or before the requested start (in MP4 it marks the
frames before the requested start with an edit list, which players skip). With CCTV's long
keyframe intervals a clip may begin some seconds early; it never begins late.

MP4 sources with MP4-friendly codecs give ``.mp4`` clips (which browsers play); everything
else goes into Matroska (``.mkv``), which holds any codec.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from tainik.sealed import durable
from tainik.sealed.hashing import sha256_file
from tainik.workstation.triage.errors import ClipError, ToolMissingError
from tainik.workstation.triage.files import temporary_name
from tainik.workstation.triage.results import MediaInfo

_MP4_CONTAINERS = ("mp4", "mov")
_MP4_VIDEO = frozenset({"h264", "hevc", "mpeg4", "av1"})
_MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "alac"})
CLIP_TIMEOUT_S = 600


def ffmpeg() -> str:
    """The ffmpeg program, or :class:`ToolMissingError`."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise ToolMissingError(tool="ffmpeg", package="ffmpeg")
    return path


def suffix_for(info: MediaInfo) -> str:
    """``.mp4`` when the source's streams fit MP4 and the source is MP4, else ``.mkv``."""
    mp4_source = any(name in info.container.split(",") for name in _MP4_CONTAINERS)
    audio_ok = info.audio_codec is None or info.audio_codec in _MP4_AUDIO
    if mp4_source and info.video_codec in _MP4_VIDEO and audio_ok:
        return ".mp4"
    return ".mkv"


def cut(source: Path, start: float, end: float, target: Path) -> str:
    """Copy ``[start, end)`` of ``source``'s first video and audio streams into ``target``;
    returns the clip's SHA-256. ``target`` appears only when the cut succeeded."""
    partial = temporary_name(target)
    muxer = "mp4" if target.suffix == ".mp4" else "matroska"
    argv = [
        ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-ss", f"{start:.3f}", "-i", str(source), "-t", f"{max(end - start, 0.1):.3f}",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-avoid_negative_ts", "make_zero",
        *(["-movflags", "+faststart"] if muxer == "mp4" else []),
        "-f", muxer, str(partial),
    ]  # fmt: skip
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=CLIP_TIMEOUT_S, check=False
        )
        if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            reason = done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)]
            raise ClipError(path=str(source), start=f"{start:.1f} s", reason=reason[-1])
        digest = sha256_file(partial)
        durable.move_into_place(partial, target, sync_file=True, sync_folder=False)
        return digest
    except subprocess.TimeoutExpired as exc:
        raise ClipError(path=str(source), start=f"{start:.1f} s", reason="timed out") from exc
    except OSError as exc:
        raise ClipError(path=str(source), start=f"{start:.1f} s", reason=str(exc)) from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
