"""The final file: our re-encoded video, the audio re-encoded (or dropped), no metadata.

FFmpeg's command-line tool does this step. Nothing of the original container is carried over:
no global or stream tags, no chapters, no attachments, subtitles or data streams, no encoder
version strings (``+bitexact``), and the video's SEI units (where x264 writes its version and
settings) are removed. The only stream taken from the original is its first audio stream,
decoded and encoded again, never copied.
"""

from __future__ import annotations

import enum
import shutil
import subprocess
from pathlib import Path

from tainik.workstation.redact.errors import ToolError

#: Voice shift: pitch (and formants) times this factor, tempo unchanged. About -4 semitones.
PITCH_FACTOR = 0.8
AUDIO_BITRATE = "128k"


class AudioMode(enum.StrEnum):
    """What happens to the sound."""

    KEEP = "keep"  # re-encoded as it is
    MUTE = "mute"  # no audio stream at all
    PITCH = "pitch"  # voices shifted down


def ffmpeg_path() -> str:
    """The ffmpeg binary (Debian package ``ffmpeg``)."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise ToolError(tool="ffmpeg", reason="not installed (Debian package 'ffmpeg')")
    return path


def pitch_filter(sample_rate: int, factor: float = PITCH_FACTOR) -> str:
    """Shift pitch by ``factor`` keeping duration: resample-as-if-faster, then stretch back."""
    return f"asetrate={round(sample_rate * factor)},aresample={sample_rate},atempo={1 / factor:.6f}"


def mux_command(
    video: Path,
    original: Path | None,
    out: Path,
    mode: AudioMode,
    sample_rate: int | None,
) -> list[str]:
    """The ffmpeg command line for the final file (``original`` None: no audio to take)."""
    command = [ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-i", str(video)]
    take_audio = original is not None and mode is not AudioMode.MUTE
    if take_audio:
        command += ["-i", str(original)]
    command += ["-map", "0:v:0"]
    command += ["-c:v", "copy", "-bsf:v", "filter_units=remove_types=6"]
    if take_audio:
        command += ["-map", "1:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
        if mode is AudioMode.PITCH:
            command += ["-af", pitch_filter(sample_rate or 48000)]
        command += ["-flags:a", "+bitexact"]
    command += ["-map_metadata", "-1", "-map_chapters", "-1"]
    command += ["-fflags", "+bitexact", "-flags:v", "+bitexact"]
    command += ["-movflags", "+faststart", "-f", "mp4", str(out)]
    return command


def mux(
    video: Path, original: Path | None, out: Path, mode: AudioMode, sample_rate: int | None
) -> None:
    """Write ``out``: see the module docstring."""
    command = mux_command(video, original, out, mode, sample_rate)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ToolError(tool="ffmpeg", reason=result.stderr.strip()[-500:] or "no message")
