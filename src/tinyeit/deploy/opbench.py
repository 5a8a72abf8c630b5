"""Benchmark: per-op cost of the generated C on the emulated boards, beside TFLite Micro.

    python -m tinyeit.deploy.opbench [--results results] [--variants a,b,...] [--out ops.json]

For each variant (its `tflite/<variant>/model.tflite` and `frames.npz` under --results) and each
board (nano33ble: Cortex-M4 cycle model; rpi4: aarch64 instructions), the generated C is built
twice with the study's own firmware build: as the study builds it (the total per inference), and
with a marker call after every op (`generator.build(marks=True)`), whose counts split one
inference into ops (each op then also carries the marker's few instructions). Where the tflm
engine's firmware of the same variant exists (`firmware/<board>/tflm/<variant>/`), it is run
under the same model for the ratio. Everything is deterministic: same sources, same figures.
Prints markdown tables and writes the figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

from tinyeit.atomic import write_text

DEFAULT_VARIANTS = ("baseline", "baseline+ptq_int8", "baseline+kd+fp", "baseline+kd+fp+ptq_int8")
DEFAULT_BOARDS = ("nano33ble", "rpi4")
N_FRAMES = 2
MARK = "tinyeit_op_mark"


def _board_cfg(config: dict, board: str) -> dict:
    from tinyeit.errors import TinyEitError

    boards = config.get("boards", {})
    if board not in boards:
        raise TinyEitError(f"board {board!r} is not in the config's boards ({', '.join(boards)})")
    return boards[board]


def _build(board: str, cfg: dict, variant: str, tflite: Path, frames: Path, work: Path,
           marks: bool) -> tuple[Path, list]:
    from tinyeit.codegen.generator import build
    from tinyeit.firmware.build import build_firmware

    from tinyeit.codegen import WEIGHTS_JSON, weights_of

    gen = build(str(tflite), marks=marks)
    code = work / ("code-marked" if marks else "code")
    for name, text in gen["files"].items():
        write_text(code / name, text)
    write_text(code / WEIGHTS_JSON, json.dumps(weights_of(gen, tflite)))
    out = work / ("fw-marked" if marks else "fw")
    record = build_firmware(board, cfg, variant, code, frames, out, n_frames=N_FRAMES)
    if record.get("status") != "ok":
        raise RuntimeError(f"{board}/{variant}: firmware build {record.get('status')}: "
                           f"{record.get('reason')}")
    return out / record["image"], gen["op_marks"], record


def _run(cfg: dict, image: Path, marker: str | None = None):
    from tinyeit.deploy import emulator

    if cfg["family"] == "cortex_m4f":
        return emulator.run_cortex_m(image, 600, **({"marker_symbol": marker} if marker else {}))
    return emulator.run_aarch64(image, 600)


def check_outputs(run, frames: Path, where: str) -> bool:
    """The run's outputs against LiteRT's (frames.npz): bit-exact for int8, the study's float
    tolerance for float; a mismatch is an error, not a figure."""
    from tinyeit.deploy import profile, protocol

    parsed = protocol.parse(run.stdout, where=where)
    verdict = profile.compare_outputs(parsed, profile.expected_outputs(frames))
    if not verdict["outputs_match_host"]:
        raise RuntimeError(f"{where}: outputs differ from LiteRT's (max abs diff "
                           f"{verdict['outputs_max_abs_diff']})")
    return bool(verdict["outputs_exact"])


def _cost(cfg: dict, run) -> int:
    """One inference's cost: cycles on the Cortex-M4 model, else instructions (first frame)."""
    values = run.cycles if cfg["family"] == "cortex_m4f" else run.instructions
    if run.returncode != 0 or not values:
        raise RuntimeError(f"emulated run failed (exit {run.returncode}):\n{run.stderr[-2000:]}")
    return int(values[0])


def per_op(cfg: dict, run, op_marks: list) -> list[dict]:
    """Split the first inference's marks into ops: [{index, name, cost}], in call order."""
    m4 = cfg["family"] == "cortex_m4f"
    counts = [(c if m4 else i) for i, c in run.marks]
    # aarch64: the harness's own clock reads come before and after the op marks
    first = counts[0:len(op_marks) + 1] if m4 else counts[1:len(op_marks) + 2]
    if len(first) != len(op_marks) + 1:
        raise RuntimeError(f"expected {len(op_marks) + 1} marks per inference, got {len(counts)}")
    return [{"index": k, "name": name, "cost": b - a}
            for (k, name), a, b in zip(op_marks, first[:-1], first[1:])]


