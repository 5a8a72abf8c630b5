"""SOFTMAX: int8 with TFLite's exp tables computed here, float with beta as a literal."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.emit import c_float
from tinyeit.codegen.model_reader import Op
from tinyeit.codegen.ops import Lowered, lowers


@lowers("SOFTMAX")
def softmax(gen, op: Op, ptr) -> Lowered:
    x, out = gen.in_t(op, 0), gen.t[op.outputs[0]]
    depth = x.shape[-1]
    rows = x.size // depth
    beta = float(op.options.beta) if op.options is not None else 1.0
    if x.dtype == np.int8:
        so, zo = out.qparams()
        gen.require(op, out.dtype == np.int8 and zo == -128 and so == 1.0 / 256,
                    "int8 softmax output must have scale 1/256 and zero point -128")
        exps, accs, _ = fp.softmax_exp_table(beta, x.qparams()[0])
        e = gen.table("int32_t", exps, "softmax_exp")
        acc = gen.table("int32_t", accs, "softmax_acc")
        return Lowered([f"tinyeit_softmax_s8({ptr(x)}, {ptr(out)}, {rows}, {depth}, "
                        f"{e}, {acc});"])
    return Lowered([f"tinyeit_softmax_f32({ptr(x)}, {ptr(out)}, {rows}, {depth}, "
                    f"{c_float(beta)});"])
