"""The target kernels (Cortex-M DSP, AArch64 NEON) against LiteRT, on the targets themselves.

The host runs the portable reference kernels; the Cortex-M4 (nano33ble, QEMU mps2-an386) and
A72 (rpi4, qemu-aarch64) builds take the target versions of int8 conv and fully connected. Each
model here is aimed at what those versions do differently: units and inputs that are not a
multiple of the four-unit / four-input blocking, windows gathered at borders (SAME padding,
stride, dilation), windows too large to gather (reference fallback), weights of -128 and -127
(written into the converted model: the converter never makes -128), extreme input zero points,
the folded BatchNorm-after-ReLU table, and both requantizations (LiteRT's single rounding and
TFLite Micro's double rounding, flavor "tflm"). Every int8 element must equal LiteRT's
BUILTIN_REF outputs (TFLite Micro's for flavor "tflm").

Float models: the rpi4 build takes the NEON float kernels (fully connected, conv, max pool,
ADD / MUL, mean), the Cortex-M4F build its FPU dot product; both must give the host's
portable reference bytes exactly (and so LiteRT's within the float tolerance), on units and
channels off the 4- and 8-wide blocking, SAME borders, stride, dilation, a filter too large to
re-block, the BatchNorm after ReLU (per-channel MUL and ADD) and global average pooling.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit import config as study_config  # noqa: E402
from tinyeit.codegen import fixedpoint as fp  # noqa: E402
from tinyeit.codegen import run_host  # noqa: E402
from tinyeit.codegen.generator import build  # noqa: E402
from litert_reference import litert_outputs  # noqa: E402
from fc_harness import with_lanes_in_int16  # noqa: E402

BOARDS = ("nano33ble", "rpi4")


def _keras():
    import tf_keras

    return tf_keras


def _board_cfg(board: str) -> dict:
    return study_config.load("config.yaml")["boards"][board]


def _int8(model, rep: np.ndarray) -> bytes:
    from tinyeit.codegen.sample_models import convert

    return convert(model, "ptq_int8", rep)


def _set_extreme_weights(tflite: bytes, seed: int, fc_weights: list | None = None,
                         lanes: bool = False) -> bytes:
    """Put -128 and -127 into every int8 weight tensor of CONV_2D / FULLY_CONNECTED (LiteRT's
    reference kernels take them as they are; only the converter avoids -128). lanes: in a
    fully connected layer, a second unit's -128 only beside a first unit's weight >= 0, as the
    unit pairs take it; the layers' [units, n] weights are appended to fc_weights."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(tflite, 0)
    rng = np.random.default_rng(seed)
    g = model.subgraphs[0]
    for op in g.operators:
        name = model.operatorCodes[op.opcodeIndex].builtinCode
        if name not in (s.BuiltinOperator.CONV_2D, s.BuiltinOperator.FULLY_CONNECTED):
            continue
        t = g.tensors[op.inputs[1]]
        buf = model.buffers[t.buffer]
        data = np.frombuffer(bytes(bytearray(buf.data)), np.int8).copy()
        idx = rng.choice(len(data), size=max(2, len(data) // 5), replace=False)
        data[idx[::2]] = -128
        data[idx[1::2]] = -127
        if name == s.BuiltinOperator.FULLY_CONNECTED:
            rows = data.reshape(t.shape[0], -1)
            if lanes:
                rows = with_lanes_in_int16(rows)
            data = rows.reshape(-1)
            if fc_weights is not None:
                fc_weights.append(rows)
        buf.data = data.view(np.uint8)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _check(path, x: np.ndarray, boards=BOARDS) -> dict:
    want = litert_outputs(str(path), x)
    got = run_host(str(path), x).reshape(len(x), -1)
    assert (got != want).sum() == 0, "host (reference kernels) differs from LiteRT"
    info = build(str(path))
    if info["fc_pairs_layers"]:
        # the unit-pair layout on the portable reference kernels (what the M4 build compiles)
        from tinyeit.codegen.host import build_executable, run_rows

        exe = build_executable(info["files"], ("-DTINYEIT_FC_PAIRS=1",))
        got = run_rows(exe, x.reshape(len(x), -1), np.dtype(info["output_dtype"]),
                       info["output_size"]).reshape(len(x), -1)
        assert (got != want).sum() == 0, "host, unit-pair layout, differs from LiteRT"
    from tinyeit.deploy.codegen_run import run_board

    for board in boards:
        got = run_board(path, x, board, _board_cfg(board)).reshape(len(x), -1)
        bad = int((got != want).sum())
        assert bad == 0, f"{board}: {bad} int8 elements differ from LiteRT"
    return build(str(path))


def _float(model) -> bytes:
    from tinyeit.codegen.sample_models import convert

    return convert(model, "float")


def _float_rows(model, n: int, seed: int) -> np.ndarray:
    """Normal inputs with exact zeros of both signs among them (the clamp at a ReLU's bound of
    0 must keep -0 as the reference does)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, *model.input_shape[1:])).astype(np.float32)
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, size=max(2, flat.size // 10), replace=False)
    flat[idx[::2]] = 0.0
    flat[idx[1::2]] = -0.0
    return x


def _check_float(path, x: np.ndarray, boards=BOARDS) -> dict:
    """Every board's bytes equal the host's (the portable reference kernels), which are within
    the property suite's float tolerance of LiteRT."""
    from tinyeit.deploy.codegen_run import run_board

    want = litert_outputs(str(path), x)
    host = run_host(str(path), x).reshape(len(x), -1).astype(np.float32)
    span = float(np.ptp(want)) or 1.0
    assert float(np.abs(host - want).max()) <= 1e-5 * span, "host differs from LiteRT"
    for board in boards:
        got = run_board(path, x, board, _board_cfg(board)).reshape(len(x), -1)
        assert got.dtype == np.float32
        bad = int((got.view(np.uint32) != host.view(np.uint32)).sum())
        assert bad == 0, f"{board}: {bad} float elements differ from the reference's bits"
    return build(str(path))


def _rows(model, n: int, seed: int, lo: float = -128, hi: float = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(int(lo), int(hi), (n, *model.input_shape[1:])).astype(np.int8)


@pytest.mark.slow
@pytest.mark.parametrize("features,units", [(3, (5, 1)), (13, (10, 7)), (64, (4, 3)),
                                            (101, (17,)), (40, (13, 6, 2)), (475, (128, 11)),
                                            (96, (33, 7))])
def test_fully_connected_blocking_and_edge_weights(tmp_path, features, units):
    """Inputs and units off the 4x4 blocking and off the unit-pair layout's (6-unit blocks,
    16-input padding, an odd last unit); -128/-127 weights; single rounding (LiteRT). Layers
    of 32 inputs or more (101, 475, 128, 64) take the unit-pair layout on the M4 where their
    lanes fit in int16 (the -128s placed so, but in two models whose layers then fall back to
    the packed layout), the others and every layer on the A72 the packed one."""
    keras = _keras()
    keras.utils.set_random_seed(features)
    inp = keras.Input((features,))
    x = inp
    for u in units:
        x = keras.layers.Dense(u, activation="relu" if u != units[-1] else None)(x)
    model = keras.Model(inp, x)
    rep = np.random.default_rng(0).normal(0, 1, (32, features)).astype(np.float32)
    path = tmp_path / "fc.tflite"
    from tinyeit.codegen.layout_unit_pairs import pairs_fit, worthwhile

    fc, lanes = [], features not in (101, 64)
    path.write_bytes(_set_extreme_weights(_int8(model, rep), features, fc, lanes))
    info = _check(path, _rows(model, 6, features))
    assert [w.shape[1] for w in fc] == [features, *units[:-1]]
    paired = [worthwhile(w.shape[1]) and pairs_fit(w) for w in fc]
    assert info["fc_pairs_layers"] == sum(paired)
    if not lanes:  # the fallback is taken: a layer wide enough for the pairs runs packed
        assert any(worthwhile(w.shape[1]) and not pairs_fit(w) for w in fc)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    dict(shape=(1, 40, 1), k=(1, 3), filters=25, padding="valid", stride=1, dil=1, bn=True),
    dict(shape=(5, 6, 3), k=(3, 3), filters=6, padding="same", stride=2, dil=1, bn=True),
    dict(shape=(7, 7, 2), k=(2, 3), filters=5, padding="same", stride=1, dil=2, bn=False),
    dict(shape=(4, 9, 5), k=(1, 4), filters=9, padding="valid", stride=1, dil=1, bn=True),
    dict(shape=(6, 6, 64), k=(3, 3), filters=4, padding="same", stride=1, dil=1, bn=False),
])
def test_conv_windows_fold_and_edge_weights(tmp_path, spec):
    """Windows in place and gathered (SAME borders, stride, dilation), a window larger than
    the gather buffer (576 > 512: reference fallback), odd filter counts, the BatchNorm after
    ReLU folded into the conv's table, -128/-127 weights."""
    keras = _keras()
    from tinyeit.codegen.sample_models import randomize_batchnorm

    seed = sum(spec["shape"]) + spec["filters"]
    keras.utils.set_random_seed(seed)
    inp = keras.Input(spec["shape"])
    x = keras.layers.Conv2D(spec["filters"], spec["k"], strides=spec["stride"],
                            dilation_rate=spec["dil"], padding=spec["padding"],
                            activation="relu")(inp)
    if spec["bn"]:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(6)(x)
    model = keras.Model(inp, x)
    randomize_batchnorm(model, seed)
    rep = np.random.default_rng(1).normal(0, 1, (32, *spec["shape"])).astype(np.float32)
    path = tmp_path / "conv.tflite"
    path.write_bytes(_set_extreme_weights(_int8(model, rep), seed))
    info = _check(path, _rows(model, 4, seed))
    source = build(str(path))["files"]["model.c"]
    if spec["bn"]:
        assert "MUL" in info["ops"] and "tinyeit_mul_s8" not in source, "BatchNorm not folded"
        assert re.search(r"tinyeit_conv_s8\([^;]*post\d+", source)


@pytest.mark.slow
@pytest.mark.parametrize("sign", [1, -1])
def test_extreme_input_zero_points(tmp_path, sign):
    """All-positive (zero point -128) or all-negative (127) calibration data."""
    keras = _keras()
    keras.utils.set_random_seed(3)
    inp = keras.Input((1, 12, 3))
    x = keras.layers.Conv2D(7, (1, 3), padding="same")(inp)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(5)(x)
    model = keras.Model(inp, x)
    rep = sign * np.abs(np.random.default_rng(2).normal(0, 1, (32, 1, 12, 3))).astype(np.float32)
    path = tmp_path / "zp.tflite"
    path.write_bytes(_int8(model, rep))
    zp = build(str(path))["input_quant"][1]
    assert zp == (-128 if sign > 0 else 127)
    _check(path, _rows(model, 5, 9))


@pytest.mark.slow
def test_tflm_flavor_double_rounding_on_targets(tmp_path):
    """flavor tflm: fully connected with double rounding (the cheap form on the Cortex-M, the
    SQRDMULH form on NEON) equals the TFLite Micro interpreter."""
    from tflite_micro import runtime

    from tinyeit.deploy.codegen_run import run_board

    keras = _keras()
    keras.utils.set_random_seed(11)
    inp = keras.Input((1, 20, 2))
    x = keras.layers.Conv2D(6, (1, 3), activation="relu")(inp)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(9, activation="relu")(x)
    x = keras.layers.Dense(3)(x)
    model = keras.Model(inp, x)
    rep = np.random.default_rng(4).normal(0, 1, (32, 1, 20, 2)).astype(np.float32)
    path = tmp_path / "tflm.tflite"
    path.write_bytes(_int8(model, rep))
    x_rows = _rows(model, 5, 12)
    it = runtime.Interpreter.from_file(str(path))
    want = []
    for row in x_rows:
        it.set_input(row[None], 0)
        it.invoke()
        want.append(it.get_output(0).reshape(-1).copy())
    want = np.array(want)
    for board in BOARDS:
        got = run_board(path, x_rows, board, _board_cfg(board), flavor="tflm")
        assert (got.reshape(len(x_rows), -1) != want).sum() == 0, board


@pytest.mark.slow
@pytest.mark.parametrize("features,units", [(3, (5, 1)), (13, (10, 7)), (101, (17,)),
                                            (114, (24, 12, 10)), (40, (16, 9))])
def test_float_fully_connected_on_targets(tmp_path, features, units):
    """Float dense stacks: units in blocks of 8 and off them (the plain remaining rows),
    inputs off the 8- and 4-element steps, ReLU and linear outputs."""
    keras = _keras()
    keras.utils.set_random_seed(100 + features)
    inp = keras.Input((features,))
    x = inp
    for u in units:
        x = keras.layers.Dense(u, activation="relu" if u != units[-1] else None,
                               bias_initializer="random_normal")(x)
    model = keras.Model(inp, x)
    path = tmp_path / "fc_float.tflite"
    path.write_bytes(_float(model))
    info = _check_float(path, _float_rows(model, 5, features))
    assert "FULLY_CONNECTED" in info["ops"]


@pytest.mark.slow
@pytest.mark.parametrize("features,units", [(475, (128, 64, 10)), (101, (33, 17)),
                                            (40, (48, 3))])
def test_hybrid_fully_connected_on_targets(tmp_path, features, units):
    """Dynamic-range models (LiteRT's hybrid FULLY_CONNECTED: layers of 1,024 weights or more
    keep int8 weights, the inputs quantized per row at run time): the M4 build runs the
    unit-pair hybrid kernel (475 and 101 inputs; 40 inputs pads too much and keeps the
    reference on rows), the rpi4 build the NEON packed one; both give the host's reference
    bytes (within the float tolerance of LiteRT) on rows of zeros, of large dynamic range and
    of ReLU-like values with exact zeros of both signs."""
    from tinyeit.codegen.layout_unit_pairs import worthwhile
    from tinyeit.codegen.sample_models import convert

    keras = _keras()
    keras.utils.set_random_seed(features)
    inp = keras.Input((features,))
    x = inp
    for u in units:
        x = keras.layers.Dense(u, activation="relu" if u != units[-1] else None)(x)
    model = keras.Model(inp, x)
    path = tmp_path / "hybrid.tflite"
    path.write_bytes(convert(model, "ptq_dynamic"))
    rows = _float_rows(model, 6, features)
    rows[1] = 0.0
    rows[2] *= np.float32(10.0) ** np.random.default_rng(1).integers(-6, 6, features)
    rows[3] = np.maximum(rows[3], 0.0)
    info = _check_float(path, rows)
    hybrid = [(n, u) for n, u in zip((features, *units), units) if n * u >= 1024]
    assert info["files"]["model.c"].count("tinyeit_fc_hybrid_packed(") == len(hybrid)
    assert info["fc_pairs_layers"] == sum(worthwhile(n) for n, _ in hybrid)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    dict(shape=(1, 40, 1), k=(1, 3), filters=25, padding="valid", stride=1, dil=1, bn=True,
         pool=True),
    dict(shape=(1, 40, 1), k=(1, 3), filters=6, padding="same", stride=1, dil=1, bn=True,
         pool=True),
    dict(shape=(1, 30, 2), k=(1, 4), filters=13, padding="same", stride=2, dil=1, bn=False,
         pool=False),
    dict(shape=(5, 6, 3), k=(3, 3), filters=6, padding="same", stride=2, dil=1, bn=True,
         pool=False),
    dict(shape=(7, 7, 2), k=(2, 3), filters=5, padding="same", stride=1, dil=2, bn=False,
         pool=False),
    dict(shape=(4, 9, 5), k=(1, 4), filters=9, padding="valid", stride=1, dil=1, bn=True,
         pool=False, gap=True),
    dict(shape=(6, 6, 64), k=(3, 3), filters=11, padding="same", stride=1, dil=1, bn=False,
         pool=False),
])
def test_float_conv_windows_on_targets(tmp_path, spec):
    """Float conv: channel counts off 8 and 4 (re-blocked remaining channels), the small
    one-run filters of a 1-D signal and 2-D windows, SAME borders, stride, dilation, a filter
    too large to re-block (576 elements: the reference's loop for the remaining channels),
    the BatchNorm after ReLU (per-channel MUL and ADD), SAME max pooling, and global average
    pooling (MEAN)."""
    keras = _keras()
    from tinyeit.codegen.sample_models import randomize_batchnorm

    seed = 7 + sum(spec["shape"]) + spec["filters"]
    keras.utils.set_random_seed(seed)
    inp = keras.Input(spec["shape"])
    x = keras.layers.Conv2D(spec["filters"], spec["k"], strides=spec["stride"],
                            dilation_rate=spec["dil"], padding=spec["padding"],
                            activation="relu", bias_initializer="random_normal")(inp)
    if spec["bn"]:
        x = keras.layers.BatchNormalization()(x)
    if spec["pool"]:
        x = keras.layers.MaxPooling2D((1, 3), strides=(1, 2), padding="same")(x)
    if spec.get("gap"):
        x = keras.layers.GlobalAveragePooling2D()(x)
    else:
        x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(6)(x)
    model = keras.Model(inp, x)
    randomize_batchnorm(model, seed)
    path = tmp_path / "conv_float.tflite"
    path.write_bytes(_float(model))
    info = _check_float(path, _float_rows(model, 4, seed))
    assert "CONV_2D" in info["ops"]
    if spec["bn"]:
        assert {"MUL", "ADD"} <= set(info["ops"]), info["ops"]
    if spec["pool"]:
        assert "MAX_POOL_2D" in info["ops"]
    if spec.get("gap"):
        assert "MEAN" in info["ops"], info["ops"]


