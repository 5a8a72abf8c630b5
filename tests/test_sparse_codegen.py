"""The generator's choice of weight storage on whole models, held to LiteRT's reference kernels:
block-pruned weights (4 x 4 blocks, as `prune` with block_size [4, 4] leaves them) stored
block-sparse, clustered weights (at most 16 values) stored as a codebook, int8 and float, on the
host (reference C), on the Cortex-M4 emulator (nano33ble: the DSP / FPU kernels) and under
qemu-aarch64 (rpi4: the NEON block-sparse kernels and the NEON int8 codebook kernel, the
reference float codebook one). int8
outputs must equal LiteRT's BUILTIN_REF to the bit; float ones within the generator's float
tolerance (1e-5 of the output range), and weights.json must name the format, bytes and MACs."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit import config as study_config  # noqa: E402
from tinyeit.codegen import run_host  # noqa: E402
from tinyeit.codegen import weight_formats as wf  # noqa: E402
from tinyeit.codegen.generator import build  # noqa: E402
from litert_reference import litert_outputs  # noqa: E402


def _model(kind: str, seed: int = 0):
    from tinyeit.codegen.sample_models import study_like_model

    model = study_like_model(seed, dense_units=(64, 32))
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ != "Dense":
            continue
        k, b = layer.get_weights()
        if kind in ("blocks", "blocks+cluster"):
            keep = rng.random((-(-k.shape[0] // 4), -(-k.shape[1] // 4))) < 0.4
            k = k * np.kron(keep, np.ones((4, 4)))[:k.shape[0], :k.shape[1]]
        if kind in ("cluster", "blocks+cluster"):
            centroids = np.quantile(k[k != 0], np.linspace(0.02, 0.98, 15))
            nz = k != 0
            k = np.where(nz, centroids[np.abs(k[..., None] - centroids).argmin(-1)], 0.0)
        layer.set_weights([k.astype(np.float32), b])
    return model


def _tflite(tmp_path, kind, mode):
    from tinyeit.codegen.sample_models import convert, representative_inputs

    model = _model(kind)
    rep = representative_inputs(tuple(model.input_shape[1:]), 64, 0)
    path = tmp_path / f"{kind}_{mode}.tflite"
    path.write_bytes(convert(model, mode, rep))
    x = representative_inputs(tuple(model.input_shape[1:]), 6, 1)
    if mode == "ptq_int8":
        from tinyeit.codegen.model_reader import read_model
        g = read_model(str(path))
        s, z = g.tensors[g.inputs[0]].qparams()
        x = np.clip(np.round(x / s) + z, -128, 127).astype(np.int8)
    return path, x


def _close(got, want, mode):
    if mode == "ptq_int8":
        assert (got != want).sum() == 0
    else:
        span = float(np.max(want) - np.min(want)) or 1.0
        assert np.max(np.abs(got.astype(np.float64) - want)) <= 1e-5 * span


CASES = [("blocks", "ptq_int8", wf.BLOCK_SPARSE), ("blocks", "float", wf.BLOCK_SPARSE),
         ("cluster", "ptq_int8", wf.CODEBOOK), ("cluster", "float", wf.CODEBOOK),
         ("blocks+cluster", "ptq_int8", wf.BLOCK_SPARSE)]


@pytest.mark.parametrize("kind, mode, fmt", CASES)
def test_stored_formats_equal_litert(tmp_path, kind, mode, fmt):
    path, x = _tflite(tmp_path, kind, mode)
    result = build(str(path))
    fc = [l for l in result["layers"] if l["op"] == "FULLY_CONNECTED"]
    assert [l["weight_format"] for l in fc[:2]] == [fmt, fmt]
    conv = [l for l in result["layers"] if l["op"] == "CONV_2D"]
    assert all(l["weight_format"] == wf.DENSE for l in conv)
    for layer in fc[:2]:  # the output layer (10 units: two of them plain rows) saves less
        if layer["weight_format"] != wf.DENSE:
            assert layer["weight_bytes"] < 0.6 * wf.dense_weight_bytes(
                "FULLY_CONNECTED", np.dtype(layer["dtype"]), layer["weights"])
        if layer["weight_format"] == wf.BLOCK_SPARSE:
            assert layer["macs_executed"] < 0.6 * layer["macs_dense"]
    want = litert_outputs(str(path), x)
    got = run_host(str(path), x).reshape(len(x), -1)
    _close(got, want, mode)
    from tinyeit.deploy.codegen_run import run_board

    boards = study_config.load("config.yaml")["boards"]
    for board in ("nano33ble", "rpi4"):  # the DSP / FPU kernels; NEON block-sparse, int8 codebook
        # the in-loop codebook kernels (the expansion into RAM: tests/test_codebook_ram.py)
        cfg = dict(boards[board], codebook="inloop")
        got = run_board(str(path), x, board, cfg).reshape(len(x), -1)
        _close(got, want, mode)


def test_dense_models_stay_dense(tmp_path):
    path, _ = _tflite(tmp_path, "dense", "ptq_int8")
    assert {l["weight_format"] for l in build(str(path))["layers"]} == {wf.DENSE}


def _patch_weights(tflite: bytes, op_name: str, nth: int, fn) -> bytes:
    """The nth op_name op's int8 weights [out, -1] passed through fn (in place), repacked."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(tflite, 0)
    g = model.subgraphs[0]
    code = getattr(s.BuiltinOperator, op_name)
    ops = [op for op in g.operators if model.operatorCodes[op.opcodeIndex].builtinCode == code]
    t = g.tensors[ops[nth].inputs[1]]
    buf = model.buffers[t.buffer]
    data = np.frombuffer(bytes(bytearray(buf.data)), np.int8).copy().reshape(t.shape[0], -1)
    fn(data)
    buf.data = data.reshape(-1).view(np.uint8)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_block_sparse_unit_pairs_and_zero_filters_equal_litert(tmp_path):
    """The Cortex-M unit-pair block-sparse layout (tinyeit_fc_s8_bsr_pairs) where it fits and the
    portable block-sparse layout where a lane does not (the second layer: b = -128 beside a
    negative a), in one model, with conv filters pruned whole (their channels rewritten to a
    constant, conv.zero_filter_requant), the folded BatchNorm table behind them: equal to LiteRT
    on the host (both layouts: -DTINYEIT_FC_PAIRS=1 takes the unit pairs' reference kernel) and
    on the Cortex-M4 (the assembly kernel)."""
    from tinyeit.codegen.host import build_executable, run_rows
    from tinyeit.codegen.sample_models import convert, representative_inputs
    from tinyeit.deploy.codegen_run import run_board

    model = _model("blocks", seed=3)
    conv = next(l for l in model.layers if type(l).__name__ == "Conv2D")
    k, b = conv.get_weights()
    k[..., [1, 7, 8, 20]] = 0.0                    # four filters pruned whole
    b[[7, 20]] = [0.4, -0.3]
    conv.set_weights([k, b])
    rep = representative_inputs(tuple(model.input_shape[1:]), 64, 0)

    def lane_overflow(w):
        w[0, 0], w[1, 0] = -5, -128                # pair (0, 1) at input 0: -5 - 32,768

    tfl = _patch_weights(convert(model, "ptq_int8", rep), "FULLY_CONNECTED", 1, lane_overflow)
    path = tmp_path / "m.tflite"
    path.write_bytes(tfl)
    from tinyeit.codegen.model_reader import read_model

    g = read_model(str(path))
    s, z = g.tensors[g.inputs[0]].qparams()
    x = representative_inputs(tuple(model.input_shape[1:]), 6, 1)
    x = np.clip(np.round(x / s) + z, -128, 127).astype(np.int8)
    result = build(str(path))
    assert [l["weight_format"] for l in result["layers"] if l["op"] == "FULLY_CONNECTED"][:2] \
        == [wf.BLOCK_SPARSE, wf.BLOCK_SPARSE]
    src = result["files"]["model.c"]
    assert src.count("tinyeit_fc_s8_bsr_pairs(") == result["fc_pairs_layers"] == 2
    assert src.count("tinyeit_fc_s8_bsr(") == 3    # the portable side of both, and the fallback
    want = litert_outputs(str(path), x)
    assert (run_host(str(path), x).reshape(len(x), -1) != want).sum() == 0
    exe = build_executable(result["files"], ("-DTINYEIT_FC_PAIRS=1",))
    got = run_rows(exe, x.reshape(len(x), -1), np.dtype(np.int8), result["output_size"])
    assert (got.reshape(len(x), -1) != want).sum() == 0
    boards = study_config.load("config.yaml")["boards"]
    got = run_board(str(path), x, "nano33ble", boards["nano33ble"]).reshape(len(x), -1)
    assert (got != want).sum() == 0


