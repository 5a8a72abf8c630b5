"""Benchmarks of whole stages, run through the real workflow in a scratch copy of it.

`python -m tinyeit.bench ml [--config FILE]`: wall time of the model side (dataset to every
variant's .tflite, accuracy and metrics). `python -m tinyeit.bench deploy`: wall time of
firmware and emulated profiling (every engine) once the model side exists, then the engine
comparison per board (`tinyeit engines`). `python -m tinyeit.bench latency
[--runs 2]`: the model side from clean, then the host cost rules (latency, callgrind
instructions), `--runs` times in fresh folders; prints both runs' host figures and checks them
against the goal (final/baseline latency ratios within 10 %, instruction ratios identical, no
variant's latency moving more than 25 %). Times are for the README, never asserted in tests:
the machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tinyeit.workflow import ROOT, copy_workflow, snakemake


def _timed(workdir: Path, cores: int, targets: list[str], log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = snakemake(workdir, *targets, cores=cores, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed (exit {proc.returncode}); its log: {log}")
    return time.perf_counter() - start


def model_targets(config: dict) -> list[str]:
    return [f"results/tflite/{v}/{name}" for v in config["variants"]
            for name in ("model.tflite", "accuracy.json", "metrics.json")]


def host_targets(config: dict) -> list[str]:
    return [f"results/tflite/{v}/{name}" for v in config["variants"]
            for name in ("host_latency.json", "host_instructions.json")]


FINAL = "baseline+kd+fp+ptq_int8"
GOAL_RATIO = 0.10     # final/baseline latency ratios of two runs within 10 % of each other
GOAL_MOVE = 0.25      # no variant's latency moves more than 25 % between runs


def host_figures(workdir: Path, variants: list[str]) -> dict[str, dict]:
    """variant -> {latency_ms, iqr_ms, noisy, instructions} from a run's result files."""
    import json

    out = {}
    for v in variants:
        d = workdir / "results" / "tflite" / v
        lat = json.loads((d / "host_latency.json").read_text())
        ins = json.loads((d / "host_instructions.json").read_text())
        out[v] = {"latency_ms": lat["host_latency_ms"], "iqr_ms": lat["host_latency_iqr_ms"],
                  "noisy": lat["host_latency_noisy"],
                  "instructions": ins["host_instructions_per_invoke"]}
    return out


def compare_runs(a: dict[str, dict], b: dict[str, dict], final: str = FINAL,
                 baseline: str = "baseline") -> dict:
    """The goal's three checks between two runs' host figures (see host_figures)."""
    moves = {v: b[v]["latency_ms"] / a[v]["latency_ms"] - 1 for v in a}
    ratio_a = a[final]["latency_ms"] / a[baseline]["latency_ms"]
    ratio_b = b[final]["latency_ms"] / b[baseline]["latency_ms"]
    worst = max(moves, key=lambda v: abs(moves[v]))
    return {
        "latency_ratios": (ratio_a, ratio_b),
        "ratio_change": ratio_b / ratio_a - 1,
        "ratio_ok": abs(ratio_b / ratio_a - 1) <= GOAL_RATIO,
        "instruction_ratios": (a[final]["instructions"] / a[baseline]["instructions"],
                               b[final]["instructions"] / b[baseline]["instructions"]),
        "instructions_identical": all(a[v]["instructions"] == b[v]["instructions"] for v in a),
        "moves": moves,
        "worst": worst,
        "moves_ok": all(abs(m) <= GOAL_MOVE for m in moves.values()),
    }


def comparison_markdown(a: dict[str, dict], b: dict[str, dict], c: dict) -> str:
    lines = ["| variant | instructions / invoke (run 1; run 2) | latency run 1 (us, IQR) "
             "| latency run 2 (us, IQR) | change |", "|---|---|---|---|---|"]
    for v in a:
        same = "same" if a[v]["instructions"] == b[v]["instructions"] else \
            f"{b[v]['instructions']:,}"
        cells = [f"{r[v]['latency_ms'] * 1e3:.2f} ({r[v]['iqr_ms'] * 1e3:.2f})"
                 + (" noisy" if r[v]["noisy"] else "") for r in (a, b)]
        lines.append(f"| {v} | {a[v]['instructions']:,}; {same} | {cells[0]} | {cells[1]} "
                     f"| {100 * c['moves'][v]:+.1f} % |")
    ra, rb = c["latency_ratios"]
    ia, ib = c["instruction_ratios"]
    lines += [
        "",
        f"final/baseline host latency: {ra:.4f} and {rb:.4f} ({100 * c['ratio_change']:+.1f} %, "
        f"goal within {100 * GOAL_RATIO:g} %: {'met' if c['ratio_ok'] else 'MISSED'})",
        f"final/baseline host instructions: {ia:.6f} and {ib:.6f} (identical counts for every "
        f"variant: {'yes' if c['instructions_identical'] else 'NO'})",
        f"largest latency change: {c['worst']} {100 * c['moves'][c['worst']]:+.1f} % (goal within "
        f"{100 * GOAL_MOVE:g} %: {'met' if c['moves_ok'] else 'MISSED'})"]
    return "\n".join(lines)