def _mbqm_cheap(x: int, m: int, shift: int) -> int | None:
    """Python mirror of tinyeit_common.h's mbqm_cheap; None where its int32 sum would overflow."""
    left, right = max(shift, 0), max(-shift, 0)
    xs = fp._wrap32(x << left)
    h = (xs * m + (1 << 30)) >> 31
    rnd = (1 << right) >> 1
    neg = -1 if (right > 0 and h < 0) else 0
    s = h + rnd + neg
    if not -(1 << 31) <= s < (1 << 31):
        return None
    return s >> right


def test_cheap_requantization_equals_the_reference():
    """The cheap form equals MultiplyByQuantizedMultiplier wherever the generator allows it
    (no overflow), including every rounding tie of small accumulators."""
    rnd = random.Random(5)
    cases = [(x, m, s) for x in range(-600, 601) for m, s in ((1 << 30, -1), (1 << 30, 0),
                                                             (1518500250, -7), (2147483647, -3))]
    for _ in range(20000):
        cases.append((rnd.randint(-(1 << 24), 1 << 24), rnd.randint(1 << 30, (1 << 31) - 1),
                      rnd.randint(-20, 2)))
    cases += [(-(1 << 31), (1 << 31) - 1, -31), ((1 << 31) - 1, (1 << 31) - 1, -31)]
    for x, m, s in cases:
        cheap = _mbqm_cheap(x, m, s)
        if cheap is not None:
            assert cheap == fp.mbqm(x, m, s), (x, m, s)


