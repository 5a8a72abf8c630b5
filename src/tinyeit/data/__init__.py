"""The dataset stage: EIT frames from a synthetic forearm model or the user's files.

Public API (called by the Snakemake script, the CLI and later stages):
- `build(dataset_cfg, splits_cfg, seed, out_npz, out_json)`: read or generate the frames the
  config names, normalise, check them against the splits, write the artifact.
- `load(npz_path) -> Dataset`: the artifact for training and export.
- `import_file(fmt, src, out_npz, **opts)`: convert a user's file to the artifact format.
- `tinyeit.data.splits`: the CV folds and the test hold-out.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinyeit.data.frames import DatasetError, Frames
from tinyeit.data.store import Dataset, load, save

__all__ = ["build", "load", "import_file", "Dataset", "DatasetError", "normalize", "check_splits"]

SOURCES = ("synthetic", "chemnitz_xlsx", "npz", "csv")
SYNTHETIC_DEFAULTS = {"n_electrodes": 8, "n_subjects": 8, "n_gestures": 10, "n_trials": 10, "noise": 0.01}


def read_source(dataset_cfg: dict, seed: int) -> Frames:
    """Frames of the configured source, raw (not normalised)."""
    source = dataset_cfg.get("source", "synthetic")
    if source == "synthetic":
        return _synthetic(dict(SYNTHETIC_DEFAULTS, **(dataset_cfg.get("synthetic") or {})), seed)
    if source not in SOURCES:
        raise DatasetError(f"dataset.source: unknown source {source!r} (one of {', '.join(SOURCES)})")
    path = dataset_cfg.get("path")
    if not path:
        raise DatasetError(f"dataset.path: source {source!r} needs a path to the file or folder")
    from tinyeit.data import importers
    if source == "chemnitz_xlsx":
        return importers.read_chemnitz_xlsx(path)
    if source == "npz":
        return importers.read_npz(path)
    return importers.read_csv(path, dataset_cfg.get("label_column") or "label")


def _synthetic(params: dict, seed: int) -> Frames:
    from tinyeit.data import synthetic

    n_el = int(params["n_electrodes"])
    if n_el < 4:
        raise DatasetError(f"dataset.synthetic.n_electrodes: need at least 4 electrodes, got {n_el}")
    for key in ("n_subjects", "n_gestures", "n_trials"):
        if int(params[key]) < 1:
            raise DatasetError(f"dataset.synthetic.{key}: must be at least 1, got {params[key]}")
    if float(params["noise"]) < 0:
        raise DatasetError(f"dataset.synthetic.noise: must be >= 0, got {params['noise']}")
    data = synthetic.generate(n_electrodes=n_el, n_subjects=int(params["n_subjects"]),
                              n_gestures=int(params["n_gestures"]), n_trials=int(params["n_trials"]),
                              noise=float(params["noise"]), seed=int(seed))
    origin = [f"synthetic subject {s} gesture {g} trial {t}"
              for s, g, t in zip(data["subject"], data["y"], data["trial"])]
    from importlib.metadata import version
    parameters = dict(params, seed=int(seed), model=synthetic.model_constants(),
                      pyeit=version("pyeit"))
    return Frames(X=data["X"], y=data["y"], subject=data["subject"], trial=data["trial"],
                  class_names=[str(g) for g in range(int(params["n_gestures"]))], origin=origin,
                  source="synthetic", parameters=parameters)


NORMALIZE_MODES = ("l2", "l2_zscore", "none")


def normalize(frames: Frames, mode: str, fit_rows: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Frames scaled as the config asks; returns them and what a board must apply to match.

    `l2`: each frame to unit norm (the lab's code). `l2_zscore`: then each feature standardised
    with the mean and std of the `fit_rows` frames (the CV trials, never the test trials). L2
    frames share a large common level and differ by small per-electrode changes, which an int8
    activation scale set by that level wipes out; standardising keeps the differences.
    """
    if mode in (None, "none"):
        return frames.X, {}
    if mode not in NORMALIZE_MODES:
        raise DatasetError(f"dataset.normalize: unknown mode {mode!r} ({', '.join(NORMALIZE_MODES)})")
    norms = np.linalg.norm(frames.X, axis=1)
    zero = np.flatnonzero(norms == 0)
    if len(zero):
        raise DatasetError(f"{frames.origin[zero[0]]}: frame is all zeros, cannot L2-normalise it")
    X = frames.X / norms[:, None]
    if mode == "l2":
        return X, {}
    fit = X if fit_rows is None else X[fit_rows]
    mean = fit.mean(axis=0, dtype=np.float64)
    std = fit.std(axis=0, dtype=np.float64)
    flat = np.flatnonzero(std == 0)
    if len(flat):
        raise DatasetError(f"{frames.source}: feature {int(flat[0])} is constant over the CV frames, "
                           "cannot standardise it (use dataset.normalize: l2)")
    X = ((X - mean) / std).astype(np.float32)
    return X, {"feature_mean": [float(m) for m in mean], "feature_std": [float(v) for v in std]}


