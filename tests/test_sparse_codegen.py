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
        got = run_board(str(path), x, board, boards[board]).reshape(len(x), -1)
        _close(got, want, mode)


def test_dense_models_stay_dense(tmp_path):
    path, _ = _tflite(tmp_path, "dense", "ptq_int8")
    assert {l["weight_format"] for l in build(str(path))["layers"]} == {wf.DENSE}
