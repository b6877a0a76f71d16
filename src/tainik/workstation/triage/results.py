"""What triage finds, per video and per run: plain data that crosses process boundaries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tainik.core.errors import Gettext, TainikError, english
from tainik.workstation.triage.clock import Overlay


@dataclass(frozen=True)
class MediaInfo:
    """What the container says about itself, before decoding."""

    container: str
    duration: float | None
    width: int
    height: int
    fps: float | None
    video_codec: str
    audio_codec: str | None


@dataclass(frozen=True)
class Note:
    """A warning about one video, as a translatable template and its fields."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def message(self, gettext: Gettext = english) -> str:
        """The note in the language of ``gettext`` (a catalogue's), English by default."""
        return gettext(self.template).format(**self.params)

    def english(self) -> str:
        """The note in English."""
        return self.message()


@dataclass(frozen=True)
class Clip:
    """A clip cut from the original without re-encoding, and what it derives from."""

    path: str
    sha256: str
    start: float
    end: float


@dataclass(frozen=True)
class Segment:
    """A stretch worth reviewing.

    ``start``/``end`` are where the evidence is; ``review_start``/``review_end`` add the
    padding. ``why`` names the signals that passed their threshold; ``peaks`` gives each
    signal's strongest measurement (motion: fraction of the picture; sound: LU above the
    background; detectors: their score).
    """

    index: int
    start: float
    end: float
    review_start: float
    review_end: float
    score: float
    why: tuple[str, ...]
    peak_time: float
    peaks: Mapping[str, float]
    thumbnail: str | None = None
    clip: Clip | None = None


@dataclass(frozen=True)
class Timeline:
    """Signals for the report's plot: each bin holds the strongest evidence in it."""

    bin_seconds: float
    series: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True)
class NearCopy:
    """A video showing the same footage as another (re-encoded, rescaled, trimmed)."""

    sha256: str
    label: str
    similarity: float


@dataclass(frozen=True)
class VideoResult:
    """Everything triage found in one video."""

    sha256: str
    label: str
    path: str
    origin: str
    size: int
    info: MediaInfo
    analysed: float
    frames_decoded: int
    decode_errors: int
    segments: tuple[Segment, ...]
    timeline: Timeline
    light_changes: tuple[float, ...]
    notes: tuple[Note, ...]
    fingerprint: str
    cached: bool
    elapsed: float
    copies: tuple[str, ...] = ()
    #: The burned-in overlay (camera, wall-clock time); None when it was not read.
    overlay: Overlay | None = None
    #: Near-duplicates (the vault's vPDQ matches) ranked under this video and not analysed.
    near_copies: tuple[NearCopy, ...] = ()

    @property
    def result_file(self) -> str:
        """The per-video JSON, relative to the report folder."""
        return f"videos/{self.sha256}.json"


@dataclass(frozen=True)
class Failure:
    """A video that could not be analysed, and why."""

    label: str
    path: str
    error: TainikError
