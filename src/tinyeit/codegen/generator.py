"""Lower a .tflite graph to C99: one call per op, const weights, one planned static arena.

Design choices (documented in the package docstring too):
- int8 math is exact TFLite reference-kernel math; per-op multipliers, shifts and tables are
  computed here, at generation time, so the board runs only integer loops.
- float16 models: their DEQUANTIZE ops of constant weights are folded here (weights are stored
  as float32). Dynamic-range (hybrid) models keep int8 weights in flash and run TFLite's hybrid
  kernels (inputs quantized per row at run time), which is what LiteRT computes.
- RESHAPE / EXPAND_DIMS / SQUEEZE cost nothing: their output shares its input's storage.
- The model input and output are the caller's buffers; the arena holds only intermediates.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.model_reader import CodegenError, Graph, Op, Tensor, read_model
from tinyeit.codegen.planner import Buffer, peak_live_bytes, plan

SUPPORTED_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN",
    "FULLY_CONNECTED", "RESHAPE", "EXPAND_DIMS", "SQUEEZE", "ADD", "MUL", "CONCATENATION",
    "SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6", "QUANTIZE", "DEQUANTIZE", "PAD",
    "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND",
)
ALIAS_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
F32_BLOCK = 8  # TINYEIT_F32_BLOCK in tinyeit_kernels.h
_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
_CTYPE = {np.dtype(np.int8): "int8_t", np.dtype(np.float32): "float",
          np.dtype(np.int32): "int32_t", np.dtype(np.int16): "int16_t",
          np.dtype(np.uint8): "uint8_t", np.dtype(np.int64): "int64_t"}


def c_float(x: float) -> str:
    x = float(np.float32(x))
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    if x == 0.0:
        return "0.0f" if math.copysign(1.0, x) > 0 else "-0.0f"
    return f"{x.hex()}f"


def c_array(ctype: str, name: str, values, per_line: int = 16) -> str:
    vals = np.asarray(values).reshape(-1)
    if ctype == "float":
        items = [c_float(v) for v in vals]
    elif ctype == "int32_t":
        items = [str(int(v)) if int(v) != -(1 << 31) else "INT32_MIN" for v in vals]
    else:
        items = [str(int(v)) for v in vals]
    if not items:
        items = ["0"]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(items)}] = {{\n    {body}\n}};\n"


def aligned_array(ctype: str, name: str, values) -> str:
    """A const array in a union with an int32_t, so that it is word aligned in plain C99: use
    `name.v`."""
    text = c_array(ctype, "v", values)
    body = text[len(f"static const {ctype} "):].rstrip().rstrip(";")
    decl, init = body.split(" = ", 1)
    return (f"static const union {{ {ctype} {decl}; int32_t align; }} {name} = {{\n"
            f"    {init.strip()}\n}};\n")


@dataclass
class Lowered:
    """Everything emitted for one op."""

    code: list[str] = field(default_factory=list)
    consts: list[str] = field(default_factory=list)
    const_bytes: int = 0
    scratch_bytes: int = 0


class Generator:
    """Holds the graph and the state of one generation run."""

    def __init__(self, graph: Graph, flavor: str = "litert"):
        self.flavor = flavor
        self.g = graph
        self.t = graph.tensors
        self.const_names: dict[int, str] = {}
        self.const_decls: list[str] = []
        self.weights_bytes = 0
        self.counter = 0
        self.folds: dict = {}
        self.last_requant: tuple[list, list] = ([], [])

    # ---- helpers -------------------------------------------------------------------------
    def fail(self, op: Op, why: str) -> CodegenError:
        return CodegenError(f"{self.g.path}: op {op.index} ({op.name}): {why}")

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, idx: int, dtype=None) -> str:
        """Name of a const array holding tensor idx (emitted once)."""
        key = (idx, np.dtype(dtype).str if dtype is not None else None)
        if key in self.const_names:
            return self.const_names[key]
        t = self.t[idx]
        data = t.data if dtype is None else t.data.astype(dtype)
        ctype = _CTYPE[np.dtype(data.dtype)]
        cname = f"tensor_{idx}" if dtype is None else f"tensor_{idx}_{np.dtype(dtype).name}"
        self.const_decls.append(c_array(ctype, cname, data))
        self.weights_bytes += data.nbytes
        self.const_names[key] = cname
        return cname

    def blocked_f32(self, w: Tensor) -> str:
        """float weights [rows, ...] in the kernels' blocked layout: rows in blocks of
        F32_BLOCK interleaved element by element, the remaining rows as they are."""
        key = (w.index, "blocked")
        if key not in self.const_names:
            rows = w.data.astype(np.float32).reshape(w.shape[0], -1)
            full = rows.shape[0] - rows.shape[0] % F32_BLOCK
            blocks = rows[:full].reshape(-1, F32_BLOCK, rows.shape[1]).transpose(0, 2, 1)
            data = np.concatenate([blocks.reshape(-1), rows[full:].reshape(-1)])
            self.const_names[key] = self.table("float", data, f"tensor_{w.index}_blocked")
        return self.const_names[key]

    def packed_fc_s8(self, w: Tensor) -> str:
        """int8 fully connected weights [units, n] in the kernels' layout (tinyeit_kernels.h,
        tinyeit_fc_s8): units in blocks of 4, each block as groups of 4 inputs x 4 units
        (16 bytes: unit 0's 4 bytes, unit 1's, ...), then the last n % 4 inputs, each as the 4
        units' weights; the units % 4 remaining units as plain rows. Word aligned."""
        key = (w.index, "fc4")
        if key not in self.const_names:
            rows = w.data.astype(np.int8).reshape(w.shape[0], -1)
            units, n = rows.shape
            n4, full = n - n % 4, units - units % 4
            parts = []
            for u in range(0, full, 4):
                blk = rows[u:u + 4]
                parts.append(blk[:, :n4].reshape(4, n4 // 4, 4).transpose(1, 0, 2).reshape(-1))
                parts.append(blk[:, n4:].T.reshape(-1))
            parts.append(rows[full:].reshape(-1))
            data = np.concatenate(parts)
            cname = f"tensor_{w.index}_fc4"
            self.const_decls.append(aligned_array("int8_t", cname, data))
            self.weights_bytes += data.nbytes
            self.const_names[key] = f"{cname}.v"
        return self.const_names[key]

    def table(self, ctype: str, values, prefix: str = "tab") -> str:
        cname = self.name(prefix)
        self.const_decls.append(c_array(ctype, cname, values))
        self.weights_bytes += np.asarray(values).size * {"int8_t": 1}.get(ctype, 4)
        return cname

    def params(self, ctype: str, fields: dict) -> str:
        cname = self.name("p")
        body = ", ".join(f".{k} = {v}" for k, v in fields.items())
        self.const_decls.append(f"static const {ctype} {cname} = {{ {body} }};\n")
        return cname

    def act(self, op: Op) -> str:
        code = getattr(op.options, "fusedActivationFunction", 0) or 0
        if code not in _ACT:
            raise self.fail(op, f"fused activation {code} is not supported")
        return _ACT[code]

    def act_range(self, op: Op, out: Tensor) -> dict:
        act = self.act(op)
        if out.dtype == np.int8:
            s, z = out.qparams()
            lo, hi = fp.activation_range(act, s, z)
            return {"act_min": lo, "act_max": hi}
        lo, hi = {"NONE": (-math.inf, math.inf), "RELU": (0.0, math.inf),
                  "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}[act]
        return {"f_min": c_float(lo), "f_max": c_float(hi)}

    def require(self, op: Op, cond: bool, why: str) -> None:
        if not cond:
            raise self.fail(op, why)

    def in_t(self, op: Op, k: int) -> Tensor | None:
        return self.t[op.inputs[k]] if k < len(op.inputs) and op.inputs[k] >= 0 else None

    @staticmethod
    def dims4(shape) -> list[int]:
        shape = list(shape)
        if len(shape) > 4:
            raise ValueError(shape)
        return [1] * (4 - len(shape)) + shape

    # ---- per-op lowering: each returns (kernel call using {in0},{w}... placeholders) ---------
    def lower(self, op: Op, ptr) -> Lowered:
        fn = getattr(self, "op_" + op.name.lower(), None)
        if fn is None or op.name not in SUPPORTED_OPS:
            raise CodegenError(
                f"{self.g.path}: op {op.index} is {op.name}, which the code generator does not "
                f"support (supported: {', '.join(SUPPORTED_OPS)})")
        return fn(op, ptr)

    def _conv_params(self, op: Op, depthwise: bool) -> tuple[dict, Tensor, Tensor, Tensor]:
        x, w, out = self.in_t(op, 0), self.in_t(op, 1), self.own_out(op)
        self.require(op, len(x.shape) == 4 and len(w.shape) == 4, "expects 4D input and filter")
        self.require(op, w.is_const, "filter must be a constant tensor")
        o = op.options
        n, ih, iw, ic = x.shape
        _, oh, ow, oc = out.shape
        kh, kw = (w.shape[1], w.shape[2])
        sh, sw = int(o.strideH), int(o.strideW)
        dh, dw = int(o.dilationHFactor or 1), int(o.dilationWFactor or 1)
        if depthwise:
            mult = int(o.depthMultiplier or 1)
            self.require(op, w.shape[3] == oc, "filter channels do not match output")
            mult = oc // ic if ic else mult
            self.require(op, mult * ic == oc, "depth multiplier does not match channels")
        else:
            mult = 1
            self.require(op, w.shape[3] == ic, "grouped convolution is not supported")
            self.require(op, w.shape[0] == oc, "filter count does not match output channels")
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

    def _per_channel_requant(self, op: Op, x: Tensor, w: Tensor, out: Tensor, n: int):
        sx, _ = x.qparams()
        so, _ = out.qparams()
        ws = w.scale if len(w.scale) > 1 else np.repeat(w.scale, n)
        self.require(op, len(ws) == n, "filter scales do not match output channels")
        mults, shifts = zip(*(fp.quantize_multiplier(float(sx) * float(s) / float(so))
                              for s in ws))
        # kernels shift by at most 31 either way (quantize_multiplier keeps shift >= -31)
        self.require(op, max(shifts) <= 30, f"requantization scale {max(ws) * sx / so:g} is too "
                     "large (shift above 30)")
        self.last_requant = (list(mults), list(shifts))
        return self.table("int32_t", mults, "mult"), self.table("int32_t", shifts, "shift")

    def _cheap_requant(self, bounds) -> int:
        """1 when mbqm_cheap (tinyeit_common.h) equals the reference requantization for every
        accumulator each channel can reach (|acc| <= its bound): no int32 overflow in
        h + 2^(right-1). Else 0 and the kernels keep the reference form."""
        for bound, m, s in zip(bounds, *self.last_requant):
            left, right = max(s, 0), max(-s, 0)
            x = min(int(bound) << left, 1 << 31)
            h = (x * int(m) + (1 << 30)) // (1 << 31) + 1
            if h + ((1 << right) >> 1) > (1 << 31) - 1:
                return 0
        return 1

    def _post(self, op: Op, out: Tensor, lo: int, hi: int) -> tuple[str, int, Tensor]:
        """The folded element-wise chain after op (see _fold_elementwise): its per-channel table,
        row length, and the tensor the chain ends in (where op now writes); else NULL, 0, out."""
        if op.index not in self.folds:
            return "NULL", 0, out
        _, chain = self.folds[op.index]
        c = out.shape[-1]
        rows = np.empty((c, hi - lo + 1), np.int8)
        for ch in range(c):
            for q in range(lo, hi + 1):
                v = q
                for e in chain:
                    v = e.apply(v, ch)
                rows[ch, q - lo] = v
        return self.table("int8_t", rows, "post"), hi - lo + 1, self.t[op.outputs[0]]

    def own_out(self, op: Op) -> Tensor:
        """op's own output tensor (its quantization), also when a folded chain now follows it."""
        return self.t[self.folds[op.index][0]] if op.index in self.folds else self.t[op.outputs[0]]

    def _conv(self, op: Op, ptr, depthwise: bool) -> Lowered:
        p, x, w, out = self._conv_params(op, depthwise)
        b = self.in_t(op, 2)
        low = Lowered()
        kind = "dwconv" if depthwise else "conv"
        if x.dtype == np.int8:
            self.require(op, w.dtype == np.int8 and out.dtype == np.int8,
                         "int8 conv needs int8 filter and output")
            self.require(op, not np.any(w.zero_point), "filter zero points must be 0")
            sx, zx = x.qparams()
            so, zo = out.qparams()
            p.update(in_offset=-zx, out_offset=zo, **self.act_range(op, out))
            mult, shift = self._per_channel_requant(op, x, w, out, p["out_c"])
            if depthwise:
                prm = self.params("tinyeit_conv_params", p)
                bias = self.const(b.index, np.int32) if b is not None else "NULL"
                low.code.append(f"tinyeit_dwconv_s8({ptr(x)}, {self.const(w.index)}, {bias}, "
                                f"{mult}, {shift}, {ptr(out)}, &{prm});")
            else:
                bias, corr = self._folded_conv_bias(b, w, p)
                wabs = np.abs(w.data.astype(np.int64)).reshape(p["out_c"], -1).sum(axis=1)
                base = (np.abs(b.data.astype(np.int64)).reshape(-1) if b is not None
                        else np.zeros(p["out_c"], np.int64))
                zx_span = max(127 - zx, zx + 128)
                p["cheap_rq"] = self._cheap_requant(base + wabs * zx_span)
                post, p["post_len"], dest = self._post(op, out, p["act_min"], p["act_max"])
                prm = self.params("tinyeit_conv_params", p)
                low.code.append(f"tinyeit_conv_s8({ptr(x)}, {self.packed_fc_s8(w)}, {bias}, "
                                f"{corr}, {mult}, {shift}, {post}, {ptr(dest)}, &{prm});")
        elif w.dtype == np.int8 and x.dtype == np.float32:
            self.require(op, not depthwise, "hybrid depthwise convolution is not supported")
            p.update(**self.act_range(op, out))
            ws = w.scale if len(w.scale) > 1 else np.repeat(w.scale, p["out_c"])
            scales = self.table("float", [c_float(v) and float(v) for v in ws], "wscale")
            bias = self.const(b.index) if b is not None else "NULL"
            prm = self.params("tinyeit_conv_params", p)
            low.scratch_bytes = p["in_h"] * p["in_w"] * p["in_c"]
            low.code.append(f"tinyeit_conv_hybrid({ptr(x)}, {self.const(w.index)}, {scales}, "
                            f"{bias}, (int8_t *)scratch, {ptr(out)}, &{prm});")
        elif x.dtype == np.float32 and w.dtype == np.float32:
            p.update(**self.act_range(op, out))
            bias = self.const(b.index) if b is not None else "NULL"
            prm = self.params("tinyeit_conv_params", p)
            wname = self.const(w.index) if depthwise else self.blocked_f32(w)
            low.code.append(f"tinyeit_{kind}_f32({ptr(x)}, {wname}, {bias}, "
                            f"{ptr(out)}, &{prm});")
        else:
            raise self.fail(op, f"unsupported types input {x.dtype}, filter {w.dtype}")
        return low

    def _folded_conv_bias(self, b: Tensor | None, w: Tensor, p: dict) -> tuple[str, str]:
        """Fold in_offset * sum(weights) into the int32 bias (exact int32 math, as the kernel
        would accumulate it), and, when some window leaves the input, the per-tap terms that a
        border window must take back out (TFLite skips those taps)."""
        oc, io = p["out_c"], p["in_offset"]
        taps = w.data.astype(np.int64).reshape(oc, p["k_h"] * p["k_w"], p["in_c"]).sum(axis=2)
        base = b.data.astype(np.int64).reshape(oc) if b is not None else np.zeros(oc, np.int64)
        folded = [fp._wrap32(int(v)) for v in base + io * taps.sum(axis=1)]
        bias = self.table("int32_t", folded, "bias")

        def all_full(n_out, stride, pad, k, dil, size):
            return all(0 <= o * stride - pad and o * stride - pad + (k - 1) * dil < size
                       for o in range(n_out))

        if (all_full(p["out_h"], p["stride_h"], p["pad_h"], p["k_h"], p["dil_h"], p["in_h"]) and
                all_full(p["out_w"], p["stride_w"], p["pad_w"], p["k_w"], p["dil_w"], p["in_w"])):
            return bias, "NULL"
        corr = [fp._wrap32(int(v)) for v in (io * taps).reshape(-1)]
        return bias, self.table("int32_t", corr, "tapcorr")

    def op_conv_2d(self, op, ptr):
        return self._conv(op, ptr, False)

    def op_depthwise_conv_2d(self, op, ptr):
        return self._conv(op, ptr, True)

    def op_fully_connected(self, op: Op, ptr) -> Lowered:
        x, w, out = self.in_t(op, 0), self.in_t(op, 1), self.own_out(op)
        b = self.in_t(op, 2)
        o = op.options
        self.require(op, w.is_const and len(w.shape) == 2, "weights must be a constant 2D tensor")
        self.require(op, int(getattr(o, "weightsFormat", 0) or 0) == 0,
                     "shuffled weights format is not supported")
        units, in_dim = w.shape
        self.require(op, x.size % in_dim == 0, "input size is not a multiple of weights depth")
        p = dict(batches=x.size // in_dim, in_dim=in_dim, units=units)
        low = Lowered()
        if x.dtype == np.int8:
            sx, zx = x.qparams()
            so, zo = out.qparams()
            p.update(in_offset=-zx, w_offset=-int(w.zero_point[0]), out_offset=zo,
                     single_round=int(self.flavor == "litert"),
                     **self.act_range(op, out))
            self.require(op, len(set(w.zero_point.tolist())) == 1,
                         "per-channel filter zero points are not supported")
            mult, shift = self._per_channel_requant(op, x, w, out, units)
            # in_offset * (sum of the unit's weights + in_dim * w_offset), exact int32 math
            wsum = w.data.astype(np.int64).sum(axis=1) + in_dim * p["w_offset"]
            base = (b.data.astype(np.int64).reshape(units) if b is not None
                    else np.zeros(units, np.int64))
            bias = self.table("int32_t", [fp._wrap32(int(v)) for v in base + p["in_offset"] * wsum],
                              "bias")
            wabs = np.abs(w.data.astype(np.int64) + p["w_offset"]).sum(axis=1)
            p["cheap_rq"] = self._cheap_requant(np.abs(base) + wabs * max(127 - zx, zx + 128))
            post, p["post_len"], dest = self._post(op, out, p["act_min"], p["act_max"])
            prm = self.params("tinyeit_fc_params", p)
            low.code.append(f"tinyeit_fc_s8({ptr(x)}, {self.packed_fc_s8(w)}, {bias}, {mult}, "
                            f"{shift}, {post}, {ptr(dest)}, &{prm});")
        elif w.dtype == np.int8:
            self.require(op, not np.any(w.zero_point), "hybrid filter zero points must be 0")
            p.update(asymmetric=int(bool(getattr(o, "asymmetricQuantizeInputs", False))),
                     **self.act_range(op, out))
            scales = self.table("float", [float(v) for v in w.scale], "wscale")
            bias = self.const(b.index) if b is not None else "NULL"
            prm = self.params("tinyeit_fc_params", p)
            low.scratch_bytes = in_dim
            low.code.append(f"tinyeit_fc_hybrid({ptr(x)}, {self.const(w.index)}, {scales}, "
                            f"{len(w.scale)}, {bias}, (int8_t *)scratch, {ptr(out)}, &{prm});")
        else:
            p.update(**self.act_range(op, out))
            bias = self.const(b.index) if b is not None else "NULL"
            prm = self.params("tinyeit_fc_params", p)
            low.code.append(f"tinyeit_fc_f32({ptr(x)}, {self.blocked_f32(w)}, {bias}, "
                            f"{ptr(out)}, &{prm});")
        return low

    def _pool(self, op: Op, ptr, kind: str) -> Lowered:
        x, out = self.in_t(op, 0), self.t[op.outputs[0]]
        self.require(op, len(x.shape) == 4, "expects a 4D input")
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
                 stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w, **self.act_range(op, out))
        suffix = "s8" if x.dtype == np.int8 else "f32"
        if x.dtype == np.int8:
            self.require(op, x.qparams() == out.qparams(),
                         "int8 pooling needs equal input and output quantization")
        prm = self.params("tinyeit_pool_params", p)
        return Lowered([f"tinyeit_{kind}_{suffix}({ptr(x)}, {ptr(out)}, &{prm});"])

    def op_max_pool_2d(self, op, ptr):
        return self._pool(op, ptr, "maxpool")

    def op_average_pool_2d(self, op, ptr):
        return self._pool(op, ptr, "avgpool")

    def op_mean(self, op: Op, ptr) -> Lowered:
        x, ax, out = self.in_t(op, 0), self.in_t(op, 1), self.t[op.outputs[0]]
        self.require(op, ax is not None and ax.is_const, "axis must be constant")
        rank = len(x.shape)
        axes = sorted({int(a) % rank for a in np.asarray(ax.data).reshape(-1)})
        dims = [(d, i in axes) for i, d in enumerate(x.shape) if d != 1]
        flags = [r for _, r in dims]
        reduced = [i for i, r in enumerate(flags) if r]
        if reduced:
            self.require(op, reduced == list(range(reduced[0], reduced[-1] + 1)),
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

    def _binary(self, op: Op, ptr, kind: str) -> Lowered:
        a, b, out = self.in_t(op, 0), self.in_t(op, 1), self.t[op.outputs[0]]
        self.require(op, len(out.shape) <= 4, "more than 4 dimensions are not supported")
        od = self.dims4(out.shape)

        def strides(t: Tensor) -> list[int]:
            d = self.dims4(t.shape)
            self.require(op, all(x in (1, y) for x, y in zip(d, od)), "shapes do not broadcast")
            s, acc = [0] * 4, 1
            for i in range(3, -1, -1):
                s[i] = acc if d[i] != 1 else 0
                acc *= d[i]
            return s

        p = {"dims": "{" + ", ".join(map(str, od)) + "}",
             "s1": "{" + ", ".join(map(str, strides(a))) + "}",
             "s2": "{" + ", ".join(map(str, strides(b))) + "}"}
        p.update(self.act_range(op, out))
        if out.dtype == np.int8:
            sa, za = a.qparams()
            sb, zb = b.qparams()
            so, zo = out.qparams()
            p.update(in1_offset=-za, in2_offset=-zb, out_offset=zo)
            if kind == "add":
                twice_max = 2.0 * max(float(sa), float(sb))
                m1, s1 = fp.quantize_multiplier(float(sa) / twice_max)
                m2, s2 = fp.quantize_multiplier(float(sb) / twice_max)
                mo, so_ = fp.quantize_multiplier(twice_max / ((1 << 20) * float(so)))
                p.update(left_shift=20, in1_mult=m1, in1_shift=s1, in2_mult=m2, in2_shift=s2,
                         out_mult=mo, out_shift=so_)
                # each input's 256 values, shifted and rescaled once here instead of per element
                t1 = self.table("int32_t", [fp.mbqm((q - za) << 20, m1, s1)
                                            for q in range(-128, 128)], "addtab")
                t2 = self.table("int32_t", [fp.mbqm((q - zb) << 20, m2, s2)
                                            for q in range(-128, 128)], "addtab")
            else:
                mo, so_ = fp.quantize_multiplier(float(sa) * float(sb) / float(so))
                p.update(out_mult=mo, out_shift=so_)
            suffix = "s8"
        else:
            suffix = "f32"
        prm = self.params("tinyeit_binary_params", p)
        tables = f"{t1}, {t2}, " if kind == "add" and suffix == "s8" else ""
        return Lowered([f"tinyeit_{kind}_{suffix}({ptr(a)}, {ptr(b)}, {tables}{ptr(out)}, "
                        f"&{prm});"])

    def op_add(self, op, ptr):
        return self._binary(op, ptr, "add")

    def op_mul(self, op, ptr):
        return self._binary(op, ptr, "mul")

    def op_softmax(self, op: Op, ptr) -> Lowered:
        x, out = self.in_t(op, 0), self.t[op.outputs[0]]
        depth = x.shape[-1]
        rows = x.size // depth
        beta = float(op.options.beta) if op.options is not None else 1.0
        if x.dtype == np.int8:
            so, zo = out.qparams()
            self.require(op, out.dtype == np.int8 and zo == -128 and so == 1.0 / 256,
                         "int8 softmax output must have scale 1/256 and zero point -128")
            exps, accs, _ = fp.softmax_exp_table(beta, x.qparams()[0])
            e = self.table("int32_t", exps, "softmax_exp")
            acc = self.table("int32_t", accs, "softmax_acc")
            return Lowered([f"tinyeit_softmax_s8({ptr(x)}, {ptr(out)}, {rows}, {depth}, "
                            f"{e}, {acc});"])
        return Lowered([f"tinyeit_softmax_f32({ptr(x)}, {ptr(out)}, {rows}, {depth}, "
                        f"{c_float(beta)});"])

    def _lut_or_float(self, op: Op, ptr, kind: str) -> Lowered:
        x, out = self.in_t(op, 0), self.t[op.outputs[0]]
        if x.dtype == np.int8:
            from tinyeit.codegen import lut  # noqa: PLC0415

            table = lut.int8_table(kind, x.qparams(), out.qparams())
            name = self.table("int8_t", table, kind)
            return Lowered([f"tinyeit_lut_s8({ptr(x)}, {ptr(out)}, {x.size}, {name});"])
        return Lowered([f"tinyeit_{kind}_f32({ptr(x)}, {ptr(out)}, {x.size});"])

    def op_logistic(self, op, ptr):
        return self._lut_or_float(op, ptr, "logistic")

    def op_tanh(self, op, ptr):
        return self._lut_or_float(op, ptr, "tanh")

    def _relu(self, op: Op, ptr, lo: float, hi: float) -> Lowered:
        x, out = self.in_t(op, 0), self.t[op.outputs[0]]
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

    def op_relu(self, op, ptr):
        return self._relu(op, ptr, 0.0, math.inf)

    def op_relu6(self, op, ptr):
        return self._relu(op, ptr, 0.0, 6.0)

    def op_quantize(self, op: Op, ptr) -> Lowered:
        x, out = self.in_t(op, 0), self.t[op.outputs[0]]
        so, zo = out.qparams()
        self.require(op, out.dtype == np.int8, f"quantize to {out.dtype} is not supported")
        if x.dtype == np.float32:
            return Lowered([f"tinyeit_quantize_f32_s8({ptr(x)}, {ptr(out)}, {x.size}, "
                            f"{c_float(so)}, {zo});"])
        self.require(op, x.dtype == np.int8, f"quantize from {x.dtype} is not supported")
        sx, zx = x.qparams()
        m, s = fp.quantize_multiplier(float(sx) / float(so))
        return Lowered([f"tinyeit_requant_s8({ptr(x)}, {ptr(out)}, {x.size}, {zx}, {zo}, "
                        f"{m}, {s}, -128, 127);"])

    def op_dequantize(self, op: Op, ptr) -> Lowered:
        x, out = self.in_t(op, 0), self.t[op.outputs[0]]
        self.require(op, x.dtype == np.int8 and out.dtype == np.float32,
                     f"dequantize {x.dtype} -> {out.dtype} of a non-constant tensor")
        sx, zx = x.qparams()
        return Lowered([f"tinyeit_dequantize_s8_f32({ptr(x)}, {ptr(out)}, {x.size}, "
                        f"{c_float(sx)}, {zx});"])

    def _pad_value(self, out: Tensor) -> str:
        if out.dtype == np.int8:
            return self.table("int8_t", [out.qparams()[1]], "padv")
        return self.table("float", [0.0], "padv")

    def op_pad(self, op: Op, ptr) -> Lowered:
        x, pads, out = self.in_t(op, 0), self.in_t(op, 1), self.t[op.outputs[0]]
        self.require(op, pads is not None and pads.is_const, "paddings must be constant")
        self.require(op, len(x.shape) <= 4, "more than 4 dimensions are not supported")
        pz = np.asarray(pads.data).reshape(-1, 2)
        before = [0] * (4 - len(x.shape)) + [int(v) for v in pz[:, 0]]
        arr = lambda v: "(const int32_t[]){" + ", ".join(map(str, v)) + "}"  # noqa: E731
        return Lowered([f"tinyeit_pad({ptr(x)}, {ptr(out)}, {x.dtype.itemsize}, "
                        f"{arr(self.dims4(x.shape))}, {arr(before)}, "
                        f"{arr(self.dims4(out.shape))}, {self._pad_value(out)});"])

    def _space_dims(self, op: Op, t: Tensor, m: int) -> list[int]:
        if len(t.shape) == 4 and m == 2:
            return list(t.shape)
        if len(t.shape) == 3 and m == 1:
            return [t.shape[0], t.shape[1], 1, t.shape[2]]
        raise self.fail(op, f"rank {len(t.shape)} with {m} block dims is not supported")

    def op_space_to_batch_nd(self, op: Op, ptr) -> Lowered:
        x, block, pads, out = (self.in_t(op, 0), self.in_t(op, 1), self.in_t(op, 2),
                               self.t[op.outputs[0]])
        self.require(op, block.is_const and pads.is_const, "block and paddings must be constant")
        bs = [int(v) for v in block.data.reshape(-1)]
        pz = np.asarray(pads.data).reshape(-1, 2)
        bh, bw = (bs + [1])[:2]
        pt, pl = int(pz[0, 0]), (int(pz[1, 0]) if len(bs) > 1 else 0)
        arr = lambda v: "(const int32_t[]){" + ", ".join(map(str, v)) + "}"  # noqa: E731
        pad = self._pad_value(out)
        return Lowered([f"tinyeit_space_to_batch({ptr(x)}, {ptr(out)}, {x.dtype.itemsize}, "
                        f"{arr(self._space_dims(op, x, len(bs)))}, "
                        f"{arr(self._space_dims(op, out, len(bs)))}, {bh}, {bw}, {pt}, {pl}, "
                        f"{pad});"])

    def op_batch_to_space_nd(self, op: Op, ptr) -> Lowered:
        x, block, crops, out = (self.in_t(op, 0), self.in_t(op, 1), self.in_t(op, 2),
                                self.t[op.outputs[0]])
        self.require(op, block.is_const and crops.is_const, "block and crops must be constant")
        bs = [int(v) for v in block.data.reshape(-1)]
        cz = np.asarray(crops.data).reshape(-1, 2)
        bh, bw = (bs + [1])[:2]
        ct, cl = int(cz[0, 0]), (int(cz[1, 0]) if len(bs) > 1 else 0)
        arr = lambda v: "(const int32_t[]){" + ", ".join(map(str, v)) + "}"  # noqa: E731
        return Lowered([f"tinyeit_batch_to_space({ptr(x)}, {ptr(out)}, {x.dtype.itemsize}, "
                        f"{arr(self._space_dims(op, x, len(bs)))}, "
                        f"{arr(self._space_dims(op, out, len(bs)))}, {bh}, {bw}, {ct}, {cl});"])

    def op_concatenation(self, op: Op, ptr) -> Lowered:
        out = self.t[op.outputs[0]]
        ins = [self.t[i] for i in op.inputs]
        self.require(op, self.act(op) == "NONE", "fused activation on concatenation")
        axis = int(op.options.axis) % len(out.shape)
        if out.dtype == np.int8:
            self.require(op, all(t.qparams() == out.qparams() for t in ins),
                         "int8 inputs with different quantization than the output")
        outer = int(np.prod(out.shape[:axis], dtype=np.int64))
        chunks = [int(np.prod(t.shape[axis:], dtype=np.int64)) * t.dtype.itemsize for t in ins]
        srcs = ", ".join(f"(const void *){ptr(t)}" for t in ins)
        return Lowered([f"tinyeit_concat({ptr(out)}, {len(ins)}, (const void *const[]){{{srcs}}}, "
                        f"(const int32_t[]){{{', '.join(map(str, chunks))}}}, {outer});"])

    def copy(self, src: Tensor, dst: Tensor, ptr) -> Lowered:
        return Lowered([f"tinyeit_copy({ptr(src)}, {ptr(dst)}, {src.nbytes});"])


class _UnionFind:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _fold_constants(graph: Graph) -> list[Op]:
    """Fold DEQUANTIZE of constant tensors (float16 and int8 weights) into float32 constants."""
    kept = []
    for op in graph.ops:
        if op.name == "DEQUANTIZE":
            src = graph.tensors[op.inputs[0]]
            dst = graph.tensors[op.outputs[0]]
            if src.is_const:
                data = src.data.astype(np.float32)
                if src.quantized and src.dtype == np.int8:
                    scale = src.scale.astype(np.float32)
                    zp = src.zero_point
                    if len(scale) > 1:
                        shape = [1] * data.ndim
                        shape[src.quant_axis] = -1
                        scale, zp = scale.reshape(shape), zp.reshape(shape)
                    data = ((src.data.astype(np.float32) - zp.astype(np.float32)) * scale)
                dst.data = data.astype(np.float32).reshape(dst.shape)
                continue
        kept.append(op)
    return kept


class _PostOp:
    """One int8 MUL or ADD of a per-channel constant, as a function of (value, channel): the same
    integer math and parameters as the generator's ADD/MUL lowering (tinyeit_add_s8/mul_s8)."""

    def __init__(self, gen: "Generator", op: Op, src: int):
        t = gen.t
        k = 1 if op.inputs[0] == src else 0
        a, c, out = t[src], t[op.inputs[k]], t[op.outputs[0]]
        self.out = op.outputs[0]
        self.kind = op.name
        self.values = np.asarray(c.data).astype(np.int64).reshape(-1)
        (self.sa, self.za), (self.sc, self.zc) = a.qparams(), c.qparams()
        self.so, self.zo = out.qparams()
        self.lo, self.hi = gen.act_range(op, out)["act_min"], gen.act_range(op, out)["act_max"]
        if op.name == "MUL":
            self.m, self.s = fp.quantize_multiplier(float(self.sa) * float(self.sc) / float(self.so))
        else:
            twice_max = 2.0 * max(float(self.sa), float(self.sc))
            self.ma, self.sha = fp.quantize_multiplier(float(self.sa) / twice_max)
            self.mc, self.shc = fp.quantize_multiplier(float(self.sc) / twice_max)
            self.m, self.s = fp.quantize_multiplier(twice_max / ((1 << 20) * float(self.so)))

    def apply(self, v: int, ch: int) -> int:
        c = int(self.values[ch if len(self.values) > 1 else 0])
        if self.kind == "MUL":
            r = fp.mbqm((v - self.za) * (c - self.zc), self.m, self.s)
        else:
            r = fp.mbqm(fp.mbqm((v - self.za) << 20, self.ma, self.sha)
                        + fp.mbqm((c - self.zc) << 20, self.mc, self.shc), self.m, self.s)
        return min(self.hi, max(self.lo, r + self.zo))


def _fold_elementwise(graph: Graph, ops: list[Op], gen: "Generator") -> list[Op]:
    """Fold int8 MUL/ADD of per-channel constants that follow an int8 CONV_2D or FULLY_CONNECTED
    (a BatchNorm after the activation, which cannot fold into the weights) into the producer:
    a table per channel over the producer's clamped output range, computed here with the ops'
    own integer math, so exact by construction. Only when each intermediate tensor has that one
    consumer and is not a model output. The producer then writes the chain's last tensor."""
    t = graph.tensors
    uses: dict[int, int] = {}
    for op in ops:
        for i in op.inputs:
            uses[i] = uses.get(i, 0) + 1
    by_input: dict[int, Op] = {}
    for op in ops:
        for i in op.inputs:
            by_input.setdefault(i, op)
    dropped: set[int] = set()
    kept = []
    for op in ops:
        if op.index in dropped:
            continue
        if op.name in ("CONV_2D", "FULLY_CONNECTED") and _int8_producer(graph, op):
            src, chain = op.outputs[0], []
            while uses.get(src, 0) == 1 and src not in graph.outputs:
                nxt = by_input[src]
                if not _per_channel_const_op(graph, nxt, src):
                    break
                chain.append(_PostOp(gen, nxt, src))
                dropped.add(nxt.index)
                src = nxt.outputs[0]
            if chain:
                gen.folds[op.index] = (op.outputs[0], chain)
                op = Op(op.index, op.name, list(op.inputs), [src], op.options)
        kept.append(op)
    return kept


def _int8_producer(graph: Graph, op: Op) -> bool:
    t = graph.tensors
    x, w, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    return (x.dtype == np.int8 and w.dtype == np.int8 and out.dtype == np.int8
            and out.quantized and len(out.shape) >= 1)


def _per_channel_const_op(graph: Graph, op: Op, src: int) -> bool:
    """An int8 MUL or ADD of src and a constant that varies at most along the last axis."""
    t = graph.tensors
    if op.name not in ("MUL", "ADD") or len(op.inputs) != 2 or src not in op.inputs:
        return False
    other = op.inputs[1] if op.inputs[0] == src else op.inputs[0]
    if other == src or other < 0:
        return False
    a, c, out = t[src], t[other], t[op.outputs[0]]
    if not (c.is_const and a.dtype == c.dtype == out.dtype == np.int8):
        return False
    if tuple(out.shape) != tuple(a.shape) or not a.shape:
        return False
    shape = list(c.shape)
    per_channel = c.size == a.shape[-1] and all(d == 1 for d in shape[:-1])
    return c.size == 1 or per_channel


FLAVORS = ("litert", "tflm")


def build(tflite_path: str, flavor: str = "litert", trace: bool = False,
          marks: bool = False) -> dict:
    """Generate the C sources in memory: returns {"files": {name: text}, ...figures}.

    flavor "litert" equals LiteRT's BUILTIN_REF kernels bit for bit; "tflm" equals TFLite
    Micro's kernels. They differ in one place: LiteRT's reference int8 FULLY_CONNECTED
    requantizes with single rounding (per-channel and per-tensor weights), TFLite Micro (and
    LiteRT's optimized kernel) with gemmlowp double rounding.

    marks: call `tinyeit_op_mark(k)` (defined in model.c, never inlined) before the first op
    (k = -1) and after each op (k = op index), so an emulator plugin that watches that function
    splits one inference into per-op counts; "op_marks" lists (index, name) in call order.
    """
    if flavor not in FLAVORS:
        raise CodegenError(f"{tflite_path}: unknown flavor {flavor!r}; expected one of {FLAVORS}")
    graph = read_model(tflite_path)
    path = graph.path
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise CodegenError(f"{path}: expected one input and one output, found "
                           f"{len(graph.inputs)} and {len(graph.outputs)}")
    ops = _fold_constants(graph)
    listed = sorted({op.name for op in ops})
    gen = Generator(graph, flavor)
    ops = _fold_elementwise(graph, ops, gen)
    t = graph.tensors
    in_idx, out_idx = graph.inputs[0], graph.outputs[0]
    for idx, role in ((in_idx, "input"), (out_idx, "output")):
        if t[idx].dtype not in (np.int8, np.float32):
            raise CodegenError(f"{path}: model {role} type {t[idx].dtype} is not supported "
                               "(int8 or float32)")
    for op in ops:
        if op.name not in SUPPORTED_OPS:
            raise CodegenError(
                f"{path}: op {op.index} is {op.name}, which the code generator does not "
                f"support (supported: {', '.join(SUPPORTED_OPS)})")

    # Storage groups: aliasing ops join their output to their input.
    uf = _UnionFind()
    copies: set[int] = set()
    for op in ops:
        if op.name in ALIAS_OPS:
            a, b = op.inputs[0], op.outputs[0]
            ga = uf.find(a)
            members_a = {x for x in list(uf.parent) if uf.find(x) == ga} | {a}
            if t[a].is_const or (in_idx in members_a and b == out_idx):
                copies.add(op.index)
            else:
                uf.union(a, b)
    group_of = lambda i: uf.find(i)  # noqa: E731
    in_group, out_group = group_of(in_idx), group_of(out_idx)
    if in_group == out_group:
        raise CodegenError(f"{path}: the model output is its input")

    # Liveness per arena group.
    life: dict[int, list[int]] = {}
    for k, op in enumerate(ops):
        touched = [i for i in op.inputs if i >= 0] + list(op.outputs)
        for i in touched:
            if t[i].is_const:
                continue
            g = group_of(i)
            if g in (in_group, out_group):
                continue
            span = life.setdefault(g, [k, k])
            span[0], span[1] = min(span[0], k), max(span[1], k)
    sizes: dict[int, tuple[int, int]] = {}
    for i, tensor in enumerate(t):
        if tensor.is_const or group_of(i) not in life:
            continue
        g = group_of(i)
        size, align = sizes.get(g, (0, 1))
        sizes[g] = (max(size, tensor.nbytes), max(align, tensor.dtype.itemsize))

    # every buffer word aligned and a whole number of words: the kernels read words (and NEON
    # vectors) from any tensor, through memcpy, at no unaligned-access cost
    buffers = [Buffer(("t", g), -(-sizes[g][0] // 4) * 4, life[g][0], life[g][1], 4)
               for g in sorted(life)]

    def ptr(tensor: Tensor) -> str:
        ctype = _CTYPE[np.dtype(tensor.dtype)]
        if tensor.is_const:
            return gen.const(tensor.index)
        g = group_of(tensor.index)
        if g == in_group:
            return f"((const {ctype} *)input)"
        if g == out_group:
            return f"(({ctype} *)output)"
        return f"(({ctype} *)(tinyeit_arena.u8 + OFF_{g}))"

    lowered: list[tuple[Op, Lowered]] = []
    for k, op in enumerate(ops):
        if op.name in ALIAS_OPS and op.index not in copies:
            continue
        if op.name in ALIAS_OPS:
            low = gen.copy(t[op.inputs[0]], t[op.outputs[0]], ptr)
        else:
            low = gen.lower(op, ptr)
        if low.scratch_bytes:
            buffers.append(Buffer(("s", op.index), -(-low.scratch_bytes // 4) * 4, k, k, 4))
        lowered.append((op, low))

    arena = plan(buffers)
    bound = peak_live_bytes(buffers)
    offsets = {b.key: b.offset for b in buffers}
    arena_alloc = max(4, -(-arena // 4) * 4)

    def subst(line: str, op: Op) -> str:
        line = re.sub(r"OFF_(\d+)\)", lambda m: f"{offsets[('t', int(m.group(1)))]})", line)
        if "(int8_t *)scratch" in line:
            line = line.replace("(int8_t *)scratch",
                                f"((int8_t *)(tinyeit_arena.u8 + {offsets[('s', op.index)]}))")
        return line

    body = ["    tinyeit_op_mark(-1);"] if marks else []
    for op, low in lowered:
        for line in low.code:
            body.append(f"    /* op {op.index}: {op.name} */\n    {subst(line, op)}")
        if marks:
            body.append(f"    tinyeit_op_mark({op.index});")
        if trace:
            out_t = t[op.outputs[0]]
            body.append(subst(f"    tinyeit_trace({op.outputs[0]}, {ptr(out_t)}, "
                              f"{out_t.nbytes});", op))
    leftover = [ln for ln in body if "OFF_" in ln]
    if leftover:
        raise CodegenError(f"{path}: internal error: unplanned buffer in {leftover[0]}")

    tin, tout = t[in_idx], t[out_idx]
    model_name = re.sub(r"[^A-Za-z0-9_.+-]", "_", _model_name(path))
    sin, zin = tin.qparams()
    sout, zout = tout.qparams()
    header = _HEADER.format(
        name=model_name, in_size=tin.size, out_size=tout.size,
        in_type=_CTYPE[np.dtype(tin.dtype)], out_type=_CTYPE[np.dtype(tout.dtype)],
        in_scale=_c_scale(sin), in_zp=zin, out_scale=_c_scale(sout), out_zp=zout,
        arena=arena_alloc, weights=gen.weights_bytes,
        ops=", ".join(listed))
    if trace:
        gen.const_decls.insert(0, "void tinyeit_trace(int tensor, const void *data, int bytes);\n")
    if marks:
        gen.const_decls.insert(0, _MARK_FUNCTION)
    source = _SOURCE.format(arena=arena_alloc, consts="\n".join(gen.const_decls),
                            body="\n".join(body) if body else "    (void)input; (void)output;")
    return {
        "files": {"model.h": header, "model.c": source, **kernel_sources()},
        "arena_bytes": arena_alloc, "arena_lower_bound": bound,
        "weights_bytes": gen.weights_bytes, "input_size": tin.size, "output_size": tout.size,
        "input_dtype": np.dtype(tin.dtype).name, "output_dtype": np.dtype(tout.dtype).name,
        "input_shape": list(tin.shape), "output_shape": list(tout.shape),
        "input_quant": [sin, zin], "output_quant": [sout, zout],
        "ops": listed,
        "op_marks": [(op.index, op.name) for op, _ in lowered] if marks else [],
    }


def _c_scale(s: float) -> str:
    return c_float(s)


def _model_name(path: str) -> str:
    import os  # noqa: PLC0415

    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    base = os.path.splitext(os.path.basename(path))[0]
    return parent if base == "model" and parent else base


KERNEL_DIRS = ("reference", "cortex_m", "aarch64")


def kernel_sources() -> dict[str, str]:
    """The kernels as the generated folder holds them: the public header, the shared internal
    header, and one translation unit joining every family file of every target (reference first),
    each target's code compiled only where the compiler targets it (tinyeit_common.h), so one
    folder builds for every board and the build flags pick the kernels."""
    from importlib import resources  # noqa: PLC0415

    root = resources.files("tinyeit.codegen").joinpath("kernels")
    parts = ["/* Generated by `tinyeit codegen`: the kernel sources of "
             "src/tinyeit/codegen/kernels/, joined. */\n"]
    files = {"tinyeit_kernels.h": root.joinpath("tinyeit_kernels.h").read_text()}
    for sub in KERNEL_DIRS:
        for entry in sorted(root.joinpath(sub).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".c"):
                parts.append(f"/* ---- {sub}/{entry.name} ---- */\n{entry.read_text()}")
            elif entry.name.endswith(".h"):
                files[entry.name] = entry.read_text()
    files["tinyeit_kernels.c"] = "\n".join(parts)
    return files


_MARK_FUNCTION = """\
/* Per-op profiling marker: an emulator plugin counts between its calls (on the Cortex-M, it
 * watches this function's address; under qemu-aarch64, the clock_gettime system call). */
#if defined(__linux__)
#include <time.h>
#endif
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void tinyeit_op_mark(int op);
void tinyeit_op_mark(int op)
{
#if defined(__linux__)
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
#if defined(__GNUC__)
    __asm__ volatile("" : : "r"(op) : "memory");
#else
    (void)op;
#endif
}
"""

_HEADER = """\
/* Generated by `tinyeit codegen` from {name}: do not edit.
 * Ops: {ops}.
 * Sizes are element counts; the model input and output are the caller's buffers. */
#ifndef TINYEIT_MODEL_H
#define TINYEIT_MODEL_H

#include <stdint.h>

#define TINYEIT_MODEL_NAME "{name}"
#define TINYEIT_INPUT_SIZE {in_size}
#define TINYEIT_OUTPUT_SIZE {out_size}
#define TINYEIT_INPUT_TYPE {in_type}
#define TINYEIT_OUTPUT_TYPE {out_type}
#define TINYEIT_INPUT_SCALE {in_scale}
#define TINYEIT_INPUT_ZERO_POINT {in_zp}
#define TINYEIT_OUTPUT_SCALE {out_scale}
#define TINYEIT_OUTPUT_ZERO_POINT {out_zp}
#define TINYEIT_ARENA_BYTES {arena}
#define TINYEIT_WEIGHTS_BYTES {weights}

/* Runs one inference: input holds TINYEIT_INPUT_SIZE elements of TINYEIT_INPUT_TYPE, output
 * receives TINYEIT_OUTPUT_SIZE elements of TINYEIT_OUTPUT_TYPE. Returns 0 on success. */
int tinyeit_invoke(const void *input, void *output);

#endif
"""

_SOURCE = """\
/* Generated by `tinyeit codegen`: do not edit. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "tinyeit_kernels.h"

static union {{
    uint8_t u8[{arena}];
    int32_t align_i32;
    float align_f32;
}} tinyeit_arena;

{consts}
int tinyeit_invoke(const void *input, void *output)
{{
    if (input == NULL || output == NULL) return 1;
    (void)tinyeit_arena; /* a one-op model needs no intermediate storage */
{body}
    return 0;
}}
"""
