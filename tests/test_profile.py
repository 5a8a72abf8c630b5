"""The default workflow profile (profiles/default) as a user meets it: loaded by a plain
`snakemake`, and what a run needs after Snakemake was killed (`kill -9`) mid-job."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import yaml

from tinyeit.workflow import ROOT, copy_workflow, snakemake, snakemake_env

pytestmark = pytest.mark.slow
DATASET = "results/dataset/dataset.npz"


def _workdir(path):
    config = yaml.safe_load((ROOT / "tests" / "configs" / "small.yaml").read_text())
    return copy_workflow(path, config)


def test_a_plain_run_uses_the_default_profile(tmp_path):
    workdir = _workdir(tmp_path / "w")
    proc = snakemake(workdir, "--dry-run", DATASET, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "workflow specific profile profiles/default" in out
    assert "Shell command:" in out  # printshellcmds from the profile
    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["rerun-incomplete"] is True and profile["cores"] == 4


def test_after_kill_9_a_run_needs_unlock_then_redoes_the_killed_job(tmp_path):
    workdir = _workdir(tmp_path / "w")
    main = subprocess.Popen([sys.executable, "-m", "snakemake", DATASET], cwd=workdir,
                            env=snakemake_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    incomplete = workdir / ".snakemake" / "incomplete"
    try:
        deadline = time.monotonic() + 240
        while not (incomplete.is_dir() and any(incomplete.iterdir())):  # the job has started
            assert main.poll() is None and time.monotonic() < deadline, "the dataset job never started"
            time.sleep(0.2)
        jobs = psutil.Process(main.pid).children(recursive=True)
        os.kill(main.pid, signal.SIGKILL)
        main.wait(timeout=30)
    finally:
        if main.poll() is None:
            main.kill()
    for job in jobs:  # the killed Snakemake's job, orphaned: end it as a reboot would
        try:
            job.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(jobs, timeout=30)
    # a job that had written one of its outputs when it died
    (workdir / DATASET).parent.mkdir(parents=True, exist_ok=True)
    (workdir / DATASET).write_bytes(b"half written")

    locked = snakemake(workdir, DATASET, capture_output=True, text=True, timeout=300)
    assert locked.returncode != 0
    assert "--unlock" in locked.stdout + locked.stderr

    unlock = snakemake(workdir, "--unlock", capture_output=True, text=True, timeout=300)
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    plan = snakemake(workdir, "--dry-run", DATASET, capture_output=True, text=True, timeout=300)
    out = plan.stdout + plan.stderr
    assert plan.returncode == 0 and "IncompleteFilesException" not in out, out[-3000:]
    assert "rule dataset:" in out  # rerun-incomplete: the half-written output is redone
    without = snakemake(workdir, "--dry-run", "--workflow-profile", "none", DATASET,
                        capture_output=True, text=True, timeout=300)
    assert without.returncode != 0 and "IncompleteFilesException" in without.stdout + without.stderr
