from __future__ import annotations

import numpy as np

from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.records import RenderMode
from tainik.workstation.redact.render import cover


def _image() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(60, 255, size=(120, 160, 3), dtype=np.uint8)


def test_solid_fill_replaces_every_pixel_and_nothing_else() -> None:
    image = _image()
    before = image.copy()
    cover(image, [Box(10.5, 20.2, 50.1, 70.9)], RenderMode.SOLID)
    assert (image[20:71, 10:51] == 0).all()
    outside = np.ones(image.shape[:2], bool)
    outside[20:71, 10:51] = False
    assert (image[outside] == before[outside]).all()


def test_mosaic_leaves_few_distinct_cells() -> None:
    image = _image()
    cover(image, [Box(0, 0, 96, 96)], RenderMode.MOSAIC)
    cells = {tuple(p) for p in image[:96, :96].reshape(-1, 3)}
    assert len(cells) <= 36


def test_blur_removes_detail() -> None:
    image = _image()
    detail = float(np.abs(np.diff(image[:96, :96].astype(int), axis=1)).mean())
    cover(image, [Box(0, 0, 96, 96)], RenderMode.BLUR)
    assert float(np.abs(np.diff(image[:96, :96].astype(int), axis=1)).mean()) < detail / 10


def test_boxes_outside_the_frame_are_ignored() -> None:
    image = _image()
    before = image.copy()
    cover(image, [Box(500, 500, 600, 600)], RenderMode.SOLID)
    assert (image == before).all()
