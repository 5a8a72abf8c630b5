"""A board's outputs against LiteRT's: integer outputs to the bit, float ones within the code
generator's tolerance (an ulp of libm difference is not a wrong model; a real error is)."""
import numpy as np

from tinyeit.deploy.profile import compare_outputs, expected_outputs
from tinyeit.deploy.protocol import Frame, Run


def _run(rows: np.ndarray) -> Run:
    frames = tuple(Frame(i, 100, row.astype(row.dtype.newbyteorder("<")).tobytes())
                   for i, row in enumerate(rows))
    return Run("nicla_sense", len(frames), 40, rows.shape[1], 64_000_000, frames, "ok")


def _expected(tmp_path, output: np.ndarray):
    np.savez(tmp_path / "frames.npz", input=np.zeros((len(output), 40), np.int8), output=output,
             label=np.zeros(len(output), np.int64))
    return expected_outputs(tmp_path / "frames.npz")


def test_int8_outputs_must_be_bit_equal(tmp_path):
    host = np.array([[-128, 5, 127], [0, 1, 2]], dtype=np.int8)
    expected = _expected(tmp_path, host)
    assert compare_outputs(_run(host), expected) == {
        "outputs_match_host": True, "outputs_exact": True, "outputs_max_abs_diff": 0.0}
    off = host.copy()
    off[1, 2] += 1
    result = compare_outputs(_run(off), expected)
    assert result["outputs_match_host"] is False and result["outputs_max_abs_diff"] == 1.0


def test_float_outputs_match_within_tolerance_and_say_if_not_exact(tmp_path):
    host = np.array([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4]], dtype=np.float32)
    expected = _expected(tmp_path, host)
    ulp = host.copy()
    ulp[0, 1] = np.nextafter(ulp[0, 1], np.float32(1))
    result = compare_outputs(_run(ulp), expected)
    assert result["outputs_match_host"] is True and result["outputs_exact"] is False
    assert 0 < result["outputs_max_abs_diff"] < 1e-6
    wrong = host.copy()
    wrong[1, 0] += 1e-3
    assert compare_outputs(_run(wrong), expected)["outputs_match_host"] is False


def test_more_frames_than_the_host_ran_is_no_match(tmp_path):
    host = np.array([[1, 2]], dtype=np.int8)
    expected = _expected(tmp_path, host)
    assert compare_outputs(_run(np.vstack([host, host])), expected)["outputs_match_host"] is False
