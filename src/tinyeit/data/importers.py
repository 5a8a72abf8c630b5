"""Readers for users' own EIT recordings: the lab's xlsx folder, npz arrays and CSV tables.

Each reader returns `Frames` with raw values (no normalisation: `build` applies the config's
`normalize`), and refuses bad input with a `DatasetError` that names the file, the row as the
user sees it in that file, and the problem.

Chemnitz xlsx layout (the lab's, PAPER.md): `p{subject}/BV{subject}_{gesture}.xlsx`, one row per
measurement (40 for 8 electrodes), column A a reference frame, columns B.. the trials 1..n.
The reference column is NOT subtracted: the lab's code L2-normalises the raw trial frames, so
the raw columns are kept and the reference is only read to check the file's shape.
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np

from tinyeit.data.frames import DatasetError, Frames, encode_labels, first_nonfinite

SUBJECT_DIR = re.compile(r"^p(\d+)$")
XLSX_NAME = re.compile(r"^BV(\d+)_(\d+)\.xlsx$", re.IGNORECASE)


def _number(value, place: str) -> float:
    """A finite float from a cell value, or a DatasetError naming the cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DatasetError(f"{place}: empty value")
    if isinstance(value, bool):
        raise DatasetError(f"{place}: not a number ({value!r})")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{place}: not a number ({value!r})") from None
    if not math.isfinite(number):
        raise DatasetError(f"{place}: {value!r} is not finite (NaN/inf)")
    return number


