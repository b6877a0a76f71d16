"""The trove timeline: cameras as rows, the recorders' wall-clock time as the axis.

Every video whose burned-in clock could be read (:mod:`overlay`) is placed by that clock: a
bar per stretch of continuous clock (a clock jump splits it, and is marked), and on it each
segment, linking to its entry in the ranked list (whose pictures stay greyscale and blurred
until clicked). So a reviewer sees what camera 2 recorded while camera 3 recorded a beating.
Plain HTML and CSS positioned in percent: no script, no picture, nothing from elsewhere.
Videos without a readable clock are listed under it, never placed by a guess.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from tainik.workstation.triage.clock import Overlay
from tainik.workstation.triage.results import Segment, VideoResult

STYLE = """
.walltime { margin: .5rem 0 1rem; }
.wt-row { display: flex; align-items: center; gap: .75rem; min-height: 1.9rem;
  border-bottom: 1px solid var(--line); }
.wt-cam { width: 12rem; min-width: 12rem; font-size: .9rem; overflow-wrap: anywhere; }
.wt-track { position: relative; flex: 1; height: 1.4rem; }
.wt-video { position: absolute; top: .35rem; height: .7rem; background: #c9d3dd;
  border-radius: .15rem; min-width: 2px; }
.wt-seg { position: absolute; top: .1rem; height: 1.2rem; background: #1f5f99;
  border-radius: .15rem; min-width: 4px; opacity: .85; }
