"""Covering boxes in a frame: solid fill (the default), mosaic, or blur.

Solid fill destroys what is under it. Mosaic and blur keep a little of it, and studies have
re-identified people through both (docs/redaction.md, "Limitations"); they are here for
editors who need them, with coarse settings.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np
import numpy.typing as npt

from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.records import RenderMode

Image = npt.NDArray[np.uint8]

#: Solid fill colour (RGB).
FILL = (0, 0, 0)
#: A mosaic cell is at least this many pixels, and a face is at most this many cells across.
MOSAIC_MIN_CELL = 8
MOSAIC_MAX_CELLS = 6
#: Blur works on the region shrunk this many times, then blurred, then grown back.
BLUR_SHRINK = 8


def _mosaic(region: Image) -> Image:
    height, width = region.shape[:2]
    cell = max(MOSAIC_MIN_CELL, -(-max(width, height) // MOSAIC_MAX_CELLS))
    small = cv2.resize(
        region,
        (max(1, -(-width // cell)), max(1, -(-height // cell))),
        interpolation=cv2.INTER_AREA,
    )
    grown = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.asarray(grown, dtype=np.uint8)


def _blur(region: Image) -> Image:
    height, width = region.shape[:2]
    small = cv2.resize(
        region,
        (max(1, width // BLUR_SHRINK), max(1, height // BLUR_SHRINK)),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=2.0)
    grown = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(grown, dtype=np.uint8)


def cover(image: Image, boxes: Iterable[Box], mode: RenderMode) -> None:
    """Cover every box in ``image`` (H x W x 3, modified in place)."""
    height, width = image.shape[:2]
    for box in boxes:
        pixels = box.pixels(width, height)
        if pixels is None:
            continue
        x1, y1, x2, y2 = pixels
        if mode is RenderMode.SOLID:
            image[y1:y2, x1:x2] = FILL
        elif mode is RenderMode.MOSAIC:
            image[y1:y2, x1:x2] = _mosaic(image[y1:y2, x1:x2])
        else:
            image[y1:y2, x1:x2] = _blur(image[y1:y2, x1:x2])
