"""The synthetic forearm: deterministic bytes, the study's shape, and physics that carries
gesture and subject information (gestures separable, subjects different)."""
import json
import os
import stat

import numpy as np
import pytest

import tinyeit.data as data
from tinyeit.data import synthetic

SMALL = {"n_electrodes": 8, "n_subjects": 2, "n_gestures": 3, "n_trials": 4, "noise": 0.01}
SPLITS = {"n_folds": 2, "cv_trials": [1, 2, 3], "test_trials": [4]}


def small_cfg(**synthetic_overrides):
    return {"source": "synthetic", "path": None, "label_column": "label", "normalize": "l2",
            "synthetic": dict(SMALL, **synthetic_overrides)}


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    prov = data.build(small_cfg(), SPLITS, 42, out / "a" / "dataset.npz", out / "a" / "dataset.json")
    return out, prov


def test_same_seed_gives_identical_bytes(small_build):
    out, _ = small_build
    data.build(small_cfg(), SPLITS, 42, out / "b" / "dataset.npz", out / "b" / "dataset.json")
    for name in ("dataset.npz", "dataset.json"):
        assert (out / "a" / name).read_bytes() == (out / "b" / name).read_bytes()


def test_other_seed_gives_other_frames(small_build):
    out, _ = small_build
    data.build(small_cfg(), SPLITS, 43, out / "c" / "dataset.npz", out / "c" / "dataset.json")
    a, c = data.load(out / "a" / "dataset.npz"), data.load(out / "c" / "dataset.npz")
    assert not np.array_equal(a.X, c.X)


def test_artifact_layout_and_provenance(small_build):
    out, prov = small_build
    ds = data.load(out / "a" / "dataset.npz")
    assert ds.X.shape == (2 * 3 * 4, 40) and ds.X.dtype == np.float32
    assert ds.y.dtype == ds.subject.dtype == ds.trial.dtype == np.int64
    assert ds.n_classes == 3 and ds.class_names == ["0", "1", "2"]
    assert sorted(set(ds.trial.tolist())) == [1, 2, 3, 4]
    assert sorted(set(ds.subject.tolist())) == [1, 2]
    np.testing.assert_allclose(np.linalg.norm(ds.X, axis=1), 1.0, rtol=1e-5)
    saved = json.loads((out / "a" / "dataset.json").read_text())
    import hashlib
    assert saved["npz_sha256"] == hashlib.sha256((out / "a" / "dataset.npz").read_bytes()).hexdigest()
    assert saved["n_frames"] == 24 and saved["n_features"] == 40 and saved["n_classes"] == 3
    assert saved["parameters"]["seed"] == 42 and saved["parameters"]["noise"] == 0.01
    assert saved == prov
    mask = os.umask(0)
    os.umask(mask)
    for name in ("dataset.npz", "dataset.json"):  # a normal file mode, not mkstemp's 0600
        assert stat.S_IMODE((out / "a" / name).stat().st_mode) == 0o666 & ~mask


def test_npz_entries_have_fixed_dates(small_build):
    import zipfile
    out, _ = small_build
    with zipfile.ZipFile(out / "a" / "dataset.npz") as archive:
        assert [i.filename for i in archive.infolist()] == ["X.npy", "y.npy", "subject.npy", "trial.npy"]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_gestures_separable_and_subjects_differ():
    d = synthetic.generate(n_electrodes=8, n_subjects=2, n_gestures=10, n_trials=3, noise=0.01, seed=5)
    X = d["X"] / np.linalg.norm(d["X"], axis=1, keepdims=True)
    for s in (1, 2):
        Xs, ys = X[d["subject"] == s], d["y"][d["subject"] == s]
        means = np.array([Xs[ys == g].mean(0) for g in range(10)])
        within = np.mean([np.linalg.norm(Xs[ys == g] - means[g], axis=1).mean() for g in range(10)])
        between = np.linalg.norm(means[:, None] - means[None], axis=-1)[np.triu_indices(10, 1)]
        # every pair of gestures lies apart by more than one trial's typical scatter
        assert between.min() > within
        # nearest gesture mean recovers the gesture of most frames within the subject
        pred = np.linalg.norm(Xs[:, None] - means[None], axis=-1).argmin(1)
        assert np.mean(pred == ys) > 0.8
    subject_gap = np.linalg.norm(X[d["subject"] == 1].mean(0) - X[d["subject"] == 2].mean(0))
    gesture_spread = np.linalg.norm(X[d["subject"] == 1] - X[d["subject"] == 1].mean(0), axis=1).mean()
    assert subject_gap > gesture_spread  # anatomy moves frames more than gestures do


def test_noise_is_the_difficulty_knob():
    clean = synthetic.generate(n_subjects=1, n_gestures=2, n_trials=2, noise=0.0, seed=3)["X"]
    noisy = synthetic.generate(n_subjects=1, n_gestures=2, n_trials=2, noise=0.05, seed=3)["X"]
    rel = np.linalg.norm(noisy - clean, axis=1) / np.linalg.norm(clean, axis=1)
    assert np.all(rel > 0.01) and np.all(rel < 0.2)


def test_sixteen_electrodes_give_208_values():
    d = synthetic.generate(n_electrodes=16, n_subjects=1, n_gestures=1, n_trials=1, seed=0)
    assert d["X"].shape == (1, 208)


def test_normalize_none_keeps_raw_voltages(tmp_path):
    data.build(dict(small_cfg(n_subjects=1, n_gestures=2), normalize="none"), SPLITS, 1,
               tmp_path / "d.npz", tmp_path / "d.json")
    ds = data.load(tmp_path / "d.npz")
    raw = synthetic.generate(n_subjects=1, n_gestures=2, n_trials=4, noise=0.01, seed=1)["X"]
    np.testing.assert_allclose(ds.X, raw.astype(np.float32))


def test_ten_digit_gestures_are_distinct_patterns():
    patterns = [tuple(sorted(synthetic.gesture_activation(g).items())) for g in range(12)]
    assert len(set(patterns)) == 12


def test_bad_synthetic_parameters(tmp_path):
    with pytest.raises(data.DatasetError, match="dataset.synthetic.n_electrodes"):
        data.build(small_cfg(n_electrodes=2), SPLITS, 0, tmp_path / "d.npz", tmp_path / "d.json")
    with pytest.raises(data.DatasetError, match="class '0' has 1 frames in cv_trials"):
        data.build(small_cfg(n_subjects=1, n_trials=2), {"n_folds": 2, "cv_trials": [1], "test_trials": [2]},
                   0, tmp_path / "d.npz", tmp_path / "d.json")
    assert not (tmp_path / "d.npz").exists()
