"""Every chain step on a tiny dataset, through the workflow's entry point `run_step`.

The dataset is random but learnable (class means plus noise), 2 subjects x 4 classes x 10
trials; 2 folds, a few epochs. What is checked is what each step promises, not accuracy.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit.compress import run_step  # noqa: E402
from tinyeit.errors import TinyEitError  # noqa: E402

N_FOLDS = 2


def write_tiny_dataset(path, n_subjects=2, n_classes=4, n_trials=10, seed=0):
    """Same keys as the data stage's dataset.npz: X, y, subject, trial (1-based)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_classes, 40))
    rows = [(s, c, t) for s in range(n_subjects) for c in range(n_classes)
            for t in range(1, n_trials + 1)]
    X = np.array([centers[c] + 0.8 * rng.normal(size=40) for _, c, _ in rows], dtype=np.float32)
    np.savez(path, X=X, y=np.array([c for _, c, _ in rows], dtype=np.int64),
             subject=np.array([s for s, _, _ in rows], dtype=np.int64),
             trial=np.array([t for _, _, t in rows], dtype=np.int64))
    return str(path)


def tiny_config():
    return {
        "seed": 3,
        "splits": {"n_folds": N_FOLDS, "cv_trials": [1, 2, 3, 4, 5, 6, 7, 8], "test_trials": [9, 10]},
        "training": {"epochs": 5, "batch_size": 16, "learning_rate": 0.003, "patience": 2},
        "steps": {
            "baseline": {"conv_filters": 8, "kernel_size": 3, "pool_size": 3, "pool_strides": 2,
                         "dropout": 0.2, "dense_units": [16, 12]},
            "kd": {"student": {"conv_filters": 4, "kernel_size": 3, "dense_units": [8, 6]},
                   "temperature": 4.0, "alpha": 0.1},
            "fp": {"ratio": 0.5, "fine_tune_epochs": 3},
            "prune": {"target_sparsity": 0.6, "epochs": 3},
            "cluster": {"n_clusters": 6, "epochs": 2},
            "qat": {"epochs": 2},
            "ptq_int8": {"representative_frames": 16},
        },
        "deploy": {"n_frames": 4},
    }


def run_chain(root, chain, config=None):
    parts = chain.split("+")
    prefix = None if len(parts) == 1 else str(root / "+".join(parts[:-1]))
    run_step(parts[-1], chain, config or tiny_config(), str(root / "dataset.npz"), prefix,
             str(root / chain))
    return root / chain


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    write_tiny_dataset(root / "dataset.npz")
    for chain in ("baseline", "baseline+kd", "baseline+kd+fp", "baseline+prune",
                  "baseline+cluster", "baseline+qat", "baseline+prune+cluster"):
        run_chain(root, chain)
    return root


def load(path):
    from tinyeit.models.storage import load_model

    return load_model(path)


def kernels(model):
    return {layer.name: layer.get_weights()[0] for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "Dense")}


@pytest.mark.slow
@pytest.mark.parametrize("chain", ["baseline", "baseline+kd", "baseline+kd+fp", "baseline+prune",
                                   "baseline+cluster", "baseline+qat"])
def test_every_step_writes_fold_and_full_models_and_cv_json(chains, chain):
    out = chains / chain
    assert sorted(p.name for p in out.iterdir()) == ["cv.json", "fold0.h5", "fold1.h5", "full.h5"]
    cv = json.loads((out / "cv.json").read_text())
    assert cv["chain"] == chain
    assert len(cv["fold_accuracy"]) == N_FOLDS and len(cv["epochs"]) == N_FOLDS
    assert all(0.0 <= a <= 1.0 for a in cv["fold_accuracy"])
    assert cv["cv_mean"] == pytest.approx(np.mean(cv["fold_accuracy"]))
    assert cv["cv_std"] == pytest.approx(np.std(cv["fold_accuracy"]))
    assert cv["full_epochs"] >= 1
    # Saved with the optimizer state: Adam's slots are in the file.
    import h5py

    with h5py.File(out / "full.h5") as f:
        assert "optimizer_weights" in f


@pytest.mark.slow
def test_baseline_learns_the_learnable_tiny_dataset(chains):
    cv = json.loads((chains / "baseline" / "cv.json").read_text())
    assert cv["cv_mean"] > 0.5  # 4 classes: chance is 0.25


@pytest.mark.slow
def test_full_model_trains_for_the_median_of_the_folds_epochs(chains):
    cv = json.loads((chains / "baseline" / "cv.json").read_text())
    assert cv["full_epochs"] == int(np.ceil(np.median(cv["epochs"])))


@pytest.mark.slow
def test_kd_student_is_the_configured_smaller_network(chains):
    teacher, student = load(chains / "baseline" / "full.h5"), load(chains / "baseline+kd" / "full.h5")
    assert student.count_params() < teacher.count_params()
    assert student.get_layer("conv").filters == 4
    assert [student.get_layer(n).units for n in ("dense0", "dense1")] == [8, 6]


