"""The small study (tests/configs/small.yaml) as a user's copy of the workflow: one end-to-end run
shared by the test modules that need one (conftest.py's `small_study`), and the helpers to make
more copies and run Snakemake in them."""
from __future__ import annotations

import subprocess
from pathlib import Path

from offline import point_downloads_at
from tinyeit.workflow import ROOT, copy_package, copy_workflow
from tinyeit.workflow import snakemake as run_snakemake

SMALL = ROOT / "tests" / "configs" / "small.yaml"
SNAKEMAKE_TIMEOUT_S = 3600


def make_workdir(path: Path, offline_url: str) -> Path:
    """A copy of the workflow as a user has it, with the small study as its config.yaml, and
    its own copy of the package (in pkg/) that the jobs run and the tests may change. The images
    that need the internet (arduino, esp-idf) are pointed at `offline_url` (offline.py), so they
    are unavailable here whether or not the internet is reachable."""
    copy_package(path / "pkg")
    workdir = copy_workflow(path, SMALL)
    point_downloads_at(workdir / "docker", offline_url)
    return workdir


def snakemake(workdir: Path, *args: str, check: bool = True,
              environ: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    proc = run_snakemake(workdir, *args, pythonpath=workdir / "pkg", environ=environ,
                         capture_output=True, text=True, timeout=SNAKEMAKE_TIMEOUT_S)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc
