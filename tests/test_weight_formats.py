"""Weight storage figures: what the generated C stores per conv / fully connected layer, in how
many flash bytes, and how many MACs its kernels execute (weights.json, build.json, profile)."""
from __future__ import annotations

import json

import pytest

from tinyeit.codegen import generate, weight_formats as wf
from tinyeit.codegen.sample_models import write_study_like
from tinyeit.errors import TinyEitError
from tinyeit.firmware.build import weight_figures


@pytest.fixture(scope="module")
def study_models(tmp_path_factory):
    out = tmp_path_factory.mktemp("wf")
    return {mode: write_study_like(str(out), mode) for mode in ("float", "ptq_int8", "ptq_dynamic")}


# The study-like model: conv 25 x (1 x 3 x 1) over 38 positions, dense 475->128, 128->64, 64->10.
LAYERS = [("CONV_2D", 75, 38 * 25 * 3), ("FULLY_CONNECTED", 475 * 128, 475 * 128),
          ("FULLY_CONNECTED", 128 * 64, 128 * 64), ("FULLY_CONNECTED", 64 * 10, 64 * 10)]


@pytest.mark.parametrize("mode", ["float", "ptq_int8", "ptq_dynamic"])
def test_dense_figures_of_the_study_model(study_models, mode):
    layers = wf.layer_records(study_models[mode])
    assert [(l["op"], l["weights"], l["macs_executed"]) for l in layers] == LAYERS
    for layer in layers:
        assert layer["weight_format"] == "dense"
        assert layer["macs_executed"] == layer["macs_dense"]
        packed = mode == "ptq_int8"  # int8 ops: packed, word aligned
        itemsize = 4 if layer["dtype"] == "float32" else 1
        assert layer["dtype"] == ("float32" if mode == "float" else layer["dtype"])
        want = -(-layer["weights"] // 4) * 4 if packed else layer["weights"] * itemsize
        assert layer["weight_bytes"] == want
    figures = wf.model_figures(layers)
    assert figures["weight_format"] == "dense"
    assert figures["macs_executed"] == sum(m for _, _, m in LAYERS)
    assert figures["weight_bytes"] == sum(l["weight_bytes"] for l in layers)


def test_codegen_writes_weights_json_and_firmware_reads_it(study_models, tmp_path):
    info = generate(study_models["ptq_int8"], str(tmp_path))
    doc = json.loads((tmp_path / "weights.json").read_text())
    assert doc == wf.weights_document(wf.layer_records(study_models["ptq_int8"]))
    assert info["weights"] == {k: doc[k] for k in ("weight_format", "weight_bytes",
                                                    "weight_ram_bytes", "macs_executed")}
    assert doc["weight_ram_bytes"] == 0  # dense: nothing expanded into RAM
    # the dense int8 weights are the bulk of what the generator counts as const data
    assert doc["weight_bytes"] <= info["weights_bytes"]
    got = weight_figures(tmp_path)
    assert got["weight_bytes"] == doc["weight_bytes"] and got["weight_layers"] == doc["layers"]


def test_weight_figures_absent_and_broken(tmp_path):
    assert weight_figures(tmp_path) == {"weight_format": None, "weight_bytes": None,
                                        "weight_ram_bytes": None, "macs_executed": None,
                                        "weight_layers": None}
    (tmp_path / "weights.json").write_text('{"weight_bytes": 3}')
    with pytest.raises(TinyEitError, match="weights.json: expected an object"):
        weight_figures(tmp_path)


def test_tflite_figures_are_dense(study_models):
    fig = wf.tflite_figures(study_models["ptq_int8"])
    assert fig == {"weight_format": "dense", "weight_bytes": sum(w for _, w, _ in LAYERS),
                   "weight_ram_bytes": 0, "macs_executed": sum(m for _, _, m in LAYERS)}


def test_model_figures_join_formats():
    layers = [{"weight_format": "block_sparse", "weight_bytes": 10, "macs_executed": 4},
              {"weight_format": "dense", "weight_bytes": 6, "macs_executed": 5}]
    assert wf.model_figures(layers) == {"weight_format": "block_sparse+dense",
                                        "weight_bytes": 16, "weight_ram_bytes": 0,
                                        "macs_executed": 9}
    assert wf.model_figures([])["weight_format"] is None
