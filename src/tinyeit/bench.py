"""Benchmarks of whole stages, run through the real workflow in a scratch copy of it.

`python -m tinyeit.bench ml [--config FILE]`: wall time of the model side (dataset to every
variant's .tflite, accuracy and metrics). `python -m tinyeit.bench deploy`: wall time of
firmware and emulated profiling (every engine) once the model side exists, then the engine
comparison per board (`tinyeit engines`). Times are for the README, never
asserted in tests: the machines are shared and noisy.
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


def deploy_targets(config: dict) -> list[str]:
    from tinyeit.config import engines

    return [f"results/deploy/{b}/{e}/{v}/profile.json" for b in sorted(config["boards"])
            for e in engines(config) for v in config["variants"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyeit.bench")
    parser.add_argument("what", choices=["ml", "deploy"])
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", type=Path, help="run in this new folder and keep its results")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
