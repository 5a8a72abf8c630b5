"""QUANTIZE (float to int8, int8 to int8) and DEQUANTIZE of a run-time tensor (constant ones
are folded at generation time: passes.fold_constants)."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.emit import c_float
from tinyeit.codegen.model_reader import Op
from tinyeit.codegen.ops import Lowered, lowers


@lowers("QUANTIZE")
def quantize(gen, op: Op, ptr) -> Lowered:
    x, out = gen.in_t(op, 0), gen.t[op.outputs[0]]
    so, zo = out.qparams()
    gen.require(op, out.dtype == np.int8, f"quantize to {out.dtype} is not supported")
    if x.dtype == np.float32:
        return Lowered([f"tinyeit_quantize_f32_s8({ptr(x)}, {ptr(out)}, {x.size}, "
                        f"{c_float(so)}, {zo});"])
    gen.require(op, x.dtype == np.int8, f"quantize from {x.dtype} is not supported")
    sx, zx = x.qparams()
    m, s = fp.quantize_multiplier(float(sx) / float(so))
    return Lowered([f"tinyeit_requant_s8({ptr(x)}, {ptr(out)}, {x.size}, {zx}, {zo}, "
                    f"{m}, {s}, -128, 127);"])


@lowers("DEQUANTIZE")
def dequantize(gen, op: Op, ptr) -> Lowered:
    x, out = gen.in_t(op, 0), gen.t[op.outputs[0]]
    gen.require(op, x.dtype == np.int8 and out.dtype == np.float32,
                f"dequantize {x.dtype} -> {out.dtype} of a non-constant tensor")
    sx, zx = x.qparams()
    return Lowered([f"tinyeit_dequantize_s8_f32({ptr(x)}, {ptr(out)}, {x.size}, "
                    f"{c_float(sx)}, {zx});"])
