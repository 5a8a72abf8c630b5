"""Saving and loading the dataset artifact: byte-identical on every run, never half-written.

`numpy.savez` stamps each zip entry with the current time, so two runs differ; here the zip is
written with a fixed entry date (1980-01-01) and fixed entry order. Files are written to a temp
file in the same folder and renamed into place, so a failure leaves no partial output.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyeit.atomic import read_json, read_npz, write_bytes
from tinyeit.data.frames import DatasetError
from tinyeit.errors import TinyEitError

ARRAYS = ("X", "y", "subject", "trial")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class Dataset:
    """The dataset artifact as the later stages use it."""

    X: np.ndarray        # float32, frames x features
    y: np.ndarray        # int64, 0..n_classes-1
    subject: np.ndarray  # int64
    trial: np.ndarray    # int64, 1-based
    n_classes: int
    class_names: list[str]

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])



def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (uncompressed zip of .npy files) with fixed dates: same arrays, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, npy.getvalue())
    return buffer.getvalue()


def json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def save(X: np.ndarray, y: np.ndarray, subject: np.ndarray, trial: np.ndarray,
         provenance: dict, out_npz: str | os.PathLike, out_json: str | os.PathLike) -> dict:
    """Write the npz and its provenance JSON (with the npz's sha256); returns the provenance."""
    data = npz_bytes({"X": np.asarray(X, dtype=np.float32), "y": np.asarray(y, dtype=np.int64),
                      "subject": np.asarray(subject, dtype=np.int64),
                      "trial": np.asarray(trial, dtype=np.int64)})
    provenance = dict(provenance, npz_sha256=hashlib.sha256(data).hexdigest())
    document = json_bytes(provenance)
    write_bytes(out_npz, data)
    write_bytes(out_json, document)
    return provenance


def load(npz_path: str | os.PathLike) -> Dataset:
    """Read a dataset artifact; class names come from the provenance JSON beside it if present."""
    npz_path = Path(npz_path)
    if not npz_path.is_file():
        raise DatasetError(f"{npz_path}: dataset file not found")
    try:
        archive = read_npz(npz_path, "the dataset stage's output")
    except TinyEitError as exc:
        raise DatasetError(str(exc)) from None
    missing = [name for name in ARRAYS if name not in archive]
    if missing:
        raise DatasetError(f"{npz_path}: missing arrays {missing} (expected {list(ARRAYS)})")
    X, y, subject, trial = (archive[name] for name in ARRAYS)
    provenance_path = npz_path.with_suffix(".json")
    names = None
    if provenance_path.is_file():
        try:
            names = read_json(provenance_path, "the dataset's provenance").get("class_names")
        except TinyEitError as exc:
            raise DatasetError(str(exc)) from None
    n_classes = len(names) if names else int(y.max()) + 1 if len(y) else 0
    return Dataset(X=X.astype(np.float32, copy=False), y=y.astype(np.int64, copy=False),
                   subject=subject.astype(np.int64, copy=False),
                   trial=trial.astype(np.int64, copy=False), n_classes=n_classes,
                   class_names=list(names) if names else [str(i) for i in range(n_classes)])
