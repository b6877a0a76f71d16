"""What a triage run is asked to do, parsed once into immutable settings.

Two groups, because they are reused differently on a re-run:

- :class:`AnalysisParams` decide the raw measurements (decoding rate and size, background
  subtraction, detectors). Their :meth:`~AnalysisParams.fingerprint` keys the cache: changing
  any of them decodes the video again.
- :class:`SegmentRules` turn measurements into segments. They are applied afresh on every run,
  so trying other thresholds on a trove already analysed costs seconds, not hours.

Both are recorded in the JSON reports (``settings`` and ``rules``, docs/triage.md) through
their ``to_json`` and read back with ``from_fields``: every field, by its name here.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

from tainik.core.errors import N_
from tainik.core.jsonfields import Fields, JsonObject
from tainik.workstation.triage.errors import SettingError

#: Changes whenever the raw measurements change meaning, so old cache entries are not reused.
ALGORITHM = "tainik-triage-1"

SUBTRACTORS = ("mog2", "knn")


@dataclass(frozen=True)
class DetectorSpec:
    """An optional detector model (docs/triage.md, "Detector models") and how to use it."""

    path: str
    name: str
    sha256: str
    threshold: float = 0.5

    def to_json(self) -> JsonObject:
        """As recorded in the reports' ``settings.detectors``."""
        return {
            "path": self.path,
            "name": self.name,
            "sha256": self.sha256,
            "threshold": self.threshold,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> DetectorSpec:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            path=f.text("path"),
            name=f.text("name"),
            sha256=f.hex("sha256", 64),
            threshold=f.number("threshold"),
        )


@dataclass(frozen=True)
class AnalysisParams:
    """Settings that decide the raw measurements (and so the cache key)."""

    fps: float = 5.0
    width: int = 320
    subtractor: str = "mog2"
    history_s: float = 60.0
    sensitivity: float = 16.0
    light_jump: float = 12.0
    skip_nonref: bool = True
    detectors: tuple[DetectorSpec, ...] = ()
    detector_rate: float = 1.0

    def check(self) -> None:
        """Raise :class:`SettingError` for a value out of range."""
        _between("--fps", self.fps, 0.5, 30.0)
        _between("--width", self.width, 64, 1920)
        if self.subtractor not in SUBTRACTORS:
            raise SettingError(N_("--subtractor must be mog2 or knn"))
        _between("--history", self.history_s, 1.0, 3600.0)
        _between("--sensitivity", self.sensitivity, 1.0, 400.0)
        _between("--light-jump", self.light_jump, 1.0, 255.0)
        names = [d.name for d in self.detectors]
        if len(set(names)) != len(names) or {"motion", "sound"} & set(names):
            raise SettingError(
                N_("Detector names must be unique, and neither 'motion' nor 'sound'")
            )
        for detector in self.detectors:
            _between("--detector-threshold", detector.threshold, 1e-6, 1e6)
        _between("--detector-rate", self.detector_rate, 0.01, self.fps)

    def fingerprint(self) -> str:
        """A short hex digest of the algorithm version and every setting here."""
        settings = self.to_json()
        # The model's hash identifies it, not where it lies; the threshold applies later.
        settings["detectors"] = [{"name": d.name, "sha256": d.sha256} for d in self.detectors]
        text = json.dumps({"algorithm": ALGORITHM, **settings}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> JsonObject:
        """As recorded in the reports' ``settings``."""
        return {
            "fps": self.fps,
            "width": self.width,
            "subtractor": self.subtractor,
            "history_s": self.history_s,
            "sensitivity": self.sensitivity,
            "light_jump": self.light_jump,
            "skip_nonref": self.skip_nonref,
            "detectors": [d.to_json() for d in self.detectors],
            "detector_rate": self.detector_rate,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> AnalysisParams:
        """Read back what :meth:`to_json` wrote (types only: ranges are :meth:`check`'s)."""
        return cls(
            fps=f.number("fps"),
            width=f.integer("width"),
            subtractor=f.choice("subtractor", SUBTRACTORS),
            history_s=f.number("history_s"),
            sensitivity=f.number("sensitivity"),
            light_jump=f.number("light_jump"),
            skip_nonref=f.boolean("skip_nonref"),
            detectors=f.objects("detectors", DetectorSpec.from_fields),
            detector_rate=f.number("detector_rate"),
        )


@dataclass(frozen=True)
class SegmentRules:
    """How measurements become segments (docs/triage.md, "Segments")."""

    motion_threshold: float = 0.002
    sound_threshold: float = 12.0
    sound_floor: float = -60.0
    background_s: float = 120.0
    leave_ratio: float = 0.5
    min_length: float = 0.4
    merge_gap: float = 4.0
    padding: float = 2.0

    def check(self) -> None:
        """Raise :class:`SettingError` for a value out of range."""
        _between("--motion-threshold", self.motion_threshold, 1e-5, 1.0)
        _between("--sound-threshold", self.sound_threshold, 1.0, 60.0)
        _between("--sound-floor", self.sound_floor, -100.0, 0.0)
        _between("--sound-background", self.background_s, 5.0, 3600.0)
        _between("--leave-ratio", self.leave_ratio, 0.05, 1.0)
        _between("--min-length", self.min_length, 0.0, 600.0)
        _between("--merge-gap", self.merge_gap, 0.0, 600.0)
        _between("--padding", self.padding, 0.0, 600.0)

    def to_json(self) -> JsonObject:
        """As recorded in the reports' ``rules``."""
        return {
            "motion_threshold": self.motion_threshold,
            "sound_threshold": self.sound_threshold,
            "sound_floor": self.sound_floor,
            "background_s": self.background_s,
            "leave_ratio": self.leave_ratio,
            "min_length": self.min_length,
            "merge_gap": self.merge_gap,
            "padding": self.padding,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> SegmentRules:
        """Read back what :meth:`to_json` wrote (types only: ranges are :meth:`check`'s)."""
        return cls(
            motion_threshold=f.number("motion_threshold"),
            sound_threshold=f.number("sound_threshold"),
            sound_floor=f.number("sound_floor"),
            background_s=f.number("background_s"),
            leave_ratio=f.number("leave_ratio"),
            min_length=f.number("min_length"),
            merge_gap=f.number("merge_gap"),
            padding=f.number("padding"),
        )


@dataclass(frozen=True)
class TriageParams:
    """Everything one run needs, passed down explicitly."""

    analysis: AnalysisParams = field(default_factory=AnalysisParams)
    rules: SegmentRules = field(default_factory=SegmentRules)
    clips: bool = True
    gentle: bool = True
    #: Read the burned-in overlay (camera name, clock) with Tesseract (docs/triage.md).
    overlay: bool = True

    def check(self) -> None:
        """Validate both groups."""
        self.analysis.check()
        self.rules.check()


def _between(option: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise SettingError(option=option, low=f"{low:g}", high=f"{high:g}")
