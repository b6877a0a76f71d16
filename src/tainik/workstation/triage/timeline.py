"""The timeline plot of one video: inline SVG, no script, no external resource.

Each signal is a line of its normalised evidence (capped at three times the threshold), the
threshold is a dashed line, each segment's review window a band linking to the segment in
the list, and each light change (where the background was relearnt) a thin mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from tainik.workstation.triage.results import Segment, Timeline

WIDTH = 1000
HEIGHT = 80
TOP = 6
#: Evidence plotted at full height (three times the threshold).
CEILING = 3.0
COLOURS = {"motion": "#1f5f99", "sound": "#b4541a"}
DETECTOR_COLOURS = ("#6a3d9a", "#2e7d32", "#8d6e00")


def colour(name: str, names: Sequence[str]) -> str:
    """The line colour of a signal (detectors take theirs in order)."""
    if name in COLOURS:
        return COLOURS[name]
    others = [n for n in names if n not in COLOURS]
    return DETECTOR_COLOURS[others.index(name) % len(DETECTOR_COLOURS)]


def _y(value: float) -> float:
    return HEIGHT - min(max(value, 0.0), CEILING) / CEILING * (HEIGHT - TOP)


def svg(
    timeline: Timeline,
    duration: float,
    segments: Sequence[Segment],
    light_changes: Sequence[float],
    anchor: Callable[[Segment], str],
    label: str,
    clock: Callable[[float], str],
) -> str:
    """The plot as an ``<svg>`` element (``anchor`` gives a segment's id in the page)."""
    span = max(duration, 1e-6)

    def x(seconds: float) -> float:
        return round(min(max(seconds / span, 0.0), 1.0) * WIDTH, 2)

    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect class="ground" x="0" y="0" width="{WIDTH}" height="{HEIGHT}"/>',
    ]
    for segment in segments:
        left, right = x(segment.review_start), x(segment.review_end)
        title = f"{clock(segment.start)}–{clock(segment.end)}"
        parts.append(
            f'<a href="#{anchor(segment)}"><rect class="band" x="{left}" y="0" '
            f'width="{max(right - left, 1.5)}" height="{HEIGHT}">'
            f"<title>{escape(title)}</title></rect></a>"
        )
    for moment in light_changes:
        at = x(moment)
        parts.append(
            f'<line class="light" x1="{at}" x2="{at}" y1="0" y2="{HEIGHT}">'
            f"<title>{escape(clock(moment))}</title></line>"
        )
    threshold = round(_y(1.0), 2)
    parts.append(f'<line class="threshold" x1="0" x2="{WIDTH}" y1="{threshold}" y2="{threshold}"/>')
    names = list(timeline.series)
    for name, values in timeline.series.items():
        if not values:
            continue
        points = " ".join(f"{x(t)},{y}" for t, y in _steps(values, timeline.bin_seconds))
        parts.append(
            f'<polyline class="signal" data-signal="{escape(name)}" '
            f'stroke="{colour(name, names)}" points="{points}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _steps(values: Sequence[float], step: float) -> list[tuple[float, float]]:
    """Corner points of the step line through ``values``; flat stretches cost two points."""
    level = round(_y(values[0]), 2)
    corners = [(0.0, level)]
    for index, value in enumerate(values[1:], 1):
        now = round(_y(value), 2)
        if now != level:
            corners += [(index * step, level), (index * step, now)]
            level = now
    corners.append((len(values) * step, level))
    return corners