def _single_cheap(x: int, m: int, shift: int) -> int | None:
    """Python mirror of requant_single_cheap (tinyeit_common.h); None on int32 overflow."""
    prod = x * m
    if shift >= 0:
        return None
    s = (prod >> 31) + (1 << (-shift - 1))
    if not -(1 << 31) <= s < (1 << 31):
        return None
    return s >> -shift


def test_cheap_single_rounding_equals_litert():
    """LiteRT's single rounding (acc * m + 2^(t-1)) >> t, t = 31 - shift, in 32-bit steps."""
    rnd = random.Random(6)
    cases = [(x, (1 << 30) + k, -s) for x in range(-300, 301) for k in (0, 1, 12345)
             for s in (1, 2, 9)]
    for _ in range(20000):
        cases.append((rnd.randint(-(1 << 24), 1 << 24), rnd.randint(1 << 30, (1 << 31) - 1),
                      rnd.randint(-20, -1)))
    for x, m, s in cases:
        t = 31 - s
        cheap = _single_cheap(x, m, s)
        if cheap is not None:
            assert cheap == (x * m + (1 << (t - 1))) >> t, (x, m, s)


def test_cheap_requantization_is_refused_where_it_could_overflow(tmp_path):
    from tinyeit.codegen.ops.conv import cheap_requant

    assert cheap_requant([1 << 30], [(1 << 31) - 1], [2]) == 0
    assert cheap_requant([1 << 20], [1 << 30], [-8]) == 1


