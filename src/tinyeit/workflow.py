"""Run the study's Snakemake workflow from Python, in a folder of its own.

Benchmarks and the integration tests need what a user has: the Snakefile, rules, scripts and a
config.yaml in one folder, and Snakemake started from the same Python as the package (so the
rules find the `tinyeit` command). This module is that, in one place.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "rules", "scripts", "report", "profiles")


def copy_workflow(into: str | os.PathLike, config: str | os.PathLike | dict) -> Path:
    """A copy of the workflow in `into`, with `config` (a file or a mapping) as its config.yaml."""
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, into / name)
        elif src.exists():
            shutil.copy(src, into / name)
    if isinstance(config, dict):
        (into / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    else:
        shutil.copy(config, into / "config.yaml")
    return into


def snakemake_env() -> dict[str, str]:
    return dict(os.environ, TF_USE_LEGACY_KERAS="1", PYTHONHASHSEED="0",
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def snakemake(workdir: str | os.PathLike, *args: str, cores: int = 2, **run) -> subprocess.CompletedProcess:
    """`snakemake --cores N ARGS...` in `workdir`; `run` goes to subprocess.run."""
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), *args],
                          cwd=workdir, env=snakemake_env(), **run)
