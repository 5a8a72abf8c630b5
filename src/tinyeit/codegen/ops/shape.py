"""Data movement: PAD, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, CONCATENATION, and the copy that
stands in for a RESHAPE whose output cannot share its input's storage."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen.emit import int_list
from tinyeit.codegen.model_reader import Op, Tensor
from tinyeit.codegen.ops import Lowered, lowers


def _pad_value(gen, out: Tensor) -> str:
    if out.dtype == np.int8:
        return gen.table("int8_t", [out.qparams()[1]], "padv")
    return gen.table("float", [0.0], "padv")


@lowers("PAD")
def pad(gen, op: Op, ptr) -> Lowered:
    x, pads, out = gen.in_t(op, 0), gen.in_t(op, 1), gen.t[op.outputs[0]]
    gen.require(op, pads is not None and pads.is_const, "paddings must be constant")
    gen.require(op, len(x.shape) <= 4, "more than 4 dimensions are not supported")
    pz = np.asarray(pads.data).reshape(-1, 2)
    before = [0] * (4 - len(x.shape)) + [int(v) for v in pz[:, 0]]
    return Lowered([f"tinyeit_pad({ptr(x)}, {ptr(out)}, {x.dtype.itemsize}, "
                    f"{int_list(gen.dims4(x.shape))}, {int_list(before)}, "
                    f"{int_list(gen.dims4(out.shape))}, {_pad_value(gen, out)});"])


def _space_dims(gen, op: Op, t: Tensor, m: int) -> list[int]:
    if len(t.shape) == 4 and m == 2:
        return list(t.shape)
    if len(t.shape) == 3 and m == 1:
        return [t.shape[0], t.shape[1], 1, t.shape[2]]
    raise gen.fail(op, f"rank {len(t.shape)} with {m} block dims is not supported")


@lowers("SPACE_TO_BATCH_ND")
def space_to_batch_nd(gen, op: Op, ptr) -> Lowered:
    x, block, pads, out = (gen.in_t(op, 0), gen.in_t(op, 1), gen.in_t(op, 2),
                           gen.t[op.outputs[0]])
    gen.require(op, block.is_const and pads.is_const, "block and paddings must be constant")
    bs = [int(v) for v in block.data.reshape(-1)]
    pz = np.asarray(pads.data).reshape(-1, 2)
    bh, bw = (bs + [1])[:2]
    pt, pl = int(pz[0, 0]), (int(pz[1, 0]) if len(bs) > 1 else 0)
    pad = _pad_value(gen, out)
    return Lowered([f"tinyeit_space_to_batch({ptr(x)}, {ptr(out)}, {x.dtype.itemsize}, "
                    f"{int_list(_space_dims(gen, op, x, len(bs)))}, "
                    f"{int_list(_space_dims(gen, op, out, len(bs)))}, {bh}, {bw}, {pt}, {pl}, "
                    f"{pad});"])


@lowers("BATCH_TO_SPACE_ND")
def batch_to_space_nd(gen, op: Op, ptr) -> Lowered:
    x, block, crops, out = (gen.in_t(op, 0), gen.in_t(op, 1), gen.in_t(op, 2),
                            gen.t[op.outputs[0]])
    gen.require(op, block.is_const and crops.is_const, "block and crops must be constant")
    bs = [int(v) for v in block.data.reshape(-1)]
    cz = np.asarray(crops.data).reshape(-1, 2)
    bh, bw = (bs + [1])[:2]
    ct, cl = int(cz[0, 0]), (int(cz[1, 0]) if len(bs) > 1 else 0)
    return Lowered([f"tinyeit_batch_to_space({ptr(x)}, {ptr(out)}, {x.dtype.itemsize}, "
                    f"{int_list(_space_dims(gen, op, x, len(bs)))}, "
                    f"{int_list(_space_dims(gen, op, out, len(bs)))}, {bh}, {bw}, {ct}, {cl});"])


@lowers("CONCATENATION")
def concatenation(gen, op: Op, ptr) -> Lowered:
    out = gen.t[op.outputs[0]]
    ins = [gen.t[i] for i in op.inputs]
    gen.require(op, gen.act(op) == "NONE", "fused activation on concatenation")
    axis = int(op.options.axis) % len(out.shape)
    if out.dtype == np.int8:
        gen.require(op, all(t.qparams() == out.qparams() for t in ins),
                    "int8 inputs with different quantization than the output")
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    chunks = [int(np.prod(t.shape[axis:], dtype=np.int64)) * t.dtype.itemsize for t in ins]
    srcs = ", ".join(f"(const void *){ptr(t)}" for t in ins)
    return Lowered([f"tinyeit_concat({ptr(out)}, {len(ins)}, (const void *const[]){{{srcs}}}, "
                    f"(const int32_t[]){{{', '.join(map(str, chunks))}}}, {outer});"])


def copy(gen, src: Tensor, dst: Tensor, ptr) -> Lowered:
    return Lowered([f"tinyeit_copy({ptr(src)}, {ptr(dst)}, {src.nbytes});"])
