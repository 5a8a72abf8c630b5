"""The latency bench's goal checks between two runs, on hand-made figures."""
import pytest

from tinyeit import bench


def run(base_ms, final_ms, other_ms, instructions=(900, 300, 500)):
    names = ("baseline", bench.FINAL, "baseline+kd")
    return {n: {"latency_ms": ms, "iqr_ms": ms / 50, "noisy": False, "instructions": i}
            for n, ms, i in zip(names, (base_ms, final_ms, other_ms), instructions)}


def test_goal_met():
    a, b = run(0.010, 0.002, 0.004), run(0.011, 0.0021, 0.0042)
    c = bench.compare_runs(a, b)
    assert c["latency_ratios"] == pytest.approx((0.2, 0.0021 / 0.011))
    assert c["ratio_ok"] and c["moves_ok"] and c["instructions_identical"]
    assert c["instruction_ratios"] == (300 / 900, 300 / 900)
    text = bench.comparison_markdown(a, b, c)
    assert "| baseline | 900; same | 10.00 (0.20) | 11.00 (0.22) | +10.0 % |" in text
    assert "MISSED" not in text


def test_goal_missed_is_said():
    a = run(0.010, 0.002, 0.004)
    b = run(0.010, 0.003, 0.006, instructions=(900, 301, 500))
    c = bench.compare_runs(a, b)
    assert not c["ratio_ok"] and not c["moves_ok"] and not c["instructions_identical"]
    assert c["worst"] == bench.FINAL and c["moves"][bench.FINAL] == pytest.approx(0.5)
    text = bench.comparison_markdown(a, b, c)
    assert text.count("MISSED") == 2 and "identical counts for every variant: NO" in text
