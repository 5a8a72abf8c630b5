"""LOGISTIC and TANH (int8 as a 256-entry table computed here), RELU and RELU6."""
from __future__ import annotations

import math

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.emit import c_float
from tinyeit.codegen.model_reader import Op
from tinyeit.codegen.ops import Lowered, lowers


def _lut_or_float(gen, op: Op, ptr, kind: str) -> Lowered:
    x, out = gen.in_t(op, 0), gen.t[op.outputs[0]]
    if x.dtype == np.int8:
        from tinyeit.codegen import lut  # noqa: PLC0415

        table = lut.int8_table(kind, x.qparams(), out.qparams())
        name = gen.table("int8_t", table, kind)
        return Lowered([f"tinyeit_lut_s8({ptr(x)}, {ptr(out)}, {x.size}, {name});"])
    return Lowered([f"tinyeit_{kind}_f32({ptr(x)}, {ptr(out)}, {x.size});"])


@lowers("LOGISTIC")
def logistic(gen, op: Op, ptr) -> Lowered:
    return _lut_or_float(gen, op, ptr, "logistic")


@lowers("TANH")
def tanh(gen, op: Op, ptr) -> Lowered:
    return _lut_or_float(gen, op, ptr, "tanh")


def _relu(gen, op: Op, ptr, lo: float, hi: float) -> Lowered:
    x, out = gen.in_t(op, 0), gen.t[op.outputs[0]]
    if x.dtype == np.int8:
        sx, zx = x.qparams()
        so, zo = out.qparams()
        m, s = fp.quantize_multiplier(float(sx) / float(so))
        qlo = max(-128, zo + fp._round_half_away(fp.f32(lo / np.float32(so))))
        qhi = 127 if math.isinf(hi) else min(127, zo + fp._round_half_away(
            fp.f32(hi / np.float32(so))))
        return Lowered([f"tinyeit_requant_s8({ptr(x)}, {ptr(out)}, {x.size}, {zx}, {zo}, "
                        f"{m}, {s}, {qlo}, {qhi});"])
    return Lowered([f"tinyeit_clamp_f32({ptr(x)}, {ptr(out)}, {x.size}, {c_float(lo)}, "
                    f"{c_float(hi)});"])


@lowers("RELU")
def relu(gen, op: Op, ptr) -> Lowered:
    return _relu(gen, op, ptr, 0.0, math.inf)


@lowers("RELU6")
def relu6(gen, op: Op, ptr) -> Lowered:
    return _relu(gen, op, ptr, 0.0, 6.0)
