"""MAX_POOL_2D, AVERAGE_POOL_2D and MEAN (int8 and float)."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.model_reader import Op
from tinyeit.codegen.ops import Lowered, lowers


def _pool(gen, op: Op, ptr, kind: str) -> Lowered:
    x, out = gen.in_t(op, 0), gen.t[op.outputs[0]]
    gen.require(op, len(x.shape) == 4, "expects a 4D input")
    o = op.options
    n, ih, iw, c = x.shape
    _, oh, ow, _ = out.shape
    kh, kw, sh, sw = int(o.filterHeight), int(o.filterWidth), int(o.strideH), int(o.strideW)
    if int(o.padding) == 0:
        pad_h = max(0, ((oh - 1) * sh + kh - ih) // 2)
        pad_w = max(0, ((ow - 1) * sw + kw - iw) // 2)
    else:
        pad_h = pad_w = 0
    p = dict(batches=n, in_h=ih, in_w=iw, ch=c, out_h=oh, out_w=ow, k_h=kh, k_w=kw,
             stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w, **gen.act_range(op, out))
    suffix = "s8" if x.dtype == np.int8 else "f32"
    if x.dtype == np.int8:
        gen.require(op, x.qparams() == out.qparams(),
                    "int8 pooling needs equal input and output quantization")
    prm = gen.params("tinyeit_pool_params", p)
    return Lowered([f"tinyeit_{kind}_{suffix}({ptr(x)}, {ptr(out)}, &{prm});"])


@lowers("MAX_POOL_2D")
def max_pool_2d(gen, op: Op, ptr) -> Lowered:
    return _pool(gen, op, ptr, "maxpool")


@lowers("AVERAGE_POOL_2D")
def average_pool_2d(gen, op: Op, ptr) -> Lowered:
    return _pool(gen, op, ptr, "avgpool")


@lowers("MEAN")
def mean(gen, op: Op, ptr) -> Lowered:
    x, ax, out = gen.in_t(op, 0), gen.in_t(op, 1), gen.t[op.outputs[0]]
    gen.require(op, ax is not None and ax.is_const, "axis must be constant")
    rank = len(x.shape)
    axes = sorted({int(a) % rank for a in np.asarray(ax.data).reshape(-1)})
    dims = [(d, i in axes) for i, d in enumerate(x.shape) if d != 1]
    flags = [r for _, r in dims]
    reduced = [i for i, r in enumerate(flags) if r]
    if reduced:
        gen.require(op, reduced == list(range(reduced[0], reduced[-1] + 1)),
                    f"reducing non-adjacent axes {axes} is not supported")
        outer = int(np.prod([d for d, _ in dims[:reduced[0]]], dtype=np.int64))
        red = int(np.prod([d for d, _ in dims[reduced[0]:reduced[-1] + 1]], dtype=np.int64))
        inner = int(np.prod([d for d, _ in dims[reduced[-1] + 1:]], dtype=np.int64))
    else:
        outer, red, inner = 1, 1, x.size
    if x.dtype == np.int8:
        sx, zx = x.qparams()
        so, zo = out.qparams()
        m, s = fp.quantize_multiplier(float(sx) / float(so))
        shift = (red.bit_length() - 1) if red > 0 else 0
        shift = min(shift, 32, 31 + s)
        m = (m << shift) // red
        s = s - shift
        return Lowered([f"tinyeit_mean_s8({ptr(x)}, {ptr(out)}, {outer}, {red}, {inner}, "
                        f"{zx}, {zo}, {m}, {s});"])
    return Lowered([f"tinyeit_mean_f32({ptr(x)}, {ptr(out)}, {outer}, {red}, {inner});"])
