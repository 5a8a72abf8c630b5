"""Frame scaling: L2 per frame, then (l2_zscore) per-feature standardisation fitted on the CV
trials alone, recorded in the provenance so a board can apply the same."""
import json

import numpy as np
import pytest

import tinyeit.data as data
from tinyeit.data.frames import Frames


def _frames(X, trial):
    n = len(X)
    return Frames(X=np.asarray(X, dtype=np.float32), y=np.zeros(n, dtype=np.int64),
                  subject=np.ones(n, dtype=np.int64), trial=np.asarray(trial, dtype=np.int64),
                  class_names=["0"], origin=[f"frame {i + 1}" for i in range(n)],
                  source="test", parameters={})


def test_l2_zscore_fits_on_the_given_rows_only():
    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 0.3, size=(12, 5))
    frames = _frames(X, [1] * 6 + [2] * 6)
    fit = np.arange(6)
    out, scaling = data.normalize(frames, "l2_zscore", fit)
    l2 = X / np.linalg.norm(X, axis=1, keepdims=True)
    mean, std = l2[:6].mean(axis=0), l2[:6].std(axis=0)
    np.testing.assert_allclose(out, (l2 - mean) / std, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scaling["feature_mean"], mean, rtol=1e-6)
    np.testing.assert_allclose(out[:6].mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(out[6:].mean(axis=0), 0, atol=1e-3)  # test rows were not fitted
    assert out.dtype == np.float32


def test_l2_alone_records_no_scaling_and_constant_feature_is_refused():
    frames = _frames([[3.0, 4.0], [6.0, 8.0]], [1, 2])
    out, scaling = data.normalize(frames, "l2")
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.6, 0.8]], rtol=1e-6)
    assert scaling == {}
    with pytest.raises(data.DatasetError, match="feature 0 is constant"):
        data.normalize(frames, "l2_zscore")
    with pytest.raises(data.DatasetError, match="dataset.normalize: unknown mode 'cube'"):
        data.normalize(frames, "cube")


def test_build_writes_the_scaling_into_the_provenance(tmp_path):
    cfg = {"source": "synthetic", "path": None, "label_column": "label", "normalize": "l2_zscore",
           "synthetic": {"n_electrodes": 8, "n_subjects": 2, "n_gestures": 3, "n_trials": 4,
                         "noise": 0.01}}
    splits = {"n_folds": 2, "cv_trials": [1, 2, 3], "test_trials": [4]}
    data.build(cfg, splits, 42, tmp_path / "d.npz", tmp_path / "d.json")
    provenance = json.loads((tmp_path / "d.json").read_text())
    assert provenance["normalize"] == "l2_zscore"
    assert len(provenance["scaling"]["feature_mean"]) == 40
    ds = data.load(tmp_path / "d.npz")
    cv = np.isin(ds.trial, [1, 2, 3])
    np.testing.assert_allclose(ds.X[cv].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X[cv].std(axis=0), 1, atol=1e-4)
