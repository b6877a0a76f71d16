"""The detector interface, with a tiny ONNX model built here: "is anything pure white?"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import run_cli
from tainik.core.errors import ExitCode
from tainik.workstation.triage.detectors import OnnxDetector, describe
from tainik.workstation.triage.errors import DetectorError
from tainik.workstation.triage.segmentation import Span, iou
from workstation.triage.synthetic import make_bright_box

BOX = Span(10.0, 20.0)


def bright_model(path: Path, channels: int = 3, size: tuple[int, int] | None = None) -> Path:
    """score = max over the picture of 10 * relu(x - 0.9): 1 for white, 0 for mid-grey."""
    height, width = size or ("H", "W")
    frame = helper.make_tensor_value_info("frame", TensorProto.FLOAT, [1, channels, height, width])
    score = helper.make_tensor_value_info("score", TensorProto.FLOAT, [1])
    nodes = [
        helper.make_node("Sub", ["frame", "level"], ["above"]),
        helper.make_node("Relu", ["above"], ["positive"]),
        helper.make_node("Mul", ["positive", "gain"], ["scaled"]),
        helper.make_node("ReduceMax", ["scaled"], ["score"], axes=[1, 2, 3], keepdims=0),
    ]
    constants = [
        helper.make_tensor("level", TensorProto.FLOAT, [], [0.9]),
        helper.make_tensor("gain", TensorProto.FLOAT, [], [10.0]),
    ]
    graph = helper.make_graph(nodes, "bright", [frame], [score], initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_detector_scores_frames(tmp_path: Path) -> None:
    detector = OnnxDetector(describe(bright_model(tmp_path / "bright.onnx"), None, 0.5))
    assert detector.name == "bright"
    grey = np.full((120, 160, 3), 128, np.uint8)
    assert detector.score(grey) == pytest.approx(0.0)
    grey[10:20, 10:20] = 255
    assert detector.score(grey) == pytest.approx(1.0, abs=1e-5)


def test_fixed_size_grey_models_get_resized_frames(tmp_path: Path) -> None:
    path = bright_model(tmp_path / "grey.onnx", channels=1, size=(32, 32))
    detector = OnnxDetector(describe(path, "grey", 0.5))
    white = np.full((120, 160, 3), 255, np.uint8)
    assert detector.score(white) == pytest.approx(1.0, abs=1e-5)


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(DetectorError):
        OnnxDetector(describe(junk, None, 0.5))


def test_a_detector_adds_its_own_signal(tmp_path: Path) -> None:
    video = make_bright_box(tmp_path / "box.mp4", 30.0, BOX)
    model = bright_model(tmp_path / "bright.onnx")
    out = tmp_path / "report"
    argv = ["triage", str(video), "--out", str(out), "--detector", str(model), "--no-clips"]
    # Motion alone cannot count here: only the detector can find the box.
    result = run_cli([*argv, "--detector-rate", "5", "--motion-threshold", "1"])
    assert result.code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    document = json.loads((out / report["videos"][0]["result"]).read_text())
    (segment,) = document["segments"]
    assert segment["why"] == ["bright"]
    assert iou(Span(segment["start"], segment["end"]), BOX) >= 0.8
    assert segment["peaks"]["bright"] == pytest.approx(1.0, abs=0.05)
    assert "bright" in document["timeline"]["series"]
    assert (
        document["analysis"]["settings"]["detectors"][0]["sha256"]
        == describe(model, None, 0.5).sha256
    )


def test_cli_refuses_a_broken_model(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    video = make_bright_box(tmp_path / "box.mp4", 3.0, Span(1.0, 2.0))
    result = run_cli(["triage", str(video), "--out", str(tmp_path / "r"), "--detector", str(junk)])
    assert result.code == ExitCode.USAGE
    assert "junk.onnx: cannot use this detector model" in result.stderr
    assert not (tmp_path / "r").exists()
