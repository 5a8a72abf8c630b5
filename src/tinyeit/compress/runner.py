"""Run one chain step over all folds and the full model, and write its models and cv.json.

For fold k the step gets the prefix chain's `fold{k}.h5` and the frames of the other folds;
its model's accuracy on fold k's validation frames is that fold's CV accuracy. The `full`
model gets the prefix's `full.h5` and every CV frame, and trains for the median of the folds'
kept epochs. Everything runs in one process, since TensorFlow starts slowly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyeit.atomic import write_json
from tinyeit.compress.baseline import baseline_step
from tinyeit.compress.cluster import cluster_step
from tinyeit.compress.common import FoldData
from tinyeit.compress.fp import fp_step
from tinyeit.compress.kd import kd_step
from tinyeit.compress.prune import prune_step
from tinyeit.compress.qat import qat_step
from tinyeit.errors import TinyEitError

STEPS = {
    "baseline": baseline_step,
    "kd": kd_step,
    "fp": fp_step,
    "prune": prune_step,
    "cluster": cluster_step,
    "qat": qat_step,
}
# Fold seeds are spread apart so that no fold shares a seed with another fold or with full.
SEED_STRIDE = 1000


def fold_names(n_folds: int) -> list[str]:
    return [f"fold{k}" for k in range(n_folds)] + ["full"]


def _require(config: dict, *keys):
    node = config
    for i, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            raise TinyEitError(f"config: missing key {'.'.join(keys[:i + 1])}")
        node = node[key]
    return node


def prefix_paths(prefix_dir: str | None, step: str, n_folds: int) -> dict[str, Path] | None:
    """The prefix chain's model files, checked to exist before any training starts."""
    if step == "baseline":
        return None
    if prefix_dir is None:
        raise TinyEitError(f"step '{step}' needs the models of its chain's prefix; prefix_dir is None")
    paths = {name: Path(prefix_dir) / f"{name}.h5" for name in fold_names(n_folds)}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise TinyEitError(f"step '{step}': prefix model file(s) not found: {', '.join(missing)}")
    return paths


def run_step(step: str, chain: str, config: dict, dataset_npz: str, prefix_dir: str | None,
             out_dir: str) -> None:
    if step not in STEPS:
        raise TinyEitError(f"chain '{chain}': unknown step '{step}'; known steps: {', '.join(STEPS)}")
    step_cfg = _require(config, "steps", step)
    training_cfg = _require(config, "training")
    n_folds = int(_require(config, "splits", "n_folds"))
    cv_trials = _require(config, "splits", "cv_trials")
    seed = int(_require(config, "seed"))
    prefixes = prefix_paths(prefix_dir, step, n_folds)
    if not Path(dataset_npz).is_file():
        raise TinyEitError(f"{dataset_npz}: dataset file not found")

    from tinyeit import data as data_stage
    from tinyeit.data.splits import cv_folds, cv_indices
    from tinyeit.models.architectures import to_model_input
    from tinyeit.models.storage import load_model, save_model
    from tinyeit.models.tf_env import keras, seed_everything
    from tinyeit.models.train import accuracy, median_epochs

    dataset = data_stage.load(dataset_npz)
    x = to_model_input(np.asarray(dataset.X, dtype=np.float32))
    y = np.asarray(dataset.y, dtype=np.int64)
    folds = cv_folds(y, dataset.trial, cv_trials, n_folds, seed)
    pool = cv_indices(dataset.trial, cv_trials)
    if len(pool) == 0:
        raise TinyEitError(f"{dataset_npz}: no frames in CV trials {list(cv_trials)}")
    out = Path(out_dir)
    fn = STEPS[step]

    def train_one(name: str, index: int, train_idx, val_idx, epochs=None):
        keras().backend.clear_session()
        seed_everything(seed + SEED_STRIDE * index)
        prefix = load_model(prefixes[name]) if prefixes else None
        fold = FoldData(
            name=name, x_train=x[train_idx], y_train=y[train_idx],
            x_val=None if val_idx is None else x[val_idx],
            y_val=None if val_idx is None else y[val_idx],
            n_classes=int(dataset.n_classes), epochs=epochs)
        result = fn(prefix, step_cfg, training_cfg, fold)
        save_model(result.model, out / f"{name}.h5")
        acc = None if val_idx is None else accuracy(result.model, fold.x_val, fold.y_val)
        return result.epochs, acc

    fold_acc, fold_epochs = [], []
    for k, (train_idx, val_idx) in enumerate(folds):
        epochs, acc = train_one(f"fold{k}", k, train_idx, val_idx)
        fold_epochs.append(int(epochs))
        fold_acc.append(float(acc))
    full_epochs, _ = train_one("full", n_folds, pool, None, epochs=median_epochs(fold_epochs))
    write_json(out / "cv.json", {
        "chain": chain,
        "step": step,
        "fold_accuracy": fold_acc,
        "cv_mean": float(np.mean(fold_acc)),
        "cv_std": float(np.std(fold_acc)),
        "epochs": fold_epochs,
        "full_epochs": int(full_epochs),
    }, sort_keys=True)
