"""Time a call of a few microseconds robustly on a shared machine, the way timeit and pyperf do.

Timed one call at a time, a LiteRT invoke() of the study's models is dominated by the timer's
own cost and by any preemption (one glitch once moved a mean 40-fold). Here:
- warm-up: the call runs for `warmup_s` first (caches, lazy allocations, clock frequency);
- block size: the first of 1, 2, 5, 10, 20, 50, ... calls whose block lasts at least
  `min_block_s`, judged on the fastest of a few trial blocks (preemption only lengthens a
  block, so the fastest trial is the call's own cost);
- `repeats` blocks, each giving one time per call (block time / block size);
- figures: the median over the blocks and the quartiles; spread = IQR / median, and a
  measurement whose spread exceeds `SPREAD_LIMIT` is flagged `noisy`.

Two clocks time every block: the thread's CPU time (time on a core: waiting while other
processes run is not counted) and wall time. The headline figure is the CPU time: for a
single-threaded call without I/O it equals the wall time on an idle machine, and it is what a
busy machine distorts least. The wall-time figures are kept beside it.

Clocks are injected (`wall`, `cpu`: callables returning nanoseconds), so the statistics are
tested with a deterministic fake clock.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

SPREAD_LIMIT = 0.2          # IQR / median above which a measurement is flagged noisy
MIN_BLOCK_S = 0.002         # a block lasts at least this long (timer cost < 0.1 %)
REPEATS = 41
WARMUP_S = 0.05
TRIALS = 3                  # trial blocks per candidate size while sizing the block
MAX_BLOCK = 10 ** 7

Clock = Callable[[], int]


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(Q1, median, Q3) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("no values")
    s = sorted(values)

    def at(p: float) -> float:
        pos = p * (len(s) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)
    return at(0.25), at(0.5), at(0.75)


def summarize(per_call_ns: Sequence[float]) -> dict:
    """Median, quartiles, IQR (ms) and spread = IQR / median of per-call block times (ns)."""
    q1, median, q3 = quartiles(per_call_ns)
    spread = (q3 - q1) / median if median > 0 else float("inf")
    return {"median_ms": median / 1e6, "q1_ms": q1 / 1e6, "q3_ms": q3 / 1e6,
            "iqr_ms": (q3 - q1) / 1e6, "min_ms": min(per_call_ns) / 1e6,
            "max_ms": max(per_call_ns) / 1e6, "spread": spread}


def _block(call: Callable[[], object], number: int, wall: Clock, cpu: Clock) -> tuple[int, int]:
    """(wall ns, cpu ns) of `number` back-to-back calls."""
    loop = range(number)
    w0, c0 = wall(), cpu()
    for _ in loop:
        call()
    c1, w1 = cpu(), wall()
    return w1 - w0, c1 - c0


def block_sizes():
    """1, 2, 5, 10, 20, 50, 100, ..."""
    decade = 1
    while True:
        for m in (1, 2, 5):
            yield m * decade
        decade *= 10


def block_size(call: Callable[[], object], wall: Clock, cpu: Clock,
               min_block_s: float = MIN_BLOCK_S, trials: int = TRIALS,
               max_block: int = MAX_BLOCK) -> int:
    """The first of 1, 2, 5, 10, 20, ... calls whose fastest trial block lasts >= min_block_s
    (CPU time), at most `max_block`."""
    for number in block_sizes():
        fastest = min(_block(call, number, wall, cpu)[1] for _ in range(trials))
        if fastest >= min_block_s * 1e9 or number >= max_block:
            return number
    raise AssertionError("unreachable")


def measure(call: Callable[[], object], *, wall: Clock = time.perf_counter_ns,
            cpu: Clock = time.thread_time_ns, repeats: int = REPEATS,
            min_block_s: float = MIN_BLOCK_S, warmup_s: float = WARMUP_S) -> dict:
    """Warm up, size the block, time `repeats` blocks; per-call figures on both clocks."""
    if repeats < 3:
        raise ValueError("repeats must be at least 3 (quartiles need them)")
    start = wall()
    warmup_calls = 0
    while wall() - start < warmup_s * 1e9 or warmup_calls < 10:
        call()
        warmup_calls += 1
    number = block_size(call, wall, cpu, min_block_s)
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = _block(call, number, wall, cpu)
        walls.append(w / number)
        cpus.append(c / number)
    cpu_stats, wall_stats = summarize(cpus), summarize(walls)
    return {
        "method": (f"median and IQR over {repeats} blocks of back-to-back calls, each block "
                   f">= {min_block_s * 1e3:g} ms, after {warmup_s * 1e3:g} ms of warm-up; "
                   "per-call thread CPU time (wall time beside it); "
                   f"IQR/median > {SPREAD_LIMIT:g} flagged noisy"),
        "block_invocations": number,
        "repeats": repeats,
        "min_block_ms": min_block_s * 1e3,
        "warmup_invocations": warmup_calls,
        "cpu": cpu_stats,
        "wall": wall_stats,
        "spread_limit": SPREAD_LIMIT,
        "noisy": bool(cpu_stats["spread"] > SPREAD_LIMIT),
        "blocks_cpu_ms": [c / 1e6 for c in cpus],
        "blocks_wall_ms": [w / 1e6 for w in walls],
    }
