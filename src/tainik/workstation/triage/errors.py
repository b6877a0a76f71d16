"""Errors of video triage, under Tainik's one exception root."""

from __future__ import annotations

from tainik.core.errors import N_, IntegrityError, StorageError, UsageError


class VideoError(IntegrityError):
    """A video that cannot be analysed: corrupt, truncated beyond use, or not a video."""

    template = N_("{path}: cannot analyse this video: {reason}")


class NoVideoStreamError(VideoError):
    """The file opened, but holds no video stream."""

    template = N_("{path}: no video stream in this file")


class NoFrameError(VideoError):
    """Not one frame of the video could be decoded."""

    template = N_("{path}: not one frame could be decoded")


class DecoderCrashError(VideoError):
    """The worker process analysing the video died (a decoder crash, or out of memory)."""

    template = N_("{path}: the analysis crashed twice on this file and was given up")


class ToolMissingError(StorageError):
    """An external program that triage needs is not installed."""

    template = N_("{tool} is not installed: install the Debian package {package}")


class ClipError(StorageError):
    """ffmpeg could not cut a clip."""

    template = N_("{path}: ffmpeg could not cut the clip at {start}: {reason}")


class DetectorError(UsageError):
    """A detector model that cannot be loaded or does not follow docs/triage.md."""

    template = N_("{path}: cannot use this detector model: {reason}")


class SettingError(UsageError):
    """A triage setting out of range."""

    template = N_("{option} must be between {low} and {high}")


class OverlayError(StorageError):
    """Tesseract could not run on a video's overlay (the analysis goes on without it)."""

    template = N_("Tesseract could not read the overlay: {reason}")
