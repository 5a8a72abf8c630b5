"""Bad data: every refusal names the file, the row as the user sees it, and the problem,
and leaves no output behind."""
import csv

import numpy as np
import pytest
from openpyxl import Workbook

import tinyeit.data as data
from tinyeit.data import DatasetError
from tinyeit.errors import TinyEitError

SPLITS = {"n_folds": 2, "cv_trials": [1, 2, 3], "test_trials": [4]}


def write_csv(path, header, rows):
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def good_rows(n_per_class=4, classes=(0, 1)):
    return [[c, t, 1.0 + c, 2.0 + t] for c in classes for t in range(1, n_per_class + 1)]


def build_csv(tmp_path, header, rows, splits=SPLITS):
    src = tmp_path / "in.csv"
    write_csv(src, header, rows)
    cfg = {"source": "csv", "path": str(src), "label_column": "label", "normalize": "l2"}
    data.build(cfg, splits, 0, tmp_path / "out" / "d.npz", tmp_path / "out" / "d.json")


def assert_no_output(tmp_path):
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("bad, message", [
    ("nan", "row 4, column 'a': 'nan' is not finite"),
    ("inf", "row 4, column 'a': 'inf' is not finite"),
    ("", "row 4, column 'a': empty value"),
    ("abc", "row 4, column 'a': not a number"),
])
def test_csv_bad_value_names_file_and_row(tmp_path, bad, message):
    rows = good_rows()
    rows[2][2] = bad  # third data row = line 4 of the file
    with pytest.raises(DatasetError, match="in.csv: " + message):
        build_csv(tmp_path, ["label", "trial", "a", "b"], rows)
    assert_no_output(tmp_path)


def test_error_is_a_tinyeit_error():
    assert issubclass(DatasetError, TinyEitError)


def test_csv_ragged_row(tmp_path):
    rows = good_rows()
    rows[4] = rows[4][:3]
    with pytest.raises(DatasetError, match=r"in.csv: row 6: ragged row, 3 fields but the header has 4"):
        build_csv(tmp_path, ["label", "trial", "a", "b"], rows)
    assert_no_output(tmp_path)


def test_csv_missing_label(tmp_path):
    rows = good_rows()
    rows[1][0] = ""
    with pytest.raises(DatasetError, match=r"in.csv: row 3, column 'label': missing label"):
        build_csv(tmp_path, ["label", "trial", "a", "b"], rows)
    assert_no_output(tmp_path)


def test_csv_missing_label_column(tmp_path):
    with pytest.raises(DatasetError, match=r"in.csv: missing label column 'label'"):
        build_csv(tmp_path, ["gesture", "trial", "a", "b"], good_rows())
    assert_no_output(tmp_path)


@pytest.mark.parametrize("content", ["", "label,trial,a\n"])
def test_csv_empty_file(tmp_path, content):
    (tmp_path / "in.csv").write_text(content)
    cfg = {"source": "csv", "path": str(tmp_path / "in.csv"), "normalize": "l2"}
    with pytest.raises(DatasetError, match=r"in.csv: empty file"):
        data.build(cfg, SPLITS, 0, tmp_path / "out" / "d.npz", tmp_path / "out" / "d.json")
    assert_no_output(tmp_path)


def test_class_with_too_few_cv_frames(tmp_path):
    rows = good_rows() + [[2, 1, 1.0, 2.0], [2, 4, 1.0, 2.0]]  # class 2: one CV frame, 2 folds
    with pytest.raises(DatasetError, match=r"in.csv: class '2' has 1 frames in cv_trials \[1, 2, 3\], "
                                           r"fewer than n_folds=2 \(first frame of the class: .*row 10\)"):
        build_csv(tmp_path, ["label", "trial", "a", "b"], rows)
    assert_no_output(tmp_path)


def test_no_test_frames(tmp_path):
    with pytest.raises(DatasetError, match=r"no frames in test_trials \[9\]"):
        build_csv(tmp_path, ["label", "trial", "a", "b"], good_rows(),
                  splits={"n_folds": 2, "cv_trials": [1, 2, 3], "test_trials": [9]})
    assert_no_output(tmp_path)


def test_trial_in_both_cv_and_test(tmp_path):
    with pytest.raises(DatasetError, match=r"splits: trials \[3\] are in both cv_trials and test_trials"):
        build_csv(tmp_path, ["label", "trial", "a", "b"], good_rows(),
                  splits={"n_folds": 2, "cv_trials": [1, 2, 3], "test_trials": [3, 4]})
    assert_no_output(tmp_path)


def test_all_zero_frame_cannot_be_normalised(tmp_path):
    rows = good_rows()
    rows[3][2:] = [0, 0]
    with pytest.raises(DatasetError, match=r"in.csv: row 5: frame is all zeros"):
        build_csv(tmp_path, ["label", "trial", "a", "b"], rows)
    assert_no_output(tmp_path)


def test_missing_source_file(tmp_path):
    for source in ("csv", "npz", "chemnitz_xlsx"):
        cfg = {"source": source, "path": str(tmp_path / "nowhere"), "normalize": "l2"}
        with pytest.raises(DatasetError, match="nowhere: (file|folder) not found"):
            data.build(cfg, SPLITS, 0, tmp_path / "out" / "d.npz", tmp_path / "out" / "d.json")
    assert_no_output(tmp_path)


def test_unknown_source_and_missing_path(tmp_path):
    with pytest.raises(DatasetError, match="dataset.source: unknown source 'mat'"):
        data.build({"source": "mat", "path": "x"}, SPLITS, 0, tmp_path / "d.npz", tmp_path / "d.json")
    with pytest.raises(DatasetError, match="dataset.path: source 'csv' needs a path"):
        data.build({"source": "csv", "path": None}, SPLITS, 0, tmp_path / "d.npz", tmp_path / "d.json")


