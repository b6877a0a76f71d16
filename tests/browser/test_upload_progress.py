"""Issue 14, item 5 (the browser): progress that tells the truth, in the page's language.

The upload is slowed by Chromium's own network throttling (DevTools), so that a segment is in
flight for seconds, as over Tor. Everything the uploader shows is recorded as it changes and
checked:

- the bar moves while a segment is still on its way (not only by whole segments, when one
  has arrived), and while it shows, the line says what is sent, not what was read;
- every line is "sent / total", with " · rate/s · about T left" only once there is a rate:
  never a rate of 0 or "0 sec left", also right after a resume; the rate is about the
  throttle's;
- sizes, rates and times are in the page's language (no Latin letter on a Russian page);
- no Pause button and no empty bar while nothing is uploading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser.source_pages import (
    MIB,
    SEGMENT,
    LeaveDialogs,
    NewPage,
    get_codename,
    make_file,
    pump,
    received_count,
    record_upload_ui,
    segment_files,
    serve,
    throttle_upload,
    upload_controls,
    upload_folders,
    wait_enhanced,
    wait_sent,
)

THROTTLE = 400_000  # bytes per second
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
SCALE = {"byte": 1, "bytes": 1, "байт": 1, "байта": 1, "kB": 1e3, "кБ": 1e3, "MB": 1e6, "МБ": 1e6}


@dataclass(frozen=True)
class Words:
    """How the uploader's line reads in one language."""

    line: re.Pattern[str]
    reading: str
    decimal_comma: bool  # "9,4 МБ", with spaces between thousands

    def size(self, text: str) -> float:
        """A shown size, in bytes."""
        number, unit = text.rsplit(" ", 1)
        if self.decimal_comma:
            value = float(number.replace(" ", "").replace(",", "."))
        else:
            value = float(number.replace(",", ""))
        return value * SCALE[unit]


def _line(number: str, units: str, rate: str, left: str, times: str) -> re.Pattern[str]:
    size = rf"{number} (?:{units})"
    time = rf"[1-9]\d* (?:{times})(?: \d+ (?:{times}))?"  # never "0 sec"
    left = left.format(time=rf"(?P<left>{time})")
    return re.compile(
        rf"^(?P<sent>{size}) / (?P<total>{size})(?: · (?P<rate>{size}){rate} · {left})?$"
    )


WORDS = {
    "en-US": Words(
        _line(
            r"\d{1,3}(?:,\d{3})*(?:\.\d)?",
            "bytes?|kB|MB|GB",
            "/s",
            "about {time} left",
            "hr|min|sec",
        ),
        "Reading",
        decimal_comma=False,
    ),
    "ru-RU": Words(
        _line(
            r"\d{1,3}(?: \d{3})*(?:,\d)?",
            "байта|байт|кБ|МБ|ГБ",
            "/с",
            "осталось около {time}",
            "ч|мин|с",
        ),
        "Чтение",
        decimal_comma=True,
    ),
}


@dataclass(frozen=True)
class Shown:
    """One line under the bar, read back."""

    at: float  # ms since the epoch
    sent: float
    total: float
    rate: float | None
    left: str | None
    bar: float


def progress_lines(records: list[dict[str, Any]], locale: str) -> list[Shown]:
    """What the uploader showed while the bar was up: every line must be a progress line in
    ``locale``'s words (fails the test otherwise)."""
    words = WORDS[locale]
    shown = []
    for record in records:
        if not record["bar"]:
            continue
        assert record["pause"], record  # Pause is there while sending ...
        line = record["detail"].translate(SPACES)
        match = words.line.match(line)
        assert match, f"not a progress line: {line!r} ({record['status']!r})"
        if locale.startswith("ru"):
            assert not re.search("[A-Za-z]", line), line
        assert not record["status"].startswith(words.reading), record
        shown.append(
            Shown(
                at=record["at"],
                sent=words.size(match["sent"]),
                total=words.size(match["total"]),
                rate=words.size(match["rate"]) if match["rate"] else None,
                left=match["left"],
                bar=record["value"],
            )
        )
    assert shown, "the bar never showed"
    return shown


@pytest.mark.parametrize("browser_locale", ["en-US", "ru-RU"])
def test_progress_counts_bytes_as_they_leave_in_the_page_language(
    new_page: NewPage, browser_locale: str, tmp_path: Path
) -> None:
    original = tmp_path / "big-recording.bin"
    make_file(original, 5 * MIB)  # two segments, 4 MiB and 1 MiB: some 13 s at the throttle
    with serve(tmp_path) as served:
        page = new_page(js=True)
        get_codename(page, served.base)
        wait_enhanced(page)
        idle = [upload_controls(page)]
        records = record_upload_ui(page)
        throttle_upload(page, THROTTLE)
        page.set_input_files("#files", str(original))
        page.click("#send")
        wait_sent(page, served.base, 1)
        idle.append(upload_controls(page))

    shown = progress_lines(records, browser_locale)
    assert {s.total for s in shown} == {5.2e6}  # 5 MiB, in MB with one decimal
    # The bar moved while the segments were on their way, not only when one had arrived: its
    # first move, and many after it, are values no set of whole segments adds up to.
    whole = {SEGMENT, MIB, SEGMENT + MIB}
    partial = [s for s in shown if s.bar > 0 and s.bar not in whole]
    assert len({s.bar for s in partial}) >= 10, [s.bar for s in shown]
    first = next(s for s in shown if s.bar > 0)
    assert first.bar not in whole, first
    assert first.sent > 0
    # A rate once there is one: about the throttle's, and never 0.
    rated = [s for s in shown if s.rate is not None]
    assert len(rated) >= 3, shown
    assert all(s.rate and s.rate > 0 for s in rated)
    assert 0.25 * THROTTLE < rated[-1].rate < 4 * THROTTLE, rated[-1]  # type: ignore[operator]
    # The bar never went back while nothing failed.
    values = [s.bar for s in shown]
    assert values == sorted(values)
    # Before and after: no Pause button, no empty bar.
    assert idle == [[], []]


def test_after_a_resume_no_rate_shows_until_there_is_one(new_page: NewPage, tmp_path: Path) -> None:
    original = tmp_path / "camera-7.bin"
    make_file(original, 9 * MIB)  # three segments
    with serve(tmp_path) as served:
        page = new_page(js=True)
        get_codename(page, served.base)
        wait_enhanced(page)
        LeaveDialogs(stay=False).attach(page)
        throttle_upload(page, 2 * THROTTLE)
        page.set_input_files("#files", str(original))
        page.click("#send")
        pump(page, lambda: received_count(served.data_dir) >= 1, "the first segment", 60)
        page.reload()
        wait_enhanced(page)
        idle = upload_controls(page)
        [folder] = upload_folders(served.data_dir)
        present = [int(name[len("segment-") : -len(".age")]) for name in segment_files(folder)]
        assert 1 <= len(present) < 3, present
        held = sum(min(SEGMENT, 9 * MIB - i * SEGMENT) for i in present)

        records = record_upload_ui(page)
        page.set_input_files("#files", str(original))
        page.click("#send")
        wait_sent(page, served.base, 1)

    shown = progress_lines(records, "en-US")
    first = shown[0]
    # It starts from what the server holds, with no rate yet (never "0 B/s · about 0 s").
    assert first.sent >= held - 50_000, (first, present)  # shown to 0.1 MB
    assert first.rate is None, first
    assert any(s.rate for s in shown), "no rate was ever shown"
    assert idle == []  # nothing was uploading after the reload, and nothing said so
