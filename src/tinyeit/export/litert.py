"""Run .tflite bytes with LiteRT (ai_edge_litert), one frame per invocation, as a board does.

Outputs (accuracy, the expected outputs in frames.npz) come from LiteRT's reference kernels
(BUILTIN_REF): the semantics that TFLite Micro and the project's generated C follow, without
XNNPACK, whose int8 rounding can differ. Host latency and host instructions use LiteRT's
default resolver (optimized kernels plus XNNPACK, one thread): what a PC user of the .tflite
gets (`tinyeit.export.host_latency`).

Frames are float32 [n, n_features]; for an int8 model they are quantized with the input
tensor's scale and zero point (q = round(x / scale) + zero_point, clipped to int8), exactly
the values embedded in the firmware.
"""
from __future__ import annotations

import numpy as np


def interpreter(tflite: bytes, reference: bool = True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if reference else OpResolverType.AUTO
    it = Interpreter(model_content=tflite, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    return it


def quantize_input(frames: np.ndarray, detail: dict) -> np.ndarray:
    """Frames in the model's input dtype (quantized for integer inputs)."""
    dtype = np.dtype(detail["dtype"])
    frames = np.asarray(frames, dtype=np.float32)
    if dtype == np.float32:
        return frames
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    q = np.round(frames / np.float32(scale)) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def run_frames(it, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs as fed, raw outputs) for float frames [n, n_features]; one invoke per frame."""
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    fed = quantize_input(frames, inp)
    outputs = np.empty((len(fed), int(np.prod(out["shape"][1:]))), dtype=out["dtype"])
    for i, frame in enumerate(fed):
        it.set_tensor(inp["index"], frame.reshape(inp["shape"]))
        it.invoke()
        outputs[i] = it.get_tensor(out["index"]).reshape(-1)
    return fed, outputs


def accuracy(tflite: bytes, frames: np.ndarray, labels: np.ndarray) -> float:
    """Arg-max accuracy (valid for int8 outputs too: dequantization is monotone)."""
    if len(frames) == 0:
        return float("nan")
    _, outputs = run_frames(interpreter(tflite), frames)
    return float(np.mean(np.argmax(outputs, axis=1) == np.asarray(labels)))
