"""Manual regions: rectangles a person marks for what detection misses (tattoos, name tags,
the camera's on-screen label), each over a span of time.

Syntax: ``X,Y,W,H`` in pixels of the original frame, optionally ``@T0-T1``: from T0 to T1
seconds inclusive (``1.5``, ``01:02.5`` and ``1:02:03`` all work). ``@T0-`` runs to the end;
no ``@`` means the whole video.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tainik.workstation.redact.errors import RegionError
from tainik.workstation.redact.geometry import Box

_NUMBER = r"\d+(?:\.\d+)?"
_TIME = rf"(?:\d+:){{0,2}}{_NUMBER}"
_REGION = re.compile(
    rf"^\s*(?P<x>\d+)\s*,\s*(?P<y>\d+)\s*,\s*(?P<w>\d+)\s*,\s*(?P<h>\d+)\s*"
    rf"(?:@\s*(?P<t0>{_TIME})?\s*-\s*(?P<t1>{_TIME})?\s*)?$"
)


@dataclass(frozen=True)
class ManualRegion:
    """A rectangle to cover from ``start`` to ``end`` seconds (inclusive)."""

    box: Box
    start: float = 0.0
    end: float = math.inf

    def active(self, time: float) -> bool:
        """Whether the region covers the frame shown at ``time`` seconds."""
        return self.start <= time <= self.end

    def describe(self) -> str:
        """Back to the command-line syntax."""
        b = self.box
        end = "" if math.isinf(self.end) else f"{self.end:g}"
        return f"{b.x1:g},{b.y1:g},{b.width:g},{b.height:g}@{self.start:g}-{end}"


def parse_time(text: str) -> float:
    """Seconds from ``S``, ``M:S`` or ``H:M:S`` (seconds may have a fraction)."""
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def parse_region(text: str) -> ManualRegion:
    """Parse ``X,Y,W,H[@T0-T1]``; raises :class:`RegionError` for anything else."""
    match = _REGION.match(text)
    if not match:
        raise RegionError(text=text)
    x, y, w, h = (int(match.group(k)) for k in "xywh")
    if w == 0 or h == 0:
        raise RegionError(text=text)
    start = parse_time(match.group("t0")) if match.group("t0") else 0.0
    end = parse_time(match.group("t1")) if match.group("t1") else math.inf
    if end < start:
        raise RegionError(text=text)
    return ManualRegion(Box(x, y, x + w, y + h), start, end)
