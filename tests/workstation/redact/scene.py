"""A synthetic clip with known face boxes, for the redaction tests and bench/redact.py.

Two copies of the face from scikit-image's ``astronaut`` sample (shipped inside the
scikit-image wheel, no download) move across a textured scene:

- face A walks left to right and leaves through the right edge (partly cropped at the end);
  a post passes in front of it for a few frames (partial occlusion); in the middle it
  "turns": squeezed horizontally and sheared, as a head turning away;
- face B, smaller, enters through the right edge (partly cropped at the start) and walks left.

Nothing in the scene is near black (pixel values stay >= 40), so "covered" can be measured as
"close to the solid fill colour (0, 0, 0)" in the redacted output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import cv2
import numpy as np
import numpy.typing as npt
from skimage import data as skdata

#: scikit-image has no annotation for its sample loader.
astronaut = cast("Callable[[], npt.NDArray[np.uint8]]", skdata.astronaut)

Image = npt.NDArray[np.uint8]
GroundTruth = tuple[int, int, int, int]

# The astronaut's face (x1, y1, x2, y2) inside the crop taken below: forehead to chin,
# cheek to cheek. Boxes measured on the image by eye and checked against the detector.
_CROP = (slice(0, 260), slice(110, 350))
_FACE = (70.0, 58.0, 162.0, 180.0)
#: A face box counts only while at least this fraction of it is inside the frame.
MIN_VISIBLE = 0.3


@dataclass(frozen=True)
class Scene:
    """The clip written to ``path`` and, per frame, the face boxes in it."""

    path: Path
    width: int
    height: int
    fps: int
    boxes: list[list[GroundTruth]]


def face_sprite() -> Image:
    """The astronaut's head, brightened so that nothing in it is near black."""
    crop = astronaut()[_CROP].astype(np.float32)
    return np.asarray(48 + crop * (200 / 255), dtype=np.uint8)


