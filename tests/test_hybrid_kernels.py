"""The hybrid (dynamic-range) fully connected kernels on the int8 layouts against the reference
tinyeit_fc_hybrid, bit for bit: tinyeit_fc_hybrid_pairs (unit pairs; the Cortex-M4 version on
the emulated nano33ble) and tinyeit_fc_hybrid_packed (packed 4x4; the NEON version under
qemu-aarch64), and both portable references on the host. One program runs every case through
both layout kernels and the reference. The cases reach what the target versions do
differently: the M4's single-precision input quantization and its fallback to the reference's
double step (values on rounding ties, large dynamic range, subnormal and all-zero rows, NaN and
infinity), the symmetric quantization, the NEON double lanes, the four-pair and three-pair
blocks, odd units and rows, zero rows of weights, -128 and -127 weights (with and without the
NEON kernel's two products per int16 lane), per-tensor and per-unit scales, no bias, a clamp.
End-to-end models (LiteRT's own hybrid conversions) are in tests/test_codegen_targets.py.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyeit.codegen import emit
from tinyeit.codegen import layout_unit_pairs as lp
from fc_harness import with_lanes_in_int16
from tinyeit.codegen.emit import c_array

# units, in_dim, batches, asymmetric, per-unit scales, bias, clamp (lo, hi), weight kind
CASES = [
    (128, 475, 1, 1, True, True, (0.0, None), "sym127"),   # the study's first layer: 4-pair
    (64, 128, 1, 1, True, True, (0.0, None), "sym127"),    # the study's second (4-pair)
    (17, 101, 2, 1, True, True, (None, None), "min128"),   # 3-pair blocks, an odd last unit
    (7, 33, 3, 1, False, False, (None, None), "sym127"),   # one scale, no bias
    (5, 7, 2, 1, True, True, (-0.5, 0.75), "min128"),      # short rows, clamp both ways
    (9, 40, 4, 0, True, True, (None, None), "sym127"),     # symmetric inputs
    (4, 16, 3, 0, False, True, (0.0, None), "min128"),
    (33, 300, 1, 1, True, True, (None, None), "zero_rows"),
    (3, 1, 2, 1, True, False, (None, None), "sym127"),     # one input
    (21, 90, 2, 1, True, True, (None, None), "sym127"),
    (11, 230, 4, 0, True, True, (None, None), "zero_rows"),
    (2, 500, 1, 1, False, True, (None, None), "min128"),   # one pair, the longest row
    (12, 64, 3, 1, True, True, (None, None), "sym127"),    # NaN rows, asymmetric
]
ROWS = ["normal", "zeros", "range", "ties", "relu", "tiny", "subnormal", "nan", "inf",
        "negzero", "sym_ties", "nan_by_min", "nan_in_zeros", "nan_by_max"]


def _weights(rng, units, n, kind):
    w = rng.integers(-127, 128, (units, n)).astype(np.int64)
    if kind == "min128":
        w.flat[rng.choice(w.size, max(1, w.size // 7), replace=False)] = -128
        w[0, 0] = -128
        w = with_lanes_in_int16(w).astype(np.int64)  # as the unit pairs take -128
    if kind == "zero_rows":
        w[::3] = 0
    w[-1, -1] = -127
    return w


def _row(rng, n, kind):
    v = rng.normal(0.0, 1.0, n)
    if kind == "zeros":
        v[:] = 0.0
    elif kind == "range":  # large dynamic range: huge and tiny values together
        v = v * 10.0 ** rng.integers(-30, 30, n)
    elif kind == "ties":  # many values on half steps of the asymmetric scale
        v = (rng.integers(-300, 300, n) + 0.5) * (3.0 / 255)
    elif kind == "relu":
        v = np.maximum(v, 0.0)
        v[::4] = np.round(v[::4] * 100) / 200
    elif kind == "tiny":
        v = v * 1e-37
    elif kind == "subnormal":
        v = v * 1e-42
    elif kind == "nan":
        v[n // 2] = np.nan
    elif kind == "inf":
        v[-1] = np.inf
    elif kind == "negzero":
        v[:] = -0.0
        v[n // 3] = 1.0
    elif kind in ("nan_by_min", "nan_in_zeros", "nan_by_max") and n >= 3:
        # a NaN beside the row's extreme (the M4's pairwise min and max must not lose it)
        if kind == "nan_in_zeros":
            v[:] = 0.0
        v[1], v[2] = (-50.0 if kind != "nan_by_max" else 50.0), np.nan
    elif kind == "sym_ties":  # v x 127 / range on exact halves
        v = (rng.integers(-127, 127, n) + 0.5) / 127.0 * 2.0
        v[0] = 2.0
    return v.astype(np.float32)


def _c_float(x: float) -> str:
    x = float(np.float32(x))
    if np.isnan(x):
        return "NAN"
    if np.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return float(x).hex() + "f"


def _float_array(name: str, values) -> str:
    body = ", ".join(_c_float(v) for v in values)
    return f"static const float {name}[{max(1, len(values))}] = {{{body}}};\n"


def program(seed: int = 5) -> tuple[str, list[int], int]:
    """(C source of run_cases(float *out), outputs per case (3 copies each), scratch bytes)."""
    rng = np.random.default_rng(seed)
    decls, body, sizes, scratch, seen = [], [], [], 16, 0
    for k, (units, n, batches, asym, per_unit, has_bias, (lo, hi), kind) in enumerate(CASES):
        w = _weights(rng, units, n, kind)
        assert lp.pairs_fit(w)
        rows = [_row(rng, n, ROWS[(seen + b) % len(ROWS)]) for b in range(batches)]
        seen += batches
        x = np.concatenate(rows)
        scales = rng.uniform(1e-3, 2e-2, units if per_unit else 1).astype(np.float32)
        decls += [aligned for aligned in (
            emit.aligned_array("int8_t", f"R{k}", w.reshape(-1)),
            emit.aligned_array("uint8_t", f"P{k}", lp.unit_pairs_s8(w.astype(np.int8))),
            emit.aligned_array("int8_t", f"Q{k}", emit.packed_fc_s8(w.astype(np.int8))),
            c_array("int32_t", f"S{k}", w.sum(axis=1)) if asym else "",
            _float_array(f"WS{k}", scales),
            _float_array(f"X{k}", x))]
        bias = "NULL"
        if has_bias:
            decls.append(_float_array(f"B{k}", rng.normal(0, 0.5, units)))
            bias = f"B{k}"
        f_lo = "-INFINITY" if lo is None else _c_float(lo)
        f_hi = "INFINITY" if hi is None else _c_float(hi)
        decls.append(f"static const tinyeit_fc_params HP{k} = {{ .batches = {batches}, "
                     f".in_dim = {n}, .units = {units}, .asymmetric = {asym}, "
                     f".f_min = {f_lo}, .f_max = {f_hi}, "
                     f".w_no_min = {int(w.min() > -128)} }};\n")
        tail = f"WS{k}, {len(scales)}, {bias}, scratch.v, o, &HP{k}"
        wsum = f"S{k}" if asym else "NULL"
        count = batches * units
        body += [f"    tinyeit_fc_hybrid_pairs(X{k}, P{k}.v, {wsum}, {tail}); o += {count};\n",
                 f"    tinyeit_fc_hybrid_packed(X{k}, Q{k}.v, {wsum}, {tail}); o += {count};\n",
                 f"    tinyeit_fc_hybrid(X{k}, R{k}.v, {tail}); o += {count};\n"]
        sizes.append(count)
        scratch = max(scratch, -(-n // 16) * 16 + lp.scratch_bytes(n))
    src = ("#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n"
           "#include \"tinyeit_kernels.h\"\n"
           f"static union {{ int8_t v[{scratch}]; int32_t align; }} scratch;\n"
           + "".join(decls) +
           "static int run_cases(float *o)\n{\n" + "".join(body) + "    return 0;\n}\n")
    return src, sizes, scratch


MAIN = r"""
#include <stdio.h>
#include <string.h>
static float out[TOTAL];
static const int sizes[] = {SIZES};
int main(void)
{
    int k, i, bad = 0, at = 0, n = (int)(sizeof sizes / sizeof sizes[0]);
    run_cases(out);
    for (k = 0; k < n; ++k, at += 3 * sizes[k - 1]) {
        int b = 0;
        for (i = 0; i < sizes[k]; ++i) {
            b += memcmp(out + at + i, out + at + 2 * sizes[k] + i, 4) != 0;
            b += memcmp(out + at + sizes[k] + i, out + at + 2 * sizes[k] + i, 4) != 0;
        }
        if (b) printf("case %d: %d outputs differ\n", k, b);
        bad += b;
    }
    printf("cases %d bad %d\n", n, bad);
    return bad != 0;
}
"""


def _standalone(tmp_path: Path) -> Path:
    from tinyeit.codegen.generator import kernel_sources

    src, sizes, _ = program()
    for name, text in kernel_sources().items():
        (tmp_path / name).write_text(text)
    main = MAIN.replace("TOTAL", str(3 * sum(sizes))).replace("SIZES", ", ".join(map(str, sizes)))
    (tmp_path / "hybrid_cases.c").write_text(src + main)
    return tmp_path / "hybrid_cases.c"


def _check_lines(cases: int, bad: int, lines: list[str]) -> None:
    assert cases == len(CASES)
    assert bad == 0, "\n".join(lines[-20:])


def test_portable_layout_kernels_equal_the_reference_on_the_host(tmp_path):
    from tinyeit.codegen.host import compiler

    prog = _standalone(tmp_path)
    exe = tmp_path / "hybrid_cases"
    proc = subprocess.run([compiler(), "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                           "-ffp-contract=off", "-I", str(tmp_path), str(prog),
                           str(tmp_path / "tinyeit_kernels.c"),
                           str(tmp_path / "tinyeit_kernels_stored.c"),
                           str(tmp_path / "tinyeit_kernels_hybrid.c"), "-lm", "-o", str(exe)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    lines = run.stdout.strip().splitlines()
    cases, bad = (int(v) for v in lines[-1].split()[1::2])
    _check_lines(cases, bad, lines)


@pytest.mark.slow
def test_neon_hybrid_kernel_equals_the_reference(tmp_path):
    from aarch64_host import CC, FLAGS, require_tools, run_cases

    require_tools()
    prog = _standalone(tmp_path)
    exe = tmp_path / "hybrid_cases_a64"
    proc = subprocess.run([CC, *FLAGS, "-ffp-contract=off", "-static", "-I", str(tmp_path),
                           str(prog), str(tmp_path / "tinyeit_kernels.c"),
                           str(tmp_path / "tinyeit_kernels_stored.c"),
                           str(tmp_path / "tinyeit_kernels_hybrid.c"), "-lm", "-o", str(exe)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning" not in proc.stderr, proc.stderr[-3000:]
    cases, bad, _, lines = run_cases(exe)
    _check_lines(cases, bad, lines)
    # the NEON kernel was compiled (not the portable reference under the target's name)
    asm = subprocess.run([CC, *FLAGS, "-S", "-o", "-", "-I", str(tmp_path),
                          str(tmp_path / "tinyeit_kernels_hybrid.c")], capture_output=True,
                         text=True, check=True, timeout=300).stdout
    assert "tinyeit_fc_hybrid_packed_ref" in asm and "frinta" in asm and "sadalp" in asm
    assert not any(f in asm for f in ("fmla", "fmadd", "fmls", "fmsub"))


@pytest.mark.slow
def test_cortex_m_hybrid_kernel_equals_the_reference(tmp_path):
    from tinyeit import config as study_config
    from tinyeit.codegen.generator import kernel_sources
    from tinyeit.deploy import emulator, protocol
    from tinyeit.firmware.build import build_firmware

    src, sizes, _ = program()
    total = 3 * sum(sizes)
    code = tmp_path / "code"
    code.mkdir()
    (code / "model.h").write_text(
        "#ifndef TINYEIT_MODEL_H\n#define TINYEIT_MODEL_H\n#include <stdint.h>\n"
        "#define TINYEIT_MODEL_NAME \"hybrid\"\n#define TINYEIT_INPUT_SIZE 4\n"
        f"#define TINYEIT_OUTPUT_SIZE {total}\n#define TINYEIT_INPUT_TYPE float\n"
        "#define TINYEIT_OUTPUT_TYPE float\n#define TINYEIT_INPUT_SCALE 1.0f\n"
        "#define TINYEIT_INPUT_ZERO_POINT 0\n#define TINYEIT_OUTPUT_SCALE 1.0f\n"
        "#define TINYEIT_OUTPUT_ZERO_POINT 0\n#define TINYEIT_ARENA_BYTES 4\n"
        "#define TINYEIT_WEIGHTS_BYTES 0\n#define TINYEIT_FC_PAIRS_LAYERS 1\n"
        "#define TINYEIT_FC_PAIRS_WIDE_LAYERS 1\n#define TINYEIT_WEIGHTS_BYTES_FC_PAIRS 0\n"
        "int tinyeit_invoke(const void *input, void *output);\n#endif\n")
    (code / "model.c").write_text(
        "#include \"model.h\"\n" + src +
        "int tinyeit_invoke(const void *input, void *output)\n{\n"
        "    (void)input;\n    return run_cases((float *)output);\n}\n")
    for name, text in kernel_sources().items():
        (code / name).write_text(text)
    cfg = study_config.load(str(Path(__file__).resolve().parents[1] / "config.yaml"))
    np.savez(tmp_path / "frames.npz", input=np.zeros((1, 4), np.float32))
    rec = build_firmware("nano33ble", cfg["boards"]["nano33ble"], "hybrid", code,
                         tmp_path / "frames.npz", tmp_path / "fw", n_frames=1)
    assert rec["status"] == "ok", rec
    run = emulator.run_cortex_m(tmp_path / "fw" / rec["image"],
                                emulator.timeout_for(10 ** 7, 1))
    parsed = protocol.parse(run.stdout, where="hybrid kernels")
    assert parsed.status == "ok", run.stdout[-2000:]
    out, at = np.frombuffer(parsed.frames[0].output, np.uint32), 0
    for k, n in enumerate(sizes):
        pairs, packed, ref = out[at:at + n], out[at + n:at + 2 * n], out[at + 2 * n:at + 3 * n]
        assert (pairs == ref).all(), (k, CASES[k], np.flatnonzero(pairs != ref)[:8])
        assert (packed == ref).all(), (k, CASES[k], np.flatnonzero(packed != ref)[:8])
        at += 3 * n