@pytest.mark.slow
def test_fp_halves_every_hidden_layer(chains):
    model = load(chains / "baseline+kd+fp" / "full.h5")
    assert model.get_layer("conv").filters == 2
    assert [model.get_layer(n).units for n in ("dense0", "dense1")] == [4, 3]
    assert model.get_layer("output").units == 4


@pytest.mark.slow
def test_prune_reaches_the_target_sparsity_within_one_percent(chains):
    for name in ("fold0", "fold1", "full"):
        ks = kernels(load(chains / "baseline+prune" / f"{name}.h5"))
        zeros = sum(int(np.sum(k == 0)) for k in ks.values())
        total = sum(k.size for k in ks.values())
        assert abs(zeros / total - 0.6) <= 0.01, name
        for layer, k in ks.items():  # every kernel, not just the total
            assert abs(np.mean(k == 0) - 0.6) <= 0.05, (name, layer)


@pytest.mark.slow
def test_cluster_leaves_at_most_n_clusters_values_per_kernel(chains):
    model = load(chains / "baseline+cluster" / "full.h5")
    base = load(chains / "baseline" / "full.h5")
    for layer, k in kernels(model).items():
        assert len(np.unique(k)) <= 6, layer
        assert len(np.unique(kernels(base)[layer])) > 6  # it was not so before


@pytest.mark.slow
def test_cluster_after_prune_keeps_every_zero_where_prune_put_it(chains):
    pruned = kernels(load(chains / "baseline+prune" / "full.h5"))
    for layer, k in kernels(load(chains / "baseline+prune+cluster" / "full.h5")).items():
        assert np.array_equal(k == 0, pruned[layer] == 0), layer   # the same zeros, no new ones
        assert len(np.unique(k)) <= 6 and len(np.unique(k[k != 0])) <= 5, layer
        assert len(np.unique(pruned[layer])) > 6


@pytest.mark.slow
def test_qat_model_stays_quantization_aware_after_saving(chains):
    from tinyeit.models.storage import is_quantization_aware

    assert is_quantization_aware(load(chains / "baseline+qat" / "full.h5"))
    assert not is_quantization_aware(load(chains / "baseline" / "full.h5"))


@pytest.mark.slow
def test_two_runs_give_byte_identical_weights(chains, tmp_path):
    (tmp_path / "dataset.npz").write_bytes((chains / "dataset.npz").read_bytes())
    out = run_chain(tmp_path, "baseline")
    for name in ("fold0", "fold1", "full"):
        again, first = load(out / f"{name}.h5"), load(chains / "baseline" / f"{name}.h5")
        assert [w.tobytes() for w in again.get_weights()] == [w.tobytes() for w in first.get_weights()]
    assert (out / "cv.json").read_bytes() == (chains / "baseline" / "cv.json").read_bytes()


@pytest.mark.slow
def test_missing_prefix_model_is_named(chains, tmp_path):
    prefix = tmp_path / "baseline"
    prefix.mkdir()
    for name in ("fold0", "full"):
        (prefix / f"{name}.h5").write_bytes((chains / "baseline" / f"{name}.h5").read_bytes())
    with pytest.raises(TinyEitError, match=r"prefix model file\(s\) not found: .*fold1\.h5"):
        run_step("kd", "baseline+kd", tiny_config(), str(chains / "dataset.npz"), str(prefix),
                 str(tmp_path / "baseline+kd"))
    assert not (tmp_path / "baseline+kd").exists()


@pytest.mark.slow
def test_a_quantization_aware_model_cannot_be_retrained(chains, tmp_path):
    with pytest.raises(TinyEitError, match="quantization-aware model cannot be retrained"):
        run_step("fp", "baseline+qat+fp", tiny_config(), str(chains / "dataset.npz"),
                 str(chains / "baseline+qat"), str(tmp_path / "out"))


def test_unknown_step_and_missing_config_are_clear_errors(tmp_path):
    with pytest.raises(TinyEitError, match="unknown step 'distill'"):
        run_step("distill", "baseline+distill", tiny_config(), "x.npz", None, str(tmp_path))
    config = tiny_config()
    del config["steps"]["prune"]
    with pytest.raises(TinyEitError, match="missing key steps.prune"):
        run_step("prune", "baseline+prune", config, "x.npz", str(tmp_path), str(tmp_path / "o"))
    with pytest.raises(TinyEitError, match="prefix_dir is None"):
        run_step("kd", "baseline+kd", tiny_config(), "x.npz", None, str(tmp_path / "o"))


def test_missing_dataset_is_named(tmp_path):
    with pytest.raises(TinyEitError, match="nothere.npz: dataset file not found"):
        run_step("baseline", "baseline", tiny_config(), str(tmp_path / "nothere.npz"), None,
                 str(tmp_path / "o"))
