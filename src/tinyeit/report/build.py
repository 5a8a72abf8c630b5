"""Render the whole report folder from a summary: tables as CSV, plots as PNG, one HTML page.

Every file is written atomically (temp file in the same folder, then rename), so a failure
leaves either the previous file or the new one, never a partial one.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tinyeit.atomic import write_bytes
from tinyeit.report import plots, tables
from tinyeit.report.html import render_html
from tinyeit.report.recommend import recommend
from tinyeit.report.summary import Summary, SummaryError, load_summary

CSV_TABLES = ("variants", "deployments", "gains", "paper", "engines")
BOARD_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
PER_BOARD_GLOB = "latency_*.png"


def report_files(board_keys: list[str]) -> list[str]:
    """The file names `render_report` writes, for a study with these boards."""
    return (["index.html"] + [f"{t}.csv" for t in CSV_TABLES]
            + ["accuracy_vs_size.png", "gains.png", "engines.png"]
            + [f"latency_{b}.png" for b in board_keys])


def build_report(summary: Summary, summary_sha256: str) -> dict[str, bytes]:
    """Every report file's name and bytes, computed in memory (nothing written)."""
    for board in summary.board_keys:
        if not BOARD_KEY.match(board):
            raise SummaryError(f"{summary.path}: board key {board!r} cannot name a file "
                               "(letters, digits, '_' and '-' only)")
    tabs = {"variants": tables.variants_table(summary),
            "deployments": tables.deployments_table(summary),
            "gains": tables.gains_table(summary), "paper": tables.paper_table(summary),
            "engines": tables.engines_table(summary)}
    pngs = {"accuracy_vs_size.png": plots.accuracy_vs_size_png(summary),
            "gains.png": plots.gains_png(summary), "engines.png": plots.engines_png(summary)}
    for board in summary.board_keys:
        pngs[f"latency_{board}.png"] = plots.board_latency_png(summary, board)
    recs = [recommend(summary, b) for b in summary.board_keys]
    files = {"index.html": render_html(summary, summary_sha256, tabs, pngs, recs).encode()}
    files.update({f"{name}.csv": tabs[name].to_csv().encode() for name in CSV_TABLES})
    files.update(pngs)
    return files


def render_report(summary_path: str | Path, out_dir: str | Path,
                  host_latency_path: str | Path | None = None) -> list[Path]:
    """Read the summary (and the measured host latencies, when given), write the report
    folder, return the written paths."""
    summary_path = Path(summary_path)
    summary = load_summary(summary_path, host_latency_path)
    digest = hashlib.sha256(summary_path.read_bytes()).hexdigest()
    files = build_report(summary, digest)
    out = Path(out_dir)
    written = []
    for name in report_files(summary.board_keys):
        write_bytes(out / name, files[name])
        written.append(out / name)
    remove_stale(out, {p.name for p in written})
    return written


def remove_stale(out_dir: Path, current: set[str]) -> list[Path]:
    """Delete per-board plots of boards no longer in the study (a board removed from the config),
    so the report folder holds only what this summary reports; return what was removed."""
    stale = [p for p in sorted(Path(out_dir).glob(PER_BOARD_GLOB)) if p.name not in current]
    for path in stale:
        path.unlink()
    return stale
