"""Ahead-of-time C code generator: .tflite in, plain C99 out (no interpreter, no heap).

`generate(tflite_path, out_dir)` writes model.h, model.c and the shared kernel sources
(tinyeit_kernels.h/.c). int8 models are computed with TFLite's reference-kernel integer math
(the same rounding, bit for bit: outputs equal LiteRT's BUILTIN_REF kernels; with
flavor="tflm" they equal TFLite Micro's, which differ only in int8 FULLY_CONNECTED
rounding). LiteRT's default (optimized, XNNPACK) kernels round differently in places: the
study's reference outputs must come from OpResolverType.BUILTIN_REF. float16 models
have their weights dequantized at generation time (stored as float32); dynamic-range models keep
int8 weights and run TFLite's hybrid kernels (inputs quantized per row at run time), as LiteRT
does. `run_host(tflite_path, inputs)` compiles that C for the host and runs it on every row.
"""
from __future__ import annotations

import json
import os

import numpy as np
from tinyeit.atomic import write_text

from tinyeit.codegen.model_reader import CodegenError

__all__ = ["generate", "run_host", "CodegenError"]


def generate(tflite_path: str, out_dir: str, flavor: str = "litert") -> dict:
    """Write the C sources for `tflite_path` into `out_dir` (atomically, file by file).

    Returns {"arena_bytes", "weights_bytes", "input_size", "output_size", "input_dtype",
    "output_dtype", "sources", "weights", ...}. Also writes `weights.json`: per conv / fully
    connected layer the storage format the generator chose, its weight bytes in flash and the
    MACs its kernel executes, and their per-model totals (codegen.weight_formats).
    """
    from tinyeit.codegen.generator import build  # noqa: PLC0415

    result = build(os.fspath(tflite_path), flavor)
    for name, text in result["files"].items():
        write_text(os.path.join(out_dir, name), text)
    weights = weights_of(result, tflite_path)
    write_text(os.path.join(out_dir, WEIGHTS_JSON), json.dumps(weights, indent=1, sort_keys=True) + "\n")
    info = {k: v for k, v in result.items() if k not in ("files", "layers")}
    info["sources"] = sorted(result["files"])
    info["weights"] = {k: v for k, v in weights.items() if k != "layers"}
    return info


WEIGHTS_JSON = "weights.json"


def weights_of(result: dict, tflite_path) -> dict:
    """weights.json's content: the generator's per-layer records when it gives them, else the
    dense storage it uses for every layer."""
    from tinyeit.codegen import weight_formats  # noqa: PLC0415

    layers = result.get("layers")
    if layers is None:
        layers = weight_formats.layer_records(os.fspath(tflite_path))
    return weight_formats.weights_document(layers)


def run_host(tflite_path: str, inputs: np.ndarray, flavor: str = "litert",
             codebook: str = "inloop") -> np.ndarray:
    """Generate, compile with the host C compiler, and run on every row of `inputs`.

    `inputs` has the model's input dtype; each row is reshaped to the model input. Returns
    (rows, *output shape without batch) in the model's output dtype. `codebook`: the
    clustered int8 layers decoded in the loop (inloop, the generator's own choice) or
    expanded into RAM at start-up (expand, auto: codegen.codebook_ram.plan, no RAM limit).
    """
    from tinyeit.codegen.generator import build  # noqa: PLC0415
    from tinyeit.codegen.host import build_executable, run_rows  # noqa: PLC0415

    result = build(os.fspath(tflite_path), flavor)
    rows = input_rows(result, tflite_path, inputs)
    files = dict(result["files"])
    if "tinyeit_codebook.h" in files:
        from tinyeit.codegen.codebook_ram import plan  # noqa: PLC0415

        files["tinyeit_codebook.h"] = plan(result["layers"], None, None, 0, mode=codebook)[0]
    exe = build_executable(files)
    return shaped_outputs(result, run_rows(exe, rows, np.dtype(result["output_dtype"]), result["output_size"]))


def input_rows(result: dict, tflite_path, inputs: np.ndarray) -> np.ndarray:
    """`inputs` as contiguous rows of the model's input size and dtype (what the generated C
    reads, one row per inference); a clear error naming the model otherwise."""
    in_dtype = np.dtype(result["input_dtype"])
    arr = np.asarray(inputs)
    if arr.dtype != in_dtype:
        raise CodegenError(f"{tflite_path}: inputs are {arr.dtype}, the model takes {in_dtype}")
    rows = arr.reshape(len(arr), -1) if arr.ndim > 1 else arr.reshape(1, -1)
    if rows.shape[1] != result["input_size"]:
        raise CodegenError(f"{tflite_path}: input rows have {rows.shape[1]} elements, the model "
                           f"takes {result['input_size']}")
    if len(rows) == 0:
        raise CodegenError(f"{tflite_path}: no input rows")
    return np.ascontiguousarray(rows)


def shaped_outputs(result: dict, out: np.ndarray) -> np.ndarray:
    """Output rows in the model's output shape without its batch of one."""
    shape = result["output_shape"]
    return out.reshape(len(out), *shape[1:]) if shape and shape[0] == 1 else out
