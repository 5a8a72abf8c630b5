"""Which frames train, validate and test: trial-based hold-out plus stratified k-fold CV.

Frames are split by trial number (as the lab does: trials 1-8 for cross-validation, 9-10 for
test), so no repetition of a gesture is in both the CV pool and the test set. Within the CV pool
each class is spread evenly over the folds (stratified), shuffled with a generator seeded from
the config seed so the folds are the same on every run and every machine.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cv_indices(trial: np.ndarray, cv_trials: Sequence[int]) -> np.ndarray:
    """Sorted indices of the frames whose trial is in `cv_trials`."""
    return np.flatnonzero(np.isin(np.asarray(trial), np.asarray(list(cv_trials), dtype=np.int64)))


def test_indices(trial: np.ndarray, test_trials: Sequence[int]) -> np.ndarray:
    """Sorted indices of the held-out test frames (trial in `test_trials`)."""
    return np.flatnonzero(np.isin(np.asarray(trial), np.asarray(list(test_trials), dtype=np.int64)))


def cv_folds(y: np.ndarray, trial: np.ndarray, cv_trials: Sequence[int], n_folds: int,
             seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n_folds` (train_idx, val_idx) pairs over the CV frames, stratified by label.

    Indices refer to the full arrays. Each class's CV frames are shuffled and dealt to the folds
    in turn, the dealing continuing across classes so fold sizes differ by at most one. Every
    fold's validation set is disjoint from the others; their union is all CV frames.
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    y = np.asarray(y)
    pool = cv_indices(trial, cv_trials)
    rng = np.random.default_rng([int(seed), 0x5B17])
    fold_of = np.empty(len(pool), dtype=np.int64)
    start = 0
    for label in np.unique(y[pool]):
        members = np.flatnonzero(y[pool] == label)
        members = members[rng.permutation(len(members))]
        fold_of[members] = (start + np.arange(len(members))) % n_folds
        start = (start + len(members)) % n_folds
    folds = []
    for k in range(n_folds):
        val = np.sort(pool[fold_of == k])
        train = np.sort(pool[fold_of != k])
        folds.append((train, val))
    return folds
