"""Thumbnails: one JPEG per segment, the frame at the segment's strongest moment.

Frames are found by seeking to the keyframe before the moment and decoding forward (PyAV).
The files are plain pictures; the report shows them greyscale and blurred until clicked
(:mod:`report_html`), unless the reviewer asked for plain thumbnails.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import av.error
import cv2

from tainik.workstation.triage.files import write_atomic

#: Width of thumbnails in pixels (height keeps the aspect ratio).
WIDTH = 320
QUALITY = 80


def write_thumbnails(video: Path, shots: Sequence[tuple[float, Path]]) -> set[Path]:
    """Write a JPEG at each ``(seconds, path)``; returns the paths written.

    A moment that cannot be decoded is left out (the report then shows no picture) rather than
    failing the video: its analysis already succeeded.
    """
    written: set[Path] = set()
    if not shots:
        return written
    try:
        container = av.open(str(video), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError):
        return written
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        origin = container.start_time / av.time_base if container.start_time else 0.0
        base = stream.time_base
        for moment, path in sorted(shots):
            try:
                if base is not None:
                    container.seek(int((moment + origin) / base), stream=stream)
                for frame in container.decode(stream):
                    if frame.time is None or frame.time - origin >= moment - 1e-3:
                        height = max(2, round(frame.height * WIDTH / frame.width / 2) * 2)
                        rgb = frame.reformat(width=WIDTH, height=height, format="bgr24")
                        ok, jpeg = cv2.imencode(
                            ".jpg", rgb.to_ndarray(), [cv2.IMWRITE_JPEG_QUALITY, QUALITY]
                        )
                        if ok:
                            write_atomic(path, jpeg.tobytes())
                            written.add(path)
                        break
            except av.error.FFmpegError:
                continue
    return written