def test_elementwise_not_folded_when_the_tensor_has_two_consumers(tmp_path):
    """A conv output read by the BatchNorm MUL and by another op stays a tensor of its own."""
    keras = _keras()
    keras.utils.set_random_seed(7)
    inp = keras.Input((1, 10, 2))
    a = keras.layers.Conv2D(4, (1, 3), activation="relu")(inp)
    b = keras.layers.BatchNormalization()(a)
    x = keras.layers.Concatenate()([a, b])
    model = keras.Model(inp, keras.layers.Flatten()(x))
    from tinyeit.codegen.sample_models import randomize_batchnorm

    randomize_batchnorm(model, 7)
    rep = np.random.default_rng(3).normal(0, 1, (32, 1, 10, 2)).astype(np.float32)
    path = tmp_path / "two.tflite"
    path.write_bytes(_int8(model, rep))
    source = build(str(path))["files"]["model.c"]
    assert "tinyeit_mul_s8" in source
    x_rows = _rows(model, 4, 5)
    got = run_host(str(path), x_rows).reshape(len(x_rows), -1)
    assert (got != litert_outputs(str(path), x_rows)).sum() == 0


@pytest.mark.parametrize("cc,flags", [("aarch64-linux-gnu-gcc", ["-march=armv8-a"]),
                                      ("gcc", ["-march=x86-64-v3"])])
