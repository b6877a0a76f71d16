"""The progress line tells what is happening: bytes as they leave, a rate from this run only,
no estimate without a rate, numbers and units in the user's language, and on a terminal or
at a sane interval only."""

from __future__ import annotations

import io

from tainik import i18n
from tainik.cli.progress import ProgressLine

MB = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def last_line(stream: io.StringIO) -> str:
    return stream.getvalue().split("\r")[-1].replace("\x1b[K", "")


def test_a_resumed_transfer_starts_without_a_rate_and_never_counts_old_bytes_in_it() -> None:
    """Once: "0.0% 0 B / 12.0 MiB 0 B/s 0 s left" for a whole run, then 501.2 GiB/s on
    resume (the bytes already on the server counted as sent in the first millisecond)."""
    clock, stream = Clock(), Tty()
    line = ProgressLine(stream, "trove.bin", 12 * MB, already=6 * MB, clock=clock)
    clock.now += 0.001
    line(100_000)
    assert last_line(stream) == "trove.bin  50.8%  6.1 MB of 12.0 MB"  # no rate, no estimate
    for _ in range(10):  # 1 MB/s for five seconds
        clock.now += 0.5
        line(500_000)
    text = last_line(stream)
    assert "1.0 MB/s" in text, text
    assert "about 1 second left" in text, text


def test_bytes_taken_back_and_a_stalled_link_show_as_such() -> None:
    clock, stream = Clock(), Tty()
    line = ProgressLine(stream, "clip", 10 * MB, clock=clock)
    clock.now += 1
    line(4 * MB)
    clock.now += 1
    line(-4 * MB)  # the request failed: those bytes go again
    clock.now += 2
    line(0)
    assert last_line(stream) == "clip  0.0%  0 bytes of 10.0 MB"


def test_numbers_and_units_follow_the_language() -> None:
    clock, stream = Clock(), Tty()
    russian = i18n.translations(["ru"])
    line = ProgressLine(
        stream, "запись.mp4", 2_500 * MB, locale="ru", gettext=russian.gettext, clock=clock
    )
    for _ in range(8):
        clock.now += 0.5
        line(1_250_000)
    text = last_line(stream)
    assert text.startswith("запись.mp4  0,4%  10,0 МБ из 2,5 ГБ  2,5 МБ/"), text
    assert "осталось около 17 минут" in text, text
    for english in ("MB", " of ", "left"):
        assert english not in text


def test_without_a_terminal_a_line_now_and_then_or_nothing() -> None:
    clock, log = Clock(), io.StringIO()
    line = ProgressLine(log, "clip", 100 * MB, interval=30, clock=clock)
    for _ in range(100):
        clock.now += 1
        line(MB // 2)
    assert len(log.getvalue().splitlines()) == 3  # at 30, 60, 90 s
    assert "\r" not in log.getvalue()
    silent = io.StringIO()
    quiet = ProgressLine(silent, "clip", 100 * MB, clock=clock)
    quiet(100 * MB)
    quiet.close()
    assert silent.getvalue() == ""
