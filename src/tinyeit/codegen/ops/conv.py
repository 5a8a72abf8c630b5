"""CONV_2D and DEPTHWISE_CONV_2D (int8, hybrid, float), and the int8 requantization and
folded-bias helpers that fully connected shares."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.emit import c_float
from tinyeit.codegen.model_reader import Op, Tensor
from tinyeit.codegen.ops import Lowered, lowers
from tinyeit.codegen.passes import float_post, post_table


def conv_params(gen, op: Op, depthwise: bool) -> tuple[dict, Tensor, Tensor, Tensor]:
    x, w, out = gen.in_t(op, 0), gen.in_t(op, 1), gen.own_out(op)
    gen.require(op, len(x.shape) == 4 and len(w.shape) == 4, "expects 4D input and filter")
    gen.require(op, w.is_const, "filter must be a constant tensor")
    o = op.options
    n, ih, iw, ic = x.shape
    _, oh, ow, oc = out.shape
    kh, kw = (w.shape[1], w.shape[2])
    sh, sw = int(o.strideH), int(o.strideW)
    dh, dw = int(o.dilationHFactor or 1), int(o.dilationWFactor or 1)
    if depthwise:
        mult = int(o.depthMultiplier or 1)
        gen.require(op, w.shape[3] == oc, "filter channels do not match output")
        mult = oc // ic if ic else mult
        gen.require(op, mult * ic == oc, "depth multiplier does not match channels")
    else:
        mult = 1
        gen.require(op, w.shape[3] == ic, "grouped convolution is not supported")
        gen.require(op, w.shape[0] == oc, "filter count does not match output channels")
    eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if int(o.padding) == 0:  # SAME
        pad_h = max(0, ((oh - 1) * sh + eff_h - ih) // 2)
        pad_w = max(0, ((ow - 1) * sw + eff_w - iw) // 2)
    else:
        pad_h = pad_w = 0
    p = dict(batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc, k_h=kh,
             k_w=kw, stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw, pad_h=pad_h, pad_w=pad_w,
             depth_mult=mult)
    return p, x, w, out


def per_channel_requant(gen, op: Op, x: Tensor, w: Tensor, out: Tensor, n: int):
    """The per-channel multiplier and shift tables: (mult name, shift name, mults, shifts)."""
    mults, shifts = requant_lists(gen, op, x, w, out, n)
    return (gen.table("int32_t", mults, "mult"), gen.table("int32_t", shifts, "shift"),
            list(mults), list(shifts))


def requant_lists(gen, op: Op, x: Tensor, w: Tensor, out: Tensor, n: int):
    """The per-channel multipliers and shifts, as lists."""
    sx, _ = x.qparams()
    so, _ = out.qparams()
    ws = w.scale if len(w.scale) > 1 else np.repeat(w.scale, n)
    gen.require(op, len(ws) == n, "filter scales do not match output channels")
    mults, shifts = zip(*(fp.quantize_multiplier(float(sx) * float(s) / float(so))
                          for s in ws))
    # kernels shift by at most 31 either way (quantize_multiplier keeps shift >= -31)
    gen.require(op, max(shifts) <= 30, f"requantization scale {max(ws) * sx / so:g} is too "
                "large (shift above 30)")
    return list(mults), list(shifts)


# A channel whose filter is all zero outputs one constant, whatever its input: its folded bias
# requantized. Pruning leaves such channels with a tiny scale (and so a shift far below -22) and
# a bias to match, which the fast conv paths do not take. The generator gives them this
# multiplier and shift instead (x 1/4, exact on multiples of 4) and 4 x the constant as the bias.
ZERO_FILTER_MULT, ZERO_FILTER_SHIFT = 1 << 30, -1


def zero_filter_requant(filters: np.ndarray, folded: list, mults: list, shifts: list,
                        zo: int, lo: int, hi: int) -> tuple[list, list, list]:
    """(folded bias, mults, shifts) with every all-zero filter's channel rewritten as above:
    the same int8 output (double rounding, TFLite's conv), so the same folded-table entry."""
    folded, mults, shifts = list(folded), list(mults), list(shifts)
    for u in np.flatnonzero(~np.any(np.asarray(filters) != 0, axis=1)):
        want = min(max(fp.mbqm(int(folded[u]), int(mults[u]), int(shifts[u])) + zo, lo), hi)
        folded[u], mults[u], shifts[u] = 4 * (want - zo), ZERO_FILTER_MULT, ZERO_FILTER_SHIFT
        assert fp.mbqm(folded[u], mults[u], shifts[u]) == want - zo
    return folded, mults, shifts


def cheap_requant(bounds, mults, shifts) -> int:
    """1 when mbqm_cheap (tinyeit_common.h) equals the reference requantization for every
    accumulator each channel can reach (|acc| <= its bound): no int32 overflow in
    h + 2^(right-1). Else 0 and the kernels keep the reference form."""
    for bound, m, s in zip(bounds, mults, shifts):
        left, right = max(s, 0), max(-s, 0)
        x = min(int(bound) << left, 1 << 31)
        h = (x * int(m) + (1 << 30)) // (1 << 31) + 1
        if h + ((1 << right) >> 1) > (1 << 31) - 1:
            return 0
    return 1


def folded_conv_bias(gen, b: Tensor | None, w: Tensor, p: dict,
                     requant: tuple[list, list] | None = None):
    """Fold in_offset * sum(weights) into the int32 bias (exact int32 math, as the kernel
    would accumulate it), and, when some window leaves the input, the per-tap terms that a
    border window must take back out (TFLite skips those taps). With requant (the channels'
    mults and shifts): all-zero filters rewritten (zero_filter_requant), and the return value
    is (bias, tap terms, mult table, shift table, mults, shifts)."""
    oc, io = p["out_c"], p["in_offset"]
    taps = w.data.astype(np.int64).reshape(oc, p["k_h"] * p["k_w"], p["in_c"]).sum(axis=2)
    base = b.data.astype(np.int64).reshape(oc) if b is not None else np.zeros(oc, np.int64)
    folded = [fp._wrap32(int(v)) for v in base + io * taps.sum(axis=1)]
    if requant is not None:  # the tables in the order per_channel_requant emits them
        folded, mults, shifts = zero_filter_requant(w.data.reshape(oc, -1), folded, *requant,
                                                    p["out_offset"], p["act_min"], p["act_max"])
        requant = (gen.table("int32_t", mults, "mult"), gen.table("int32_t", shifts, "shift"),
                   mults, shifts)
    bias = gen.table("int32_t", folded, "bias")

    def all_full(n_out, stride, pad, k, dil, size):
        return all(0 <= o * stride - pad and o * stride - pad + (k - 1) * dil < size
                   for o in range(n_out))

    if (all_full(p["out_h"], p["stride_h"], p["pad_h"], p["k_h"], p["dil_h"], p["in_h"]) and
            all_full(p["out_w"], p["stride_w"], p["pad_w"], p["k_w"], p["dil_w"], p["in_w"])):
        corr = "NULL"
    else:
        corr = gen.table("int32_t", [fp._wrap32(int(v)) for v in (io * taps).reshape(-1)],
                         "tapcorr")
    return (bias, corr) if requant is None else (bias, corr, *requant)


def _conv(gen, op: Op, ptr, depthwise: bool) -> Lowered:
    p, x, w, out = conv_params(gen, op, depthwise)
    b = gen.in_t(op, 2)
    low = Lowered()
    kind = "dwconv" if depthwise else "conv"
    if x.dtype == np.int8:
        gen.require(op, w.dtype == np.int8 and out.dtype == np.int8,
                    "int8 conv needs int8 filter and output")
        gen.require(op, not np.any(w.zero_point), "filter zero points must be 0")
        sx, zx = x.qparams()
        so, zo = out.qparams()
        p.update(in_offset=-zx, out_offset=zo, **gen.act_range(op, out))
        if depthwise:
            mult, shift, mults, shifts = per_channel_requant(gen, op, x, w, out, p["out_c"])
            prm = gen.params("tinyeit_conv_params", p)
            bias = gen.const(b.index, np.int32) if b is not None else "NULL"
            low.code.append(f"tinyeit_dwconv_s8({ptr(x)}, {gen.const(w.index)}, {bias}, "
                            f"{mult}, {shift}, {ptr(out)}, &{prm});")
        else:
            bias, corr, mult, shift, mults, shifts = folded_conv_bias(
                gen, b, w, p, requant_lists(gen, op, x, w, out, p["out_c"]))
            wabs = np.abs(w.data.astype(np.int64)).reshape(p["out_c"], -1).sum(axis=1)
            base = (np.abs(b.data.astype(np.int64)).reshape(-1) if b is not None
                    else np.zeros(p["out_c"], np.int64))
            zero = wabs == 0  # rewritten channels: their bias is 4 x an int8 value
            base[zero] = 4 * 256
            zx_span = max(127 - zx, zx + 128)
            p["cheap_rq"] = cheap_requant(base + wabs * zx_span, mults, shifts)
            post, p["post_len"], dest = post_table(gen, op, out, p["act_min"], p["act_max"])
            prm = gen.params("tinyeit_conv_params", p)
            low.code.append(f"tinyeit_conv_s8({ptr(x)}, {gen.packed_fc_s8(w)}, {bias}, "
                            f"{corr}, {mult}, {shift}, {post}, {ptr(dest)}, &{prm});")
    elif w.dtype == np.int8 and x.dtype == np.float32:
        gen.require(op, not depthwise, "hybrid depthwise convolution is not supported")
        p.update(**gen.act_range(op, out))
        ws = w.scale if len(w.scale) > 1 else np.repeat(w.scale, p["out_c"])
        scales = gen.table("float", [c_float(v) and float(v) for v in ws], "wscale")
        bias = gen.const(b.index) if b is not None else "NULL"
        prm = gen.params("tinyeit_conv_params", p)
        low.scratch_bytes = p["in_h"] * p["in_w"] * p["in_c"]
        low.code.append(f"tinyeit_conv_hybrid({ptr(x)}, {gen.const(w.index)}, {scales}, "
                        f"{bias}, (int8_t *)scratch, {ptr(out)}, &{prm});")
    elif x.dtype == np.float32 and w.dtype == np.float32:
        p.update(**gen.act_range(op, out))
        bias = gen.const(b.index) if b is not None else "NULL"
        mul, add, dest = float_post(gen, op)
        p.update({k: v for k, v in (("post_mul", mul), ("post_add", add)) if v is not None})
        prm = gen.params("tinyeit_conv_params", p)
        wname = gen.const(w.index) if depthwise else gen.blocked_f32(w)
        low.code.append(f"tinyeit_{kind}_f32({ptr(x)}, {wname}, {bias}, "
                        f"{ptr(dest)}, &{prm});")
    else:
        raise gen.fail(op, f"unsupported types input {x.dtype}, filter {w.dtype}")
    return low


@lowers("CONV_2D")
def conv_2d(gen, op: Op, ptr) -> Lowered:
    return _conv(gen, op, ptr, False)


@lowers("DEPTHWISE_CONV_2D")
def depthwise_conv_2d(gen, op: Op, ptr) -> Lowered:
    return _conv(gen, op, ptr, True)
