"""The QA report: one static HTML file listing the frames a person should check.

It shows the *redacted* frames (never the original), small, with the boxes in question
outlined, so the reviewer looks at as little as possible. It is self-contained: thumbnails are
``data:`` URIs, the style is inline, there is no script, and a Content-Security-Policy forbids
loading anything from anywhere.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from tainik.workstation.redact.plan import RedactionPlan
from tainik.workstation.redact.records import Event, EventKind

Image = npt.NDArray[np.uint8]

THUMBNAIL_WIDTH = 320
#: Beyond this many thumbnails the report lists events without pictures (its size stays sane).
MAX_THUMBNAILS = 400
OUTLINE = (255, 0, 255)  # magenta: stands out against black fill and most scenes

_EXPLAIN = {
    EventKind.WEAK: "weak detection: the detector was unsure here; check nothing is exposed "
    "and that nothing face-like is left uncovered nearby",
    EventKind.GAP: "gap: the face was not detected in these frames and was covered by "
    "prediction between the detections on either side",
    EventKind.LOST: "lost track: the face was not found again; it was covered by prediction "
    "for a while, then not at all. Check the frames after this one",
}

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; }
.weak { background: #fff8e0; } .gap { background: #eef4ff; } .lost { background: #ffe8e8; }
img { display: block; }
"""


@dataclass(frozen=True)
class ReportSource:
    """What the report says about the run."""

    original_name: str
    original_sha256: str
    output_name: str
    mode: str
    audio: str
    width: int
    height: int
    fps: float


def thumbnail_frames(events: Sequence[Event]) -> list[int]:
    """The frames to picture: the first of each event, up to :data:`MAX_THUMBNAILS`."""
    return sorted({e.first for e in events})[:MAX_THUMBNAILS]


def make_thumbnail(image: Image, outlines: Sequence[tuple[int, int, int, int]]) -> bytes:
    """A small JPEG of a redacted RGB frame with ``outlines`` (x1, y1, x2, y2) drawn on it."""
    height, width = image.shape[:2]
    scale = min(1.0, THUMBNAIL_WIDTH / max(width, 1))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small[:, :, ::-1])  # RGB -> BGR for OpenCV
    for x1, y1, x2, y2 in outlines:
        cv2.rectangle(
            small,
            (round(x1 * scale), round(y1 * scale)),
            (round(x2 * scale) - 1, round(y2 * scale) - 1),
            OUTLINE[::-1],
            1,
        )
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:  # pragma: no cover - OpenCV only fails on invalid input
        raise ValueError("could not encode a thumbnail")
    return encoded.tobytes()


def _time(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes):d}:{secs:06.3f}"


def render_report(
    plan: RedactionPlan, source: ReportSource, thumbnails: Mapping[int, bytes]
) -> str:
    """The whole report as one HTML document."""
    e = html.escape
    rows = []
    for event in plan.events:
        picture = thumbnails.get(event.first)
        image = (
            f'<img alt="frame {event.first}" src="data:image/jpeg;base64,'
            f'{base64.b64encode(picture).decode("ascii")}">'
            if picture
            else ""
        )
        span = (
            f"{event.first}" if event.first == event.last else f"{event.first}&ndash;{event.last}"
        )
        times = f"{_time(plan.times[event.first])}&ndash;{_time(plan.times[event.last])}"
        track = "" if event.track is None else str(event.track)
        rows.append(
            f'<tr class="{e(str(event.kind))}"><td>{span}<br>{times}</td>'
            f"<td>{e(str(event.kind))}</td><td>{track}</td>"
            f"<td>{e(_EXPLAIN[event.kind])}</td><td>{image}</td></tr>"
        )
    counts = {kind: sum(1 for ev in plan.events if ev.kind is kind) for kind in EventKind}
    lost = sum(1 for t in plan.tracks if t.lost)
    summary = (
        f"<li>original: {e(source.original_name)} (SHA-256 <code>{e(source.original_sha256)}"
        f"</code>)</li><li>output: {e(source.output_name)}, {source.width}&times;"
        f"{source.height}, {source.fps:.3f} frames/s, {len(plan.times)} frames</li>"
        f"<li>mode: {e(source.mode)}; audio: {e(source.audio)}</li>"
        f"<li>{len(plan.tracks)} face tracks, {lost} lost; events: "
        f"{counts[EventKind.WEAK]} weak, {counts[EventKind.GAP]} gaps, "
        f"{counts[EventKind.LOST]} lost</li>"
    )
    body = (
        "<table><tr><th>frames, time</th><th>kind</th><th>track</th><th>what to check</th>"
        "<th>redacted frame (boxes in question outlined)</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>No weak detections, gaps or lost tracks. Still watch the output once.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>Redaction QA: {e(source.output_name)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>Redaction QA report</h1><ul>{summary}</ul>"
        "<p>Automatic detection misses faces. Check each listed frame, then watch the whole "
        "output once before it is published.</p>"
        f"{body}</body></html>\n"
    )