# --------------------------------------------------------------------------- chemnitz xlsx
def read_chemnitz_xlsx(folder: str | Path) -> Frames:
    """All `p*/BV*_*.xlsx` workbooks under `folder`: gesture g in the name is the label."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: folder not found (expected p{{subject}}/BV{{subject}}_{{gesture}}.xlsx)")
    files: dict[tuple[int, int], Path] = {}
    for subject_dir in sorted(p for p in folder.iterdir() if p.is_dir() and SUBJECT_DIR.match(p.name)):
        subject = int(SUBJECT_DIR.match(subject_dir.name).group(1))
        for path in sorted(subject_dir.glob("*.xlsx")):
            if path.name.startswith("~$"):  # Excel's lock files
                continue
            match = XLSX_NAME.match(path.name)
            if not match:
                raise DatasetError(f"{path}: unknown file name, expected BV{subject}_{{gesture}}.xlsx")
            if int(match.group(1)) != subject:
                raise DatasetError(f"{path}: file names subject {match.group(1)} but is in folder "
                                   f"{subject_dir.name}")
            files[(subject, int(match.group(2)))] = path
    if not files:
        raise DatasetError(f"{folder}: no p{{subject}}/BV{{subject}}_{{gesture}}.xlsx files found")
    subjects = sorted({s for s, _ in files})
    gestures = sorted({g for _, g in files})
    for s in subjects:
        for g in gestures:
            if (s, g) not in files:
                raise DatasetError(f"{folder / f'p{s}' / f'BV{s}_{g}.xlsx'}: missing file (subject {s} "
                                   f"lacks gesture {g} that other subjects have)")
    frames, labels, subject_ids, trials, origin = [], [], [], [], []
    n_rows = None
    for (s, g), path in sorted(files.items()):
        columns = _read_workbook(path)
        if n_rows is None:
            n_rows, first = len(columns[0]), path
        elif len(columns[0]) != n_rows:
            raise DatasetError(f"{path}: wrong-length frames: {len(columns[0])} measurement rows, "
                               f"but {first} has {n_rows}")
        for t, column in enumerate(columns[1:], start=1):
            frames.append(column)
            labels.append(g)
            subject_ids.append(s)
            trials.append(t)
            origin.append(f"{path} column {_column_letter(t)} (trial {t})")
    y, names = encode_labels(labels, origin)
    return Frames(X=np.asarray(frames, dtype=np.float64), y=y,
                  subject=np.asarray(subject_ids, dtype=np.int64),
                  trial=np.asarray(trials, dtype=np.int64), class_names=names, origin=origin,
                  source=str(folder), parameters={"n_files": len(files)})


def _column_letter(index0: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(index0 + 1)


def _read_workbook(path: Path) -> list[list[float]]:
    """Columns of the first sheet (reference first), checked cell by cell."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise DatasetError(f"{path}: not a readable xlsx workbook ({exc})") from None
    try:
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    # Trailing empty cells and rows are formatting, not data.
    rows = [_strip_trailing(row) for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    header = 0
    if rows and all(isinstance(v, str) for v in rows[0] if v is not None) and any(
            isinstance(v, str) and not _is_number_text(v) for v in rows[0]):
        header = 1  # a row of titles, e.g. "ref, trial 1, ..."
    data = rows[header:]
    if not data:
        raise DatasetError(f"{path}: empty file (no measurement rows)")
    width = max(len(row) for row in data)
    if width < 2:
        raise DatasetError(f"{path}: missing columns: only the reference column A, no trial columns")
    columns = [[0.0] * len(data) for _ in range(width)]
    for r, row in enumerate(data, start=header + 1):
        if len(row) < width:
            raise DatasetError(f"{path}: row {r}: ragged row, {len(row)} cells but other rows have "
                               f"{width} (cell {_column_letter(len(row))}{r} is empty)")
        for c, value in enumerate(row):
            columns[c][r - header - 1] = _number(value, f"{path}: row {r}, cell {_column_letter(c)}{r}")
    return columns


def _strip_trailing(row: list) -> list:
    while row and (row[-1] is None or (isinstance(row[-1], str) and not row[-1].strip())):
        row.pop()
    return row


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------- npz
def read_npz(path: str | Path) -> Frames:
    """Arrays `X` (frames x features), `y`; optional `subject` (default 1) and `trial`.

    Missing trials are numbered 1..n per (subject, label) in file order. Rows are 1-based frame
    numbers (row 1 = X[0]).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DatasetError(f"{path}: not a readable .npz file ({exc})") from None
    with archive:
        for name in ("X", "y"):
            if name not in archive.files:
                raise DatasetError(f"{path}: missing array {name!r} (has {sorted(archive.files)})")
        try:
            arrays = {name: archive[name] for name in archive.files}
        except ValueError as exc:  # object arrays (e.g. ragged frames) need pickle
            raise DatasetError(f"{path}: ragged or object arrays are not supported ({exc})") from None
    X = arrays["X"]
    if X.ndim != 2:
        raise DatasetError(f"{path}: X must be frames x features (2D), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DatasetError(f"{path}: empty file (X has shape {X.shape})")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise DatasetError(f"{path}: X must be real numbers, got dtype {X.dtype}")
    n = X.shape[0]
    origin = [f"{path}: row {i + 1} (frame {i + 1} of X)" for i in range(n)]
    bad = first_nonfinite(X.astype(np.float64))
    if bad:
        raise DatasetError(f"{origin[bad[0]]}: value {X[bad]} in column {bad[1] + 1} is not finite (NaN/inf)")
    for name in ("y", "subject", "trial"):
        if name in arrays and arrays[name].shape != (n,):
            raise DatasetError(f"{path}: {name} has shape {arrays[name].shape}, expected ({n},) to match X")
    y, names = encode_labels(arrays["y"].tolist(), origin)
    subject = _ints(arrays, "subject", origin, path) if "subject" in arrays else np.ones(n, dtype=np.int64)
    if "trial" in arrays:
        trial = _ints(arrays, "trial", origin, path)
    else:
        trial = _number_trials(subject, y)
    return Frames(X=X.astype(np.float64), y=y, subject=subject, trial=trial, class_names=names,
                  origin=origin, source=str(path),
                  parameters={"trial_numbers": "from file" if "trial" in arrays else "assigned 1..n per (subject, label)"})


def _ints(arrays: dict, name: str, origin: list[str], path: Path) -> np.ndarray:
    values = arrays[name]
    if not np.issubdtype(values.dtype, np.number):
        raise DatasetError(f"{path}: {name} must be integers, got dtype {values.dtype}")
    as_float = values.astype(np.float64)
    for i, v in enumerate(as_float):
        if not np.isfinite(v) or v != int(v):
            raise DatasetError(f"{origin[i]}: {name} {values[i]!r} is not an integer")
    return as_float.astype(np.int64)


def _number_trials(subject: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1..n per (subject, label) in order of appearance."""
    counts: dict[tuple[int, int], int] = {}
    trial = np.empty(len(y), dtype=np.int64)
    for i, key in enumerate(zip(subject.tolist(), y.tolist())):
        counts[key] = counts.get(key, 0) + 1
        trial[i] = counts[key]
    return trial


# --------------------------------------------------------------------------------- csv
def read_csv(path: str | Path, label_column: str = "label") -> Frames:
    """One frame a row; the label column, optional `subject` and `trial`; all others features.

    Rows are the file's line numbers (line 1 is the header).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DatasetError(f"{path}: empty file (no header line)")
    header = [cell.strip() for cell in rows[0]]
    if label_column not in header:
        raise DatasetError(f"{path}: missing label column {label_column!r} in the header (line 1: {header})")
    label_at = header.index(label_column)
    subject_at = header.index("subject") if "subject" in header else None
    trial_at = header.index("trial") if "trial" in header else None
    feature_at = [i for i in range(len(header)) if i not in (label_at, subject_at, trial_at)]
    if not feature_at:
        raise DatasetError(f"{path}: missing columns: no feature columns besides {label_column!r}")
    frames, labels, subjects, trials, origin = [], [], [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines carry no frame
        place = f"{path}: row {line}"
        if len(row) != len(header):
            raise DatasetError(f"{place}: ragged row, {len(row)} fields but the header has {len(header)}")
        frames.append([_number(row[i], f"{place}, column {header[i]!r}") for i in feature_at])
        labels.append(row[label_at])
        subjects.append(_int_cell(row[subject_at], f"{place}, column 'subject'") if subject_at is not None else 1)
        trials.append(_int_cell(row[trial_at], f"{place}, column 'trial'") if trial_at is not None else None)
        origin.append(place)
    if not frames:
        raise DatasetError(f"{path}: empty file (header but no data rows)")
    y, names = encode_labels(labels, [f"{o}, column {label_column!r}" for o in origin])
    subject = np.asarray(subjects, dtype=np.int64)
    trial = np.asarray(trials, dtype=np.int64) if trial_at is not None else _number_trials(subject, y)
    return Frames(X=np.asarray(frames, dtype=np.float64), y=y, subject=subject, trial=trial,
                  class_names=names, origin=origin, source=str(path),
                  parameters={"label_column": label_column,
                              "trial_numbers": "from file" if trial_at is not None else "assigned 1..n per (subject, label)"})


def _int_cell(text: str, place: str) -> int:
    number = _number(text, place)
    if number != int(number):
        raise DatasetError(f"{place}: {text!r} is not an integer")
    return int(number)
