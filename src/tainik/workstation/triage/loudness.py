"""The sound signal: momentary loudness (ITU-R BS.1770 / EBU R128) of the audio track.

The audio is decoded as mono at 16 kHz and cut into 100 ms blocks. Each block's K-weighted
mean square is computed in the frequency domain: the block's power spectrum times the squared
magnitude response of BS.1770's two K-weighting filters (a high shelf of +4 dB above about
1.5 kHz, and a high-pass at 38 Hz), summed by Parseval's theorem. Momentary loudness is the
mean over a 400 ms window (four blocks), ``-0.691 + 10 log10(mean square)`` LUFS, one value
every 100 ms, the window centred on its block. Only the block powers are kept, so a
ten-hour recording needs about 3 MB, not the 2 GB its samples would.

The background level and what counts as loud are decided later (:mod:`evidence`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tainik.workstation.triage.decoding import AUDIO_RATE

#: Seconds per loudness value (BS.1770's block hop).
HOP = 0.1
#: Blocks per momentary-loudness window (400 ms).
WINDOW = 4
#: LUFS reported for digital silence.
SILENCE = -100.0
_BATCH = 64

Floats = npt.NDArray[np.float64]


def k_weighting_power(size: int, rate: int) -> Floats:
    """Squared magnitude of the K-weighting filters at the rfft bins of ``size`` samples."""
    shelf = _shelf(rate, frequency=1500.0, gain_db=4.0, q=1 / math.sqrt(2))
    highpass = _highpass(rate, frequency=38.0, q=0.5)
    omega = 2 * np.pi * np.fft.rfftfreq(size, 1.0 / rate) / rate
    z = np.exp(-1j * omega)
    power = np.ones_like(omega)
    for b, a in (shelf, highpass):
        response = (b[0] + b[1] * z + b[2] * z**2) / (a[0] + a[1] * z + a[2] * z**2)
        power *= np.abs(response) ** 2
    return power


def _shelf(rate: int, frequency: float, gain_db: float, q: float) -> tuple[Floats, Floats]:
    amp = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * frequency / rate
    alpha = math.sin(w0) / (2 * q)
    cos, root = math.cos(w0), 2 * math.sqrt(amp) * alpha
    b = [
        amp * ((amp + 1) + (amp - 1) * cos + root),
        -2 * amp * ((amp - 1) + (amp + 1) * cos),
        amp * ((amp + 1) + (amp - 1) * cos - root),
    ]
    a = [(amp + 1) - (amp - 1) * cos + root, 2 * ((amp - 1) - (amp + 1) * cos)]
    a.append((amp + 1) - (amp - 1) * cos - root)
    return np.array(b), np.array(a)


def _highpass(rate: int, frequency: float, q: float) -> tuple[Floats, Floats]:
    w0 = 2 * math.pi * frequency / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
    return np.array(b), np.array([1 + alpha, -2 * cos, 1 - alpha])


class LoudnessMeter:
    """Feed mono samples in order; :meth:`block_power` gives the K-weighted block powers."""

    def __init__(self, rate: int = AUDIO_RATE) -> None:
        self._block = round(rate * HOP)
        weights = k_weighting_power(self._block, rate)
        # Parseval for rfft: inner bins stand for two (positive and negative frequencies).
        factors = np.full(weights.size, 2.0)
        factors[0] = 1.0
        if self._block % 2 == 0:
            factors[-1] = 1.0
        self._weights = weights * factors / float(self._block) ** 2
        self._pending: list[npt.NDArray[np.float32]] = []
        self._pending_size = 0
        self._powers: list[Floats] = []

    def feed(self, samples: npt.NDArray[np.float32]) -> None:
        """Add the next samples."""
        self._pending.append(samples)
        self._pending_size += samples.size
        if self._pending_size >= _BATCH * self._block:
            self._flush()

    def _flush(self) -> None:
        data = np.concatenate(self._pending) if self._pending else np.empty(0, np.float32)
        whole = data.size // self._block * self._block
        if whole:
            blocks = data[:whole].astype(np.float64).reshape(-1, self._block)
            spectrum = np.abs(np.fft.rfft(blocks, axis=1)) ** 2
            self._powers.append(spectrum @ self._weights)
        rest = data[whole:]
        self._pending = [rest] if rest.size else []
        self._pending_size = rest.size

    def block_power(self) -> Floats:
        """K-weighted mean square of every complete 100 ms block so far."""
        self._flush()
        if not self._powers:
            return np.empty(0, np.float64)
        return np.concatenate(self._powers)


def momentary(block_power: Floats) -> Floats:
    """Momentary loudness in LUFS for each block: a 400 ms window centred on it."""
    if block_power.size == 0:
        return np.empty(0, np.float64)
    padded = np.pad(block_power, (1, WINDOW - 2), mode="edge")
    window = np.convolve(padded, np.full(WINDOW, 1.0 / WINDOW), mode="valid")
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10 * np.log10(window)
    return np.maximum(lufs, SILENCE)
