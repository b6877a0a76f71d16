"""Axis-aligned boxes in frame pixels, the one shape the redaction pipeline speaks."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A rectangle from (x1, y1) inclusive to (x2, y2) exclusive, in pixels (floats)."""

    x1: float
    y1: float
    x2: float
    y2: float

    @classmethod
    def from_center(cls, cx: float, cy: float, width: float, height: float) -> Box:
        """The box of that size centred on (cx, cy)."""
        return cls(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)

    @property
    def width(self) -> float:
        """Width, never negative."""
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        """Height, never negative."""
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        """Area, zero for an empty box."""
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        """(cx, cy)."""
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def intersection(self, other: Box) -> float:
        """Area shared with ``other``."""
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: Box) -> float:
        """Intersection over union, 0.0 for disjoint or empty boxes."""
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def expanded(self, fraction: float) -> Box:
        """Grown by ``fraction`` of its width (height) on the left and right (top and bottom)."""
        dx, dy = self.width * fraction, self.height * fraction
        return Box(self.x1 - dx, self.y1 - dy, self.x2 + dx, self.y2 + dy)

    def grown(self, fraction: float) -> Box:
        """Grown on every side by ``fraction`` of its longer side.

        A face seen from the side gives a narrow box; the head around it is not narrower.
        """
        d = max(self.width, self.height) * fraction
        return Box(self.x1 - d, self.y1 - d, self.x2 + d, self.y2 + d)

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(
            min(self.x1, other.x1),
            min(self.y1, other.y1),
            max(self.x2, other.x2),
            max(self.y2, other.y2),
        )

    def shifted(self, dx: float, dy: float) -> Box:
        """Moved by (dx, dy)."""
        return Box(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def pixels(self, frame_width: int, frame_height: int) -> tuple[int, int, int, int] | None:
        """Integer (x1, y1, x2, y2) rounded outwards and clipped to the frame, or None if empty.

        Rounding outwards means a covered box never loses a partly covered pixel.
        """
        x1 = max(0, math.floor(self.x1))
        y1 = max(0, math.floor(self.y1))
        x2 = min(frame_width, math.ceil(self.x2))
        y2 = min(frame_height, math.ceil(self.y2))
        if x2 <= x1 or y2 <= y1:
            return None
        return x1, y1, x2, y2

    def rounded(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) rounded to 0.1 px, as the boxes record has them."""
        return (round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1))


def interpolate(a: Box, b: Box, t: float) -> Box:
    """The box a fraction ``t`` of the way from ``a`` to ``b``."""
    return Box(
        a.x1 + (b.x1 - a.x1) * t,
        a.y1 + (b.y1 - a.y1) * t,
        a.x2 + (b.x2 - a.x2) * t,
        a.y2 + (b.y2 - a.y2) * t,
    )
