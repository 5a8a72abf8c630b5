"""A tiny hand-written model that obeys the generated C API (model.h / tinyeit_invoke).

It lets the firmware and deploy stages be built and tested without the code generator, and
makes "does not fit" cases on demand: `weights_bytes` of const data (flash) and `arena_bytes`
of static scratch (RAM). The model: out[j] = sum_i in[i] * (j + 1) / 64 (+ a weight byte * 0).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def write_fixture_model(out_dir: str | Path, input_size: int = 8, output_size: int = 4,
                        dtype: str = "float32", weights_bytes: int = 256, arena_bytes: int = 256) -> dict:
    """Write model.h and model.c to `out_dir`; return the codegen-style summary dict."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctype = {"float32": "float", "int8": "int8_t"}[dtype]
    scale, zero = ("0.05f", "-3") if dtype == "int8" else ("1.0f", "0")
    (out_dir / "model.h").write_text(f"""/* Fixture model for firmware tests (not generated). */
#ifndef TINYEIT_MODEL_H
#define TINYEIT_MODEL_H
#include <stdint.h>
#define TINYEIT_INPUT_SIZE {input_size}
#define TINYEIT_OUTPUT_SIZE {output_size}
#define TINYEIT_INPUT_TYPE {ctype}
#define TINYEIT_OUTPUT_TYPE {ctype}
#define TINYEIT_INPUT_SCALE {scale}
#define TINYEIT_INPUT_ZERO_POINT {zero}
#define TINYEIT_OUTPUT_SCALE {scale}
#define TINYEIT_OUTPUT_ZERO_POINT {zero}
#define TINYEIT_ARENA_BYTES {arena_bytes}
#define TINYEIT_WEIGHTS_BYTES {weights_bytes}
int tinyeit_invoke(const void *input, void *output);
#endif
""")
    if dtype == "int8":
        body = """        int32_t acc = 0;
        for (int i = 0; i < TINYEIT_INPUT_SIZE; ++i) acc += ((int32_t)in[i] - TINYEIT_INPUT_ZERO_POINT) * (j + 1);
        acc = acc / 64 + TINYEIT_OUTPUT_ZERO_POINT + (int32_t)(*(const volatile uint8_t *)&tinyeit_weights[j % TINYEIT_WEIGHTS_BYTES] & 0u);
        arena[j] = acc > 127 ? 127 : (acc < -128 ? -128 : acc);
        out[j] = (int8_t)arena[j];"""
    else:
        body = """        float acc = 0.0f;
        for (int i = 0; i < TINYEIT_INPUT_SIZE; ++i) acc += in[i] * (float)(j + 1) / 64.0f;
        arena[j] = acc + (float)(*(const volatile uint8_t *)&tinyeit_weights[j % TINYEIT_WEIGHTS_BYTES] & 0u);
        out[j] = arena[j];"""
    acc_type = "int32_t" if dtype == "int8" else "float"
    (out_dir / "model.c").write_text(f"""/* Fixture model for firmware tests (not generated). */
#include "model.h"

/* used so that the linker keeps every byte: flash as large as the real weights would be */
const uint8_t tinyeit_weights[TINYEIT_WEIGHTS_BYTES] = {{1}};
static volatile {acc_type} arena[TINYEIT_ARENA_BYTES / sizeof({acc_type})];

int tinyeit_invoke(const void *input, void *output) {{
    const {ctype} *in = (const {ctype} *)input;
    {ctype} *out = ({ctype} *)output;
    for (int j = 0; j < TINYEIT_OUTPUT_SIZE; ++j) {{
{body}
    }}
    return 0;
}}
""")
    # weights.json as `tinyeit codegen` writes it: the fixture's one weight array, one layer
    layer = {"op_index": 0, "op": "FULLY_CONNECTED", "tensor": 0, "shape": [output_size, input_size],
             "dtype": dtype, "weight_format": "dense", "weight_bytes": weights_bytes,
             "macs_executed": input_size * output_size, "macs_dense": input_size * output_size,
             "weights": input_size * output_size, "nonzero": input_size * output_size, "distinct": output_size}
    (out_dir / "weights.json").write_text(json.dumps(
        {"weight_format": "dense", "weight_bytes": weights_bytes,
         "macs_executed": input_size * output_size, "layers": [layer]}, indent=1, sort_keys=True) + "\n")
    return {"arena_bytes": arena_bytes, "weights_bytes": weights_bytes, "input_size": input_size,
            "output_size": output_size, "input_dtype": dtype, "output_dtype": dtype,
            "sources": ["model.c", "model.h"]}


def fixture_expected(frames: np.ndarray, output_size: int = 4) -> np.ndarray:
    """What the float fixture computes, for checking a run's FRAME lines."""
    frames = np.asarray(frames, dtype=np.float32)
    out = np.zeros((len(frames), output_size), dtype=np.float32)
    for j in range(output_size):
        acc = np.zeros(len(frames), dtype=np.float32)
        for i in range(frames.shape[1]):
            acc = np.float32(acc + frames[:, i] * np.float32(j + 1) / np.float32(64.0))
        out[:, j] = acc
    return out


def write_fixture_frames(path: str | Path, n: int = 3, input_size: int = 8, dtype: str = "float32",
                         seed: int = 0) -> np.ndarray:
    """A frames.npz like the export stage's (`input`, `output`, `label`) for the fixture model."""
    rng = np.random.default_rng(seed)
    if dtype == "int8":
        inputs = rng.integers(-128, 128, size=(n, input_size)).astype(np.int8)
    else:
        inputs = rng.standard_normal((n, input_size)).astype(np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, input=inputs, output=np.zeros((n, 4), dtype=inputs.dtype), label=np.zeros(n, np.int64))
    return inputs
