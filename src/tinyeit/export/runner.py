"""Export one variant: .tflite from full.h5, LiteRT accuracy, metrics, deployment frames.

Everything written here is deterministic; host latency and host instructions are measured
from model.tflite and frames.npz by rules of their own (`tinyeit.export.host_latency`,
`tinyeit.export.host_instructions`).

CV accuracy converts each fold model the same way and runs it on its fold's validation
frames (the int8 calibration set of a fold model is the first frames of that fold's training
frames, so no validation frame calibrates its own model); test accuracy runs the deployed
full model's .tflite on the test trials. The int8 calibration set of the full model is the
first `steps.ptq_int8.representative_frames` CV frames.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from tinyeit.atomic import write_bytes
from tinyeit.errors import TinyEitError

TERMINAL = ("float", "ptq_dynamic", "ptq_float16", "ptq_int8")


def conversion_of(variant: str) -> str:
    last = variant.split("+")[-1]
    return last if last in TERMINAL else "float"


def _json_bytes(payload: dict) -> bytes:
    import json

    return (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode()


def _npz_bytes(**arrays) -> bytes:
    """An .npz (np.load reads it) without the current time that np.savez stamps into it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def _representative_frames(config: dict) -> int:
    try:
        return int(config["steps"]["ptq_int8"]["representative_frames"])
    except (KeyError, TypeError):
        raise TinyEitError("config: missing key steps.ptq_int8.representative_frames") from None


def run_export(variant: str, config: dict, dataset_npz: str, model_dir: str, out_dir: str) -> None:
    conversion = conversion_of(variant)
    try:
        n_folds = int(config["splits"]["n_folds"])
        cv_trials, test_trials = config["splits"]["cv_trials"], config["splits"]["test_trials"]
        seed = int(config["seed"])
        n_deploy = int(config["deploy"]["n_frames"])
    except (KeyError, TypeError) as exc:
        raise TinyEitError(f"config: missing key {exc}") from None
    n_rep = _representative_frames(config) if conversion == "ptq_int8" else 0
    model_dir = Path(model_dir)
    names = [f"fold{k}" for k in range(n_folds)] + ["full"]
    missing = [str(model_dir / f"{n}.h5") for n in names if not (model_dir / f"{n}.h5").is_file()]
    if missing:
        raise TinyEitError(f"variant '{variant}': model file(s) not found: {', '.join(missing)}")
    if not Path(dataset_npz).is_file():
        raise TinyEitError(f"{dataset_npz}: dataset file not found")

    from tinyeit import data as data_stage
    from tinyeit.data.splits import cv_folds, cv_indices, test_indices
    from tinyeit.export import litert, metrics
    from tinyeit.export.convert import convert
    from tinyeit.models.architectures import to_model_input
    from tinyeit.models.storage import is_quantization_aware, load_model
    from tinyeit.models.tf_env import keras, seed_everything

    dataset = data_stage.load(dataset_npz)
    X = np.asarray(dataset.X, dtype=np.float32)
    y = np.asarray(dataset.y, dtype=np.int64)
    folds = cv_folds(y, dataset.trial, cv_trials, n_folds, seed)
    pool = cv_indices(dataset.trial, cv_trials)
    test = test_indices(dataset.trial, test_trials)

    def convert_file(name: str, calibration_idx) -> tuple[bytes, object]:
        keras().backend.clear_session()
        seed_everything(seed)
        model = load_model(model_dir / f"{name}.h5")
        if is_quantization_aware(model) and conversion != "ptq_int8":
            raise TinyEitError(
                f"variant '{variant}': {model_dir / (name + '.h5')} is quantization-aware; "
                f"it can only be exported with ptq_int8, not {conversion}")
        rep = to_model_input(X[calibration_idx[:n_rep]]) if n_rep else None
        return convert(model, conversion, rep), model

    fold_accuracy = []
    for k, (train_idx, val_idx) in enumerate(folds):
        tflite, _ = convert_file(f"fold{k}", train_idx)
        fold_accuracy.append(litert.accuracy(tflite, X[val_idx], y[val_idx]))
    tflite, full_model = convert_file("full", pool)
    params, nonzero = metrics.param_counts(full_model)
    test_acc = litert.accuracy(tflite, X[test], y[test])
    deploy_idx = test[:n_deploy]
    fed, outputs = litert.run_frames(litert.interpreter(tflite), X[deploy_idx])

    out = Path(out_dir)
    accuracy = {
        "variant": variant,
        "conversion": conversion,
        "fold_accuracy": fold_accuracy,
        "accuracy_cv_mean": float(np.mean(fold_accuracy)),
        "accuracy_cv_std": float(np.std(fold_accuracy)),
        "accuracy_test": test_acc,
        "n_test_frames": int(len(test)),
    }
    figures = {
        "variant": variant,
        "conversion": conversion,
        "params": params,
        "nonzero_params": nonzero,
        "macs": metrics.macs(tflite),
        "keras_bytes": int((model_dir / "full.h5").stat().st_size),
        "tflite_bytes": len(tflite),
        "tflite_gzip_bytes": metrics.gzip_size(tflite),
        "ops": metrics.op_names(tflite),
    }
    frames = _npz_bytes(input=fed.reshape(len(fed), -1), output=outputs,
                        label=y[deploy_idx].astype(np.int64))
    write_bytes(out / "frames.npz", frames)
    write_bytes(out / "accuracy.json", _json_bytes(accuracy))
    write_bytes(out / "metrics.json", _json_bytes(figures))
    write_bytes(out / "model.tflite", tflite)