def test_kernels_never_fuse_multiply_add(tmp_path, cc, flags):
    """Built with -ffp-contract=fast on an FMA target (as Arduino / ESP-IDF builds may), the
    kernels still contain no fused multiply-add: they switch contraction off themselves."""
    if shutil.which(cc) is None:
        pytest.fail(f"{cc} is not on PATH (Debian: gcc, gcc-aarch64-linux-gnu)")
    from tinyeit.codegen.generator import kernel_sources

    for name, text in kernel_sources().items():
        (tmp_path / name).write_text(text)
    asm = "".join(subprocess.run([cc, *flags, "-O2", "-std=gnu11", "-ffp-contract=fast", "-S", "-o",
                                  "-", str(tmp_path / src)], capture_output=True, text=True,
                                 check=True, timeout=300).stdout
                  for src in ("tinyeit_kernels.c", "tinyeit_kernels_stored.c",
                              "tinyeit_kernels_hybrid.c"))
    assert not re.search(r"\b(fmadd|fmsub|fmla|fmls|vfmadd\w*|vfnmadd\w*)\b", asm)


def test_op_marks_split_one_inference_into_ops(tmp_path):
    """marks=True puts a marker call before the first op and after each op; opbench turns the
    counts at those calls into per-op costs, first inference only."""
    from types import SimpleNamespace

    from tinyeit.codegen.sample_models import convert, representative_inputs, study_like_model
    from tinyeit.deploy.opbench import by_name, per_op

    path = tmp_path / "m.tflite"
    path.write_bytes(convert(study_like_model(0), "ptq_int8",
                             representative_inputs((1, 40, 1), 16)))
    info = build(str(path), marks=True)
    marks = info["op_marks"]
    assert [n for _, n in marks] == ["CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED",
                                     "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    # one call before the ops, one after each, plus the declaration and the definition
    assert info["files"]["model.c"].count("tinyeit_op_mark(") == len(marks) + 3
    assert "tinyeit_op_mark" not in build(str(path))["files"]["model.c"]
    counts = [(100 + 10 * k, 1000 + 100 * k * k) for k in range(len(marks) + 1)]
    m4 = per_op({"family": "cortex_m4f"}, SimpleNamespace(marks=counts * 2), marks)
    assert [o["cost"] for o in m4] == [100 * (2 * k + 1) for k in range(len(marks))]
    a64 = per_op({"family": "aarch64_linux"},
                 SimpleNamespace(marks=[(5, None)] + [(c, None) for c, _ in counts]), marks)
    assert [o["cost"] for o in a64] == [10] * len(marks)
    assert by_name(m4)["FULLY_CONNECTED"] == 500 + 700 + 900


@pytest.mark.slow
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_three_tap_conv_with_a_pruned_filter(tmp_path, padding):
    """The Cortex-M 3-element-window conv: its assembly run over the inside positions, the
    gathered border windows (SAME), and a pruned (all-zero) filter, whose tiny scale puts its
    channel on the plain per-output loop; BatchNorm folded; -128/-127 weights."""
    keras = _keras()
    from tinyeit.codegen.sample_models import randomize_batchnorm

    keras.utils.set_random_seed(21)
    inp = keras.Input((1, 40, 1))
    conv = keras.layers.Conv2D(9, (1, 3), padding=padding, activation="relu")
    x = keras.layers.BatchNormalization()(conv(inp))
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(5)(x)
    model = keras.Model(inp, x)
    randomize_batchnorm(model, 21)
    kernel, bias = conv.get_weights()
    kernel[..., 4] = 0.0
    bias[4] = 0.0
    conv.set_weights([kernel, bias])
    rep = np.random.default_rng(5).normal(0, 1, (32, 1, 40, 1)).astype(np.float32)
    path = tmp_path / "conv3.tflite"
    path.write_bytes(_set_extreme_weights(_int8(model, rep), 21))
    info = _check(path, _rows(model, 4, 21))
    assert "CONV_2D" in info["ops"]
