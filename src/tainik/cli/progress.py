"""A progress line on standard error, for long work, shown only on a terminal."""

from __future__ import annotations

import time
from typing import TextIO

from tainik.core.units import human_bytes


class ProgressLine:
    """Call with byte counts as work advances; :meth:`close` ends the line."""

    def __init__(self, stream: TextIO, label: str, total: int) -> None:
        self._stream = stream
        self._label = label
        self._total = total
        self._done = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._enabled = stream.isatty()

    def __call__(self, count: int) -> None:
        self._done += count
        now = time.monotonic()
        if self._enabled and (now - self._last > 0.2 or self._done >= self._total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-6)
        rate = self._done / elapsed
        percent = 100 * self._done / self._total if self._total else 100
        left = (self._total - self._done) / rate if rate else 0
        self._stream.write(
            f"\r{self._label[:40]}  {percent:5.1f}%  {human_bytes(self._done)} / "
            f"{human_bytes(self._total)}  {human_bytes(rate)}/s  {left:4.0f} s left "
        )
        self._stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self._enabled:
            self._stream.write("\n")
            self._stream.flush()


class CountLine(ProgressLine):
    """A progress line counting things (files, videos) instead of bytes."""

    def _draw(self, now: float) -> None:
        self._stream.write(f"\r{self._label}  {self._done} / {self._total} ")
        self._stream.flush()
