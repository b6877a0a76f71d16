"""Face detection with CenterFace, run by onnxruntime on every frame.

CenterFace predicts, for every 4x4 cell of the image, a face-centre score (the heatmap), the
face's height and width as ``4 * exp(value)``, and the centre's offset inside the cell. A face
is a cell whose score passes the threshold; overlapping candidates are merged by non-maximum
suppression. The image goes in as RGB floats in 0..255, padded (not stretched) with zeros on
the right and bottom to sides that are multiples of 32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.model import ALIGN, INPUT, OUTPUTS, STRIDE, load_model

#: Candidates that overlap a stronger one by this much (IoU) are the same face.
NMS_IOU = 0.3

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Detection:
    """One face found in one frame: where, and how sure the model is (0..1)."""

    box: Box
    score: float

    def scaled(self, factor: float) -> Detection:
        """The same detection in coordinates ``factor`` times larger."""
        b = self.box
        return Detection(
            Box(b.x1 * factor, b.y1 * factor, b.x2 * factor, b.y2 * factor), self.score
        )


def _providers(requested: Sequence[str] | None) -> list[str]:
    import onnxruntime as ort  # noqa: PLC0415  # slow to import; only when detecting

    available = ort.get_available_providers()
    if requested:
        return [p for p in requested if p in available] or ["CPUExecutionProvider"]
    preferred = [p for p in ("CUDAExecutionProvider",) if p in available]
    return [*preferred, "CPUExecutionProvider"]


class FaceDetector:
    """CenterFace in an onnxruntime session. Not thread-safe: one per worker."""

    def __init__(self, threads: int | None = None, providers: Sequence[str] | None = None):
        import onnxruntime as ort  # noqa: PLC0415  # slow to import; only when detecting

        prepared = load_model()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # the model's harmless warnings would drown real ones
        if threads:
            options.intra_op_num_threads = threads
        self._session: Any = ort.InferenceSession(
            prepared.data, sess_options=options, providers=_providers(providers)
        )
        self.model_sha256 = prepared.source_sha256
        self._buffer = np.zeros((1, 3, ALIGN, ALIGN), dtype=np.float32)

    @property
    def provider(self) -> str:
        """The execution provider actually in use (for reports and benchmarks)."""
        return str(self._session.get_providers()[0])

    def _blob(self, image: Image) -> npt.NDArray[np.float32]:
        height, width = image.shape[:2]
        padded_h = -(-height // ALIGN) * ALIGN
        padded_w = -(-width // ALIGN) * ALIGN
        if self._buffer.shape[2:] != (padded_h, padded_w):
            self._buffer = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        # Only [:height, :width] is ever written, so the padding stays zero.
        self._buffer[0, :, :height, :width] = image.transpose(2, 0, 1)
        return self._buffer

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Faces in an RGB image (H x W x 3, uint8) scoring at least ``min_score``."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError("expected an RGB image of shape (height, width, 3)")
        heatmap, size, offset, _landmarks = self._session.run(
            list(OUTPUTS), {INPUT: self._blob(image)}
        )
        return decode(heatmap, size, offset, image.shape[1], image.shape[0], min_score)


def decode(
    heatmap: npt.NDArray[np.float32],
    size: npt.NDArray[np.float32],
    offset: npt.NDArray[np.float32],
    width: int,
    height: int,
    min_score: float,
) -> list[Detection]:
    """Turn the network's three maps into boxes clipped to the (unpadded) image."""
    heat = heatmap[0, 0]
    rows, cols = np.nonzero(heat >= min_score)
    if rows.size == 0:
        return []
    scores = heat[rows, cols]
    box_h = np.exp(size[0, 0, rows, cols]) * STRIDE
    box_w = np.exp(size[0, 1, rows, cols]) * STRIDE
    cy = (rows + offset[0, 0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[0, 1, rows, cols] + 0.5) * STRIDE
    boxes = np.stack(
        [
            np.clip(cx - box_w / 2, 0, width),
            np.clip(cy - box_h / 2, 0, height),
            np.clip(cx + box_w / 2, 0, width),
            np.clip(cy + box_h / 2, 0, height),
        ],
        axis=1,
    ).astype(np.float64)
    keep = non_maximum_suppression(boxes, scores.astype(np.float64), NMS_IOU)
    return [
        Detection(Box(*(float(v) for v in boxes[i])), float(scores[i]))
        for i in keep
        if boxes[i, 2] > boxes[i, 0] and boxes[i, 3] > boxes[i, 1]
    ]


def non_maximum_suppression(
    boxes: npt.NDArray[np.float64], scores: npt.NDArray[np.float64], max_iou: float
) -> list[int]:
    """Indices of the boxes kept, strongest first: each suppresses weaker ones overlapping it."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        w = np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0])
        h = np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou < max_iou]
    return keep
