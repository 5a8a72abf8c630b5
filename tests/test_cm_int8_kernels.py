"""The Cortex-M int8 max pool (SSUB8/SEL, tinyeit_cm_pool.c) and 3-tap conv (two outputs per
iteration, the requantization in one SMMLAR: tinyeit_cm_conv_small.c) on the emulated nano33ble,
held byte for byte to the portable reference kernels (tinyeit_maxpool_s8_ref,
tinyeit_conv_s8_ref) built into the same firmware: one image runs every case on random inputs
and an all -128 and an all 127 frame, and writes both kernels' outputs. The cases reach the new
paths and their edges (channels off multiples of 4 and past the 16-channel chunk, odd output
counts, SAME pools' truncated last window, clamped pools, 2-tap and 2D windows, a folded table,
an activation range under 255, out-of-range shifts that take the previous loop per channel,
-128/-127 weights).
The reference kernels are held to LiteRT by the rest of the suite (test_codegen_exact,
test_codegen_properties); the study models' end-to-end exactness is opbench's check.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen.emit import c_array
from tinyeit.codegen.generator import kernel_sources

IN_BYTES = 4096

POOLS = [  # in_h, in_w, ch, k_h, k_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w, lo, hi
    (1, 38, 25, 1, 3, 1, 2, 0, 0, 1, 19, -128, 127),   # the study's (SAME: last window 2 taps)
    (1, 38, 25, 1, 3, 1, 2, 0, 0, 1, 18, -128, 127),   # VALID
    (1, 20, 1, 1, 3, 1, 1, 0, 0, 1, 18, -128, 127),
    (1, 21, 7, 1, 3, 1, 3, 0, 1, 1, 7, -128, 127),     # padding before: the generic path
    (2, 17, 9, 1, 3, 1, 2, 0, 0, 2, 8, -128, 127),
    (1, 16, 12, 1, 3, 1, 1, 0, 0, 1, 14, -20, 90),     # clamped
    (1, 16, 6, 1, 2, 1, 2, 0, 0, 1, 8, -128, 127),     # two taps
    (4, 6, 5, 2, 2, 2, 2, 0, 0, 2, 3, -128, 127),      # 2D
    (3, 7, 4, 3, 3, 1, 1, 1, 1, 3, 7, -128, 6),        # 2D SAME, clamped above
]

CONVS = [  # in_w, out_c, act_min, act_max, post, out_offset, shift_override
    (40, 25, -128, 127, True, -128, None),   # the study's first conv
    (40, 6, -128, 127, False, -128, None),
    (41, 5, -128, 127, False, 3, None),      # odd output count: the last one in C
    (12, 33, -128, 127, True, -7, None),     # past the 16-channel chunk
    (30, 9, -128, 127, False, 0, None),
    (30, 8, -128, 5, False, -128, None),     # span < 255: the clamping table
    (40, 6, -7, 127, True, -7, None),        # ReLU with a folded table (QAT's first conv)
    (21, 5, 0, 6, True, 0, None),            # ReLU6-like span, odd output count
    (30, 4, -128, 127, False, -128, 0),      # a shift the paired path refuses (one channel)
    (20, 7, -128, 127, True, -5, -25),       # a pruned filter's tiny scale, with a table
    (21, 9, -3, 127, True, -3, -24),         # the same, ReLU, odd output count
    (3, 3, -128, 127, False, -128, None),    # one output
]


def _pool_case(k, spec):
    in_h, in_w, ch, kh, kw, sh, sw, ph, pw, oh, ow, lo, hi = spec
    prm = (f"static const tinyeit_pool_params PP{k} = {{1, {in_h}, {in_w}, {ch}, {oh}, {ow}, "
           f"{kh}, {kw}, {sh}, {sw}, {ph}, {pw}, {lo}, {hi}, 0.0f, 0.0f}};\n")
    n_out = oh * ow * ch
    assert in_h * in_w * ch <= IN_BYTES
    body = (f"    tinyeit_maxpool_s8(in, o, &PP{k}); o += {n_out};\n"
            f"    tinyeit_maxpool_s8_ref(in, o, &PP{k}); o += {n_out};\n")
    return prm, body, n_out


def _conv_case(k, spec, rng):
    from tinyeit.codegen.ops.conv import cheap_requant

    in_w, oc, lo, hi, post, zo, shift_override = spec
    out_w = in_w - 2
    w = rng.integers(-127, 128, (oc, 3)).astype(np.int64)
    w[0, 0], w[-1, -1] = -128, -127
    bias = rng.integers(-20000, 20000, oc)
    scales = rng.uniform(0.0005, 0.004, oc)
    mult, shift = map(list, zip(*(fp.quantize_multiplier(float(s)) for s in scales)))
    if shift_override is not None:
        shift[0] = shift_override
    cheap = cheap_requant(np.abs(bias) + np.abs(w).sum(axis=1) * 128, mult, shift)
    assert cheap
    # the packed layout (fc4_index with n = 3): blocks of 4 channels tap-major, then rows
    packed = np.zeros(oc * 3, np.int64)
    for u in range(oc):
        for t in range(3):
            i = (u * 3 + t if u >= (oc & ~3) else (u & ~3) * 3 + 4 * t + (u & 3))
            packed[i] = w[u, t]
    decls = [c_array("int8_t", f"CW{k}", packed), c_array("int32_t", f"CB{k}", bias),
             c_array("int32_t", f"CM{k}", mult), c_array("int32_t", f"CS{k}", shift)]
    table = "NULL"
    plen = 0
    if post:
        plen = hi - lo + 1
        decls.append(c_array("int8_t", f"CT{k}", rng.integers(-128, 128, oc * plen)))
        table = f"CT{k}"
    prm = (f"static const tinyeit_conv_params CP{k} = {{ .batches = 1, .in_h = 1, .in_w = {in_w}, "
           f".in_c = 1, .out_h = 1, .out_w = {out_w}, .out_c = {oc}, .k_h = 1, .k_w = 3, "
           f".stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .pad_h = 0, .pad_w = 0, "
           f".depth_mult = 1, .in_offset = 0, .out_offset = {zo}, .act_min = {lo}, "
           f".act_max = {hi}, .cheap_rq = {cheap}, .post_len = {plen} }};\n")
    n_out = out_w * oc
    args = f"CW{k}, CB{k}, NULL, CM{k}, CS{k}, {table}"
    body = (f"    tinyeit_conv_s8(in, {args}, o, &CP{k}); o += {n_out};\n"
            f"    tinyeit_conv_s8_ref(in, {args}, o, &CP{k}); o += {n_out};\n")
    return "".join(decls) + prm, body, n_out


def _firmware(tmp_path: Path):
    rng = np.random.default_rng(7)
    decls, bodies, sizes = [], [], []
    for k, spec in enumerate(POOLS):
        d, b, n = _pool_case(k, spec)
        decls.append(d), bodies.append(b), sizes.append(("pool", spec, n))
    for k, spec in enumerate(CONVS):
        d, b, n = _conv_case(k, spec, rng)
        decls.append(d), bodies.append(b), sizes.append(("conv", spec, n))
    total = 2 * sum(n for _, _, n in sizes)
    code = tmp_path / "code"
    code.mkdir()
    (code / "model.h").write_text(
        "#ifndef TINYEIT_MODEL_H\n#define TINYEIT_MODEL_H\n#include <stdint.h>\n"
        f"#define TINYEIT_MODEL_NAME \"cmk\"\n#define TINYEIT_INPUT_SIZE {IN_BYTES}\n"
        f"#define TINYEIT_OUTPUT_SIZE {total}\n#define TINYEIT_INPUT_TYPE int8_t\n"
        "#define TINYEIT_OUTPUT_TYPE int8_t\n#define TINYEIT_INPUT_SCALE 1.0f\n"
        "#define TINYEIT_INPUT_ZERO_POINT 0\n#define TINYEIT_OUTPUT_SCALE 1.0f\n"
        "#define TINYEIT_OUTPUT_ZERO_POINT 0\n#define TINYEIT_ARENA_BYTES 4\n"
        "#define TINYEIT_WEIGHTS_BYTES 0\n"
        "int tinyeit_invoke(const void *input, void *output);\n#endif\n")
    ref_decls = ("void tinyeit_maxpool_s8_ref(const int8_t *in, int8_t *out, "
                 "const tinyeit_pool_params *p);\n"
                 "void tinyeit_conv_s8_ref(const int8_t *in, const int8_t *w, const int32_t *bias,"
                 " const int32_t *tap_corr, const int32_t *mult, const int32_t *shift, "
                 "const int8_t *post, int8_t *out, const tinyeit_conv_params *p);\n")
    (code / "model.c").write_text(
        "#include <stddef.h>\n#include <stdint.h>\n#include \"model.h\"\n"
        "#include \"tinyeit_kernels.h\"\n" + ref_decls + "".join(decls) +
        "int tinyeit_invoke(const void *input, void *output)\n{\n"
        "    const int8_t *in = (const int8_t *)input;\n    int8_t *o = (int8_t *)output;\n"
        + "".join(bodies) + "    return 0;\n}\n")
    for name, text in kernel_sources().items():
        (code / name).write_text(text)
    return code, sizes


@pytest.mark.slow
def test_cortex_m_pool_and_conv3_equal_the_reference_kernels(tmp_path):
    from tinyeit import config as study_config
    from tinyeit.deploy import emulator, protocol
    from tinyeit.firmware.build import build_firmware

    cfg = study_config.load(str(Path(__file__).resolve().parents[1] / "config.yaml"))
    code, sizes = _firmware(tmp_path)
    x = np.random.default_rng(11).integers(-128, 128, (3, IN_BYTES)).astype(np.int8)
    x[1, :], x[2, :] = -128, 127
    np.savez(tmp_path / "frames.npz", input=x)
    rec = build_firmware("nano33ble", cfg["boards"]["nano33ble"], "cmk", code,
                         tmp_path / "frames.npz", tmp_path / "fw", n_frames=len(x))
    assert rec["status"] == "ok", rec
    run = emulator.run_cortex_m(tmp_path / "fw" / rec["image"],
                                emulator.timeout_for(10 ** 6, len(x)))
    parsed = protocol.parse(run.stdout, where="cm kernels")
    assert parsed.status == "ok", run.stdout[-2000:]
    for f in parsed.frames:
        out, at = np.frombuffer(f.output, np.int8), 0
        for kind, spec, n in sizes:
            got, ref = out[at:at + n], out[at + n:at + 2 * n]
            assert (got == ref).all(), (kind, spec, np.flatnonzero(got != ref)[:8])
            at += 2 * n
