"""The AArch64 NEON int8 kernels (tinyeit_a64_fully_connected.c, tinyeit_a64_pool.c): the
reference's bytes, on the target, really NEON, and the arithmetic they rest on proven.

`neon_s8_vs_ref.c` runs tinyeit_fc_s8, tinyeit_conv_s8 (its three paths), tinyeit_maxpool_s8,
the codebook tinyeit_fc_s8_cb and the block-sparse tinyeit_fc_s8_bsr against their portable
references (kept under _ref names on that target) on the same pseudo-random data and compares
the bytes (outputs and guard bytes after them);
built with the rpi4 firmware's compiler and flags, run under qemu-aarch64. Models through the
whole generated C on the rpi4 are in test_codegen_targets.py and the property suite.

The proofs mirror the NEON instructions in Python (their architectural definitions, integer
arithmetic of unbounded width) and check them against the reference's fixed point
(tinyeit.codegen.fixedpoint, the Python twin of TFLite's), over every input the argument
leaves open: the algebra is in the kernel's header comment; here the boundary and rounding
tie cases run exhaustively and the rest at random.
"""
from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyeit.codegen import fixedpoint as fp
from aarch64_host import CC, FLAGS, function_bodies, require_tools, run_cases, write_kernels

HERE = Path(__file__).resolve().parent
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def test_neon_int8_kernels_equal_the_reference(tmp_path):
    require_tools()
    kernels = write_kernels(tmp_path)
    exe = tmp_path / "neon_s8_vs_ref"
    proc = subprocess.run([CC, *FLAGS, "-ffp-contract=off", "-static", "-I", str(tmp_path),
                           str(HERE / "neon_s8_vs_ref.c"), str(kernels),
                           str(kernels.with_name("tinyeit_kernels_stored.c")),
                           str(kernels.with_name("tinyeit_kernels_hybrid.c")), "-lm", "-o", str(exe)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning" not in proc.stderr, proc.stderr[-3000:]
    cases, bad, status, lines = run_cases(exe)
    assert bad == 0 and status == 0, "\n".join(lines[:40])
    assert cases > 4800, lines[-1]


def test_neon_int8_kernels_are_vector_code(tmp_path):
    """The rpi4 build compiles the NEON versions (widening multiplies, SADALP, TBL, SMAX; the
    block-sparse kernel's LD1R and two blocks per int16 lane)."""
    require_tools()
    kernels = write_kernels(tmp_path)
    asm = subprocess.run([CC, *FLAGS, "-S", "-o", "-", str(kernels)], check=True,
                         capture_output=True, text=True, timeout=600).stdout
    bodies = function_bodies(asm)
    for name in ("tinyeit_fc_s8", "tinyeit_conv_s8", "tinyeit_maxpool_s8"):
        assert name in bodies and f"{name}_ref" in bodies, name
    assert re.search(r"\bsadalp\b", bodies["a64_fc_row"])
    assert re.search(r"\bsmlal2\s+v\d+\.8h", bodies["a64_fc_row"])  # two products a lane
    assert re.search(r"\btbx\b", bodies["tinyeit_conv_s8"])
    assert re.search(r"\bsmax\s+v\d+\.16b", bodies["tinyeit_maxpool_s8"])
    stored = subprocess.run([CC, *FLAGS, "-S", "-o", "-",
                             str(kernels.with_name("tinyeit_kernels_stored.c"))], check=True,
                            capture_output=True, text=True, timeout=600).stdout
    bodies = function_bodies(stored)
    assert "tinyeit_fc_s8_bsr" in bodies and "tinyeit_fc_s8_bsr_ref" in bodies
    assert re.search(r"\bld1r\b", bodies["tinyeit_fc_s8_bsr"])
    assert re.search(r"\bsmlal2\s+v\d+\.8h", bodies["tinyeit_fc_s8_bsr"])  # two blocks a lane


# ---- the instructions, as the Arm ARM defines them (unbounded integers, then saturation) ----

def _sat32(v: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, v))


def sqrdmulh(a: int, b: int) -> int:
    return _sat32((2 * a * b + (1 << 31)) >> 32)


def sqdmulh(a: int, b: int) -> int:
    return _sat32((2 * a * b) >> 32)


def ssra31(a: int) -> int:
    """SSRA #31 with itself: a + (a >> 31), wrapping to 32 bits."""
    return fp._wrap32(a + (a >> 31))


def srshl(a: int, s: int) -> int:
    """SRSHL by a negative amount s: (a + 2^(-s-1)) >> -s, the sum in full precision."""
    r = -s
    return (a + (1 << (r - 1))) >> r


def neon_double(acc: int, m: int, s: int) -> int:
    """a64_rq4's short double-rounding form (every shift negative)."""
    return srshl(ssra31(sqrdmulh(acc, m)), s)


def neon_single(acc: int, m: int, s: int) -> int:
    """a64_rq4's short single-rounding form (every shift negative)."""
    return srshl(sqdmulh(acc, m), s)


def litert_single(acc: int, m: int, s: int) -> int:
    t = 31 - s
    return fp._wrap32((acc * m + (1 << (t - 1))) >> t)


def _cases(seed: int):
    """(acc, mult, shift): every shift -1..-31 against boundary accumulators and multipliers,
    every rounding tie of small accumulators, then random ones over the whole int32 range."""
    rnd = random.Random(seed)
    mults = [0, 1, 1 << 30, (1 << 30) + 1, 1518500250, (1 << 31) - 2, INT32_MAX]
    edges = sorted({v for k in range(32) for v in (1 << k, (1 << k) - 1, (1 << k) + 1)}
                   | {0, INT32_MAX})
    edges = [e for e in edges if e <= INT32_MAX]
    accs = edges + [-e for e in edges] + [INT32_MIN, INT32_MIN + 1]
    for s in range(-31, 0):
        for m in mults:
            for a in accs:
                yield a, m, s
    for s in (-1, -2, -3, -7):          # every tie and its neighbours, small accumulators
        for a in range(-1 << 11, 1 << 11):
            for m in (1 << 30, INT32_MAX):
                yield a, m, s
    for _ in range(200000):
        yield (rnd.randint(INT32_MIN, INT32_MAX), rnd.randint(0, INT32_MAX),
               rnd.randint(-31, -1))


def test_neon_double_rounding_equals_multiply_by_quantized_multiplier():
    """SQRDMULH, SSRA #31, SRSHL = MultiplyByQuantizedMultiplier for every accumulator and
    every generator multiplier (0 <= m < 2^31) when shift < 0. The SSRA never wraps: the
    high half is at least -2^31 + 1 (below, its smallest value)."""
    assert sqrdmulh(INT32_MIN, INT32_MAX) == INT32_MIN + 1
    for a, m, s in _cases(1):
        assert neon_double(a, m, s) == fp.mbqm(a, m, s), (a, m, s)


def test_neon_single_rounding_equals_litert():
    """SQDMULH then SRSHL = LiteRT's (acc * m + 2^(t-1)) >> t, t = 31 - shift, shift < 0."""
    for a, m, s in _cases(2):
        assert neon_single(a, m, s) == litert_single(a, m, s), (a, m, s)


def test_int16_saturation_then_zero_point_and_clamp_equal_the_int32_sum():
    """The output stage: SQXTN to int16, SQADD of the zero point, SMAX/SMIN in int16 equal
    clamp(r + zero point) in int32 for every requantized r (all int16 boundaries
    exhaustively, every zero point, the activation ranges the generator makes)."""
    r = np.concatenate([np.arange(-70000, 70001), [INT32_MIN, INT32_MIN + 1, -(1 << 30),
                                                   1 << 30, INT32_MAX - 200, INT32_MAX]])
    r = r.astype(np.int64)
    sat16 = np.clip(r, -32768, 32767)
    for zo in range(-128, 128):
        want_sum = r + zo
        got_sum = np.clip(sat16 + zo, -32768, 32767)
        for lo, hi in ((-128, 127), (zo, 127), (zo, min(127, zo + 60)), (-128, -128),
                       (127, 127)):
            if lo > hi:
                continue
            assert np.array_equal(np.clip(got_sum, lo, hi), np.clip(want_sum, lo, hi)), zo


def test_two_products_fit_an_int16_lane_only_without_minus_128_weights():
    """SMULL + SMLAL into one int16 lane: with weights in [-127, 127] and any int8 input,
    every sum of two products lies in int16 (exhaustive); a -128 weight meets a -128 input
    twice at 32768, which wraps: those layers keep one product per lane (w_no_min 0)."""
    w = np.arange(-127, 128, dtype=np.int64)
    x = np.arange(-128, 128, dtype=np.int64)
    prod = np.outer(w, x).reshape(-1)
    lo, hi = int(prod.min()), int(prod.max())
    assert -32768 <= 2 * lo and 2 * hi <= 32767, (lo, hi)
    assert 2 * (-128 * -128) == 32768


def test_generator_sets_w_no_min_from_the_weights(tmp_path):
    """The flag in the generated parameters follows the weights: set for the converter's
    symmetric weights, cleared where a -128 was written into the model."""
    import os

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tf_keras as keras

    from tinyeit.codegen.generator import build
    from tinyeit.codegen.sample_models import convert
    from test_codegen_targets import _set_extreme_weights

    keras.utils.set_random_seed(5)
    inp = keras.Input((40,))
    out = keras.layers.Dense(7)(keras.layers.Dense(16, activation="relu")(inp))
    model = keras.Model(inp, out)
    rep = np.random.default_rng(0).normal(0, 1, (16, 40)).astype(np.float32)
    tflite = convert(model, "ptq_int8", rep)
    path = tmp_path / "m.tflite"
    path.write_bytes(tflite)
    src = build(str(path))["files"]["model.c"]
    assert src.count(".w_no_min = 1") == 2 and ".w_no_min = 0" not in src
    path.write_bytes(_set_extreme_weights(tflite, 3))
    src = build(str(path))["files"]["model.c"]
    assert src.count(".w_no_min = 0") == 2
