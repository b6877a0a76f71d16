"""Every signal on one 0.1 s grid, normalised so that 1.0 is its threshold.

- **motion**: the foreground fraction of the latest analysed frame divided by
  ``motion_threshold`` (0.002: 0.2 % of the picture).
- **sound**: how far the momentary loudness rises above the background level, in LU, divided
  by ``sound_threshold`` (12 LU). The background is the 20th percentile of the per-second
  median loudness over ``background_s`` seconds around each moment, so a steady hum, a
  ventilation fan or a noisy corridor sets its own baseline and only what stands out of it
  counts. Loudness below ``sound_floor`` (-60 LUFS) never counts.
- each **detector**: its score divided by its threshold.

Measurements hold their value until the next one (a frame stands for the time until the
next analysed frame), and count as zero after a gap in the stream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tainik.workstation.triage.loudness import HOP
from tainik.workstation.triage.params import AnalysisParams, SegmentRules
from tainik.workstation.triage.signals import Signals

Floats = npt.NDArray[np.float64]

#: Seconds per grid sample.
GRID = 0.1
#: Percentile of the per-second loudness taken as the background level.
BACKGROUND_PERCENTILE = 20.0
#: Used for scores cached from a detector no longer named on the command line.
DEFAULT_DETECTOR_THRESHOLD = 0.5


@dataclass(frozen=True)
class Evidence:
    """Normalised evidence (``series``) and the measurements behind it (``measures``: motion
    as a fraction of the picture, sound in LU above the background, detectors' raw scores)."""

    step: float
    duration: float
    series: Mapping[str, Floats]
    measures: Mapping[str, Floats]

    def combined(self) -> Floats:
        """The strongest normalised evidence at each grid sample."""
        size = math.ceil(self.duration / self.step - 1e-9)
        strongest = np.zeros(size)
        for values in self.series.values():
            np.maximum(strongest, values, out=strongest)
        return strongest


def build(signals: Signals, rules: SegmentRules, analysis: AnalysisParams) -> Evidence:
    """The evidence of one video's measurements under ``rules`` (and the detectors'
    thresholds, which are in ``analysis``)."""
    fps = analysis.fps
    thresholds = {d.name: d.threshold for d in analysis.detectors}
    duration = max(signals.duration, GRID)
    size = math.ceil(duration / GRID - 1e-9)
    grid: Floats = np.arange(size, dtype=np.float64) * GRID
    motion = _hold(signals.video_times, signals.activity, grid, 1.5 / fps)
    series: dict[str, Floats] = {"motion": motion / rules.motion_threshold}
    measures: dict[str, Floats] = {"motion": motion}
    if signals.has_audio:
        lufs = signals.loudness
        rise: Floats = np.maximum(lufs - background(lufs, rules.background_s), 0.0)
        rise[lufs < rules.sound_floor] = 0.0
        times: Floats = signals.audio_start + np.arange(lufs.size, dtype=np.float64) * HOP
        on_grid = _hold(times, rise, grid, 1.5 * HOP)
        series["sound"] = on_grid / rules.sound_threshold
        measures["sound"] = on_grid
    for name, scores in sorted(signals.detectors.items()):
        gaps = np.diff(signals.detector_times)
        horizon = 1.5 * float(np.median(gaps)) if gaps.size else 1.5 / fps
        held = _hold(signals.detector_times, scores, grid, horizon)
        series[name] = held / thresholds.get(name, DEFAULT_DETECTOR_THRESHOLD)
        measures[name] = held
    return Evidence(step=GRID, duration=duration, series=series, measures=measures)


def background(lufs: Floats, window_s: float) -> Floats:
    """The background loudness level at each 0.1 s value (see the module docstring)."""
    per_second = round(1.0 / HOP)
    seconds = math.ceil(lufs.size / per_second)
    padded = np.pad(lufs, (0, seconds * per_second - lufs.size), mode="edge")
    level = np.median(padded.reshape(seconds, per_second), axis=1)
    half = max(1, round(window_s / 2))
    if seconds <= 2 * half + 1:
        around = np.full(seconds, np.percentile(level, BACKGROUND_PERCENTILE))
    else:
        extended = np.pad(level, (half, half), mode="constant", constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(extended, 2 * half + 1)
        around = np.nanpercentile(windows, BACKGROUND_PERCENTILE, axis=1)
    result: Floats = np.repeat(around, per_second)[: lufs.size]
    return result


def _hold(times: Floats, values: Floats, grid: Floats, horizon: float) -> Floats:
    """Each grid time takes the latest value at or before it, if not older than ``horizon``."""
    if times.size == 0:
        return np.zeros(grid.size)
    index = np.searchsorted(times, grid + 1e-9, side="right") - 1
    valid = index >= 0
    safe = np.clip(index, 0, None)
    fresh = valid & (grid - times[safe] < horizon)
    held: Floats = np.where(fresh, values[safe], 0.0)
    return held
