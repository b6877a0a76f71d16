"""The measurements on their own: loudness calibration, background level, activity and the
light-change guard, the cache format."""

from __future__ import annotations

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from tainik.workstation.triage.activity import ActivityMeter
from tainik.workstation.triage.decoding import luma
from tainik.workstation.triage.evidence import background, build
from tainik.workstation.triage.loudness import LoudnessMeter, momentary
from tainik.workstation.triage.params import AnalysisParams, SegmentRules
from tainik.workstation.triage.segmentation import segments
from tainik.workstation.triage.signals import Signals

RATE = 16_000


def tone(seconds: float, amplitude: float, frequency: float = 997.0) -> npt.NDArray[np.float32]:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def loudness_of(samples: npt.NDArray[np.float32], chunk: int = 1234) -> npt.NDArray[np.float64]:
    meter = LoudnessMeter(RATE)
    for start in range(0, samples.size, chunk):  # odd chunks: blocks span feeds
        meter.feed(samples[start : start + chunk])
    return momentary(meter.block_power())


def test_full_scale_sine_reads_minus_3_lufs() -> None:
    """BS.1770's calibration: a 0 dBFS sine near 1 kHz is -3.01 LUFS."""
    lufs = loudness_of(tone(10.0, 1.0))
    assert lufs.size == 100
    assert np.median(lufs) == pytest.approx(-3.01, abs=0.1)


def test_k_weighting_discounts_low_frequencies() -> None:
    assert np.median(loudness_of(tone(5.0, 1.0, frequency=30.0))) < -6.0
    assert np.median(loudness_of(tone(5.0, 1.0, frequency=4000.0))) > -3.0


def test_silence_and_a_burst_in_time() -> None:
    samples = np.zeros(10 * RATE, np.float32)
    samples[4 * RATE : 6 * RATE] = tone(2.0, 0.5)
    lufs = loudness_of(samples)
    loud = np.flatnonzero(lufs > -40) * 0.1
    assert loud.min() == pytest.approx(3.9, abs=0.11)  # the 400 ms window reaches 0.1 s early
    assert loud.max() == pytest.approx(6.1, abs=0.11)
    assert lufs[:30].max() == -100.0


def test_background_follows_the_room_not_the_shout() -> None:
    lufs = np.full(3000, -40.0)  # five minutes of room tone
    lufs[1000:1050] = -10.0  # a five-second shout
    lufs[2000:] = -25.0  # then a fan starts
    level = background(lufs, 120.0)
    assert level[1020] == pytest.approx(-40.0)
    assert level[2900] == pytest.approx(-25.0)


def test_sound_evidence_only_where_it_stands_out() -> None:
    lufs = np.full(1200, -30.0)
    lufs[600:640] = -10.0
    signals = Signals(
        duration=120.0,
        video_times=np.arange(600, dtype=np.float64) * 0.2,
        activity=np.zeros(600),
        light_changes=np.empty(0),
        audio_start=0.0,
        loudness=lufs,
    )
    found = build(signals, SegmentRules(), AnalysisParams())
    sound = found.series["sound"]
    assert (sound[600:640] > 1.0).all()
    assert (sound[:590] == 0.0).all()
    assert (sound[650:] == 0.0).all()


def test_a_short_impact_makes_a_segment() -> None:
    """A 100 ms bang in a quiet room: short, but it survives the minimum length."""
    rng = np.random.default_rng(3)
    samples = (rng.normal(0, 0.003, 60 * RATE)).astype(np.float32)  # room tone, ~ -50 LUFS
    samples[30 * RATE : 30 * RATE + RATE // 10] += tone(0.1, 0.8, frequency=300.0)
    signals = Signals(
        duration=60.0,
        video_times=np.arange(300, dtype=np.float64) * 0.2,
        activity=np.zeros(300),
        light_changes=np.empty(0),
        audio_start=0.0,
        loudness=loudness_of(samples),
    )
    rules = SegmentRules()
    found = build(signals, rules, AnalysisParams())
    spans = segments(
        found.combined().tolist(), found.step, rules.leave_ratio, rules.min_length, rules.merge_gap
    )
    assert len(spans) == 1
    assert spans[0].start <= 30.0
    assert spans[0].end >= 30.1
    assert spans[0].duration <= 1.0


def room(rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """A textured, noisy 160x120 picture (static content, fresh grain every call)."""
    base = np.tile(np.linspace(60, 160, 160), (120, 1))
    base[40:80, 20:60] = 40
    return np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)


def run_meter(meter: ActivityMeter, frames: list[npt.NDArray[np.uint8]]) -> list[float]:
    return [meter.measure(frame).activity for frame in frames]


def test_activity_sees_a_moving_object_and_not_grain() -> None:
    rng = np.random.default_rng(1)
    params = AnalysisParams(fps=5.0)
    frames = [room(rng) for _ in range(40)]
    for k, frame in enumerate(frames[20:]):
        cv2.rectangle(frame, (10 + 5 * k, 85), (30 + 5 * k, 115), 230, thickness=-1)
    activity = run_meter(ActivityMeter(params), frames)
    assert max(activity[5:20]) < 0.0005
    assert min(activity[21:]) > 0.01


def test_light_jump_is_not_activity() -> None:
    rng = np.random.default_rng(2)
    params = AnalysisParams(fps=5.0)
    before = [room(rng) for _ in range(20)]
    # Infrared: brighter, more contrast, the same scene.
    after = [np.clip(room(rng) * 1.3 + 30, 0, 255).astype(np.uint8) for _ in range(20)]
    meter = ActivityMeter(params)
    measures = [meter.measure(frame) for frame in before + after]
    assert [m.light_change for m in measures].index(True) == 20
    assert max(m.activity for m in measures) < 0.0005
    # The same frames through bare background subtraction: most of the picture "moves".
    bare = cv2.createBackgroundSubtractorMOG2(history=300, varThreshold=16, detectShadows=False)
    masks = [bare.apply(cv2.GaussianBlur(frame, (5, 5), 0)) for frame in before + after]
    assert np.count_nonzero(masks[21]) / masks[21].size > 0.5


def test_signals_survive_the_cache_format() -> None:
    signals = Signals(
        duration=12.5,
        video_times=np.array([0.0, 0.2]),
        activity=np.array([0.0, 0.01]),
        light_changes=np.array([0.2]),
        audio_start=0.05,
        loudness=np.array([-30.0, -20.0]),
        detector_times=np.array([0.0]),
        detectors={"person": np.array([0.7])},
        frames_decoded=3,
        decode_errors=1,
        stopped="Invalid data",
    )
    again = Signals.from_bytes(signals.to_bytes())
    assert again.duration == 12.5
    assert again.stopped == "Invalid data"
    assert (again.frames_decoded, again.decode_errors) == (3, 1)
    np.testing.assert_array_equal(again.detectors["person"], [0.7])
    np.testing.assert_array_equal(again.loudness, signals.loudness)


@pytest.mark.parametrize("pixel_format", ["yuv420p", "nv12", "rgb24"])
def test_luma_reads_the_brightness_in_any_layout(pixel_format: str) -> None:
    """A width that is no multiple of 32 gives padded rows; the picture must not shift."""
    gradient = np.tile(np.linspace(20, 230, 322).astype(np.uint8), (182, 1))
    rgb = np.dstack([gradient] * 3)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pixel_format)
    small = luma(frame, 160, 90)
    assert small.shape == (90, 160)
    expected = cv2.resize(gradient, (160, 90), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(small.astype(int) - expected).max() <= 20  # limited-range YUV differs a bit
    assert np.corrcoef(small.ravel(), expected.ravel())[0, 1] > 0.99
