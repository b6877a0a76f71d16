"""The versions a media test ran with, printed beside its failure.

A redaction or triage result depends on the decoder, the encoder, the detector's runtime and
the image library: a face left bare on one machine and covered on another is, first, a
question of which versions each machine had. Every failing media test says so.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Generator
from fractions import Fraction

import pytest

MEDIA_PATHS = (
    "tests/workstation/redact/",
    "tests/workstation/triage/",
    "tests/workstation/vault/test_media.py",
    "tests/workstation/vault/test_duplicates.py",
)


def _ffmpeg() -> str:
    try:
        done = subprocess.run(
            ["ffmpeg", "-hide_banner", "-version"], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        return f"not runnable ({exc.strerror})"
    first = done.stdout.splitlines()[0] if done.stdout else done.stderr.strip()
    return first.removeprefix("ffmpeg version ").split(" Copyright")[0]


def libx264_version() -> str:
    """The libx264 inside PyAV, read from the version string x264 writes into its stream."""
    import av
    import numpy as np

    stream_bytes = bytearray()
    container = av.open("/dev/null", mode="w", format="h264")
    try:
        video = container.add_stream("libx264", rate=Fraction(25))
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        for packet in [*video.encode(frame), *video.encode(None)]:
            stream_bytes += bytes(packet)
    finally:
        container.close()
    return _x264_banner(bytes(stream_bytes))


def _x264_banner(stream: bytes) -> str:
    found = re.search(rb"x264 - core [^-]*", stream)
    return found.group(0).decode("ascii").strip() if found else "unknown (no x264 SEI)"


def _ffmpeg_libx264() -> str:
    """The libx264 that Debian's ffmpeg links, read the same way."""
    try:
        done = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "color=s=64x64:d=0.04",
                "-c:v",
                "libx264",
                "-f",
                "h264",
                "-",
            ],
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        return f"not runnable ({exc.strerror})"
    return _x264_banner(done.stdout)


@functools.cache
def media_versions() -> str:
    """One line per component: ffmpeg, libx264, onnxruntime, opencv, PyAV, numpy."""
    lines = [f"ffmpeg (Debian): {_ffmpeg()}", f"libx264 (Debian's ffmpeg): {_ffmpeg_libx264()}"]
    try:
        lines.append(f"libx264 (PyAV's): {libx264_version()}")
    except Exception as exc:
        lines.append(f"libx264 (PyAV's): unknown ({exc})")
    for label, module in (
        ("onnxruntime", "onnxruntime"),
        ("opencv", "cv2"),
        ("PyAV", "av"),
        ("numpy", "numpy"),
    ):
        try:
            version = str(__import__(module).__version__)
        except Exception as exc:
            version = f"not importable ({exc})"
        lines.append(f"{label}: {version}")
    try:
        import av

        libs = ", ".join(f"{k} {'.'.join(map(str, v))}" for k, v in av.library_versions.items())
        lines.append(f"PyAV's FFmpeg libraries: {libs}")
    except Exception as exc:
        lines.append(f"PyAV's FFmpeg libraries: unknown ({exc})")
    return "\n".join(lines)


def mark_media(items: list[pytest.Item]) -> None:
    """Tests of decoding, detection, encoding and redaction are marked ``media``."""
    for item in items:
        path = item.path.as_posix()
        if any(f"/{media}" in path for media in MEDIA_PATHS):
            item.add_marker(pytest.mark.media)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing media test names the versions it ran with."""
    report = yield
    if report.failed and item.get_closest_marker("media") is not None:
        report.sections.append(("media versions", media_versions()))
    return report
