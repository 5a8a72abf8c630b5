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
WORKFLOW_FILES = ("Snakefile", "rules", "scripts", "report", "profiles", "docker", "envs")


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


CODE_SUFFIXES = {".py", ".c", ".cc", ".h", ".ld", ".S", ".ino", ".txt", ".cmake", ".yaml", ".json"}


def stage_code(*stages: str) -> list[str]:
    """The package sources of these stages: an input of their rules, so that a change to the
    code (a kernel, a training loop) reruns what it produced, as a change of data does."""
    root = Path(__file__).parent
    return sorted(str(p) for stage in stages for p in (root / stage).rglob("*")
                  if p.is_file() and p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts)


def module_code(*modules: str) -> list[str]:
    """Single package modules ("codegen/weight_formats.py") a rule of another stage uses: inputs
    of that rule, as stage_code's files are."""
    root = Path(__file__).parent
    missing = [m for m in modules if not (root / m).is_file()]
    if missing:
        raise FileNotFoundError(f"no package module {', '.join(missing)}")
    return [str(root / m) for m in modules]


def copy_package(into: str | os.PathLike) -> Path:
    """A copy of the tinyeit package under `into`; put `into` on PYTHONPATH to run with it
    (the workflow then tracks the copy's sources, which a test may change freely)."""
    into = Path(into)
    shutil.copytree(Path(__file__).parent, into / "tinyeit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return into


def prepare_job_environment() -> None:
    """What the Snakefile sets up for its jobs, which inherit it: Keras 2 for tfmot, quiet
    TensorFlow, and the `tinyeit` command of the Python that runs Snakemake first on PATH
    (also when the venv is not activated)."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def snakemake_env(pythonpath: str | os.PathLike | None = None,
                  environ: dict[str, str | None] | None = None) -> dict[str, str]:
    """The caller's environment as a user's shell has it (PYTHONHASHSEED is not pinned), with
    the venv first on PATH; `environ` sets variables, or removes those it maps to None."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    for name, value in (environ or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def snakemake(workdir: str | os.PathLike, *args: str, cores: int = 2,
              pythonpath: str | os.PathLike | None = None,
              environ: dict[str, str | None] | None = None, **run) -> subprocess.CompletedProcess:
    """`snakemake --cores N ARGS...` in `workdir` (its workflow profile, profiles/default,
    applies as for a user; `--cores` here wins over it); `run` goes to subprocess.run."""
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), *args],
                          cwd=workdir, env=snakemake_env(pythonpath, environ), **run)
