"""Benchmarks of whole stages, run through the real workflow in a scratch copy of it.

`python -m tinyeit.bench ml [--config FILE]`: wall time of the model side (dataset to every
variant's .tflite, accuracy and metrics). `python -m tinyeit.bench deploy`: wall time of
firmware and emulated profiling once the model side exists. Times are for the README, never
asserted in tests: the machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _workdir(config: Path, into: Path) -> Path:
    for name in ("Snakefile", "rules", "scripts", "report"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, into / name)
        elif src.exists():
            shutil.copy(src, into / name)
    shutil.copy(config, into / "config.yaml")
    return into


def _snakemake(workdir: Path, cores: int, targets: list[str], log: Path) -> float:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", PYTHONHASHSEED="0",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), *targets],
                              cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed (exit {proc.returncode}); its log: {log}")
    return time.perf_counter() - start


def model_targets(config: dict) -> list[str]:
    return [f"results/tflite/{v}/{name}" for v in config["variants"]
            for name in ("model.tflite", "accuracy.json", "metrics.json")]


def deploy_targets(config: dict) -> list[str]:
    return [f"results/deploy/{b}/{v}/profile.json" for b in sorted(config["boards"])
            for v in config["variants"]]


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
        if args.keep:
            args.keep.mkdir(parents=True)
        workdir = _workdir(args.config, args.keep or Path(tmp))
        model_time = _snakemake(workdir, args.cores, model_targets(config), log)
        print(f"| model side ({args.config.name}: {len(config['variants'])} variants) "
              f"| {args.cores} cores | {model_time / 60:.1f} min |")
        if args.what == "deploy":
            deploy_time = _snakemake(workdir, args.cores, deploy_targets(config), log)
            n = len(config["variants"]) * len(config["boards"])
            print(f"| firmware + emulated profiling ({n} pairs) | {args.cores} cores "
                  f"| {deploy_time / 60:.1f} min |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
