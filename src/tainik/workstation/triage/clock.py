"""The text of a burned-in overlay: a recorder's date and time, and a camera's name.

Pure functions over what OCR read (docs/triage.md, "Burned-in overlays"). :func:`parse_clock`
finds one date and one 24-hour time in a line, in the formats CCTV recorders use::

    12-10-2020 Пн 14:32:05     dd-mm-yyyy, a Russian weekday
    2020-10-12 Mon 14:32:05    yyyy-mm-dd, an English weekday
    12.10.2020 14:32:05        dd.mm.yyyy (or dd/mm/yyyy), no weekday
    14:32:05 12-10-2020        the time first

A line with no valid date and time, or with two of either, gives None: a misread never becomes
a guess. :func:`clean_label` tidies the rest of the text (a camera's name). :class:`Overlay`
and :class:`ClockJump` are what :mod:`overlay` finds in a video, as the reports record it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from tainik.core.jsonfields import Fields, JsonObject

#: OCR confuses these with digits; they are read as digits only between digits and separators.
_DIGIT_LOOKALIKES = str.maketrans("OoОоDlI|ЗSB", "00000111358")
_SEP = r"\s?[-./]\s?"
_DATE_DMY = re.compile(rf"(?<![\d])(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}})(?![\d])")
_DATE_YMD = re.compile(rf"(?<![\d])(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?![\d])")
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3])\s?[:.]\s?([0-5]\d)\s?[:.]\s?([0-5]\d)(?![\d:])")
#: A token that is only OCR-misread digits and separators (e.g. "1O-1O-2O2O").
_NUMERIC = re.compile(r"^[\dOoОоDlI|ЗSB:./-]+$")
_WEEKDAYS = frozenset(
    {"пн", "вт", "ср", "чт", "пт", "сб", "вс", "пон", "вто", "сре", "чет", "пят", "суб", "вос",
     "mon", "tue", "wed", "thu", "fri", "sat", "sun", "mo", "tu", "we", "th", "fr", "sa", "su"}
)  # fmt: skip
#: Latin letters that look like Cyrillic ones; in a word that has Cyrillic letters they are.
_TO_CYRILLIC = str.maketrans("AaBCcEeHKMOoPpTXxyk", "АаВСсЕеНКМОоРрТХхук")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class ClockJump:
    """The overlay's clock jumping ``at`` seconds into the video, from one time to another."""

    at: float
    before: datetime.datetime
    after: datetime.datetime

    @property
    def seconds(self) -> float:
        """``after`` minus ``before`` in seconds (negative: the clock went back)."""
        return (self.after - self.before).total_seconds()

    def to_json(self) -> JsonObject:
        """As in the reports: ``at``, ``from``, ``to`` (ISO local times)."""
        return {"at": self.at, "from": self.before.isoformat(), "to": self.after.isoformat()}

    @classmethod
    def from_fields(cls, f: Fields) -> ClockJump:
        """Read back what :meth:`to_json` wrote."""
        return cls(f.number("at"), _local_time(f, "from"), _local_time(f, "to"))


@dataclass(frozen=True)
class Overlay:
    """What the overlay says: camera name, clock at the first and last frame, clock jumps.

    ``reads`` counts the lines given to OCR (what reading cost).
    """

    camera: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    jumps: tuple[ClockJump, ...] = ()
    reads: int = field(default=0, compare=False)

    def to_json(self) -> JsonObject:
        """As in the reports' ``overlay`` (docs/triage.md)."""
        return {
            "camera": self.camera,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "jumps": [jump.to_json() for jump in self.jumps],
        }

    @classmethod
    def from_fields(cls, f: Fields) -> Overlay:
        """Read back what :meth:`to_json` wrote."""
        with f:
            start = None if f.raw("start") is None else _local_time(f, "start")
            end = None if f.raw("end") is None else _local_time(f, "end")
            return cls(
                f.optional_text("camera"), start, end, f.objects("jumps", ClockJump.from_fields)
            )

    def clock_at(self, seconds: float) -> datetime.datetime | None:
        """The overlay's clock ``seconds`` into the video (jumps applied), or None."""
        if self.start is None:
            return None
        passed = [jump for jump in self.jumps if jump.at <= seconds]
        if not passed:
            return self.start + datetime.timedelta(seconds=seconds)
        return passed[-1].after + datetime.timedelta(seconds=seconds - passed[-1].at)


@dataclass(frozen=True)
class ClockText:
    """A date and time found in a line, and what else the line says."""

    time: datetime.datetime
    rest: str


def parse_clock(line: str) -> ClockText | None:
    """The one date and time in ``line`` (naive local time), or None."""
    tokens = [_as_digits(token) for token in line.split()]
    text = " ".join(tokens)
    dates = [(m, (int(m[3]), int(m[2]), int(m[1]))) for m in _DATE_DMY.finditer(text)]
    dates += [(m, (int(m[1]), int(m[2]), int(m[3]))) for m in _DATE_YMD.finditer(text)]
    times = list(_TIME.finditer(text))
    if len(dates) != 1 or len(times) != 1:
        return None
    (date_match, (year, month, day)), time_match = dates[0], times[0]
    if _overlap(date_match, time_match) or not 1990 <= year <= 2099:
        return None
    try:
        moment = datetime.datetime(
            year, month, day, int(time_match[1]), int(time_match[2]), int(time_match[3])
        )
    except ValueError:
        return None
    spans = sorted([date_match.span(), time_match.span()])
    rest = text[: spans[0][0]] + " " + text[spans[0][1] : spans[1][0]] + " " + text[spans[1][1] :]
    words = [w for w in rest.split() if w.strip(".,:;").lower() not in _WEEKDAYS]
    return ClockText(moment, clean_label(" ".join(words)) or "")


def clean_label(text: str) -> str | None:
    """A label as shown: single spaces, no stray punctuation at the ends, Latin look-alikes in
    Cyrillic words made Cyrillic; None when no letter or digit is left."""
    words = []
    for word in text.split():
        words.append(word.translate(_TO_CYRILLIC) if _CYRILLIC.search(word) else word)
    label = " ".join(words).strip(" .,:;'\"`‘’“”|_-—~")
    if not label or not (_LETTER.search(label) or any(c.isdigit() for c in label)):
        return None
    return label


def _as_digits(token: str) -> str:
    """A token of digits and separators with OCR's letter look-alikes made digits."""
    if _NUMERIC.match(token) and sum(c.isdigit() for c in token) >= 2:
        return token.translate(_DIGIT_LOOKALIKES)
    return token


def _local_time(f: Fields, name: str) -> datetime.datetime:
    """An ISO local time (no zone: the recorder's clock says none)."""
    try:
        moment = datetime.datetime.fromisoformat(f.text(name))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:
        raise f.invalid(name, "a local time like 2020-10-12T14:32:05")
    return moment


def _overlap(a: re.Match[str], b: re.Match[str]) -> bool:
    return a.start() < b.end() and b.start() < a.end()
