"""The in-memory form every source is read into, and the label encoding they share."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyeit.errors import TinyEitError


class DatasetError(TinyEitError):
    """Bad or missing dataset input; the message names the file, the row and the problem."""


@dataclass
class Frames:
    """Frames of one source before normalisation and saving.

    `origin[i]` says where frame i came from in the user's terms (file and row or column), so
    a check on a whole frame can point at it.
    """

    X: np.ndarray            # float64, frames x features
    y: np.ndarray            # int64, 0..C-1
    subject: np.ndarray      # int64
    trial: np.ndarray        # int64, 1-based
    class_names: list[str]
    origin: list[str]
    source: str              # file or folder, for messages
    parameters: dict = field(default_factory=dict)


def encode_labels(raw: list, where: list[str]) -> tuple[np.ndarray, list[str]]:
    """Map labels to 0..C-1 in sorted order: numerically if all are integers, else as text.

    `where[i]` names raw[i]'s place for the error raised on a missing or non-integer number.
    """
    values = []
    for value, place in zip(raw, where):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DatasetError(f"{place}: missing label")
        if isinstance(value, (float, np.floating)):
            if not np.isfinite(value):
                raise DatasetError(f"{place}: missing label ({value})")
            if value != int(value):
                raise DatasetError(f"{place}: unknown label {value!r} (not an integer class or a name)")
            value = int(value)
        if isinstance(value, (bool, np.bool_)):
            raise DatasetError(f"{place}: unknown label {value!r} (not an integer class or a name)")
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, (np.integer,)):
            value = int(value)
        if isinstance(value, str):
            value = value.strip()
            try:
                value = int(value)
            except ValueError:
                pass
        values.append(value)
    if all(isinstance(v, int) for v in values):
        classes = sorted(set(values))
        names = [str(c) for c in classes]
    else:
        classes = sorted({str(v) for v in values})
        values = [str(v) for v in values]
        names = classes
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[v] for v in values], dtype=np.int64), names


def first_nonfinite(X: np.ndarray) -> tuple[int, int] | None:
    """(frame, feature) of the first NaN/inf value, or None."""
    bad = np.argwhere(~np.isfinite(X))
    return (int(bad[0][0]), int(bad[0][1])) if len(bad) else None
