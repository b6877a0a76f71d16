"""Detector models: optional extra signals, such as "a person is in the picture".

No trained model ships with Tainik (none can be downloaded onto an offline workstation), so
triage works from motion and sound. A model an organisation trusts plugs in here.

A :class:`Detector` is anything with a ``name`` and a ``score`` method that takes an RGB frame
(height x width x 3, uint8, at the analysis size) and returns a number. Detectors see
``detector_rate`` frames a second (1 by default); a score at or above the detector's threshold
(a setting, not part of the model) counts as a detection. :class:`OnnxDetector` runs an ONNX
model with onnxruntime under this contract (docs/triage.md, "Detector models"):

- one input, float32, shape ``[N, C, H, W]``: N is 1, C is 3 (RGB) or 1 (grey), values 0..1;
  H and W are the model's own when fixed, else the analysis size;
- first output: any shape with N first; the frame's score is the largest value in it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from tainik.sealed.hashing import sha256_file
from tainik.workstation.triage.errors import DetectorError
from tainik.workstation.triage.params import DetectorSpec

Rgb = npt.NDArray[np.uint8]


class Detector(Protocol):
    """A per-frame scorer that adds its own signal to triage."""

    name: str

    def score(self, frame: Rgb) -> float:
        """How strongly the frame shows what the detector looks for."""
        ...


def describe(path: Path, name: str | None, threshold: float) -> DetectorSpec:
    """A spec for the model at ``path``, its hash taken now (it keys the cache)."""
    if not path.is_file():
        raise DetectorError(path=str(path), reason="no such file")
    return DetectorSpec(
        path=str(path),
        name=name or path.stem,
        sha256=sha256_file(path),
        threshold=threshold,
    )


class OnnxDetector:
    """An ONNX model under the contract in this module's docstring."""

    def __init__(self, spec: DetectorSpec, threads: int = 1) -> None:
        self.name = spec.name
        runtime: Any = importlib.import_module("onnxruntime")
        options = runtime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = runtime.InferenceSession(
                spec.path, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own, untyped exceptions
            raise DetectorError(path=spec.path, reason=str(exc).splitlines()[0]) from exc
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise DetectorError(path=spec.path, reason="expected one input of shape N,C,H,W")
        self._input = inputs[0].name
        _, channels, height, width = inputs[0].shape
        if channels not in (1, 3):
            raise DetectorError(path=spec.path, reason="the input must have 1 or 3 channels")
        self._channels = int(channels)
        fixed = isinstance(height, int) and isinstance(width, int)
        self._size = (int(width), int(height)) if fixed else None
        self._path = spec.path

    def score(self, frame: Rgb) -> float:
        """The model's largest output for ``frame``."""
        image: cv2.typing.MatLike = frame
        if self._size is not None and (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        if self._channels == 1:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, np.newaxis]
        tensor = np.ascontiguousarray(image.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)
        tensor /= 255.0
        try:
            outputs = self._session.run(None, {self._input: tensor})
        except Exception as exc:  # onnxruntime's own exception types
            raise DetectorError(path=self._path, reason=str(exc).splitlines()[0]) from exc
        first = np.asarray(outputs[0], dtype=np.float64)
        return float(first.max()) if first.size else 0.0


def load(spec: DetectorSpec, threads: int = 1) -> Detector:
    """The detector a spec describes (ONNX is the one kind today)."""
    return OnnxDetector(spec, threads=threads)
