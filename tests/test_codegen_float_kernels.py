"""Float kernel shortcuts that must not change a single output bit.

- exp_f (softmax, logistic) computes exp in integer arithmetic (exp_f_int) on targets whose
  double arithmetic is software (the M4F), and must equal (float)exp((double)x), the form it
  replaces and still takes on the others, for every float x (checked here on the host on a
  sweep of every 97th float plus the edges of its fast range; all 2^32 inputs were checked once
  when it was written).
- A float per-channel MUL/ADD after a conv (the BatchNorm after the ReLU) runs in the conv's
  epilogue: the generated C's outputs with and without that fold must be the same bytes.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit.codegen import run_host  # noqa: E402
from tinyeit.codegen.generator import build, kernel_sources  # noqa: E402

EXP_HARNESS = r"""
#include "tinyeit_common.h"
#include <stdio.h>

static int check(uint32_t u, unsigned long *n)
{
    float x, a, b;
    uint32_t ua, ub;
    memcpy(&x, &u, 4);
    a = exp_f_int(x); b = exp_f_double(x);
    memcpy(&ua, &a, 4); memcpy(&ub, &b, 4);
    ++*n;
    if (ua != ub && !(a != a && b != b)) {
        printf("%08x %a: exp_f_int %a, double %a\n", (unsigned)u, x, a, b);
        return 1;
    }
    return 0;
}

int main(void)
{
    static const float edges[] = {0.0f, -0.0f, 1.0f, -1.0f, -87.0f, 88.0f, -104.0f, 0x1p-26f,
                                  -0x1p-26f, 0x1p-25f, -0x1p-25f, 88.72f, -103.97f};
    unsigned long n = 0, bad = 0;
    uint64_t b;
    unsigned i;
    int d;
    for (b = 0; b < 0x100000000ull; b += 97) bad += check((uint32_t)b, &n);
    for (i = 0; i < sizeof edges / sizeof edges[0]; ++i) {
        uint32_t u;
        memcpy(&u, &edges[i], 4);
        for (d = -2000; d <= 2000; ++d) bad += check(u + (uint32_t)d, &n);
    }
    printf("checked %lu, differ %lu\n", n, bad);
    return bad != 0;
}
"""


def test_exp_in_integer_arithmetic_equals_exp_through_double(tmp_path):
    if shutil.which("gcc") is None:
        pytest.fail("gcc is not on PATH (Debian: gcc)")
    for name, text in kernel_sources().items():
        (tmp_path / name).write_text(text)
    (tmp_path / "exp_check.c").write_text(EXP_HARNESS)
    exe = tmp_path / "exp_check"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Werror", "-I", str(tmp_path),
                    str(tmp_path / "exp_check.c"), "-o", str(exe), "-lm"],
                   check=True, capture_output=True, text=True, timeout=300)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "differ 0" in run.stdout


def _bn_after_relu_model(seed: int, two_readers: bool = False):
    import tf_keras as keras

    from tinyeit.codegen.sample_models import randomize_batchnorm

    keras.utils.set_random_seed(seed)
    inp = keras.Input((1, 12, 3))
    a = keras.layers.Conv2D(11, (1, 3), padding="same", activation="relu")(inp)
    b = keras.layers.BatchNormalization()(a)
    d = keras.layers.DepthwiseConv2D((1, 3), activation="relu6")(b)
    d = keras.layers.BatchNormalization()(d)
    x = keras.layers.Concatenate()([a, b]) if two_readers else d
    out = keras.layers.Dense(4)(keras.layers.Flatten()(x))
    model = keras.Model(inp, out)
    randomize_batchnorm(model, seed)
    return model


@pytest.mark.parametrize("two_readers", [False, True])
def test_float_batchnorm_after_relu_folds_into_the_conv_bit_for_bit(tmp_path, monkeypatch,
                                                                    two_readers):
    from tinyeit.codegen import passes
    from tinyeit.codegen.sample_models import convert

    model = _bn_after_relu_model(3, two_readers)
    path = tmp_path / "bn.tflite"
    path.write_bytes(convert(model, "float"))
    source = build(str(path))["files"]["model.c"]
    x = np.random.default_rng(5).normal(0, 2, (16, 1, 12, 3)).astype(np.float32)
    folded = run_host(str(path), x)
    if two_readers:  # the conv output is read by the BatchNorm and the concatenation
        assert "tinyeit_mul_f32" in source and "tinyeit_add_f32" in source
    else:
        assert "tinyeit_mul_f32" not in source and "tinyeit_add_f32" not in source
        assert source.count(".post_mul = ") == 2 and source.count(".post_add = ") == 2
    monkeypatch.setattr(passes, "_float_producer", lambda graph, op: False)
    plain = build(str(path))["files"]["model.c"]
    assert "tinyeit_mul_f32" in plain and ".post_mul" not in plain
    unfolded = run_host(str(path), x)
    assert folded.tobytes() == unfolded.tobytes()


def _conv_geometries_model(seed: int):
    """Float convs the Cortex-M4F kernel handles differently: 15 output channels (a block of 8,
    then 4, 2 and 1 plain rows), SAME borders, stride 2, 2D windows, dilation along the rows
    (its loop) and along the columns (the reference), short one-row windows (taps in
    registers), folded BatchNorms, ReLU6."""
    import tf_keras as keras

    from tinyeit.codegen.sample_models import randomize_batchnorm

    keras.utils.set_random_seed(seed)
    L = keras.layers
    inp = keras.Input((6, 9, 2))
    a = L.Conv2D(15, (2, 3), strides=(1, 2), padding="same", activation="relu")(inp)
    a = L.BatchNormalization()(a)
    b = L.Conv2D(7, (3, 2), dilation_rate=(2, 1), padding="valid", activation="relu6")(a)
    c = L.Conv2D(5, (1, 3), dilation_rate=(1, 2), padding="same")(a)
    d = L.Conv2D(10, (1, 2), padding="same", activation="relu")(inp)  # windows of 4 and 2 taps
    d = L.BatchNormalization()(d)
    x = L.Concatenate()([L.Flatten()(b), L.Flatten()(c), L.Flatten()(d)])
    model = keras.Model(inp, L.Dense(6)(x))
    randomize_batchnorm(model, seed)
    return model


@pytest.mark.slow
def test_float_conv_on_the_cortex_m4_is_the_host_reference_bit_for_bit(tmp_path):
    from tinyeit import config as study_config
    from tinyeit.codegen.sample_models import convert
    from tinyeit.deploy.codegen_run import run_board

    path = tmp_path / "conv.tflite"
    path.write_bytes(convert(_conv_geometries_model(4), "float"))
    x = np.random.default_rng(8).normal(0, 2, (6, 6, 9, 2)).astype(np.float32)
    host = run_host(str(path), x)
    board = run_board(path, x, "nano33ble", study_config.load("config.yaml")["boards"]["nano33ble"])
    assert board.tobytes() == host.tobytes()