def test_zero_filter_requant_keeps_the_output():
    """conv.zero_filter_requant: the rewritten channel's constant equals the original's for
    tiny and ordinary scales, clamped or not; other channels untouched."""
    from tinyeit.codegen import fixedpoint as fp
    from tinyeit.codegen.ops.conv import zero_filter_requant

    rng = np.random.default_rng(0)
    filters = np.ones((6, 3), np.int8)
    filters[[1, 3, 4, 5]] = 0
    for _ in range(200):
        folded = [int(v) for v in rng.integers(-(1 << 31), 1 << 31, 6)]
        scales = 10.0 ** rng.uniform(-12, 0, 6)
        mults, shifts = map(list, zip(*(fp.quantize_multiplier(float(v)) for v in scales)))
        zo, lo, hi = int(rng.integers(-128, 128)), -128, 127
        if rng.random() < 0.3:
            lo = zo
        f2, m2, s2 = zero_filter_requant(filters, folded, mults, shifts, zo, lo, hi)
        for u in range(6):
            before = min(max(fp.mbqm(folded[u], mults[u], shifts[u]) + zo, lo), hi)
            after = min(max(fp.mbqm(f2[u], m2[u], s2[u]) + zo, lo), hi)
            assert before == after
            if filters[u].any():
                assert (f2[u], m2[u], s2[u]) == (folded[u], mults[u], shifts[u])
            else:
                assert -22 <= s2[u] <= -1 and abs(f2[u]) <= 4 * 255
