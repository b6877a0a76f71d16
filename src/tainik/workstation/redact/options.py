"""What ``tainik redact`` can be told: one frozen value, its defaults the command line's.

Light on purpose (no OpenCV, NumPy or PyAV): the command line declares its options from these
fields (``tainik.cli.syntax.redact``) without loading the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from tainik.core.errors import N_, UsageError
from tainik.workstation.redact.audio import AudioMode
from tainik.workstation.redact.records import RenderMode
from tainik.workstation.redact.regions import ManualRegion


@dataclass(frozen=True)
class RedactOptions:
    """Everything ``tainik redact`` can be told (see ``tainik redact --help``)."""

    mode: RenderMode = RenderMode.SOLID
    regions: tuple[ManualRegion, ...] = ()
    audio: AudioMode = AudioMode.KEEP
    #: A detection at least this sure starts a track; down to half of it, it is "weak".
    threshold: float = 0.2
    margin: float = 0.3
    #: A track survives this long without a detection (seconds).
    max_gap: float = 0.5
    #: Covered before a track's first and after its last detection (seconds).
    pad: float = 0.2
    #: A face detected this close in time (seconds, either side) is covered as well.
    window: float = 0.1
    #: Detect on frames scaled by this factor (1.0: full resolution).
    detect_scale: float = 1.0
    crf: int = 18
    threads: int | None = None

    def check(self) -> None:
        """Raise :class:`UsageError` for a value out of range."""
        if not 0 < self.threshold < 1:
            raise UsageError(N_("--threshold must be between 0 and 1"))
        if not 0 <= self.margin <= 2:
            raise UsageError(N_("--margin must be between 0 and 2"))
        if not 0.1 <= self.detect_scale <= 1:
            raise UsageError(N_("--detect-scale must be between 0.1 and 1"))
