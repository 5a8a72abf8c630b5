"""Benchmark: emulated profiling of the whole study (every deploy variant on the emulated boards).

    python -m tinyeit.deploy.bench [--config config.yaml] [--boards nano33ble,nicla_sense,rpi4]
                                   [--jobs 2] [--prepare] [--out bench.json]

It times exactly what `snakemake flash_<board>` runs per pair (`profile_pair`), with one job per
board at a time as the rules enforce, `--jobs` boards in parallel, writing the profiles to a
temporary folder (results/ is left alone). The firmware must exist: `--prepare` first builds it
with Snakemake (not timed). Prints one line per pair and the total wall time.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DEFAULT_BOARDS = ("nano33ble", "nicla_sense", "rpi4")


def _pairs(config: dict, boards: list[str]) -> list[tuple[str, str]]:
    """(board, "engine/variant") for every configured engine and deploy variant."""
    from tinyeit.config import deploy_variants, engines

    return [(b, f"{e}/{v}") for b in boards for e in engines(config) for v in deploy_variants(config)]


def _inputs(results: Path, board: str, key: str) -> dict:
    variant = key.split("/", 1)[1]
    return dict(build_json=results / "firmware" / board / key / "build.json",
                frames_npz=results / "tflite" / variant / "frames.npz",
                metrics_json=results / "tflite" / variant / "metrics.json")


def prepare(pairs, results: Path, cores: int) -> None:
    targets = sorted({str(p) for b, v in pairs for p in _inputs(results, b, v).values()})
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), *targets], check=True)


def run_board(config: dict, board: str, variants: list[str], results: Path, out_dir: Path) -> list[dict]:
    from tinyeit.deploy.run import profile_pair

    rows = []
    for key in variants:
        engine, variant = key.split("/", 1)
        start = time.monotonic()
        record = profile_pair(config, board, variant, out=out_dir / board / key / "profile.json",
                              log=io.StringIO(), engine=engine,
                              tflite=results / "tflite" / variant / "model.tflite",
                              **_inputs(results, board, key))
        rows.append({"board": board, "engine": engine, "variant": variant, "status": record["status"],
                     "instructions": record["instructions_per_inference"],
                     "cycles": record["cycles_per_inference"],
                     "outputs_match_host": record["outputs_match_host"],
                     "seconds": round(time.monotonic() - start, 2)})
        print(f"{board:12} {engine:5} {variant:32} {record['status']:22} "
              f"{record['instructions_per_inference'] or '-':>10} "
              f"{record['cycles_per_inference'] or '-':>10} {rows[-1]['seconds']:6.2f} s",
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    from tinyeit import config as study_config

    ap = argparse.ArgumentParser(prog="python -m tinyeit.deploy.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--results", default="results")
    ap.add_argument("--boards", default=",".join(DEFAULT_BOARDS))
    ap.add_argument("--jobs", type=int, default=2, help="boards profiled in parallel")
    ap.add_argument("--prepare", action="store_true", help="build missing firmware first (untimed)")
    ap.add_argument("--out", help="write the timings as JSON here")
    args = ap.parse_args(argv)
    config = study_config.load(args.config)
    boards = [b for b in args.boards.split(",") if b]
    results = Path(args.results)
    pairs = _pairs(config, boards)
    missing = [p for b, v in pairs for p in _inputs(results, b, v).values() if not p.exists()]
    if missing and args.prepare:
        prepare(pairs, results, max(args.jobs, 1))
        missing = [p for p in missing if not p.exists()]
    if missing:
        print(f"missing {len(missing)} input(s), e.g. {missing[0]}; run with --prepare "
              "(or `snakemake` for the firmware) first", file=sys.stderr)
        return 2
    by_board = {b: [v for bb, v in pairs if bb == b] for b in boards}
    with tempfile.TemporaryDirectory(prefix="tinyeit-bench-deploy-") as tmp:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
            futures = [pool.submit(run_board, config, b, vs, results, Path(tmp)) for b, vs in by_board.items()]
            rows = [row for f in futures for row in f.result()]
        total = time.monotonic() - start
    ok = sum(r["status"] == "ok" for r in rows)
    print(f"profiled {len(rows)} pairs ({ok} ok) on {', '.join(boards)} with {args.jobs} "
          f"parallel board(s): {total:.1f} s wall")
    if args.out:
        Path(args.out).write_text(json.dumps({"pairs": rows, "total_seconds": round(total, 1),
                                              "boards": boards, "jobs": args.jobs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
