"""Small JPEG thumbnails of stored videos and images, for ``vault show``.

Made by ffmpeg from one frame (a tenth of the way into a video), scaled to 320 pixels wide,
with no metadata (``-map_metadata -1``, bitexact). A thumbnail is a view, not evidence: it is
written outside the vault and not recorded; the page names the SHA-256 it was made from.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av

WIDTH = 320
TIMEOUT_S = 120


def _seek_seconds(path: Path) -> float:
    try:
        with av.open(str(path)) as container:
            if container.duration is None:
                return 0.0
            return max(0.0, container.duration / av.time_base / 10)
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        return 0.0


def make(source: Path, target: Path) -> bool:
    """Write a thumbnail of ``source`` to ``target``; False when ffmpeg cannot picture it."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return False
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-ss", f"{_seek_seconds(source):.3f}", "-i", str(source),
        "-frames:v", "1", "-vf", f"scale={WIDTH}:-2", "-map_metadata", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-c:v", "mjpeg", "-q:v", "4",
        "-f", "image2", str(target),
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        target.unlink(missing_ok=True)
        return False
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        target.unlink(missing_ok=True)
        return False
    return True