def by_name(ops: list[dict]) -> dict[str, int]:
    sums: dict[str, int] = OrderedDict()
    for op in ops:
        sums[op["name"]] = sums.get(op["name"], 0) + op["cost"]
    return dict(sums)


def profile_variant(config: dict, board: str, variant: str, results: Path, work: Path) -> dict:
    cfg = _board_cfg(config, board)
    tflite = results / "tflite" / variant / "model.tflite"
    frames = results / "tflite" / variant / "frames.npz"
    vwork = work / board / variant
    image, _, record = _build(board, cfg, variant, tflite, frames, vwork, marks=False)
    run = _run(cfg, image)
    total = _cost(cfg, run)
    exact = check_outputs(run, frames, f"{board}/{variant}")
    image_m, op_marks, _ = _build(board, cfg, variant, tflite, frames, vwork, marks=True)
    ops = per_op(cfg, _run(cfg, image_m, MARK), op_marks)
    row = {"board": board, "variant": variant, "unit": "cycles" if cfg["family"] == "cortex_m4f"
           else "instructions", "aot": total, "exact": exact, "ops": ops,
           "aot_flash": record.get("flash_bytes"), "aot_arena": record.get("arena_bytes"), "by_op": by_name(ops), "tflm": None,
           **{k: record.get(k) for k in ("weight_format", "weight_bytes", "weight_ram_bytes",
                                         "macs_executed")}}
    tflm_dir = results / "firmware" / board / "tflm" / variant
    tflm_image = tflm_dir / ("firmware.elf" if cfg["family"] == "cortex_m4f" else "firmware")
    if tflm_image.is_file():
        from tinyeit.atomic import read_json

        row["tflm"] = _cost(cfg, _run(cfg, tflm_image))
        if (tflm_dir / "build.json").is_file():
            built = read_json(tflm_dir / "build.json", "the tflm firmware record")
            row["tflm_flash"], row["tflm_arena"] = built.get("flash_bytes"), built.get("arena_bytes")
    return row


def markdown(rows: list[dict]) -> str:
    lines = ["| board | variant | unit | generated C | tflm | ratio | flash B (C / tflm) | "
             "arena B (C / tflm) | weights B (C) | weights in RAM B (C) | MACs executed | "
             "weight format |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ratio = f"{r['aot'] / r['tflm']:.2f}" if r["tflm"] else "-"
        tflm = f"{r['tflm']:,}" if r["tflm"] else "-"
        lines.append(f"| {r['board']} | {r['variant']} | {r['unit']} | {r['aot']:,} | {tflm} | "
                     f"{ratio} | {r.get('aot_flash')} / {r.get('tflm_flash', '-')} | "
                     f"{r.get('aot_arena')} / {r.get('tflm_arena', '-')} | "
                     f"{r.get('weight_bytes')} | {r.get('weight_ram_bytes')} | "
                     f"{r.get('macs_executed')} | {r.get('weight_format')} |")
    lines += ["", "| board | variant | " + "per op (sum by op type, marker calls included) |",
              "|---|---|---|"]
    for r in rows:
        parts = ", ".join(f"{k} {v:,}" for k, v in r["by_op"].items())
        lines.append(f"| {r['board']} | {r['variant']} | {parts} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from tinyeit import config as study_config

    ap = argparse.ArgumentParser(prog="python -m tinyeit.deploy.opbench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--results", default="results")
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    ap.add_argument("--boards", default=",".join(DEFAULT_BOARDS))
    ap.add_argument("--out", help="write the figures as JSON here")
    args = ap.parse_args(argv)
    config = study_config.load(args.config)
    results = Path(args.results)
    variants = [v for v in args.variants.split(",") if v]
    missing = [v for v in variants if not (results / "tflite" / v / "model.tflite").is_file()]
    if missing:
        print(f"{results}: no tflite/{missing[0]}/model.tflite (run the study's export first)",
              file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinyeit-opbench-") as tmp:
        for board in [b for b in args.boards.split(",") if b]:
            for v in variants:
                rows.append(profile_variant(config, board, v, results, Path(tmp)))
                r = rows[-1]
                print(f"{board:10} {v:28} {r['unit']:12} aot {r['aot']:>9,} tflm "
                      f"{r['tflm'] or 0:>9,}", flush=True)
    print(markdown(rows))
    if args.out:
        write_text(args.out, json.dumps({"rows": rows}, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