def check_splits(frames: Frames, splits_cfg: dict) -> None:
    """Every class must fill every CV fold, and the test trials must hold frames."""
    from tinyeit.data.splits import cv_indices, test_indices

    n_folds = int(splits_cfg["n_folds"])
    cv_trials = list(splits_cfg["cv_trials"])
    test_trials = list(splits_cfg["test_trials"])
    overlap = sorted(set(cv_trials) & set(test_trials))
    if overlap:
        raise DatasetError(f"splits: trials {overlap} are in both cv_trials and test_trials")
    cv = cv_indices(frames.trial, cv_trials)
    counts = np.bincount(frames.y[cv], minlength=len(frames.class_names))
    for label, count in enumerate(counts):
        if count < n_folds:
            rows = np.flatnonzero(frames.y == label)
            where = frames.origin[rows[0]] if len(rows) else frames.source
            raise DatasetError(
                f"{frames.source}: class {frames.class_names[label]!r} has {count} frames in cv_trials "
                f"{cv_trials}, fewer than n_folds={n_folds} (first frame of the class: {where})")
    if len(test_indices(frames.trial, test_trials)) == 0:
        raise DatasetError(f"{frames.source}: no frames in test_trials {test_trials} "
                           f"(trials present: {sorted(set(frames.trial.tolist()))})")


def _provenance(frames: Frames, X: np.ndarray, normalize_mode: str, extra: dict) -> dict:
    return {
        "source": extra.pop("source_kind"),
        "path": frames.source,
        "normalize": normalize_mode or "none",
        "parameters": frames.parameters,
        "class_names": frames.class_names,
        "n_frames": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "n_classes": len(frames.class_names),
        "subjects": sorted(set(frames.subject.tolist())),
        "trials": sorted(set(frames.trial.tolist())),
        "class_counts": np.bincount(frames.y, minlength=len(frames.class_names)).tolist(),
        **extra,
    }


def build(dataset_cfg: dict, splits_cfg: dict, seed: int, out_npz: str | os.PathLike,
          out_json: str | os.PathLike) -> dict:
    """Produce `results/dataset/dataset.npz` and its provenance JSON; returns the provenance."""
    frames = read_source(dataset_cfg, seed)
    mode = dataset_cfg.get("normalize", "l2")
    check_splits(frames, splits_cfg)
    from tinyeit.data.splits import cv_indices
    X, scaling = normalize(frames, mode, cv_indices(frames.trial, list(splits_cfg["cv_trials"])))
    provenance = _provenance(frames, X, mode, {
        "scaling": scaling,
        "source_kind": dataset_cfg.get("source", "synthetic"),
        "splits": {"n_folds": int(splits_cfg["n_folds"]), "cv_trials": list(splits_cfg["cv_trials"]),
                   "test_trials": list(splits_cfg["test_trials"])}})
    return save(X, frames.y, frames.subject, frames.trial, provenance, out_npz, out_json)


FORMATS = {"chemnitz-xlsx": "chemnitz_xlsx", "chemnitz_xlsx": "chemnitz_xlsx", "npz": "npz", "csv": "csv"}


def import_file(fmt: str, src: str | os.PathLike, out_npz: str | os.PathLike, *,
                label_column: str = "label", normalize_mode: str = "none",
                out_json: str | os.PathLike | None = None) -> dict:
    """Convert a user's recording to the artifact format (OUT.npz + OUT.json beside it).

    Values stay raw by default (`normalize_mode="none"`); `build` normalises when the study
    reads the file back with `dataset.source: npz`.
    """
    if fmt not in FORMATS:
        raise DatasetError(f"{src}: unknown format {fmt!r} (one of chemnitz-xlsx, npz, csv)")
    source = FORMATS[fmt]
    frames = read_source({"source": source, "path": str(src), "label_column": label_column}, seed=0)
    X, scaling = normalize(frames, normalize_mode)
    out_json = Path(out_json) if out_json else Path(out_npz).with_suffix(".json")
    provenance = _provenance(frames, X, normalize_mode, {"source_kind": source, "scaling": scaling})
    return save(X, frames.y, frames.subject, frames.trial, provenance, out_npz, out_json)
