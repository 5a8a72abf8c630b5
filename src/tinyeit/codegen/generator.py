"""Lower a .tflite graph to C99: one call per op, const weights, one planned static arena.

Design choices (documented in the package docstring too):
- int8 math is exact TFLite reference-kernel math; per-op multipliers, shifts and tables are
  computed here, at generation time, so the board runs only integer loops.
- float16 models: their DEQUANTIZE ops of constant weights are folded here (weights are stored
  as float32). Dynamic-range (hybrid) models keep int8 weights in flash and run TFLite's hybrid
  kernels (inputs quantized per row at run time), which is what LiteRT computes.
- RESHAPE / EXPAND_DIMS / SQUEEZE cost nothing: their output shares its input's storage.
- The model input and output are the caller's buffers; the arena holds only intermediates.

This module is the orchestration: the graph passes (passes.py), the Generator context that the
op lowerings (ops/, one module per op family) share, storage planning and the C frame (emit.py).
"""
from __future__ import annotations

import math
import re

import numpy as np

from tinyeit.codegen import emit
from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen import weight_formats
from tinyeit.codegen.emit import CTYPE as _CTYPE
from tinyeit.codegen.emit import F32_BLOCK, aligned_array, c_array, c_float  # noqa: F401
from tinyeit.codegen.model_reader import CodegenError, Graph, Op, Tensor, read_model
from tinyeit.codegen.ops import LOWERINGS, Lowered
from tinyeit.codegen.ops.shape import copy as lower_copy
from tinyeit.codegen.passes import fold_constants, fold_elementwise
from tinyeit.codegen.planner import Buffer, peak_live_bytes, plan

SUPPORTED_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN",
    "FULLY_CONNECTED", "RESHAPE", "EXPAND_DIMS", "SQUEEZE", "ADD", "MUL", "CONCATENATION",
    "SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6", "QUANTIZE", "DEQUANTIZE", "PAD",
    "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND",
)
ALIAS_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}


class Generator:
    """The state of one generation run that the op lowerings share: the graph, the constant
    arrays and tables emitted so far (each named once, in emission order), and the folds."""

    def __init__(self, graph: Graph, flavor: str = "litert"):
        self.flavor = flavor
        self.g = graph
        self.t = graph.tensors
        self.const_names: dict = {}
        self.const_decls: list[str] = []
        self.weights_bytes = 0
        # layers with the unit-pair layout compiled in place of the packed one where
        # TINYEIT_FC_PAIRS, and the weight bytes that changes (ops/fully_connected.py)
        self.pairs_layers = 0
        self.pairs_wide_layers = 0  # of those, the ones in blocks of four pairs
        self.pairs_small_fast_layers = 0  # dense pair ops with the short epilogue, not wide
        self.pairs_bytes_delta = 0
        self.counter = 0
        self.folds: dict = {}
        self.weight_layers: dict = {}  # op index -> weight_formats.LayerWeights, when not dense
        self.stored_args: dict = {}    # weight tensor -> its arrays' C arguments, when not dense
        self.stored_ops: dict = {}     # weight tensor -> the op that stored it
        # clustered int8 layers that a build may expand into RAM (codebook_ram): the calls of
        # tinyeit_prepare, and per weight tensor / per op the expansion's figures per layout
        self.prepare: list[str] = []
        self.codebook_ram: dict = {}
        self.codebook_ops: dict = {}

    def fail(self, op: Op, why: str) -> CodegenError:
        return CodegenError(f"{self.g.path}: op {op.index} ({op.name}): {why}")

    def require(self, op: Op, cond: bool, why: str) -> None:
        if not cond:
            raise self.fail(op, why)

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
        """float weights [rows, ...] in the kernels' blocked layout (emit.blocked_f32)."""
        key = (w.index, "blocked")
        if key not in self.const_names:
            rows = w.data.astype(np.float32).reshape(w.shape[0], -1)
            self.const_names[key] = self.table("float", emit.blocked_f32(rows),
                                               f"tensor_{w.index}_blocked")
        return self.const_names[key]

    def packed_fc_s8(self, w: Tensor) -> str:
        """int8 weights [units, n] in the kernels' 4-unit layout (emit.packed_fc_s8), word
        aligned."""
        key = (w.index, "fc4")
        if key not in self.const_names:
            data = emit.packed_fc_s8(w.data.astype(np.int8).reshape(w.shape[0], -1))
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

    def in_t(self, op: Op, k: int) -> Tensor | None:
        return self.t[op.inputs[k]] if k < len(op.inputs) and op.inputs[k] >= 0 else None

    def own_out(self, op: Op) -> Tensor:
        """op's own output tensor (its quantization), also when a folded chain now follows it."""
        return self.t[self.folds[op.index][0]] if op.index in self.folds else self.t[op.outputs[0]]

    @staticmethod
    def dims4(shape) -> list[int]:
        shape = list(shape)
        if len(shape) > 4:
            raise ValueError(shape)
        return [1] * (4 - len(shape)) + shape

    def lower(self, op: Op, ptr) -> Lowered:
        """op's kernel call and constants, by the lowering its family registered (ops/)."""
        fn = LOWERINGS.get(op.name)
        if fn is None or op.name not in SUPPORTED_OPS:
            raise CodegenError(
                f"{self.g.path}: op {op.index} is {op.name}, which the code generator does not "
                f"support (supported: {', '.join(SUPPORTED_OPS)})")
        return fn(self, op, ptr)

    def copy(self, src: Tensor, dst: Tensor, ptr) -> Lowered:
        return lower_copy(self, src, dst, ptr)


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
    ops = fold_constants(graph)
    listed = sorted({op.name for op in ops})
    gen = Generator(graph, flavor)
    ops = fold_elementwise(graph, ops, gen)
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
    header = emit.HEADER.format(
        name=model_name, in_size=tin.size, out_size=tout.size,
        in_type=_CTYPE[np.dtype(tin.dtype)], out_type=_CTYPE[np.dtype(tout.dtype)],
        in_scale=_c_scale(sin), in_zp=zin, out_scale=_c_scale(sout), out_zp=zout,
        arena=arena_alloc, weights=gen.weights_bytes, pairs_layers=gen.pairs_layers,
        pairs_wide=gen.pairs_wide_layers, pairs_small_fast=gen.pairs_small_fast_layers,
        weights_pairs=gen.weights_bytes + gen.pairs_bytes_delta,
        ops=", ".join(listed), prepare=emit.PREPARE_DECL if gen.prepare else "")
    if trace:
        gen.const_decls.insert(0, "void tinyeit_trace(int tensor, const void *data, int bytes);\n")
    if marks:
        gen.const_decls.insert(0, emit.MARK_FUNCTION)
    files = {}
    if gen.prepare:
        from tinyeit.codegen import codebook_ram  # noqa: PLC0415

        gen.const_decls.insert(0, '#include "tinyeit_codebook.h"\n')
        gen.const_decls.append(emit.PREPARE_FUNCTION.format(body="\n".join(gen.prepare)))
        # the generator's own choice: every layer decoded in the loop; a firmware build
        # rewrites this header per board (codebook_ram.plan)
        layers0 = weight_formats.layers_of(graph, ops, gen.weight_layers)
        files["tinyeit_codebook.h"] = codebook_ram.plan(
            _with_codebook_ram(layers0, gen.codebook_ops), None, None, 0, mode="inloop")[0]
    source = emit.SOURCE.format(arena=arena_alloc, consts="\n".join(gen.const_decls),
                            body="\n".join(body) if body else "    (void)input; (void)output;")
    return {
        "files": {"model.h": header, "model.c": source, **files, **kernel_sources()},
        "arena_bytes": arena_alloc, "arena_lower_bound": bound,
        "weights_bytes": gen.weights_bytes, "fc_pairs_layers": gen.pairs_layers,
        "fc_pairs_wide_layers": gen.pairs_wide_layers,
        "fc_pairs_small_fast_layers": gen.pairs_small_fast_layers,
        "weights_bytes_fc_pairs": gen.weights_bytes + gen.pairs_bytes_delta,
        "input_size": tin.size, "output_size": tout.size,
        "input_dtype": np.dtype(tin.dtype).name, "output_dtype": np.dtype(tout.dtype).name,
        "input_shape": list(tin.shape), "output_shape": list(tout.shape),
        "input_quant": [sin, zin], "output_quant": [sout, zout],
        "ops": listed,
        "layers": _with_codebook_ram(weight_formats.layers_of(graph, ops, gen.weight_layers),
                                     gen.codebook_ops),
        "op_marks": [(op.index, op.name) for op, _ in lowered] if marks else [],
    }


