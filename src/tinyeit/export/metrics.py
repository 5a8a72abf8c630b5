"""Size and cost figures of one variant.

- params / nonzero_params: elements of the network's own weights (kernels, biases, BatchNorm
  gamma/beta/moving statistics) in the Keras model, not tfmot's helper variables (quantizer
  ranges, step counters); unstructured pruning shows up in nonzero_params only.
- macs: multiply-accumulates of one inference, counted from the .tflite graph: for CONV_2D
  output elements x (kernel height x width x input channels), for DEPTHWISE_CONV_2D output
  elements x kernel height x width, for FULLY_CONNECTED output elements x input features.
  Element-wise ops (BatchNorm's MUL/ADD), pooling and softmax are not counted.
- tflite_gzip_bytes: gzip level 9 with mtime 0 and no file name, so it is reproducible; it
  shows what pruning and clustering buy (zeros and repeated values compress).
"""
from __future__ import annotations

import gzip
import io

import numpy as np

WEIGHT_NAMES = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance")


def network_weights(model) -> list[np.ndarray]:
    """The network's own weights, skipping tfmot's quantizer/pruning/clustering variables."""
    arrays = []
    for variable in model.weights:
        leaf = variable.name.split("/")[-1].split(":")[0]
        if leaf in WEIGHT_NAMES:
            arrays.append(variable.numpy())
    return arrays


def param_counts(model) -> tuple[int, int]:
    arrays = network_weights(model)
    return (int(sum(a.size for a in arrays)), int(sum(np.count_nonzero(a) for a in arrays)))


def macs(tflite: bytes) -> int:
    from tinyeit.export.litert import interpreter

    it = interpreter(tflite)
    shapes = {t["index"]: tuple(int(d) for d in t["shape"]) for t in it.get_tensor_details()}
    total = 0
    for op in it._get_ops_details():  # public API has no op list; this is LiteRT's own helper
        name, inputs, outputs = op["op_name"], list(op["inputs"]), list(op["outputs"])
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        out_elems = int(np.prod(shapes[outputs[0]]))
        weights = shapes[inputs[1]]
        if name == "CONV_2D":
            total += out_elems * weights[1] * weights[2] * weights[3]
        elif name == "DEPTHWISE_CONV_2D":
            total += out_elems * weights[1] * weights[2]
        else:
            total += out_elems * weights[-1]
    return int(total)


def gzip_size(data: bytes) -> int:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    return len(buf.getvalue())


def op_names(tflite: bytes) -> list[str]:
    from tinyeit.export.litert import interpreter

    return [op["op_name"] for op in interpreter(tflite)._get_ops_details()]
