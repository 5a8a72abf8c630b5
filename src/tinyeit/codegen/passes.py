"""Graph passes before lowering: constant DEQUANTIZE folding, and folding a per-channel MUL/ADD
chain (a BatchNorm after the activation) into the op that produces its input: an int8 table
after an int8 conv or fully connected, a float multiply and add in a float conv's epilogue."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.model_reader import Graph, Op, Tensor


def fold_constants(graph: Graph) -> list[Op]:
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


class PostOp:
    """One int8 MUL or ADD of a per-channel constant, as a function of (value, channel): the same
    integer math and parameters as the ADD/MUL lowering (tinyeit_add_s8/mul_s8)."""

    def __init__(self, gen, op: Op, src: int):
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


def fold_elementwise(graph: Graph, ops: list[Op], gen) -> list[Op]:
    """Fold int8 MUL/ADD of per-channel constants that follow an int8 CONV_2D or FULLY_CONNECTED
    (a BatchNorm after the activation, which cannot fold into the weights) into the producer:
    a table per channel over the producer's clamped output range, computed here with the ops'
    own integer math, so exact by construction. Only when each intermediate tensor has that one
    consumer and is not a model output. The producer then writes the chain's last tensor."""
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
                chain.append(PostOp(gen, nxt, src))
                dropped.add(nxt.index)
                src = nxt.outputs[0]
            if chain:
                gen.folds[op.index] = (op.outputs[0], chain)
                op = Op(op.index, op.name, list(op.inputs), [src], op.options)
        elif op.name in ("CONV_2D", "DEPTHWISE_CONV_2D") and _float_producer(graph, op):
            src, chain = op.outputs[0], []
            while uses.get(src, 0) == 1 and src not in graph.outputs:
                nxt = by_input[src]
                # the epilogue multiplies, then adds: a MUL, an ADD, or a MUL then an ADD
                if (chain and (chain[-1].kind, nxt.name) != ("MUL", "ADD")) or \
                        not _per_channel_const_op(graph, nxt, src, np.float32):
                    break
                chain.append(FloatPost(graph, nxt, src))
                dropped.add(nxt.index)
                src = nxt.outputs[0]
            if chain:
                gen.folds[op.index] = (op.outputs[0], chain)
                op = Op(op.index, op.name, list(op.inputs), [src], op.options)
        kept.append(op)
    return kept


class FloatPost:
    """One float MUL or ADD of a per-channel constant, as the values per output channel (a
    scalar repeated): the kernel then computes the same float operation on the same operands as
    tinyeit_mul_f32/add_f32 (products and sums commute exactly; no activation to apply)."""

    def __init__(self, graph: Graph, op: Op, src: int):
        other = op.inputs[1] if op.inputs[0] == src else op.inputs[0]
        c, channels = graph.tensors[other], graph.tensors[src].shape[-1]
        self.kind = op.name
        self.values = np.broadcast_to(np.asarray(c.data, np.float32).reshape(-1),
                                      (channels,)).copy()


def float_post(gen, op: Op) -> tuple[str, str, Tensor]:
    """The folded float chain after conv op (see fold_elementwise): the per-channel multiplier
    and addend tables for its epilogue (or None), and the tensor the conv now writes."""
    if op.index not in gen.folds:
        return None, None, gen.t[op.outputs[0]]
    mul = add = None
    for e in gen.folds[op.index][1]:
        name = gen.table("float", e.values, "post_" + e.kind.lower())
        mul, add = (name, add) if e.kind == "MUL" else (mul, name)
    return mul, add, gen.t[op.outputs[0]]


def post_table(gen, op: Op, out: Tensor, lo: int, hi: int) -> tuple[str, int, Tensor]:
    """The folded element-wise chain after op (see fold_elementwise): its per-channel table,
    row length, and the tensor the chain ends in (where op now writes); else NULL, 0, out."""
    if op.index not in gen.folds:
        return "NULL", 0, out
    _, chain = gen.folds[op.index]
    c = out.shape[-1]
    rows = np.empty((c, hi - lo + 1), np.int8)
    for ch in range(c):
        for q in range(lo, hi + 1):
            v = q
            for e in chain:
                v = e.apply(v, ch)
            rows[ch, q - lo] = v
    return gen.table("int8_t", rows, "post"), hi - lo + 1, gen.t[op.outputs[0]]


def _int8_producer(graph: Graph, op: Op) -> bool:
    t = graph.tensors
    x, w, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    return (x.dtype == np.int8 and w.dtype == np.int8 and out.dtype == np.int8
            and out.quantized and len(out.shape) >= 1)


def _float_producer(graph: Graph, op: Op) -> bool:
    t = graph.tensors
    x, w, out = t[op.inputs[0]], t[op.inputs[1]], t[op.outputs[0]]
    return x.dtype == w.dtype == out.dtype == np.float32 and len(out.shape) >= 1


def _per_channel_const_op(graph: Graph, op: Op, src: int, dtype=np.int8) -> bool:
    """A MUL or ADD of src and a constant that varies at most along the last axis, all of
    dtype; a float one also without a fused activation (the conv's epilogue applies none)."""
    t = graph.tensors
    if op.name not in ("MUL", "ADD") or len(op.inputs) != 2 or src not in op.inputs:
        return False
    other = op.inputs[1] if op.inputs[0] == src else op.inputs[0]
    if other == src or other < 0:
        return False
    a, c, out = t[src], t[other], t[op.outputs[0]]
    if not (c.is_const and a.dtype == c.dtype == out.dtype == dtype):
        return False
    if dtype == np.float32 and (getattr(op.options, "fusedActivationFunction", 0) or 0) != 0:
        return False
    if tuple(out.shape) != tuple(a.shape) or not a.shape:
        return False
    shape = list(c.shape)
    per_channel = c.size == a.shape[-1] and all(d == 1 for d in shape[:-1])
    return c.size == 1 or per_channel