def _with_codebook_ram(layers: list[dict], by_op: dict) -> list[dict]:
    """The layer records with, on layers a build may expand into RAM, the expansion's switch
    and figures per dense layout (`codebook_ram`)."""
    return [dict(rec, codebook_ram=by_op[rec["op_index"]]) if rec["op_index"] in by_op else rec
            for rec in layers]


def _c_scale(s: float) -> str:
    return c_float(s)


def _model_name(path: str) -> str:
    import os  # noqa: PLC0415

    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    base = os.path.splitext(os.path.basename(path))[0]
    return parent if base == "model" and parent else base


KERNEL_DIRS = ("reference", "cortex_m", "aarch64")


# Kernel files of the stored-weight formats (weight_formats.py: block-sparse, codebook) form a
# translation unit of their own: joined into tinyeit_kernels.c they would change how gcc inlines
# the dense kernels there (a larger unit), and so the dense models' code and cycles.
STORED_KERNELS = ("_sparse.c", "_codebook.c")
# The hybrid (dynamic-range) kernels likewise, in tinyeit_kernels_hybrid.c.
HYBRID_KERNELS = ("_hybrid.c",)


def kernel_sources() -> dict[str, str]:
    """The kernels as the generated folder holds them: the public header, the shared internal
    header, and two translation units joining every family file of every target (reference
    first): tinyeit_kernels.c, tinyeit_kernels_stored.c for the block-sparse and codebook
    kernels and tinyeit_kernels_hybrid.c for the hybrid ones; each target's code compiled only where the compiler targets it (tinyeit_common.h),
    so one folder builds for every board and the build flags pick the kernels."""
    from importlib import resources  # noqa: PLC0415

    root = resources.files("tinyeit.codegen").joinpath("kernels")
    head = ("/* Generated by `tinyeit codegen`: the kernel sources of "
            "src/tinyeit/codegen/kernels/, joined. */\n")
    parts, stored, hybrid = [head], [head], [head]
    files = {"tinyeit_kernels.h": root.joinpath("tinyeit_kernels.h").read_text()}
    for sub in KERNEL_DIRS:
        for entry in sorted(root.joinpath(sub).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".c"):
                into = (stored if entry.name.endswith(STORED_KERNELS) else
                        hybrid if entry.name.endswith(HYBRID_KERNELS) else parts)
                into.append(f"/* ---- {sub}/{entry.name} ---- */\n{entry.read_text()}")
            elif entry.name.endswith(".h"):
                files[entry.name] = entry.read_text()
    files["tinyeit_kernels.c"] = "\n".join(parts)
    files["tinyeit_kernels_stored.c"] = "\n".join(stored)
    files["tinyeit_kernels_hybrid.c"] = "\n".join(hybrid)
    return files
