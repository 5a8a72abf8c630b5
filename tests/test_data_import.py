"""Importers on small files the tests write: the lab's xlsx folder, npz arrays, csv tables."""
import csv
import json

import numpy as np
import pytest
from openpyxl import Workbook

import tinyeit.data as data
from tinyeit.cli import main as tinyeit_main

SPLITS = {"n_folds": 2, "cv_trials": [1, 2, 3], "test_trials": [4]}


def write_xlsx(path, columns, header=None):
    """Workbook whose columns are `columns` (reference first)."""
    wb = Workbook()
    ws = wb.active
    if header:
        ws.append(header)
    for row in zip(*columns):
        ws.append([float(v) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def chemnitz_folder(root, subjects=(1, 2), gestures=(0, 1, 2), n_trials=4, n_rows=40):
    """p{s}/BV{s}_{g}.xlsx with a reference column and n_trials trial columns of known values."""
    expected = {}
    for s in subjects:
        for g in gestures:
            ref = np.full(n_rows, 100.0)
            trials = [np.arange(n_rows) + 1000 * s + 100 * g + t for t in range(1, n_trials + 1)]
            write_xlsx(root / f"p{s}" / f"BV{s}_{g}.xlsx", [ref, *trials])
            expected[(s, g)] = trials
    return expected


def test_chemnitz_xlsx_keeps_raw_trial_columns(tmp_path):
    expected = chemnitz_folder(tmp_path / "lab")
    prov = data.import_file("chemnitz-xlsx", tmp_path / "lab", tmp_path / "out.npz")
    ds = data.load(tmp_path / "out.npz")
    assert ds.X.shape == (2 * 3 * 4, 40) and ds.n_classes == 3
    assert prov["class_names"] == ["0", "1", "2"]
    for i in range(len(ds.y)):
        s, g, t = int(ds.subject[i]), int(ds.y[i]), int(ds.trial[i])
        # no reference subtraction, no normalisation: the trial column as written
        np.testing.assert_array_equal(ds.X[i], expected[(s, g)][t - 1].astype(np.float32))
    saved = json.loads((tmp_path / "out.json").read_text())
    assert saved["source"] == "chemnitz_xlsx" and saved["n_frames"] == 24


def test_chemnitz_gesture_numbers_map_in_numeric_order(tmp_path):
    chemnitz_folder(tmp_path / "lab", subjects=(3,), gestures=(2, 10, 9), n_trials=2, n_rows=5)
    prov = data.import_file("chemnitz-xlsx", tmp_path / "lab", tmp_path / "out.npz")
    assert prov["class_names"] == ["2", "9", "10"]
    ds = data.load(tmp_path / "out.npz")
    assert set(ds.subject.tolist()) == {3}


def test_chemnitz_header_row_is_skipped(tmp_path):
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_0.xlsx", [np.ones(6), np.arange(6) + 1.0],
               header=["reference", "trial 1"])
    ds_prov = data.import_file("chemnitz-xlsx", tmp_path / "lab", tmp_path / "o.npz")
    assert ds_prov["n_features"] == 6


def test_build_reads_chemnitz_and_l2_normalises(tmp_path):
    chemnitz_folder(tmp_path / "lab")
    cfg = {"source": "chemnitz_xlsx", "path": str(tmp_path / "lab"), "normalize": "l2"}
    data.build(cfg, SPLITS, 1, tmp_path / "d.npz", tmp_path / "d.json")
    ds = data.load(tmp_path / "d.npz")
    np.testing.assert_allclose(np.linalg.norm(ds.X, axis=1), 1.0, rtol=1e-6)


def test_npz_defaults_subject_and_numbers_trials(tmp_path):
    X = np.arange(12 * 5, dtype=np.float64).reshape(12, 5) + 1
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 2, 2])
    np.savez(tmp_path / "in.npz", X=X, y=y)
    prov = data.import_file("npz", tmp_path / "in.npz", tmp_path / "out.npz")
    ds = data.load(tmp_path / "out.npz")
    assert ds.subject.tolist() == [1] * 12
    assert ds.trial.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 1, 2, 3, 4]
    np.testing.assert_array_equal(ds.X, X.astype(np.float32))
    assert prov["class_names"] == ["0", "1", "2"]


def test_npz_string_labels_sorted_and_given_trials_kept(tmp_path):
    X = np.ones((6, 3))
    y = np.array(["fist", "open", "fist", "open", "point", "point"])
    np.savez(tmp_path / "in.npz", X=X, y=y, subject=np.array([2, 2, 2, 2, 5, 5]),
             trial=np.array([7, 7, 8, 8, 1, 2]))
    prov = data.import_file("npz", tmp_path / "in.npz", tmp_path / "out.npz")
    ds = data.load(tmp_path / "out.npz")
    assert prov["class_names"] == ["fist", "open", "point"] == ds.class_names
    assert ds.y.tolist() == [0, 1, 0, 1, 2, 2]
    assert ds.trial.tolist() == [7, 7, 8, 8, 1, 2] and ds.subject.tolist() == [2, 2, 2, 2, 5, 5]


def test_npz_byte_string_labels(tmp_path):
    np.savez(tmp_path / "in.npz", X=np.ones((4, 2)), y=np.array([b"up", b"down", b"up", b"down"]))
    prov = data.import_file("npz", tmp_path / "in.npz", tmp_path / "out.npz")
    assert prov["class_names"] == ["down", "up"]


def write_csv(path, header, rows):
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def test_csv_with_named_label_column_subject_trial(tmp_path):
    rows = [[0.1 * i, 0.2 * i, g, s, t] for i, (s, g, t) in enumerate(
        [(s, g, t) for s in (1, 2) for g in ("b", "a") for t in (1, 2, 3, 4)], start=1)]
    write_csv(tmp_path / "in.csv", ["v1", "v2", "gesture", "subject", "trial"], rows)
    cfg = {"source": "csv", "path": str(tmp_path / "in.csv"), "label_column": "gesture", "normalize": "none"}
    prov = data.build(cfg, SPLITS, 0, tmp_path / "d.npz", tmp_path / "d.json")
    ds = data.load(tmp_path / "d.npz")
    assert prov["class_names"] == ["a", "b"] and prov["n_features"] == 2
    assert ds.y[:4].tolist() == [1, 1, 1, 1]  # "b" sorts after "a"
    assert ds.trial[:4].tolist() == [1, 2, 3, 4] and ds.subject[-1] == 2
    np.testing.assert_allclose(ds.X[0], [0.1, 0.2], rtol=1e-6)


def test_cli_import_writes_npz_and_json(tmp_path, capsys):
    write_csv(tmp_path / "in.csv", ["label", "a", "b"], [[k % 2, k, k + 1] for k in range(8)])
    rc = tinyeit_main(["dataset", "import", "--format", "csv", "--label-column", "label",
                       str(tmp_path / "in.csv"), str(tmp_path / "out.npz")])
    assert rc == 0
    assert (tmp_path / "out.npz").is_file() and (tmp_path / "out.json").is_file()
    assert "8 frames x 2 features" in capsys.readouterr().out


def test_cli_reports_bad_file_without_traceback(tmp_path, capsys):
    write_csv(tmp_path / "in.csv", ["label", "a"], [[0, "nan"]])
    rc = tinyeit_main(["dataset", "import", "--format", "csv", str(tmp_path / "in.csv"),
                       str(tmp_path / "out.npz")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "in.csv: row 2" in err and "not finite" in err
    assert not (tmp_path / "out.npz").exists()


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(data.DatasetError, match="unknown format"):
        data.import_file("mat", tmp_path / "x.mat", tmp_path / "out.npz")
