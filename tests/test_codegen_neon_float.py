"""The AArch64 NEON float kernels: the reference's bits, on the target, and really NEON.

`neon_f32_vs_ref.c` runs every NEON float kernel (fully connected, block-sparse fully
connected, conv, max pool, ADD, MUL, mean) and its portable reference (kept under a _ref name on that target) on the same
pseudo-random data, special values included, over shapes whose units / channels are and are
not multiples of 4 and 8, and compares the outputs byte for byte. It is built with the
firmware's own compiler and flags for the rpi4 and run under qemu-aarch64. The compiled
kernels must hold vector multiplies (the NEON path was taken) and no fused multiply-add.
Models through the whole generated C on the rpi4 are in test_codegen_targets.py.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from aarch64_host import CC, FLAGS, function_bodies, require_tools, run_cases, write_kernels

HERE = Path(__file__).resolve().parent
NEON_FLOAT_KERNELS = ("tinyeit_fc_f32", "tinyeit_conv_f32", "tinyeit_maxpool_f32",
                      "tinyeit_mean_f32", "tinyeit_add_f32", "tinyeit_mul_f32")


def test_neon_float_kernels_equal_the_reference_bit_for_bit(tmp_path):
    require_tools()
    kernels = write_kernels(tmp_path)
    exe = tmp_path / "neon_f32_vs_ref"
    subprocess.run([CC, *FLAGS, "-ffp-contract=off", "-static", "-I", str(tmp_path),
                    str(HERE / "neon_f32_vs_ref.c"), str(kernels),
                    str(kernels.with_name("tinyeit_kernels_stored.c")), "-lm", "-o", str(exe)],
                   check=True, capture_output=True, text=True, timeout=600)
    cases, bad, status, lines = run_cases(exe)
    assert bad == 0 and status == 0, "\n".join(lines[:40])
    assert cases > 2300, lines[-1]


@pytest.mark.parametrize("contract", ["off", "fast"])
def test_neon_float_kernels_are_vector_code_without_fused_multiply_add(tmp_path, contract):
    """Every NEON float kernel multiplies (or compares) whole vectors, so the build really
    took the NEON path; none holds FMLA/FMADD, even where the build asks for contraction."""
    require_tools()
    kernels = write_kernels(tmp_path)
    asm = "".join(subprocess.run([CC, *FLAGS, f"-ffp-contract={contract}", "-S", "-o", "-",
                                  str(unit)], check=True, capture_output=True, text=True,
                                 timeout=600).stdout
                  for unit in (kernels, kernels.with_name("tinyeit_kernels_stored.c")))
    assert not re.search(r"\b(fmadd|fmsub|fnmadd|fnmsub|fmla|fmls)\b", asm)
    bodies = function_bodies(asm)
    for name in NEON_FLOAT_KERNELS + ("tinyeit_fc_f32_bsr",):
        assert name in bodies and f"{name}_ref" in bodies, name
        body = bodies[name]
        assert re.search(r"\b(fmul|fadd|fcmgt|fdiv)\s+v\d+\.4s", body), \
            f"{name}: no 4-lane float instruction: not the NEON version"
