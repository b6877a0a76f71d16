"""The activity signal: how much of the picture is moving, by background subtraction (OpenCV).

Each analysed frame (greyscale, reduced size) goes through four steps:

1. A 5x5 Gaussian blur, so that compression noise (blocking, ringing, grain) does not count.
2. A brightness offset: the frame is shifted so that its median grey level is mid-grey. Slow,
   even changes of light (dusk, clouds, a lamp warming up) then cancel out before the model
   sees them; the model's own slow adaptation takes care of uneven ones.
3. A light-change guard: when the median grey level or the spread (interquartile range) jumps
   between two analysed frames, as when a camera switches to infrared or a light is switched
   on, the background model starts afresh from this frame. Without the guard the whole
   picture would read as moving until the old model had slowly adapted.
4. Background subtraction (MOG2 or KNN, shadows off), then a 3x3 morphological opening that
   removes isolated foreground pixels. The activity is the foreground fraction of the picture.

A fresh model learns fast (OpenCV's automatic rate, 1/2n for the n-th frame, down to
1/history) but is not trusted during its first :data:`SETTLE_S` seconds, at the start and
after each light change: activity there counts as zero. That second is blind, a price paid
for not flagging every camera switch.

The coarse pass (:mod:`coarse`) measures only stretches of a video. Its meters start in the
middle: they are *primed* with the keyframes seen before the stretch (so that they need no
settling time), and then learn at the rate that a model running since the video's start, or
since the last light change, would have reached (``continuing_from``), so that a person
standing still fades into the background as late as the full decode would let them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from tainik.workstation.triage.params import AnalysisParams

Gray = npt.NDArray[np.uint8]
Image = cv2.typing.MatLike

#: Spread ratio (interquartile range now / before) beyond which the light changed.
SPREAD_JUMP = 1.5
#: The interquartile range is floored at this, so flat scenes do not make the ratio jumpy.
MIN_SPREAD = 8
#: Seconds after a (re)start during which the model learns and activity counts as zero.
SETTLE_S = 1.0
_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
# Row m maps grey levels so that level m becomes 128 (saturating at 0 and 255).
_SHIFTS = np.clip(
    np.arange(256)[np.newaxis, :] + 128 - np.arange(256)[:, np.newaxis], 0, 255
).astype(np.uint8)


@dataclass(frozen=True)
class Measure:
    """The activity of one frame and whether the light changed there."""

    activity: float
    light_change: bool


class ActivityMeter:
    """Measures frames one after another; keeps the background model between them."""

    def __init__(self, params: AnalysisParams, continuing_from: float | None = None) -> None:
        """``continuing_from``: for a meter that starts in the middle of a video, the time
        (seconds) where a meter running from the start would last have started afresh."""
        self._params = params
        self._history = max(2, round(params.history_s * params.fps))
        self._settle = max(1, round(SETTLE_S * params.fps))
        self._model = self._fresh_model()
        self._previous: tuple[int, int] | None = None
        self._since_reset = 0
        self._reset_at = continuing_from
        self._primed = False

    def prime(self, gray: Gray) -> None:
        """Teach the background model a picture from before the stretch measured (a
        keyframe); a primed model is trusted from the first measured frame."""
        self._model.apply(normalise(gray)[0])
        self._primed = True
        self._since_reset = self._settle

    def _fresh_model(self) -> cv2.BackgroundSubtractor:
        params = self._params
        if params.subtractor == "knn":
            # KNN compares squared distances: 16 (MOG2's default) matches 400 (KNN's default).
            return cv2.createBackgroundSubtractorKNN(
                history=self._history,
                dist2Threshold=params.sensitivity * 25.0,
                detectShadows=False,
            )
        return cv2.createBackgroundSubtractorMOG2(
            history=self._history, varThreshold=params.sensitivity, detectShadows=False
        )

    def reference(self, gray: Gray) -> None:
        """A frame from just before the first measured one (the first decoded after a
        seek): the model learns it, and the light-change guard compares the next frame
        with it."""
        picture, self._previous = normalise(gray)
        self._model.apply(picture)
        self._since_reset += 1

    def measure(self, gray: Gray, at: float | None = None) -> Measure:
        """The foreground fraction of ``gray`` (0..1), updating the background model.

        ``at`` (seconds) is needed only by a meter with ``continuing_from``."""
        picture, (median, spread) = normalise(gray)
        change = self._previous is not None and light_jumped(
            self._previous, (median, spread), self._params.light_jump
        )
        self._previous = (median, spread)
        if change:
            self._model = self._fresh_model()
            self._since_reset = 0
            self._primed = False
            if self._reset_at is not None and at is not None:
                self._reset_at = at
        self._since_reset += 1
        rate = -1.0  # OpenCV's own: 1 / min(2 n, history)
        if self._primed and self._reset_at is not None and at is not None:
            frames = max(1.0, (at - self._reset_at) * self._params.fps + 1.0)
            rate = 1.0 / min(2.0 * frames, float(self._history))
        mask = self._model.apply(picture, learningRate=rate)
        if self._since_reset <= self._settle:
            return Measure(0.0, change)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)
        return Measure(cv2.countNonZero(mask) / mask.size, False)


def normalise(gray: Gray) -> tuple[Image, tuple[int, int]]:
    """Steps 1 and 2 (blur, brightness offset), and the median and spread before the offset."""
    smooth = cv2.GaussianBlur(gray, (5, 5), 0)
    median, spread = _median_and_spread(smooth)
    return cv2.LUT(smooth, _SHIFTS[median]), (median, spread)


def _median_and_spread(gray: Image) -> tuple[int, int]:
    """Median and interquartile range of the grey levels, from the histogram."""
    counts = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    total = counts[-1]
    low, median, high = (int(np.searchsorted(counts, total * q)) for q in (0.25, 0.5, 0.75))
    return median, max(high - low, MIN_SPREAD)


def light_jumped(before: tuple[int, int], now: tuple[int, int], jump: float) -> bool:
    """Whether the light changed between two pictures' (median, spread) (step 3)."""
    if abs(now[0] - before[0]) > jump:
        return True
    return abs(math.log(now[1] / before[1])) > math.log(SPREAD_JUMP)
