"""Reading and writing video frames with PyAV (FFmpeg's libraries).

Frames come out as upright RGB arrays: a rotation that the container stores as side data is
applied to the pixels, because the output carries no metadata to rotate it back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.error
import numpy as np
import numpy.typing as npt

from tainik.workstation.redact.errors import NotAVideoError

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class VideoInfo:
    """What the pipeline needs to know about an input before decoding it."""

    width: int
    height: int
    fps: float
    time_base: Fraction
    frames: int
    duration: float
    has_audio: bool


@dataclass(frozen=True)
class Frame:
    """One decoded frame, upright RGB, with its presentation time."""

    index: int
    pts: int
    time: float
    image: Image


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError) as exc:
        raise NotAVideoError(path=str(path), reason=str(exc)) from exc
    if not container.streams.video:
        container.close()
        raise NotAVideoError(path=str(path), reason="no video stream")
    return container


def _upright(image: Image, rotation: int) -> Image:
    """Apply a display rotation (degrees counter-clockwise, as FFmpeg reports it)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def probe(path: Path) -> VideoInfo:
    """Size (upright), frame rate, frame count (estimated when the container does not say)."""
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        time_base = stream.time_base or Fraction(1, 90000)
        if stream.duration is not None:
            duration = float(stream.duration * time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        frames = stream.frames or max(1, math.ceil(duration * float(rate)))
        width, height = stream.codec_context.width, stream.codec_context.height
        # The first frame tells the rotation; containers spell it in several ways.
        rotation = 0
        for frame in container.decode(stream):
            rotation = frame.rotation
            break
        if round(rotation / 90) % 2:
            width, height = height, width
        return VideoInfo(
            width=width,
            height=height,
            fps=float(rate),
            time_base=Fraction(time_base),
            frames=int(frames),
            duration=duration,
            has_audio=bool(container.streams.audio),
        )


def read_frames(path: Path, on_packet: Callable[[int], None] | None = None) -> Iterator[Frame]:
    """Every frame of the first video stream, in presentation order.

    ``on_packet`` is told the size in bytes of each packet read (for progress).
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 90000)
        start = stream.start_time or 0
        index = 0
        last_pts = -1
        try:
            for packet in container.demux(stream):
                if on_packet is not None and packet.size:
                    on_packet(packet.size)
                for decoded in packet.decode():
                    assert isinstance(decoded, av.VideoFrame)
                    pts = decoded.pts if decoded.pts is not None else last_pts + 1
                    pts = max(pts - start, last_pts + 1)
                    last_pts = pts
                    rgb = np.asarray(decoded.to_ndarray(format="rgb24"), dtype=np.uint8)
                    image = _upright(rgb, decoded.rotation)
                    yield Frame(index, pts, float(pts * time_base), image)
                    index += 1
        except av.error.FFmpegError as exc:
            raise NotAVideoError(path=str(path), reason=str(exc)) from exc


class VideoWriter:
    """H.264 in an MP4 container, video only, frames given as RGB arrays with their pts."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        time_base: Fraction,
        fps: float,
        crf: int = 18,
        preset: str = "fast",
    ) -> None:
        self._container = av.open(str(path), mode="w", format="mp4")
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        stream = self._container.add_stream("libx264", rate=rate)
        # yuv420p needs even sides; an odd column or row is cropped off.
        stream.width = width - width % 2
        stream.height = height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        stream.options = {"crf": str(crf), "preset": preset}
        stream.thread_type = "AUTO"
        self._stream = stream
        self._time_base = time_base

    def write(self, image: Image, pts: int) -> None:
        """Encode one frame shown at ``pts`` (in the writer's time base)."""
        height, width = self._stream.height, self._stream.width
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(image[:height, :width]), format="rgb24"
        )
        frame.pts = pts
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._container.close()
