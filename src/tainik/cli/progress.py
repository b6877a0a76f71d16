"""A progress line on standard error, for long work.

What it shows is what is happening: bytes counted as they leave (the caller says so), a rate
measured over the last half minute of *this* run only (work done by an earlier run, such as
segments already on the server, moves the bar but not the rate), and no time estimate until
there is a rate to base one on. Numbers and units follow the user's language (Babel's CLDR
data: "1.2 MB/s", "1,2 МБ/с"). On a terminal the line is redrawn in place; elsewhere (a log
file, a pipe) a line is written only every ``interval`` seconds, and only if asked for.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from babel.dates import format_timedelta
from babel.numbers import format_percent
from babel.units import format_compound_unit

from tainik.i18n import format_size

# Decimal units: CLDR (so Babel) names and translates these, not the binary KiB/MiB.
_UNITS = (
    ("digital-terabyte", 1e12),
    ("digital-gigabyte", 1e9),
    ("digital-megabyte", 1e6),
    ("digital-kilobyte", 1e3),
)
RATE_WINDOW = 30.0  # seconds of history the rate is measured over
RATE_MIN_SPAN = 3.0  # no rate (so no estimate) from less than this: bursts fill buffers first
REDRAW = 0.25  # seconds between redraws on a terminal


def _unit(count: float) -> tuple[str, float]:
    for unit, size in _UNITS:
        if count >= size:
            return unit, count / size
    return "digital-byte", count


def format_rate(per_second: float, locale: str = "en") -> str:
    """1_234_000 -> '1.2 MB/s' ('1,2 МБ/c' in Russian)."""
    unit, value = _unit(per_second)
    text = format_compound_unit(
        value,
        unit,
        denominator_unit="duration-second",
        length="short",
        locale=locale,
        format="#,##0.0",
    )
    return text or f"{format_size(per_second, locale)}/s"


def format_duration(seconds: float, locale: str = "en") -> str:
    """125 -> '2 minutes' ('2 минуты')."""
    return format_timedelta(timedelta(seconds=max(seconds, 1.0)), locale=locale)


class ProgressLine:
    """Call with byte counts as work advances (negative: bytes taken back, such as a request
    that is retried); :meth:`close` ends the line. Safe to call from several threads."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        total: int,
        *,
        already: int = 0,
        locale: str = "en",
        gettext: Callable[[str], str] = str,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._total = total
        self._already = already
        self._done = 0  # in this run
        self._locale = locale
        self._ = gettext
        self._clock = clock
        self._lock = threading.Lock()
        self._history: deque[tuple[float, int]] = deque([(clock(), 0)])
        self._tty = stream.isatty()
        self._interval = REDRAW if self._tty else interval
        self._last = clock() if not self._tty else 0.0
        self._drawn = False

    def __call__(self, count: int) -> None:
        with self._lock:
            self._done += count
            now = self._clock()
            history = self._history
            history.append((now, self._done))
            while len(history) > 2 and history[1][0] < now - RATE_WINDOW:
                history.popleft()
            finished = self._already + self._done >= self._total
            if self._interval is not None and (now - self._last >= self._interval or finished):
                self._last = now
                self._draw()

    def rate(self) -> float | None:
        """Bytes per second over the recent past of this run; None until that is known."""
        (start, first), (end, last) = self._history[0], self._history[-1]
        if end - start < RATE_MIN_SPAN or last <= first:
            return None
        return (last - first) / (end - start)

    def text(self) -> str:
        """The line as it is now."""
        _, locale = self._, self._locale
        done = min(self._already + self._done, self._total)
        fraction = done / self._total if self._total else 1.0
        parts = [
            self._label[:40],
            format_percent(fraction, "#,##0.0%", locale=locale),
            _("{done} of {total}").format(
                done=format_size(done, locale), total=format_size(self._total, locale)
            ),
        ]
        rate = self.rate()
        if rate is not None:
            parts.append(format_rate(rate, locale))
            if done < self._total:
                left = format_duration((self._total - done) / rate, locale)
                parts.append(_("about {time} left").format(time=left))
        return "  ".join(parts)

    def _draw(self) -> None:
        if self._tty:
            self._stream.write(f"\r{self.text()}\x1b[K")
        else:
            self._stream.write(self.text() + "\n")
        self._drawn = True
        self._stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()


class CountLine(ProgressLine):
    """A progress line counting things (files, videos) instead of bytes."""

    def text(self) -> str:
        """The line as it is now."""
        return f"{self._label}  {self._already + self._done} / {self._total}"
