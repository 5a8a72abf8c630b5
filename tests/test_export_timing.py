"""The block-timing statistics, with a fake clock: exact, repeatable, no real time involved."""
import numpy as np
import pytest

from tinyeit.export import timing


class FakeMachine:
    """A call costing `cost_ns` of CPU; `preempt(i)` adds wall-only time to the i-th call."""

    def __init__(self, cost_ns, preempt=lambda i: 0):
        self.wall_ns = self.cpu_ns = self.calls = 0
        self.cost_ns, self.preempt = cost_ns, preempt

    def call(self):
        self.cpu_ns += self.cost_ns
        self.wall_ns += self.cost_ns + self.preempt(self.calls)
        self.calls += 1

    def measure(self, **kw):
        return timing.measure(self.call, wall=lambda: self.wall_ns, cpu=lambda: self.cpu_ns, **kw)


def test_quartiles_match_numpy_linear_percentiles():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 7, 41):
        x = list(rng.lognormal(size=n))
        assert timing.quartiles(x) == pytest.approx(tuple(np.percentile(x, [25, 50, 75])))
    with pytest.raises(ValueError):
        timing.quartiles([])


def test_block_sizes_run_1_2_5():
    sizes = timing.block_sizes()
    assert [next(sizes) for _ in range(8)] == [1, 2, 5, 10, 20, 50, 100, 200]


def test_constant_call_gives_its_cost_and_the_block_that_lasts_2_ms():
    r = FakeMachine(4000).measure(repeats=11)
    assert r["block_invocations"] == 500      # 500 x 4 us = 2 ms, the first 1-2-5 size >= 2 ms
    assert r["repeats"] == 11 and len(r["blocks_cpu_ms"]) == 11
    assert r["cpu"]["median_ms"] == pytest.approx(0.004)
    assert r["cpu"]["iqr_ms"] == 0 and r["cpu"]["spread"] == 0 and not r["noisy"]
    assert r["wall"]["median_ms"] == pytest.approx(0.004)
    assert r["warmup_invocations"] >= 10
    assert "over 11 blocks" in r["method"] and ">= 2 ms" in r["method"]


def test_preemption_moves_wall_time_only_and_not_the_median():
    # Every 3000th call is preempted for 5 ms (wall only): some blocks are hit, most are not.
    m = FakeMachine(4000, preempt=lambda i: 5_000_000 if i % 3000 == 0 else 0)
    r = m.measure(repeats=21)
    assert r["cpu"]["median_ms"] == pytest.approx(0.004)
    assert r["wall"]["median_ms"] == pytest.approx(0.004)
    assert r["wall"]["max_ms"] > 0.01          # the hit blocks are there, outside the quartiles
    assert not r["noisy"]


def test_a_slow_trial_does_not_shrink_the_block():
    """The first trial block of every candidate size costs 10 ms more CPU: sizing takes the
    fastest trial, so the block is still the 500 calls that a 4 us call needs."""
    clock = {"ns": 0, "readings": 0, "hit": set()}

    def cpu():
        clock["readings"] += 1
        return clock["ns"]

    def call():
        block = clock["readings"] // 2
        clock["ns"] += 4000
        if block % timing.TRIALS == 0 and block not in clock["hit"]:
            clock["hit"].add(block)
            clock["ns"] += 10_000_000
    r = timing.measure(call, wall=lambda: clock["ns"], cpu=cpu, repeats=5)
    assert len(clock["hit"]) > 3
    assert r["block_invocations"] == 500


def test_wide_spread_is_flagged_noisy():
    """The call's CPU cost alternates between 2 and 8 us from one block to the next."""
    clock = {"ns": 0, "readings": 0}

    def cpu():
        clock["readings"] += 1
        return clock["ns"]

    def call():                   # a block reads the CPU clock twice: readings // 2 = block
        clock["ns"] += 2000 if (clock["readings"] // 2) % 2 else 8000
    r = timing.measure(call, wall=lambda: clock["ns"], cpu=cpu, repeats=10)
    assert r["cpu"]["spread"] > timing.SPREAD_LIMIT and r["noisy"]
    assert min(r["blocks_cpu_ms"]) < 0.003 and max(r["blocks_cpu_ms"]) > 0.007


def test_summarize_reports_ms_and_spread():
    s = timing.summarize([1e6, 2e6, 3e6, 4e6, 5e6])
    assert (s["q1_ms"], s["median_ms"], s["q3_ms"]) == (2.0, 3.0, 4.0)
    assert s["iqr_ms"] == 2.0 and s["spread"] == pytest.approx(2 / 3)
    assert (s["min_ms"], s["max_ms"]) == (1.0, 5.0)


def test_too_few_repeats_is_refused():
    with pytest.raises(ValueError, match="repeats"):
        FakeMachine(1000).measure(repeats=2)
