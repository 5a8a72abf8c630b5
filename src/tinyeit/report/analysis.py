"""The numbers the report derives from the summary: gains against the baseline and Pareto sets.

Kept free of plotting and HTML so the figures in every table and plot come from one place and
can be tested by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tinyeit.report.summary import Summary

T = TypeVar("T")


def gain_pct(value: float | None, base: float | None) -> float | None:
    """Percent change of `value` relative to `base`, the paper's "gain" (-50 = halved)."""
    if value is None or base is None or base == 0:
        return None
    return 100.0 * (value - base) / base


def host_gains(summary: Summary, variant: dict[str, Any]) -> dict[str, Any]:
    """Host instruction and host latency gain against the baseline.

    A latency gain is only computed from two measurements that are not flagged noisy (spread
    over the limit on the variant's or the baseline's side): a glitch is shown as a flag, never
    as a gain. Instructions are exact: their gain is always computed.
    """
    base = summary.baseline
    noisy = bool(variant.get("host_latency_noisy") or base.get("host_latency_noisy"))
    return {
        "host_instructions_gain_pct": gain_pct(variant.get("host_instructions_per_invoke"),
                                               base.get("host_instructions_per_invoke")),
        "host_latency_gain_pct": None if noisy else gain_pct(variant.get("host_latency_ms"),
                                                             base.get("host_latency_ms")),
        "host_latency_noisy": noisy if variant.get("host_latency_ms") is not None else None,
    }


def accuracy_drop(summary: Summary, variant: dict[str, Any]) -> float:
    """Baseline CV accuracy minus the variant's, as a fraction (positive = worse)."""
    return summary.baseline["accuracy_cv_mean"] - variant["accuracy_cv_mean"]


def board_cost(deployment: dict[str, Any] | None) -> tuple[float | None, str | None]:
    """The per-inference cost of an ok deployment: latency in ms, else instructions.

    Returns (value, kind) with kind "latency_ms" or "instructions"; (None, None) when the
    deployment is absent, not ok, or carries neither figure.
    """
    if not deployment or deployment.get("status") != "ok":
        return None, None
    if deployment.get("latency_ms") is not None:
        return float(deployment["latency_ms"]), "latency_ms"
    if deployment.get("instructions_per_inference") is not None:
        return float(deployment["instructions_per_inference"]), "instructions"
    return None, None


def board_gains(summary: Summary, variant: str, board: str, engine: str = "aot") -> dict[str, float | None]:
    """Latency (or instruction) and energy gain of a variant on a board against the baseline
    with the same engine."""
    dep = summary.deployment(variant, board, engine)
    base = summary.deployment("baseline", board, engine)
    cost, kind = board_cost(dep)
    base_cost, base_kind = board_cost(base)
    latency = gain_pct(cost, base_cost) if kind is not None and kind == base_kind else None
    energy = None
    if dep and base and dep.get("status") == "ok" and base.get("status") == "ok":
        energy = gain_pct(dep.get("energy_uj"), base.get("energy_uj"))
    return {"latency_gain_pct": latency, "energy_gain_pct": energy}


def pareto_front(items: Sequence[T], cost: Callable[[T], float],
                 benefit: Callable[[T], float]) -> list[T]:
    """Items no other item beats on both lower cost and higher benefit, by increasing cost.

    An item is dominated when another has cost <= and benefit >= with at least one strict;
    exact duplicates are both kept.
    """
    front = []
    for a in items:
        ca, ba = cost(a), benefit(a)
        dominated = any(
            (cost(b) <= ca and benefit(b) >= ba) and (cost(b) < ca or benefit(b) > ba)
            for b in items if b is not a)
        if not dominated:
            front.append(a)
    return sorted(front, key=lambda x: (cost(x), -benefit(x)))


def size_pareto(summary: Summary) -> list[str]:
    """Variant names on the accuracy / .tflite size Pareto front, smallest first."""
    front = pareto_front(summary.variants, lambda v: v["tflite_bytes"],
                         lambda v: v["accuracy_cv_mean"])
    return [v["name"] for v in front]


def engine_cost(deployment: dict[str, Any] | None) -> tuple[float | None, str | None]:
    """What the engine comparison divides: cycles per inference where the profile has them
    (a Cortex-M4 cycle model), else instructions; (None, None) unless the deployment is ok."""
    if not deployment or deployment.get("status") != "ok":
        return None, None
    for key in ("cycles_per_inference", "instructions_per_inference"):
        if deployment.get(key) is not None:
            return float(deployment[key]), key
    return None, None


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b