# ------------------------------------------------------------------------------------- npz
def build_npz(tmp_path, **arrays):
    np.savez(tmp_path / "in.npz", **arrays)
    cfg = {"source": "npz", "path": str(tmp_path / "in.npz"), "normalize": "l2"}
    data.build(cfg, SPLITS, 0, tmp_path / "out" / "d.npz", tmp_path / "out" / "d.json")


def npz_arrays():
    X = np.ones((8, 3))
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    return {"X": X, "y": y}


def test_npz_nan_names_row(tmp_path):
    arrays = npz_arrays()
    arrays["X"][5, 2] = np.nan
    with pytest.raises(DatasetError, match=r"in.npz: row 6 \(frame 6 of X\): value nan in column 3 is not finite"):
        build_npz(tmp_path, **arrays)
    assert_no_output(tmp_path)


def test_npz_missing_array(tmp_path):
    with pytest.raises(DatasetError, match=r"in.npz: missing array 'y'"):
        build_npz(tmp_path, X=np.ones((4, 3)))
    assert_no_output(tmp_path)


def test_npz_label_length_mismatch(tmp_path):
    with pytest.raises(DatasetError, match=r"in.npz: y has shape \(7,\), expected \(8,\)"):
        build_npz(tmp_path, X=np.ones((8, 3)), y=np.zeros(7))
    assert_no_output(tmp_path)


def test_npz_ragged_frames(tmp_path):
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1.0, 2.0], [1.0]
    np.savez(tmp_path / "in.npz", X=ragged, y=np.array([0, 1]))
    with pytest.raises(DatasetError, match=r"in.npz: ragged or object arrays"):
        data.import_file("npz", tmp_path / "in.npz", tmp_path / "out" / "d.npz")
    assert_no_output(tmp_path)


def test_npz_empty(tmp_path):
    with pytest.raises(DatasetError, match=r"in.npz: empty file"):
        build_npz(tmp_path, X=np.ones((0, 3)), y=np.zeros(0))


@pytest.mark.parametrize("label, message", [(np.nan, "missing label"), (1.5, "unknown label 1.5")])
def test_npz_bad_label(tmp_path, label, message):
    arrays = npz_arrays()
    arrays["y"] = arrays["y"].astype(float)
    arrays["y"][2] = label
    with pytest.raises(DatasetError, match=r"in.npz: row 3 \(frame 3 of X\): " + message):
        build_npz(tmp_path, **arrays)
    assert_no_output(tmp_path)


# ------------------------------------------------------------------------------------ xlsx
def write_xlsx(path, rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def lab_rows(n_rows=5, n_trials=4):
    return [[100.0] + [float(r + t) for t in range(1, n_trials + 1)] for r in range(n_rows)]


def build_lab(tmp_path):
    cfg = {"source": "chemnitz_xlsx", "path": str(tmp_path / "lab"), "normalize": "l2"}
    data.build(cfg, SPLITS, 0, tmp_path / "out" / "d.npz", tmp_path / "out" / "d.json")


def test_xlsx_text_cell_names_cell_and_row(tmp_path):
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_0.xlsx", lab_rows())
    rows = lab_rows()
    rows[3][2] = "#DIV/0!"
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_1.xlsx", rows)
    with pytest.raises(DatasetError, match=r"BV1_1.xlsx: row 4, cell C4: not a number \('#DIV/0!'\)"):
        build_lab(tmp_path)
    assert_no_output(tmp_path)


def test_xlsx_ragged_row(tmp_path):
    rows = lab_rows()
    rows[2] = rows[2][:3]
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_0.xlsx", rows)
    with pytest.raises(DatasetError, match=r"BV1_0.xlsx: row 3: ragged row, 3 cells but other rows have 5"):
        build_lab(tmp_path)


def test_xlsx_wrong_length_frames(tmp_path):
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_0.xlsx", lab_rows(5))
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_1.xlsx", lab_rows(4))
    with pytest.raises(DatasetError, match=r"BV1_1.xlsx: wrong-length frames: 4 measurement rows, but .*BV1_0.xlsx has 5"):
        build_lab(tmp_path)
    assert_no_output(tmp_path)


def test_xlsx_missing_gesture_file(tmp_path):
    for s, g in [(1, 0), (1, 1), (2, 0)]:
        write_xlsx(tmp_path / "lab" / f"p{s}" / f"BV{s}_{g}.xlsx", lab_rows())
    with pytest.raises(DatasetError, match=r"p2/BV2_1.xlsx: missing file"):
        build_lab(tmp_path)


def test_xlsx_unknown_label_in_file_name(tmp_path):
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_fist.xlsx", lab_rows())
    with pytest.raises(DatasetError, match=r"BV1_fist.xlsx: unknown file name"):
        build_lab(tmp_path)


def test_xlsx_empty_and_reference_only(tmp_path):
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_0.xlsx", [])
    with pytest.raises(DatasetError, match=r"BV1_0.xlsx: empty file"):
        build_lab(tmp_path)
    write_xlsx(tmp_path / "lab" / "p1" / "BV1_0.xlsx", [[1.0]] * 5)
    with pytest.raises(DatasetError, match=r"BV1_0.xlsx: missing columns"):
        build_lab(tmp_path)


def test_xlsx_folder_without_files(tmp_path):
    (tmp_path / "lab").mkdir()
    with pytest.raises(DatasetError, match=r"lab: no p\{subject\}/BV"):
        build_lab(tmp_path)
