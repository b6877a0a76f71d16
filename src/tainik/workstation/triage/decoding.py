"""Decoding a video once, at a reduced frame rate, together with its audio track (PyAV).

One pass over the container feeds both decoders, so a file on a slow disk is read once.
Decoding is threaded (FFmpeg's frame and slice threads). What can be skipped is skipped:
frames between the analysis samples are never scaled or converted, and when the source rate
is at least four times the analysis rate, frames that no other frame refers to (most
B-frames) are not decoded at all (``skip_frame = NONREF``).

The coarse pass (:mod:`coarse`) reads differently: :meth:`MediaReader.scan` decodes only the
keyframes (the other video packets are not even handed to the decoder, and the decoder skips
any that are, ``skip_frame = NONKEY``) and all of the audio; :meth:`MediaReader.stretch`
then seeks to a keyframe and decodes every frame from there for as long as it is asked to.

Times are seconds from the container's start. A decoding error in one packet is counted and
passed over; a read error ends the pass early and is reported as a truncation.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from tainik.sealed.durable import storage_error
from tainik.workstation.triage.errors import NoFrameError, NoVideoStreamError, VideoError
from tainik.workstation.triage.results import MediaInfo

#: Audio is analysed as mono at this rate (loudness needs nothing above 8 kHz).
AUDIO_RATE = 16_000
#: NONREF skipping is used only when it leaves several frames per analysis sample.
SKIP_RATIO = 4.0
#: More decoding errors than this (and more than a tenth of the packets) give up the file.
MAX_ERRORS = 50

#: 8-bit pixel formats whose first plane is the luma (Y) picture, one byte a pixel.
_LUMA_FIRST = frozenset(
    {
        "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p",
        "yuvj440p", "yuv411p", "yuv410p", "nv12", "nv21", "nv16", "gray",
    }
)  # fmt: skip

FrameSink = Callable[[float, av.VideoFrame], None]
#: Gets each sampled frame of a stretch; answers whether to go on.
StretchSink = Callable[[float, av.VideoFrame], bool]
AudioSink = Callable[[npt.NDArray[np.float32]], None]
Progress = Callable[[int], None]


@dataclass
class DecodeReport:
    """What one pass found: counts, the end reached, and why it stopped early if it did."""

    frames_decoded: int = 0
    frames_sampled: int = 0
    video_end: float = 0.0
    audio_start: float | None = None
    audio_samples: int = 0
    errors: int = 0
    packets: int = 0
    stopped: str | None = None
    #: :meth:`MediaReader.scan` only: the keyframes' times, and the first interval between
    #: keyframes found longer than it accepts (the scan then stopped there).
    keyframes: list[float] = field(default_factory=list)
    far_keyframes: float | None = None


class MediaReader:
    """An open video file. Use as a context manager; :meth:`read` makes the one pass."""

    def __init__(self, path: Path, threads: int = 0) -> None:
        self.path = path
        self.threads = threads
        try:
            self._container = av.open(str(path), metadata_errors="ignore")
        except OSError as exc:  # FFmpeg's ENOENT, EACCES... (and other errors of the OS)
            raise storage_error(exc, path) from exc
        except av.error.FFmpegError as exc:
            raise VideoError(path=str(path), reason=_reason(exc)) from exc
        try:
            if not self._container.streams.video:
                raise NoVideoStreamError(path=str(path))
            self._video = self._container.streams.video[0]
            self._video.thread_type = "AUTO"
            self._video.codec_context.thread_count = threads
            audio = self._container.streams.audio
            self._audio = audio[0] if audio else None
            self.info = self._probe()
        except BaseException:
            self._container.close()
            raise
        start = self._container.start_time
        self._origin = start / av.time_base if start is not None else 0.0

    def _probe(self) -> MediaInfo:
        video = self._video
        rate = video.average_rate or video.guessed_rate or video.base_rate
        duration = self._container.duration
        return MediaInfo(
            container=self._container.format.name,
            duration=duration / av.time_base if duration else None,
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=float(rate) if rate else None,
            video_codec=video.codec_context.name,
            audio_codec=self._audio.codec_context.name if self._audio else None,
        )

    def __enter__(self) -> MediaReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file and the decoders."""
        self._container.close()

    def read(
        self,
        fps: float,
        on_frame: FrameSink,
        on_audio: AudioSink | None = None,
        progress: Progress | None = None,
        skip_nonref: bool = True,
    ) -> DecodeReport:
        """Decode the whole file once: ``on_frame`` gets about ``fps`` frames a second,
        ``on_audio`` every audio sample as mono float32 at :data:`AUDIO_RATE`."""
        report = DecodeReport()
        video, audio = self._video, self._audio if on_audio is not None else None
        source_fps = self.info.fps or 0.0
        if skip_nonref and source_fps >= SKIP_RATIO * fps:
            video.codec_context.skip_frame = "NONREF"
        sampler = _Sampler(1.0 / fps, 1.0 / source_fps if source_fps else 1.0 / fps)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        streams = [video] if audio is None else [video, audio]
        position = 0
        try:
            for packet in self._container.demux(streams):
                report.packets += 1
                if progress is not None and packet.pos is not None and packet.pos > position:
                    progress(packet.pos - position)
                    position = packet.pos
                try:
                    if packet.stream.index == video.index:
                        for frame in video.codec_context.decode(packet):
                            self._video_frame(frame, sampler, report, on_frame)
                    elif audio is not None and on_audio is not None:
                        for chunk in audio.codec_context.decode(packet):
                            self._audio_frame(chunk, resampler, report, on_audio)
                except av.error.EOFError:
                    continue
                except av.error.FFmpegError as exc:
                    report.errors += 1
                    if report.errors > max(MAX_ERRORS, report.packets // 10):
                        raise VideoError(path=str(self.path), reason=_reason(exc)) from exc
        except av.error.FFmpegError as exc:
            report.stopped = _reason(exc)
        except OSError as exc:
            raise storage_error(exc, self.path) from exc
        if audio is not None and on_audio is not None:
            with contextlib.suppress(av.error.FFmpegError):
                for out in resampler.resample(None):
                    _send(out, report, on_audio)
        if report.frames_sampled == 0:
            if report.stopped is not None:
                raise VideoError(path=str(self.path), reason=report.stopped)
            raise NoFrameError(path=str(self.path))
        return report

    def scan(
        self,
        on_keyframe: FrameSink,
        on_audio: AudioSink | None,
        progress: Progress | None,
        max_interval: float,
    ) -> DecodeReport:
        """Decode the keyframes (``on_keyframe`` gets each) and all of the audio.

        Stops early, with ``far_keyframes`` set, at the first interval between keyframes (or
        from the last keyframe to the end) longer than ``max_interval`` seconds. Finds no
        ``keyframes`` in a file without timed keyframes (or without pictures)."""
        report = DecodeReport()
        video, audio = self._video, self._audio if on_audio is not None else None
        video.codec_context.skip_frame = "NONKEY"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        streams = [video] if audio is None else [video, audio]
        position = 0
        base = float(video.time_base) if video.time_base is not None else 0.0
        last_key: float | None = None
        try:
            for packet in self._container.demux(streams):
                report.packets += 1
                if progress is not None and packet.pos is not None and packet.pos > position:
                    progress(packet.pos - position)
                    position = packet.pos
                try:
                    if packet.stream.index == video.index:
                        flush = packet.size == 0
                        if packet.pts is not None:
                            t = packet.pts * base - self._origin
                            report.video_end = max(report.video_end, t + self._frame_step())
                        if not (packet.is_keyframe or flush):
                            continue
                        if not flush and packet.pts is not None:
                            t = packet.pts * base - self._origin
                            gap = t - (0.0 if last_key is None else last_key)
                            if gap > max_interval:
                                report.far_keyframes = round(gap, 3)
                                return report
                            last_key = t
                        for frame in video.codec_context.decode(packet):
                            self._keyframe(frame, report, on_keyframe)
                    elif audio is not None and on_audio is not None:
                        for chunk in audio.codec_context.decode(packet):
                            self._audio_frame(chunk, resampler, report, on_audio)
                except av.error.EOFError:
                    continue
                except av.error.FFmpegError as exc:
                    report.errors += 1
                    if report.errors > max(MAX_ERRORS, report.packets // 10):
                        raise VideoError(path=str(self.path), reason=_reason(exc)) from exc
        except av.error.FFmpegError as exc:
            report.stopped = _reason(exc)
        except OSError as exc:
            raise storage_error(exc, self.path) from exc
        if audio is not None and on_audio is not None:
            with contextlib.suppress(av.error.FFmpegError):
                for out in resampler.resample(None):
                    _send(out, report, on_audio)
        if not report.keyframes:  # none, or none with a time: the full decode will tell
            return report
        tail = report.video_end - report.keyframes[-1]
        if report.stopped is None and tail > max_interval:
            report.far_keyframes = round(tail, 3)
        return report

    def _frame_step(self) -> float:
        fps = self.info.fps
        return 1.0 / fps if fps else 0.0

    def _keyframe(self, frame: av.VideoFrame, report: DecodeReport, sink: FrameSink) -> None:
        raw: float | None = frame.time  # None for a frame without a timestamp
        if raw is None:
            return
        t = raw - self._origin
        report.frames_decoded += 1
        report.frames_sampled += 1
        report.keyframes.append(t)
        report.video_end = max(report.video_end, t + self._frame_step())
        sink(t, frame)

    def stretch(
        self, start: float, fps: float, on_frame: StretchSink, on_first: FrameSink
    ) -> DecodeReport:
        """Seek to the keyframe at ``start`` (or the one before) and decode every frame from
        there; ``on_frame`` gets about ``fps`` frames a second (the frames :meth:`read`
        picks) and answers whether to go on. ``on_first`` gets the first frame decoded at or
        after ``start`` when ``on_frame`` does not."""
        report = DecodeReport()
        video = self._video
        video.codec_context.skip_frame = "DEFAULT"
        base = float(video.time_base) if video.time_base is not None else 0.0
        step = 1.0 / fps
        source_fps = self.info.fps or 0.0
        sampler = _Sampler(step, 1.0 / source_fps if source_fps else step)
        # read() takes the first frame at or after each multiple of the step: the frame at
        # ``start`` is taken if the frame before it lies before its multiple.
        slot = math.floor(start / step + 1e-6) * step
        sampler.start_at(slot if start - sampler.frame_step < slot - 1e-6 else slot + step)
        first = True
        try:
            target = round((start + self._origin) / base) if base else 0
            self._container.seek(target, stream=video, backward=True)
            for packet in self._container.demux(video):
                report.packets += 1
                try:
                    for frame in video.codec_context.decode(packet):
                        raw: float | None = frame.time
                        if raw is None:
                            continue
                        t = raw - self._origin
                        report.frames_decoded += 1
                        report.video_end = max(report.video_end, t + sampler.frame_step)
                        if t < start - 1e-6:
                            continue
                        if sampler.take(t):
                            report.frames_sampled += 1
                            if not on_frame(t, frame):
                                return report
                        elif first:
                            on_first(t, frame)
                        first = False
                except av.error.EOFError:
                    continue
                except av.error.FFmpegError as exc:
                    report.errors += 1
                    if report.errors > max(MAX_ERRORS, report.packets // 10):
                        raise VideoError(path=str(self.path), reason=_reason(exc)) from exc
        except av.error.FFmpegError as exc:
            report.stopped = _reason(exc)
        except OSError as exc:
            raise storage_error(exc, self.path) from exc
        return report

    def _video_frame(
        self, frame: av.VideoFrame, sampler: _Sampler, report: DecodeReport, on_frame: FrameSink
    ) -> None:
        report.frames_decoded += 1
        raw = frame.time
        t = (raw - self._origin) if raw is not None else sampler.guess(report.frames_decoded)
        report.video_end = max(report.video_end, t + sampler.frame_step)
        if sampler.take(t):
            report.frames_sampled += 1
            on_frame(t, frame)

    def _audio_frame(
        self,
        frame: av.AudioFrame,
        resampler: av.AudioResampler,
        report: DecodeReport,
        on_audio: AudioSink,
    ) -> None:
        if report.audio_start is None:
            raw = frame.time
            report.audio_start = max(0.0, raw - self._origin) if raw is not None else 0.0
        for out in resampler.resample(frame):
            _send(out, report, on_audio)


class _Sampler:
    """Picks the first frame at or after each multiple of ``step`` (catching up after gaps)."""

    def __init__(self, step: float, frame_step: float) -> None:
        self.step = step
        self.frame_step = frame_step
        self._next = 0.0

    def start_at(self, t: float) -> None:
        """Take the first frame at or after ``t`` next."""
        self._next = t

    def take(self, t: float) -> bool:
        if t < self._next - 1e-6:
            return False
        self._next = max(self._next + self.step, t + self.step / 2)
        return True

    def guess(self, count: int) -> float:
        return (count - 1) * self.frame_step


def analysis_size(width: int, height: int, target: int) -> tuple[int, int]:
    """Analysis frame size: ``target`` wide (never wider than the source), even sides."""
    out_width = min(target, width) // 2 * 2 or 2
    out_height = max(2, round(height * out_width / max(width, 1) / 2) * 2)
    return out_width, out_height


def luma(frame: av.VideoFrame, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The frame's brightness as a ``height`` x ``width`` grey picture.

    For the usual 8-bit YUV formats the Y plane already is that picture: it is read in place
    and shrunk by area averaging (OpenCV), several times faster than a colour conversion.
    Other formats go through FFmpeg's converter.
    """
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)
        picture = rows[:, : frame.width]
        if (frame.width, frame.height) == (width, height):
            return picture.copy()
        return np.asarray(
            cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA), np.uint8
        )
    gray = frame.reformat(width=width, height=height, format="gray").to_ndarray()
    return np.asarray(gray, dtype=np.uint8)


def _send(frame: av.AudioFrame, report: DecodeReport, on_audio: AudioSink) -> None:
    samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    report.audio_samples += samples.size
    on_audio(samples)


def _reason(exc: av.error.FFmpegError) -> str:
    return exc.strerror or type(exc).__name__