.wt-seg.clock { background: #a8321e; }
.wt-jump { position: absolute; top: 0; height: 1.4rem; width: 2px; background: #a8321e; }
.wt-axis .wt-track { height: 1.2rem; }
.wt-tick { position: absolute; top: 0; font-size: .75rem; color: var(--muted);
  white-space: nowrap; transform: translateX(-50%); }
.wt-unplaced { color: var(--muted); font-size: .9rem; }
"""

#: Axis steps (seconds), the first giving at most :data:`MAX_TICKS` ticks is used.
STEPS = (1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_TICKS = 8


@dataclass(frozen=True)
class Placed:
    """A video on the timeline: its row and its stretches of continuous clock."""

    video: VideoResult
    camera: str | None
    #: (first second of video, last second of video) of each stretch of continuous clock.
    stretches: tuple[tuple[float, float], ...]


def placed(results: Sequence[VideoResult]) -> tuple[list[Placed], list[VideoResult]]:
    """The videos with a readable clock, and those without."""
    found: list[Placed] = []
    unplaced: list[VideoResult] = []
    for result in results:
        overlay = result.overlay
        if overlay is None or overlay.start is None:
            unplaced.append(result)
            continue
        cuts = [0.0, *(jump.at for jump in overlay.jumps), result.analysed]
        stretches = tuple((a, b) for a, b in itertools.pairwise(cuts) if b > a)
        found.append(Placed(result, overlay.camera, stretches))
    return found, unplaced


def render(
    results: Sequence[VideoResult],
    gettext: Callable[[str], str],
    anchor: Callable[[VideoResult, Segment], str],
) -> str:
    """The section's inner HTML (rows, axis, and the videos that could not be placed)."""
    _ = gettext
    found, unplaced = placed(results)
    if not found:
        nothing = _("No burned-in clock could be read: nothing to place on the timeline.")
        return f'<p class="wt-unplaced">{escape(nothing)}</p>'
    spans = [_span(p.video.overlay, a, b) for p in found for a, b in p.stretches]
    first = min(s[0] for s in spans)
    last = max(s[1] for s in spans)
    width = max((last - first).total_seconds(), 1.0)

    def x(moment: datetime.datetime) -> float:
        return round((moment - first).total_seconds() / width * 100, 3)

    rows: dict[str, list[Placed]] = defaultdict(list)
    for entry in found:
        rows[entry.camera or ""].append(entry)
    lines = [_axis(first, last, x)]
    for camera in sorted(rows, key=_natural):
        name = camera or _("(no camera name)")
        marks: list[str] = []
        for entry in rows[camera]:
            marks += _marks(entry, x, anchor, gettext)
        lines.append(
            f'<div class="wt-row"><div class="wt-cam">{escape(name)}</div>'
            f'<div class="wt-track">{"".join(marks)}</div></div>'
        )
    lines.append(_axis(first, last, x))
    html = f'<div class="walltime">{"".join(lines)}</div>'
    if unplaced:
        names = ", ".join(r.label for r in unplaced)
        text = _("Not on the timeline (no readable clock): {videos}").format(videos=names)
        html += f'<p class="wt-unplaced">{escape(text)}</p>'
    return html


def _span(
    overlay: Overlay | None, a: float, b: float
) -> tuple[datetime.datetime, datetime.datetime]:
    assert overlay is not None  # placed() keeps only videos with an overlay
    return _at(overlay, a), _at(overlay, max(a, b - 1e-3))


def _at(overlay: Overlay, seconds: float) -> datetime.datetime:
    moment = overlay.clock_at(seconds)
    if moment is None:  # pragma: no cover - placed() keeps only videos with a clock
        raise ValueError("no clock to place this video by")
    return moment


def _marks(
    entry: Placed,
    x: Callable[[datetime.datetime], float],
    anchor: Callable[[VideoResult, Segment], str],
    gettext: Callable[[str], str],
) -> list[str]:
    video, overlay = entry.video, entry.video.overlay
    assert overlay is not None
    marks: list[str] = []
    for a, b in entry.stretches:
        start, end = _span(overlay, a, b)
        title = f"{video.label}: {_time(start)} – {_time(end)}"
        marks.append(
            f'<a class="wt-video" href="#v-{video.sha256[:16]}" '
            f'style="left:{x(start)}%;width:{max(x(end) - x(start), 0.2)}%" '
            f'title="{escape(title)}"></a>'
        )
    for jump in overlay.jumps:
        title = gettext("{video}: the clock jumps from {before} to {after}").format(
            video=video.label, before=_time(jump.before), after=_time(jump.after)
        )
        marks.append(
            f'<span class="wt-jump" style="left:{x(jump.after)}%" title="{escape(title)}"></span>'
        )
    for segment in video.segments:
        if "clock" in segment.why:
            continue  # shown as the jump's mark
        start, end = _at(overlay, segment.start), _at(overlay, segment.end)
        title = f"{video.label}: {_time(start)} – {_time(end)} ({segment.score:.2f})"
        marks.append(
            f'<a class="wt-seg" href="#{anchor(video, segment)}" '
            f'style="left:{x(start)}%;width:{max(x(end) - x(start), 0.3)}%" '
            f'title="{escape(title)}"></a>'
        )
    return marks


def _axis(
    first: datetime.datetime, last: datetime.datetime, x: Callable[[datetime.datetime], float]
) -> str:
    seconds = (last - first).total_seconds()
    step = next((s for s in STEPS if seconds / s <= MAX_TICKS), STEPS[-1])
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (first - midnight).total_seconds()
    tick = midnight + datetime.timedelta(seconds=-(-offset // step) * step)
    ticks: list[str] = []
    day = None
    while tick <= last:
        label = tick.strftime("%H:%M:%S" if step < 60 else "%H:%M")
        if tick.date() != day:
            label = f"{tick.date().isoformat()} {label}"
            day = tick.date()
        ticks.append(f'<span class="wt-tick" style="left:{x(tick)}%">{escape(label)}</span>')
        tick += datetime.timedelta(seconds=step)
    return (
        f'<div class="wt-row wt-axis" aria-hidden="true"><div class="wt-cam"></div>'
        f'<div class="wt-track">{"".join(ticks)}</div></div>'
    )


def _time(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _natural(name: str) -> tuple[int, list[tuple[int, str]]]:
    """Cameras in human order ("КАМЕРА 2" before "КАМЕРА 10"); no name last."""
    parts = re.split(r"(\d+)", name.casefold())
    return (0 if name else 1, [(int(p), "") if p.isdigit() else (0, p) for p in parts])