def deploy_targets(config: dict) -> list[str]:
    from tinyeit.config import engines

    return [f"results/deploy/{b}/{e}/{v}/profile.json" for b in sorted(config["boards"])
            for e in engines(config) for v in config["variants"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyeit.bench")
    parser.add_argument("what", choices=["ml", "deploy", "latency"])
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", type=Path, help="run in this new folder and keep its results")
    parser.add_argument("--runs", type=int, default=2, help="latency: clean runs (default 2)")
    parser.add_argument("--reuse", type=Path,
                        help="latency: a workflow folder whose model side exists; measure its "
                        ".tflite files --runs times (forced reruns) instead of clean runs")
    args = parser.parse_args(argv)
    if args.what == "latency":
        return _latency(args)
    config = yaml.safe_load(args.config.read_text())
    log = Path(tempfile.gettempdir()) / "tinyeit-bench.log"
    with tempfile.TemporaryDirectory(prefix="tinyeit-bench-") as tmp:
        workdir = copy_workflow(args.keep or Path(tmp), args.config)
        model_time = _timed(workdir, args.cores, model_targets(config), log)
        print(f"| model side ({args.config.name}: {len(config['variants'])} variants) "
              f"| {args.cores} cores | {model_time / 60:.1f} min |")
        if args.what == "deploy":
            from tinyeit.config import engines
            from tinyeit.report.summary import load_summary
            from tinyeit.report.tables import engines_markdown

            deploy_time = _timed(workdir, args.cores, deploy_targets(config), log)
            n = len(config["variants"]) * len(config["boards"]) * len(engines(config))
            print(f"| firmware + emulated profiling ({n} board/engine/variant triples) | {args.cores} cores "
                  f"| {deploy_time / 60:.1f} min |")
            _timed(workdir, args.cores, ["results/summary.json"], log)
            print()
            print(engines_markdown(load_summary(workdir / "results/summary.json")), end="")
    return 0


def _latency(args) -> int:
    """`--runs` clean runs of the model side and the host cost rules, compared."""
    config = yaml.safe_load(args.config.read_text())
    variants = list(config["variants"])
    log = Path(tempfile.gettempdir()) / "tinyeit-bench.log"
    runs = []
    with tempfile.TemporaryDirectory(prefix="tinyeit-bench-") as tmp:
        base = args.keep or Path(tmp)
        for i in range(1, args.runs + 1):
            if args.reuse:   # options after the targets: --forcerun takes every word after it
                workdir, model_time = args.reuse, 0.0
                force = {"latency": ["--forcerun", "host_latency"],
                         "instructions": ["--forcerun", "host_instructions"]}
            else:
                workdir = copy_workflow(base / f"run{i}", args.config)
                model_time = _timed(workdir, args.cores, model_targets(config), log)
                force = {"latency": [], "instructions": []}
            lat_time = _timed(workdir, args.cores, [t for t in host_targets(config)
                                                    if "latency" in t] + force["latency"], log)
            ins_time = _timed(workdir, args.cores, [t for t in host_targets(config)
                                                    if "instructions" in t]
                              + force["instructions"], log)
            print(f"| run {i}: model side ({len(variants)} variants) | {model_time / 60:.1f} min "
                  f"| host latency rules {lat_time:.0f} s | host instruction rules "
                  f"{ins_time:.0f} s |", flush=True)
            runs.append(host_figures(workdir, variants))
    for i in range(1, len(runs)):
        print(comparison_markdown(runs[0], runs[i], compare_runs(runs[0], runs[i])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
