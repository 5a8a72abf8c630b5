"""Which variant to ship on a board, with which engine: the most accurate one that fits and
meets the bounds (every engine deployed is a candidate of its own; ties go to the faster).

A variant counts as fitting a board only when it was deployed there with status ok and its
measured flash and RAM are within the board's limits: an unprofiled variant is never
recommended, because its RAM need is unknown. The bounds (max accuracy drop against the
baseline, max latency) come from the summary's `report` key unless given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinyeit.report.analysis import accuracy_drop, board_cost, pareto_front
from tinyeit.report.summary import Summary, SummaryError


@dataclass(frozen=True)
class Candidate:
    """One variant judged for one board."""

    variant: str
    accuracy: float
    drop: float
    status: str               # a deployment status, or "not profiled"
    fits: bool
    cost: float | None        # latency_ms, or instructions when no latency
    cost_kind: str | None
    reasons: tuple[str, ...]  # why it is not eligible; empty when it is
    engine: str = "aot"

    @property
    def label(self) -> str:
        return f"{self.variant} [{self.engine}]"

    @property
    def eligible(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Recommendation:
    board: str
    board_title: str
    max_accuracy_drop: float | None
    max_latency_ms: float | None
    choice: str | None
    candidates: tuple[Candidate, ...]
    pareto: tuple[str, ...] = field(default_factory=tuple)
    choice_engine: str | None = None
    pareto_engines: tuple[str, ...] = field(default_factory=tuple)

    def candidate(self, variant: str, engine: str | None = None) -> Candidate:
        """The candidate of `variant` with `engine` (default: the chosen engine, else aot)."""
        if engine is None:
            engine = self.choice_engine if variant == self.choice and self.choice_engine else "aot"
        return next(c for c in self.candidates if c.variant == variant and c.engine == engine)


def resolve_board(summary: Summary, board: str) -> str:
    """Accept a board key or its alias; name the known boards otherwise."""
    if board in summary.board_keys:
        return board
    for key, cfg in summary.boards.items():
        if cfg.get("alias") == board:
            return key
    raise SummaryError(f"{summary.path}: unknown board {board!r} "
                       f"(boards: {', '.join(summary.board_keys) or 'none'})")


def _fit_reasons(dep: dict[str, Any] | None, limits: dict[str, Any]) -> tuple[bool, list[str]]:
    if dep is None:
        return False, ["not profiled on this board"]
    status = dep.get("status")
    if status == "does_not_fit":
        return False, ["does not fit the board (deploy stage)"]
    if status != "ok":
        return False, [f"deployment status {status}"]
    reasons = []
    # TFLite Micro rounds int8 FULLY_CONNECTED twice where LiteRT rounds once: a tflm firmware
    # that equals TFLM's own interpreter bit for bit computes what TFLM defines.
    own_reference = dep.get("engine") == "tflm" and dep.get("outputs_exact_tflm_interpreter") is True
    if dep.get("outputs_match_host") is False and not own_reference:
        reasons.append("board outputs differ from LiteRT's")
    for key, what in (("flash_bytes", "flash"), ("ram_bytes", "RAM")):
        limit = limits.get(key) or 0
        used = dep.get(key)
        if limit and used is not None and used > limit:
            reasons.append(f"{what} {used} B > {limit} B")
    return not reasons, reasons


def recommend(summary: Summary, board: str, max_accuracy_drop: float | None = None,
              max_latency_ms: float | None = None, use_summary_bounds: bool = True
              ) -> Recommendation:
    """Judge every variant for `board` and pick the most accurate eligible one.

    Ties on accuracy go to the lower latency, then the smaller .tflite, then the name, so the
    choice is deterministic. The Pareto set is over (accuracy, latency) among variants that fit.
    """
    board = resolve_board(summary, board)
    if use_summary_bounds:
        if max_accuracy_drop is None:
            max_accuracy_drop = summary.bounds.get("max_accuracy_drop")
        if max_latency_ms is None:
            max_latency_ms = summary.bounds.get("max_latency_ms")
    limits = summary.boards.get(board, {})
    candidates = []
    for v, engine in [(v, e) for v in summary.variants for e in (summary.engines or ["aot"])]:
        dep = summary.deployment(v["name"], board, engine)
        fits, reasons = _fit_reasons(dep, limits)
        cost, kind = board_cost(dep)
        drop = accuracy_drop(summary, v)
        if max_accuracy_drop is not None and drop > max_accuracy_drop + 1e-12:
            reasons.append(f"accuracy drop {100 * drop:.2f} points > "
                           f"{100 * max_accuracy_drop:.2f}")
        if max_latency_ms is not None and fits:
            latency = dep.get("latency_ms") if dep else None
            if latency is None:
                reasons.append("no latency figure to check against the latency bound")
            elif latency > max_latency_ms:
                reasons.append(f"latency {latency:.4g} ms > {max_latency_ms:.4g} ms")
        candidates.append(Candidate(
            variant=v["name"], accuracy=v["accuracy_cv_mean"], drop=drop,
            status=dep["status"] if dep else "not profiled", fits=fits, cost=cost,
            cost_kind=kind, reasons=tuple(reasons), engine=engine))
    eligible = [c for c in candidates if c.eligible]
    sizes = {v["name"]: v["tflite_bytes"] for v in summary.variants}
    eligible.sort(key=lambda c: (-c.accuracy, c.cost if c.cost is not None else float("inf"),
                                 sizes[c.variant], c.variant, c.engine))
    fitting = [c for c in candidates if c.fits and c.cost is not None]
    front = pareto_front(fitting, lambda c: c.cost, lambda c: c.accuracy)
    return Recommendation(
        board=board, board_title=summary.board_title(board),
        max_accuracy_drop=max_accuracy_drop, max_latency_ms=max_latency_ms,
        choice=eligible[0].variant if eligible else None, candidates=tuple(candidates),
        pareto=tuple(c.variant for c in front), choice_engine=eligible[0].engine if eligible else None,
        pareto_engines=tuple(c.engine for c in front))


def format_recommendation(rec: Recommendation) -> str:
    """Plain-text recommendation, as `tinyeit recommend` prints it."""
    bounds = []
    if rec.max_accuracy_drop is not None:
        bounds.append(f"accuracy drop <= {100 * rec.max_accuracy_drop:.2f} points")
    if rec.max_latency_ms is not None:
        bounds.append(f"latency <= {rec.max_latency_ms:.4g} ms")
    lines = [f"board: {rec.board_title}",
             f"bounds: {', '.join(bounds) if bounds else 'none'}; must fit flash and RAM"]
    if rec.choice:
        c = rec.candidate(rec.choice, rec.choice_engine)
        lines.append(f"recommended: {c.variant} with engine {c.engine} (accuracy {100 * c.accuracy:.2f} %, "
                     f"drop {100 * c.drop:.2f} points{_cost_text(c)})")
    else:
        lines.append("recommended: none (no profiled variant fits and meets the bounds)")
    if rec.pareto:
        lines.append("pareto set (accuracy vs latency, fitting variants):")
        for name, engine in zip(rec.pareto, rec.pareto_engines):
            c = rec.candidate(name, engine)
            lines.append(f"  {c.label}: accuracy {100 * c.accuracy:.2f} %{_cost_text(c)}")
    else:
        lines.append("pareto set: empty (no variant profiled ok on this board)")
    rejected = [c for c in rec.candidates if not c.eligible]
    if rejected:
        lines.append("not eligible:")
        for c in rejected:
            lines.append(f"  {c.label}: {'; '.join(c.reasons)}")
    return "\n".join(lines) + "\n"


def _cost_text(c: Candidate) -> str:
    if c.cost_kind == "latency_ms":
        return f", latency {c.cost:.4g} ms"
    if c.cost_kind == "instructions":
        return f", {c.cost:.0f} instructions"
    return ""
