"""The study's CNN: parameter count of the paper's baseline, spec round trip, determinism."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit.errors import TinyEitError  # noqa: E402
from tinyeit.models import architectures as arch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def study_config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_baseline_has_the_papers_70034_parameters(study_config):
    spec = arch.baseline_spec(study_config["steps"]["baseline"], n_features=40, n_classes=10)
    model = arch.build_model(spec)
    assert model.count_params() == 70_034
    assert model.input_shape == (None, 1, 40, 1)
    assert model.output_shape == (None, 10)
    # Per layer, as the Conv1D original: conv 3*25+25, BN 4*25, dense 19*25*128+128, ...
    counts = {layer.name: layer.count_params() for layer in model.layers if layer.count_params()}
    assert counts == {"conv": 100, "bn": 100, "dense0": 60_928, "dense1": 8_256, "output": 650}


def test_student_keeps_topology_and_is_smaller(study_config):
    teacher = arch.baseline_spec(study_config["steps"]["baseline"], 40, 10)
    student = arch.student_spec(teacher, study_config["steps"]["kd"]["student"])
    assert (student.pool_size, student.pool_strides, student.dropout) == \
        (teacher.pool_size, teacher.pool_strides, teacher.dropout)
    assert arch.build_model(student).count_params() < arch.build_model(teacher).count_params() / 4


def test_spec_round_trips_through_the_model():
    spec = arch.CnnSpec(n_features=40, n_classes=7, conv_filters=5, kernel_size=4, pool_size=3,
                        pool_strides=2, dropout=0.3, dense_units=(9, 6, 4))
    model = arch.build_model(spec)
    assert arch.spec_of_model(model) == spec
    assert arch.pooled_length(spec) == model.get_layer("pool").output_shape[2]


def test_bad_specs_are_refused_with_the_key_named():
    with pytest.raises(TinyEitError, match="kernel_size 50"):
        arch.CnnSpec(40, 10, 4, 50, 3, 2, 0.2, (8,))
    with pytest.raises(TinyEitError, match="steps.baseline: missing key 'dropout'"):
        arch.baseline_spec({"conv_filters": 4, "kernel_size": 3, "pool_size": 3,
                            "pool_strides": 2, "dense_units": [8]}, 40, 10)


def test_training_twice_with_one_seed_gives_identical_weights():
    from tinyeit.models.tf_env import seed_everything
    from tinyeit.models.train import compile_classifier, fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 1, 40, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    spec = arch.CnnSpec(40, 3, 4, 3, 3, 2, 0.2, (8,))
    runs = []
    for _ in range(2):
        seed_everything(7)
        model = compile_classifier(arch.build_model(spec), 1e-3)
        result = fit(model, x[:48], y[:48], x_val=x[48:], y_val=y[48:], epochs=4, batch_size=16,
                     patience=2)
        runs.append((result.epochs, b"".join(w.tobytes() for w in model.get_weights())))
    assert runs[0] == runs[1]
    seed_everything(8)
    other = compile_classifier(arch.build_model(spec), 1e-3)
    fit(other, x[:48], y[:48], epochs=1, batch_size=16)
    assert b"".join(w.tobytes() for w in other.get_weights()) != runs[0][1]
