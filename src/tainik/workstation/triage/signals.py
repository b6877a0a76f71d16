"""The raw measurements of one video: what decoding produced, before any threshold.

They are what the cache keeps (:mod:`cache`): everything later (evidence, segments, scores)
is recomputed from them in milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tainik.workstation.triage.results import DecodePath

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Signals:
    """Measurements of one video, each series with its own times (seconds from the start).

    - ``video_times``/``activity``: foreground fraction (0..1) of each analysed frame;
    - ``light_changes``: times where the light-change guard relearnt the background;
    - ``loudness``: momentary loudness (LUFS) every 0.1 s from ``audio_start`` (empty when
      the file has no audio track);
    - ``detector_times``/``detectors``: each detector's score at the frames shown to it;
    - ``decode_path``: how the video was decoded (coarse to fine, or every frame) and why.
    """

    duration: float
    video_times: Floats
    activity: Floats
    light_changes: Floats
    audio_start: float
    loudness: Floats
    detector_times: Floats = field(default_factory=lambda: np.empty(0))
    detectors: Mapping[str, Floats] = field(default_factory=dict)
    frames_decoded: int = 0
    decode_errors: int = 0
    stopped: str | None = None
    decode_path: DecodePath | None = None

    @property
    def has_audio(self) -> bool:
        """Whether there is a sound signal."""
        return self.loudness.size > 0

    def to_bytes(self) -> bytes:
        """The measurements as an uncompressed ``.npz`` archive (no pickled objects)."""
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "duration": np.array(self.duration),
            "video_times": self.video_times,
            "activity": self.activity,
            "light_changes": self.light_changes,
            "audio_start": np.array(self.audio_start),
            "loudness": self.loudness,
            "detector_times": self.detector_times,
            "counts": np.array([self.frames_decoded, self.decode_errors]),
            "stopped": np.array(self.stopped or ""),
            "detector_names": np.array(sorted(self.detectors), dtype=np.str_),
        }
        if self.decode_path is not None:
            path = self.decode_path
            interval = np.nan if path.keyframe_interval is None else path.keyframe_interval
            arrays["path"] = np.array([path.kind, path.reason], dtype=np.str_)
            arrays["path_numbers"] = np.array([interval, path.fine_seconds])
        for number, name in enumerate(sorted(self.detectors)):
            arrays[f"detector_{number}"] = self.detectors[name]
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signals:
        """Read what :meth:`to_bytes` wrote; raises ``ValueError``/``KeyError`` if damaged."""
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            names = [str(n) for n in archive["detector_names"]]
            counts = archive["counts"]
            stopped = str(archive["stopped"])
            path = None
            if "path" in archive:
                kind, reason = (str(v) for v in archive["path"])
                interval, fine = (float(v) for v in archive["path_numbers"])
                path = DecodePath(kind, reason, None if np.isnan(interval) else interval, fine)
            return cls(
                duration=float(archive["duration"]),
                video_times=archive["video_times"].astype(np.float64),
                activity=archive["activity"].astype(np.float64),
                light_changes=archive["light_changes"].astype(np.float64),
                audio_start=float(archive["audio_start"]),
                loudness=archive["loudness"].astype(np.float64),
                detector_times=archive["detector_times"].astype(np.float64),
                detectors={
                    name: archive[f"detector_{i}"].astype(np.float64)
                    for i, name in enumerate(names)
                },
                frames_decoded=int(counts[0]),
                decode_errors=int(counts[1]),
                stopped=stopped or None,
                decode_path=path,
            )
