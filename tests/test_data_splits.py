"""Split properties: stratified, disjoint, complete, deterministic, test trials never in CV."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyeit.data.splits import cv_folds, cv_indices
from tinyeit.data import splits


def study_labels(n_subjects=8, n_classes=10, n_trials=10):
    y, trial = np.meshgrid(np.arange(n_classes), np.arange(1, n_trials + 1), indexing="ij")
    y = np.tile(y.ravel(), n_subjects)
    trial = np.tile(trial.ravel(), n_subjects)
    return y, trial


def test_study_split_has_paper_sizes():
    y, trial = study_labels()
    folds = cv_folds(y, trial, range(1, 9), 5, seed=42)
    assert len(folds) == 5
    assert len(cv_indices(trial, range(1, 9))) == 640
    assert len(splits.test_indices(trial, [9, 10])) == 160
    for train, val in folds:
        assert len(val) == 128 and len(train) == 512
        # each class exactly 64 / 5 -> 12 or 13 frames in every validation fold
        counts = np.bincount(y[val], minlength=10)
        assert counts.min() >= 12 and counts.max() <= 13


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(st.integers(0, 4), min_size=10, max_size=120),
       n_folds=st.integers(2, 6), seed=st.integers(0, 2**31 - 1))
def test_folds_are_stratified_disjoint_and_complete(labels, n_folds, seed):
    y = np.asarray(labels)
    trial = (np.arange(len(y)) % 10) + 1
    cv_trials, test_trials = [1, 2, 3, 4, 5, 6, 7, 8], [9, 10]
    folds = cv_folds(y, trial, cv_trials, n_folds, seed)
    pool = cv_indices(trial, cv_trials)
    test = splits.test_indices(trial, test_trials)
    vals = [val for _, val in folds]
    assert np.array_equal(np.sort(np.concatenate(vals)), pool)  # complete, no repeats
    for train, val in folds:
        assert not set(train) & set(val)
        assert np.array_equal(np.sort(np.concatenate([train, val])), pool)
        assert not set(val) & set(test) and not set(train) & set(test)
    for label in np.unique(y[pool]):
        per_fold = [np.sum(y[val] == label) for val in vals]
        assert max(per_fold) - min(per_fold) <= 1
    sizes = [len(v) for v in vals]
    assert max(sizes) - min(sizes) <= 1


def test_folds_are_deterministic_and_seeded():
    y, trial = study_labels()
    a = cv_folds(y, trial, range(1, 9), 5, seed=42)
    b = cv_folds(y, trial, range(1, 9), 5, seed=42)
    c = cv_folds(y, trial, range(1, 9), 5, seed=43)
    assert all(np.array_equal(x[1], z[1]) for x, z in zip(a, b))
    assert not all(np.array_equal(x[1], z[1]) for x, z in zip(a, c))


def test_one_fold_is_refused():
    y, trial = study_labels(1, 2, 4)
    with pytest.raises(ValueError, match="n_folds"):
        cv_folds(y, trial, [1, 2], 1, seed=0)
