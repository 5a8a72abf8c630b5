"""The real report rule (rules/report.smk) run by Snakemake in a workflow that holds only it and a
given summary: what the report tests and the bad-input tests both need."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from test_report_data import small_host_latency

ROOT = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake of this venv in `workdir`, one core; fails the test with its output if it fails."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", *args],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def report_workflow(workdir: Path, summary: dict) -> Path:
    """Lay out (or update) the one-rule workflow with `summary`, run it, return results/report."""
    (workdir / "rules").mkdir(exist_ok=True)
    shutil.copy(ROOT / "rules" / "report.smk", workdir / "rules" / "report.smk")
    if not (workdir / "report").exists():
        shutil.copytree(ROOT / "report", workdir / "report")
        shutil.copytree(ROOT / "envs", workdir / "envs")   # the rule names its conda env
    (workdir / "results").mkdir(exist_ok=True)
    (workdir / "results" / "summary.json").write_text(json.dumps(summary))
    (workdir / "results" / "host_latency.json").write_text(json.dumps(small_host_latency()))
    (workdir / "Snakefile").write_text(
        f"BOARDS = {json.dumps(summary['boards'])}\n"
        "ENV = '../envs/tinyeit.yaml'\n"
        "include: 'rules/report.smk'\n"
        "rule all:\n    default_target: True\n    input: rules.report.output\n")
    snakemake(workdir)
    return workdir / "results" / "report"