def background(width: int, height: int, seed: int) -> Image:
    """A smooth, textured, never-dark backdrop."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), dtype=np.float32)
    for channel in range(3):
        layer = 130 + 30 * np.sin(xs / width * 6.3 * (channel + 1) + rng.uniform(0, 6))
        layer += 25 * np.cos(ys / height * 9.4 + rng.uniform(0, 6))
        layer += rng.normal(0, 6, size=(height, width))
        image[:, :, channel] = layer
    return np.asarray(np.clip(image, 70, 210), dtype=np.uint8)


def _place(
    frame: Image, sprite: Image, matrix: npt.NDArray[np.float64]
) -> tuple[float, float, float, float]:
    """Draw ``sprite`` through the affine ``matrix``; the transformed face box (unclipped)."""
    height, width = frame.shape[:2]
    warped = cv2.warpAffine(sprite, matrix, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(
        np.full(sprite.shape[:2], 255, np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    frame[mask > 0] = warped[mask > 0]
    x1, y1, x2, y2 = _FACE
    corners = np.array([[x1, y1, 1], [x2, y1, 1], [x1, y2, 1], [x2, y2, 1]]) @ matrix.T
    return (
        float(corners[:, 0].min()),
        float(corners[:, 1].min()),
        float(corners[:, 0].max()),
        float(corners[:, 1].max()),
    )


def _visible(box: tuple[float, float, float, float], width: int, height: int) -> GroundTruth | None:
    x1, y1, x2, y2 = box
    area = (x2 - x1) * (y2 - y1)
    cx1, cy1 = max(0, math.floor(x1)), max(0, math.floor(y1))
    cx2, cy2 = min(width, math.ceil(x2)), min(height, math.ceil(y2))
    if cx2 <= cx1 or cy2 <= cy1 or (cx2 - cx1) * (cy2 - cy1) < MIN_VISIBLE * area:
        return None
    return cx1, cy1, cx2, cy2


def _affine(
    scale: float, squeeze: float, shear: float, tx: float, ty: float
) -> npt.NDArray[np.float64]:
    # Squeeze and shear about the face's centre, so the face turns in place.
    cx = (_FACE[0] + _FACE[2]) / 2
    m = np.array([[scale * squeeze, scale * shear, 0.0], [0.0, scale, 0.0]], dtype=np.float64)
    m[0, 2] = tx + scale * cx - (m[0, 0] * cx)
    m[1, 2] = ty
    return m


def render_frames(
    width: int, height: int, frames: int, scale_a: float, scale_b: float, seed: int = 7
) -> tuple[list[Image], list[list[GroundTruth]]]:
    """Every frame of the scene and its ground-truth face boxes."""
    sprite = face_sprite()
    backdrop = background(width, height, seed)
    sprite_w = sprite.shape[1]
    images: list[Image] = []
    truth: list[list[GroundTruth]] = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        frame = backdrop.copy()
        boxes: list[GroundTruth] = []
        # Face A: left to right, leaving through the right edge.
        turn = math.sin(math.pi * min(max((t - 0.48) / 0.22, 0.0), 1.0))
        squeeze = 1.0 - 0.7 * turn
        shear = 0.2 * turn
        ax = -0.02 * width + t * (0.98 * width)
        ay = 0.12 * height + 0.03 * height * math.sin(t * 12)
        box_a = _place(frame, sprite, _affine(scale_a, squeeze, shear, ax, ay))
        # A post passes in front of face A (partial occlusion, about 75% of its width).
        if 0.28 <= t <= 0.36:
            fx1, _, fx2, _ = box_a
            post_w = 0.75 * (fx2 - fx1)
            px = int(fx1 + 0.1 * (fx2 - fx1))
            frame[:, px : px + int(post_w)] = (95, 140, 95)
        # Face B: smaller, entering through the right edge, walking left.
        bx = width - (scale_b * sprite_w) * 0.55 - t * 0.6 * width
        by = 0.55 * height
        box_b = _place(frame, sprite, _affine(scale_b, 1.0, 0.0, bx, by))
        # The camera shakes: a burst of heavy motion blur over the whole frame.
        if 0.80 <= t <= 0.86:
            kernel = np.full((1, max(3, width // 14)), 1.0 / max(3, width // 14), np.float32)
            frame = np.asarray(cv2.filter2D(frame, -1, kernel), dtype=np.uint8)
        for box in (box_a, box_b):
            visible = _visible(box, width, height)
            if visible is not None:
                boxes.append(visible)
        images.append(frame)
        truth.append(boxes)
    return images, truth


def make_clip(
    path: Path,
    width: int = 320,
    height: int = 240,
    frames: int = 60,
    fps: int = 25,
    scale_a: float = 0.5,
    scale_b: float = 0.32,
    audio: bool = True,
) -> Scene:
    """Write the scene as H.264 (+ a 440 Hz AAC tone) to ``path``."""
    images, truth = render_frames(width, height, frames, scale_a, scale_b)
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "12", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=48000) if audio else None
        for image in images:
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = round(48000 * frames / fps)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
            step = 1024
            for start in range(0, samples, step):
                chunk = tone[start : start + step].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                frame.sample_rate = 48000
                frame.pts = start
                frame.time_base = Fraction(1, 48000)
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return Scene(path, width, height, fps, truth)


def read_rgb(path: Path) -> list[Image]:
    """Every frame of a video as RGB arrays."""
    with av.open(str(path)) as container:
        return [
            np.asarray(f.to_ndarray(format="rgb24"), dtype=np.uint8)
            for f in container.decode(video=0)
        ]


def coverage(image: Image, box: GroundTruth, tolerance: int = 24) -> float:
    """Fraction of ``box`` whose pixels are within ``tolerance`` of black (the solid fill)."""
    x1, y1, x2, y2 = box
    region = image[y1:y2, x1:x2].astype(np.int16)
    if region.size == 0:
        return 1.0
    return float((region.max(axis=2) <= tolerance).mean())


def exposed_frames(
    images: list[Image], truth: list[list[GroundTruth]], need: float = 0.95
) -> list[int]:
    """Frames where some ground-truth face box is less than ``need`` covered."""
    exposed = []
    for index, boxes in enumerate(truth):
        if index >= len(images):
            exposed.append(index)  # a missing frame proves nothing: count it against the tool
            continue
        if any(coverage(images[index], box) < need for box in boxes):
            exposed.append(index)
    return exposed
