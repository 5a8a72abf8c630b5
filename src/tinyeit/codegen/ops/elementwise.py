"""ADD and MUL with broadcasting (int8 and float); an int8 ADD/MUL of a per-channel constant
after a conv or fully connected is folded away earlier (passes.fold_elementwise)."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.model_reader import Op, Tensor
from tinyeit.codegen.ops import Lowered, lowers


def _binary(gen, op: Op, ptr, kind: str) -> Lowered:
    a, b, out = gen.in_t(op, 0), gen.in_t(op, 1), gen.t[op.outputs[0]]
    gen.require(op, len(out.shape) <= 4, "more than 4 dimensions are not supported")
    od = gen.dims4(out.shape)

    def strides(t: Tensor) -> list[int]:
        d = gen.dims4(t.shape)
        gen.require(op, all(x in (1, y) for x, y in zip(d, od)), "shapes do not broadcast")
        s, acc = [0] * 4, 1
        for i in range(3, -1, -1):
            s[i] = acc if d[i] != 1 else 0
            acc *= d[i]
        return s

    p = {"dims": "{" + ", ".join(map(str, od)) + "}",
         "s1": "{" + ", ".join(map(str, strides(a))) + "}",
         "s2": "{" + ", ".join(map(str, strides(b))) + "}"}
    p.update(gen.act_range(op, out))
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
            t1 = gen.table("int32_t", [fp.mbqm((q - za) << 20, m1, s1)
                                       for q in range(-128, 128)], "addtab")
            t2 = gen.table("int32_t", [fp.mbqm((q - zb) << 20, m2, s2)
                                       for q in range(-128, 128)], "addtab")
        else:
            mo, so_ = fp.quantize_multiplier(float(sa) * float(sb) / float(so))
            p.update(out_mult=mo, out_shift=so_)
        suffix = "s8"
    else:
        suffix = "f32"
    prm = gen.params("tinyeit_binary_params", p)
    tables = f"{t1}, {t2}, " if kind == "add" and suffix == "s8" else ""
    return Lowered([f"tinyeit_{kind}_{suffix}({ptr(a)}, {ptr(b)}, {tables}{ptr(out)}, "
                    f"&{prm});"])


@lowers("ADD")
def add(gen, op: Op, ptr) -> Lowered:
    return _binary(gen, op, ptr, "add")


@lowers("MUL")
def mul(gen, op: Op, ptr) -> Lowered:
    return _binary(gen, op, ptr, "mul")
