"""FULLY_CONNECTED: int8 (with the folded per-channel chain), hybrid, float."""
from __future__ import annotations

import numpy as np

from tinyeit.codegen import emit
from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen import layout_unit_pairs as lp
from tinyeit.codegen import weight_formats
from tinyeit.codegen.emit import aligned_array, c_array
from tinyeit.codegen.model_reader import Op
from tinyeit.codegen.ops import Lowered, lowers
from tinyeit.codegen.ops.conv import cheap_requant, per_channel_requant
from tinyeit.codegen.passes import post_table


@lowers("FULLY_CONNECTED")
def fully_connected(gen, op: Op, ptr) -> Lowered:
    x, w, out = gen.in_t(op, 0), gen.in_t(op, 1), gen.own_out(op)
    b = gen.in_t(op, 2)
    o = op.options
    gen.require(op, w.is_const and len(w.shape) == 2, "weights must be a constant 2D tensor")
    gen.require(op, int(getattr(o, "weightsFormat", 0) or 0) == 0,
                "shuffled weights format is not supported")
    units, in_dim = w.shape
    gen.require(op, x.size % in_dim == 0, "input size is not a multiple of weights depth")
    p = dict(batches=x.size // in_dim, in_dim=in_dim, units=units)
    low = Lowered()
    if x.dtype == np.int8:
        sx, zx = x.qparams()
        so, zo = out.qparams()
        p.update(in_offset=-zx, w_offset=-int(w.zero_point[0]), out_offset=zo,
                 single_round=int(gen.flavor == "litert"),
                 **gen.act_range(op, out))
        gen.require(op, len(set(w.zero_point.tolist())) == 1,
                    "per-channel filter zero points are not supported")
        mult, shift, mults, shifts = per_channel_requant(gen, op, x, w, out, units)
        # in_offset * (sum of the unit's weights + in_dim * w_offset), exact int32 math
        wsum = w.data.astype(np.int64).sum(axis=1) + in_dim * p["w_offset"]
        base = (b.data.astype(np.int64).reshape(units) if b is not None
                else np.zeros(units, np.int64))
        bias = gen.table("int32_t", [fp._wrap32(int(v)) for v in base + p["in_offset"] * wsum],
                         "bias")
        wabs = np.abs(w.data.astype(np.int64) + p["w_offset"]).sum(axis=1)
        bounds = np.abs(base) + wabs * max(127 - zx, zx + 128)
        p["cheap_rq"] = cheap_requant(bounds, mults, shifts)
        post, p["post_len"], dest = post_table(gen, op, out, p["act_min"], p["act_max"])
        if fast_requant(p, bounds, mults, shifts):
            p["rq_fast"] = _rq_fast_table(gen, shifts)
        rows = w.data.astype(np.int8).reshape(units, in_dim)
        # no -128 weight: the NEON kernel may sum two products per int16 lane
        p["w_no_min"] = int(rows.size == 0 or int(rows.min()) > -128)
        prm = gen.params("tinyeit_fc_params", p)
        fmt = weight_formats.choose_format(rows) if p["w_offset"] == 0 else weight_formats.DENSE
        # on unit pairs, a layer too small for the four-pair blocks with the short epilogue
        # runs the fused small blocks (TINYEIT_PAIRS_SMALL_FAST in tinyeit_kernels.h)
        small_fast = bool(p.get("rq_fast")) and not lp.wide(in_dim, (units + 1) // 2)
        args = f"{bias}, {mult}, {shift}, {post}, {ptr(dest)}, &{prm});"
        if fmt == weight_formats.DENSE and lp.worthwhile(in_dim) and lp.pairs_fit(rows):
            # both dense layouts, each compiled only where its kernel runs (TINYEIT_FC_PAIRS)
            pairs, packed = _both_layouts(gen, w, rows)
            gen.pairs_small_fast_layers += int(small_fast)
            low.scratch_bytes = lp.scratch_bytes(in_dim)
            low.code.append(
                "#if TINYEIT_FC_PAIRS\n"
                f"    tinyeit_fc_s8_pairs({ptr(x)}, {pairs}, {bias}, {mult}, {shift}, {post}, "
                f"{ptr(dest)}, &{prm}, (int16_t *)(int8_t *)scratch);\n"
                "#else\n"
                f"    tinyeit_fc_s8({ptr(x)}, {packed}, {args}\n"
                "#endif")
        elif fmt == weight_formats.DENSE:
            low.code.append(f"tinyeit_fc_s8({ptr(x)}, {gen.packed_fc_s8(w)}, {args}")
        elif fmt == weight_formats.BLOCK_SPARSE and lp.bsr_pairs_fit(rows):
            # both block-sparse layouts, each compiled only where its kernel runs
            pairs, plain = _both_sparse(gen, op, w, rows, p["batches"])
            low.code.append(
                "#if TINYEIT_FC_PAIRS\n"
                f"    tinyeit_fc_s8_bsr_pairs({ptr(x)}, {pairs}, {args}\n"
                "#else\n"
                f"    tinyeit_fc_s8_bsr({ptr(x)}, {plain}, {args}\n"
                "#endif")
        elif fmt == weight_formats.CODEBOOK:
            _codebook_both(gen, op, w, rows, p["batches"], low, x, args, ptr,
                           f"{bias}, {mult}, {shift}, {post}, {ptr(dest)}, &{prm}", small_fast)
        else:
            low.code.append(f"tinyeit_fc_s8_{_stored(gen, op, w, rows, fmt, p['batches'])}"
                            f"{ptr(x)}, {_stored_args(gen, w)}, {args}")
    elif w.dtype == np.int8:
        gen.require(op, not np.any(w.zero_point), "hybrid filter zero points must be 0")
        p.update(asymmetric=int(bool(getattr(o, "asymmetricQuantizeInputs", False))),
                 **gen.act_range(op, out))
        scales = gen.table("float", [float(v) for v in w.scale], "wscale")
        bias = gen.const(b.index) if b is not None else "NULL"
        rows = w.data.astype(np.int8).reshape(units, in_dim)
        p["w_no_min"] = int(rows.size == 0 or int(rows.min()) > -128)
        prm = gen.params("tinyeit_fc_params", p)
        # the int8 FC's layouts, each under the macro of the build that runs it (the unit pairs
        # on the Cortex-M DSP extension, packed on AArch64 NEON), plain rows elsewhere
        pairs = lp.worthwhile(in_dim) and lp.pairs_fit(rows)
        names = _hybrid_layouts(gen, w, rows, pairs)
        wsum = "NULL"
        if p["asymmetric"]:  # the zero point's term; tinyeit_fc_hybrid sums its rows itself
            wsum = gen.name("wsum")
            gen.const_decls.append(
                f"#if TINYEIT_FC_PAIRS{' ' if pairs else ' && 0 '}|| TINYEIT_HYBRID_PACKED\n"
                + c_array("int32_t", wsum, rows.astype(np.int64).sum(axis=1)) + "#endif\n")
            gen.weights_bytes += 4 * units
        row16 = -(-in_dim // 16) * 16
        low.scratch_bytes = row16 + (lp.scratch_bytes(in_dim) if pairs else 0)
        tail = (f"{scales}, {len(w.scale)}, {bias}, (int8_t *)scratch, {ptr(out)}, &{prm});")
        calls = [f"    tinyeit_fc_hybrid_packed({ptr(x)}, {names['packed']}, {wsum}, {tail}\n",
                 "#else\n",
                 f"    tinyeit_fc_hybrid({ptr(x)}, {names['rows']}, {tail}\n#endif"]
        if pairs:
            calls = ["#if TINYEIT_FC_PAIRS\n",
                     f"    tinyeit_fc_hybrid_pairs({ptr(x)}, {names['pairs']}, {wsum}, {tail}\n",
                     "#elif TINYEIT_HYBRID_PACKED\n"] + calls
        else:
            calls = ["#if TINYEIT_HYBRID_PACKED\n"] + calls
        low.code.append("".join(calls))
    else:
        p.update(**gen.act_range(op, out))
        bias = gen.const(b.index) if b is not None else "NULL"
        prm = gen.params("tinyeit_fc_params", p)
        rows = w.data.astype(np.float32).reshape(units, in_dim)
        fmt = weight_formats.choose_format(rows)
        if fmt == weight_formats.DENSE:
            low.code.append(f"tinyeit_fc_f32({ptr(x)}, {gen.blocked_f32(w)}, {bias}, "
                            f"{ptr(out)}, &{prm});")
        else:
            low.code.append(f"tinyeit_fc_f32_{_stored(gen, op, w, rows, fmt, p['batches'])}"
                            f"{ptr(x)}, {_stored_args(gen, w)}, {bias}, {ptr(out)}, &{prm});")
    return low


def _stored(gen, op: Op, w, rows: np.ndarray, fmt: str, batches: int) -> str:
    """Emit w's arrays in `fmt` (weight_formats), record the layer's figures, and return the
    kernel's name suffix and "(": "bsr(" or "cb(". The arguments are _stored_args(gen, w)."""
    wf = weight_formats
    ctype = "int8_t" if rows.dtype == np.int8 else "float"
    suffix = "bsr(" if fmt == wf.BLOCK_SPARSE else "cb("
    if w.index in gen.stored_args:  # a weight tensor two ops share: stored once
        gen.weight_layers[op.index] = gen.weight_layers[gen.stored_ops[w.index]]
        return suffix
    gen.stored_ops[w.index] = op.index
    if fmt == wf.BLOCK_SPARSE:
        enc = wf.encode_block_sparse(rows)
        vals = f"tensor_{w.index}_bsr"
        gen.const_decls.append(aligned_array(ctype, vals, enc.values))
        idx = f"tensor_{w.index}_bsr_index"
        gen.const_decls.append(c_array("uint16_t", idx, enc.index))
        gen.stored_args[w.index] = f"{vals}.v, {idx}"
    else:
        enc = wf.encode_codebook(rows)
        codes = f"tensor_{w.index}_codes"
        gen.const_decls.append(aligned_array("uint8_t", codes, enc.codes))
        table = f"tensor_{w.index}_codebook"
        gen.const_decls.append(aligned_array(ctype, table, enc.table))
        stride = wf.CODEBOOK_SIZE if enc.per_unit else 0
        gen.stored_args[w.index] = f"{codes}.v, {table}.v, {stride}"
    gen.weights_bytes += enc.nbytes
    gen.weight_layers[op.index] = wf.stored_record(gen.g, op, fmt, enc.nbytes, enc.macs(batches))
    return suffix


def fast_requant(p: dict, bounds, mults, shifts) -> bool:
    """tinyeit_fc_params.rq_fast: single rounding proven cheap (cheap_rq), no folded table, the
    activation range all of int8 (so SSAT to 8 bits is the clamp), every shift in [-22, -2],
    and for every unit and reachable acc (|acc| <= its bound) |floor(acc * m / 2^32)| + |K| <
    2^31 with K = 2^(s-1) + zo 2^s, s = -shift - 1. Then K + floor(acc * m / 2^32) (one SMMLA)
    shifted right by s is LiteRT's single-rounding requantization plus zo (floor((floor(P /
    2^32) + 2^(s-1)) / 2^s) = floor((P + 2^(31+s)) / 2^(32+s)), nested floors:
    requant_single_cheap in tinyeit_common.h)."""
    if not (p.get("single_round") and p.get("cheap_rq") and p.get("post_len", 0) == 0
            and p["act_min"] == -128 and p["act_max"] == 127):
        return False
    zo = int(p["out_offset"])
    for bound, m, shift in zip(bounds, mults, shifts):
        if not -22 <= int(shift) <= -2:
            return False
        s = -int(shift) - 1
        k = abs((1 << (s - 1)) + zo * (1 << s))
        if (int(bound) * abs(int(m)) >> 32) + 1 + k >= (1 << 31):
            return False
    return True


def rq_fast_shifts(shifts) -> list[int]:
    """tinyeit_fc_params.rq_fast's table: per unit t = -2 - shift, the right shift the short
    epilogue applies after SMMUL (0..20 where fast_requant holds)."""
    return [-2 - int(s) for s in shifts]


def _rq_fast_table(gen, shifts) -> str:
    """The short epilogue's byte table, compiled only where the unit-pair kernels that read it
    are (TINYEIT_IF_FC_PAIRS: NULL elsewhere); its bytes counted with the pairs' difference."""
    name = gen.name("rqt")
    gen.const_decls.append("#if TINYEIT_FC_PAIRS\n"
                           + c_array("int8_t", name, rq_fast_shifts(shifts)) + "#endif\n")
    gen.pairs_bytes_delta += len(shifts)
    return f"TINYEIT_IF_FC_PAIRS({name})"


def _stored_args(gen, w) -> str:
    return gen.stored_args[w.index]


def _both_layouts(gen, w, rows: np.ndarray) -> tuple[str, str]:
    """The weights as unit pairs (layout_unit_pairs, for tinyeit_fc_s8_pairs) and packed
    (emit.packed_fc_s8, for tinyeit_fc_s8), each under its side of TINYEIT_FC_PAIRS so that a
    build holds one of them; the generator counts the packed bytes in TINYEIT_WEIGHTS_BYTES and
    the difference in TINYEIT_WEIGHTS_BYTES_FC_PAIRS."""
    key = (w.index, "pairs")
    if key not in gen.const_names:
        pairs, packed = lp.unit_pairs_s8(rows), emit.packed_fc_s8(rows)
        pname, qname = f"tensor_{w.index}_pairs", f"tensor_{w.index}_fc4"
        gen.const_decls.append("#if TINYEIT_FC_PAIRS\n" + emit.aligned_array("uint8_t", pname, pairs)
                               + "#else\n" + emit.aligned_array("int8_t", qname, packed)
                               + "#endif\n")
        gen.weights_bytes += packed.nbytes
        gen.pairs_layers += 1
        gen.pairs_wide_layers += int(lp.wide(rows.shape[1], (rows.shape[0] + 1) // 2))
        gen.pairs_bytes_delta += pairs.nbytes - packed.nbytes
        gen.const_names[key] = (f"{pname}.v", f"{qname}.v")
    return gen.const_names[key]


def _hybrid_layouts(gen, w, rows: np.ndarray, pairs: bool) -> dict:
    """A hybrid layer's int8 weights in the layouts of the int8 FC kernels: unit pairs (if
    `pairs`) under TINYEIT_FC_PAIRS, packed under TINYEIT_HYBRID_PACKED, plain rows (for
    tinyeit_fc_hybrid) otherwise; one of them compiled per build. The generator counts the rows'
    bytes (the packed layout's too) in TINYEIT_WEIGHTS_BYTES, the pairs' difference in
    TINYEIT_WEIGHTS_BYTES_FC_PAIRS."""
    key = (w.index, "hybrid")
    if key not in gen.const_names:
        packed = emit.packed_fc_s8(rows)
        qname, rname = f"tensor_{w.index}_fc4", f"tensor_{w.index}"
        text, names = "", {"packed": f"{qname}.v", "rows": f"{rname}.v"}
        if pairs:
            lay = lp.unit_pairs_s8(rows)
            pname = f"tensor_{w.index}_pairs"
            text = "#if TINYEIT_FC_PAIRS\n" + emit.aligned_array("uint8_t", pname, lay) + "#elif "
            names["pairs"] = f"{pname}.v"
            gen.pairs_layers += 1
            gen.pairs_wide_layers += int(lp.wide(rows.shape[1], (rows.shape[0] + 1) // 2))
            gen.pairs_bytes_delta += lay.nbytes - packed.nbytes
        else:
            text = "#if "
        text += ("TINYEIT_HYBRID_PACKED\n" + emit.aligned_array("int8_t", qname, packed)
                 + "#else\n" + emit.aligned_array("int8_t", rname, rows.reshape(-1))
                 + "#endif\n")
        gen.const_decls.append(text)
        gen.weights_bytes += packed.nbytes
        gen.const_names[key] = names
    return gen.const_names[key]


def _both_sparse(gen, op: Op, w, rows: np.ndarray, batches: int) -> tuple[str, str]:
    """Pruned int8 weights as block-sparse unit pairs (layout_unit_pairs.encode_bsr_pairs, for
    tinyeit_fc_s8_bsr_pairs) and in weight_formats' block-sparse layout (tinyeit_fc_s8_bsr),
    each under its side of TINYEIT_FC_PAIRS, as _both_layouts does for dense weights: the
    layer's record and TINYEIT_WEIGHTS_BYTES count the portable layout, the difference goes to
    TINYEIT_WEIGHTS_BYTES_FC_PAIRS. Returns each kernel's weight arguments."""
    wf = weight_formats
    key = (w.index, "bsr_pairs")
    if key in gen.const_names:  # a weight tensor two ops share: stored once
        gen.weight_layers[op.index] = gen.weight_layers[gen.stored_ops[w.index]]
        return gen.const_names[key]
    gen.stored_ops[w.index] = op.index
    enc = wf.encode_block_sparse(rows)
    pidx, pwords = lp.encode_bsr_pairs(rows)
    vals, idx = f"tensor_{w.index}_bsr", f"tensor_{w.index}_bsr_index"
    pvals, pidxn = f"tensor_{w.index}_bsrp", f"tensor_{w.index}_bsrp_index"
    gen.const_decls.append(
        "#if TINYEIT_FC_PAIRS\n"
        + aligned_array("uint8_t", pvals, pwords.astype("<u4").view(np.uint8))
        + c_array("uint16_t", pidxn, pidx)
        + "#else\n" + aligned_array("int8_t", vals, enc.values)
        + c_array("uint16_t", idx, enc.index) + "#endif\n")
    gen.weights_bytes += enc.nbytes
    gen.pairs_layers += 1
    gen.pairs_bytes_delta += lp.bsr_pairs_bytes(pidx, pwords) - enc.nbytes
    gen.weight_layers[op.index] = wf.stored_record(gen.g, op, wf.BLOCK_SPARSE, enc.nbytes,
                                                   enc.macs(batches))
    gen.const_names[key] = (f"{pvals}.v, {pidxn}", f"{vals}.v, {idx}")
    return gen.const_names[key]


def _codebook_both(gen, op: Op, w, rows: np.ndarray, batches: int, low: Lowered, x, args: str,
                   ptr, pairs_args: str, small_fast: bool) -> None:
    """Clustered int8 weights both ways, chosen per build by the layer's switch
    (codebook_ram.macro, set in tinyeit_codebook.h by the firmware build): in flash as the
    codebook, decoded in the kernel's loop (tinyeit_fc_s8_cb), or in flash as the codes in the
    dense layout's order, expanded once by tinyeit_prepare into a static RAM array that the
    dense kernel reads (unit pairs under TINYEIT_FC_PAIRS where the dense path would take them,
    else packed). The layer's record is the in-loop codebook's, with the expansion's figures per
    layout under `codebook_ram` (codebook_ram.plan turns them into the build's record)."""
    from tinyeit.codegen import codebook_ram as cr  # noqa: PLC0415

    sw = cr.macro(w.index)
    pairs = lp.worthwhile(rows.shape[1]) and lp.pairs_fit(rows)
    if pairs:
        low.scratch_bytes = lp.scratch_bytes(rows.shape[1])
    ram = f"tensor_{w.index}_ram"
    first = w.index not in gen.stored_args
    start = len(gen.const_decls)
    suffix = _stored(gen, op, w, rows, weight_formats.CODEBOOK, batches)
    if first:
        inloop = "".join(gen.const_decls[start:])
        del gen.const_decls[start:]
        forms = {}
        text = f"#if {sw}\n"
        layouts = ["unit_pairs", "packed_4x4"] if pairs else ["packed_4x4"]
        for k, layout in enumerate(layouts):
            enc = cr.encode(rows, layout)
            forms[layout] = {"flash_bytes": enc.flash_bytes, "ram_bytes": enc.ram_bytes}
            if layout == "unit_pairs":  # in blocks of four pairs: the unrolled kernel
                forms[layout]["wide"] = bool(lp.wide(rows.shape[1], (rows.shape[0] + 1) // 2))
                # else, with the short epilogue, the fused small blocks
                forms[layout]["small_fast"] = small_fast
            if pairs:
                text += "#if TINYEIT_FC_PAIRS\n" if k == 0 else "#else\n"
            text += (aligned_array("uint8_t", f"{ram}_codes", enc.codes)
                     + aligned_array("uint8_t", f"{ram}_rows", enc.rows)
                     + aligned_array("uint16_t", f"{ram}_segments", enc.segments)
                     + aligned_array("uint8_t", f"{ram}_patterns", enc.patterns)
                     + f"#define {ram.upper()}_SEGMENTS {len(enc.segments) // 4}u\n"
                     + f"static union {{ uint8_t v[{enc.ram_bytes}]; int32_t align; }} {ram};\n")
        if pairs:
            text += "#endif\n"
        gen.const_decls.append(text + "#else\n" + inloop + "#endif\n")
        borrow = (f"#if TINYEIT_FC_PAIRS\n    tinyeit_cb_pairs_borrow({ram}.v, sizeof {ram}.v);\n"
                  "#endif\n" if pairs else "")
        gen.prepare.append(f"#if {sw}\n    tinyeit_cb_expand({ram}.v, sizeof {ram}.v, "
                           f"{ram}_codes.v, {ram}_rows.v, {ram}_segments.v, "
                           f"{ram.upper()}_SEGMENTS, {ram}_patterns.v);\n{borrow}#endif")
        gen.codebook_ram[w.index] = {"macro": sw, "layouts": forms}
    gen.codebook_ops[op.index] = gen.codebook_ram[w.index]
    dense = (f"    tinyeit_fc_s8_pairs({ptr(x)}, {ram}.v, {pairs_args}, "
             "(int16_t *)(int8_t *)scratch);\n#else\n" if pairs else "")
    low.code.append(
        f"#if {sw}\n" + ("#if TINYEIT_FC_PAIRS\n" if pairs else "") + dense
        + f"    tinyeit_fc_s8({ptr(x)}, (const int8_t *){ram}.v, {args}\n"
        + ("#endif\n" if pairs else "")
        + f"#else\n    tinyeit_fc_s8_{suffix}{ptr(x)}, {_stored_args(gen, w)}, {args}\n#endif")
