"""The small study on a real SLURM cluster (`make cluster-up`), checked against a local run.

Needs root on Debian: it starts munged, MariaDB and the SLURM daemons (the project's local
cluster, under .cluster/) when they are not running, and stops what it started afterwards.
Every job must go through sbatch (one sacct record per job Snakemake ran, all COMPLETED), the
results must be the bytes of the session's local run (conftest.py's `small_study`; measured host
latency aside), and the board resource must keep the `profile` jobs of one board apart in time.

This run is also the suite's clean rebuild: a fresh copy of the workflow, another executor and
another PYTHONHASHSEED (4242; the local run has none) must give the same bytes, which
`tinyeit verify` checks as a user would. It runs before the local run is asked for, so under
xdist the two runs go side by side on two workers.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from small_study import SMALL, make_workdir
from tinyeit import manifest
from tinyeit.cluster import Layout, client_env, default_root, down, running, up
from tinyeit.workflow import snakemake as run_snakemake

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.cluster]

# Settings for a small study on an idle local cluster; the profile's own values stay for the rest.
FAST_POLLING = ("--slurm-init-seconds-before-status-checks", "1",
                "--seconds-between-status-checks", "2", "--retries", "0")


@pytest.fixture(scope="module")
def cluster():
    """The project's local cluster: started here unless it runs, and then stopped again (its
    folder removed too when this fixture created it)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: starts munged, mariadbd, slurmdbd, slurmctld and slurmd")
    if not Path("/etc/debian_version").exists():
        pytest.skip("the local cluster is made from Debian's packages")
    layout = Layout(default_root())
    existed = layout.root.exists()
    started = up(layout)
    try:
        yield client_env(layout, base={})
    finally:
        down(layout, only=started)
        if not existed and not running(layout):
            shutil.rmtree(layout.root, ignore_errors=True)


def snakemake(workdir: Path, *args: str) -> str:
    proc = run_snakemake(workdir, *args, pythonpath=workdir / "pkg", environ={"PYTHONHASHSEED": "4242"},
                         capture_output=True, text=True, timeout=3600)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out[-8000:]}")
    return out


def planned_comments(out: str, local_rules: set[str]) -> list[str]:
    """The sbatch comment the executor gives each job of a dry run (rule and wildcard values),
    for every job but those of `local_rules`."""
    comments = []
    for rule, body in re.findall(r"^rule (\w+):\n((?:    .*\n)*)", out, flags=re.M):
        if rule in local_rules:
            continue
        wildcards = re.search(r"^    wildcards: (.*)$", body, flags=re.M)
        values = [kv.split("=", 1)[1] for kv in wildcards.group(1).split(", ")] if wildcards else []
        comments.append(f"rule_{rule}_wildcards_{'_'.join(values)}" if values else f"rule_{rule}")
    return sorted(comments)


def sacct_records(env: dict, run_id: str, since: datetime) -> list[dict]:
    fields = ["JobID", "JobName", "State", "Start", "End", "Comment"]
    proc = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--name", run_id, "-S", since.strftime("%Y-%m-%dT%H:%M:%S"),
         "-o", ",".join(fields)], capture_output=True, text=True, env=env, timeout=60, check=True)
    return [dict(zip(fields, line.split("|", len(fields) - 1))) for line in proc.stdout.splitlines()]


def profile_windows(records: list[dict], boards: list[str]) -> dict[str, list[tuple[datetime, datetime]]]:
    """Board -> (start, end) of each of its profile jobs, from the jobs' comments."""
    windows: dict[str, list] = {b: [] for b in boards}
    for r in records:
        if not r["Comment"].startswith("rule_profile_"):
            continue
        board = [b for b in boards if r["Comment"].startswith(f"rule_profile_wildcards_{b}_")]
        assert len(board) == 1, r
        windows[board[0]].append((datetime.fromisoformat(r["Start"]), datetime.fromisoformat(r["End"])))
    return windows


def test_small_study_on_slurm_matches_a_local_run(cluster, request, offline_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_CONF", cluster["SLURM_CONF"])
    monkeypatch.setenv("PATH", f"{cluster['PATH'].split(os.pathsep)[0]}{os.pathsep}{os.environ['PATH']}")
    workdir = make_workdir(tmp_path / "slurm", offline_url)
    plan = snakemake(workdir, "--profile", "profiles/slurm", "--dry-run", "all")
    since = datetime.now() - timedelta(minutes=1)
    out = snakemake(workdir, "--profile", "profiles/slurm", *FAST_POLLING, "all")

    run_id = re.search(r"SLURM run ID: (\S+)", out).group(1)
    submitted = set(re.findall(r"submitted with SLURM jobid (\d+)", out))
    local_rules = set(re.findall(r"^localrule (\w+):", out, flags=re.M))
    assert local_rules == {"all"}, out[-3000:]  # the target rule alone runs in this process
    expected = planned_comments(plan, local_rules)
    records = sacct_records(dict(os.environ), run_id, since)
    assert {r["JobID"] for r in records} == submitted and len(records) == len(submitted)
    assert sorted(r["Comment"] for r in records) == expected
    assert {r["State"] for r in records} == {"COMPLETED"}, [r for r in records if r["State"] != "COMPLETED"]

    boards = list(yaml.safe_load(SMALL.read_text())["boards"])
    windows = profile_windows(records, boards)
    assert sum(len(w) for w in windows.values()) == sum(c.startswith("rule_profile_") for c in expected)
    for board, spans in windows.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert end <= start, f"two profile jobs of {board} overlapped: {spans}"

    # The workflow's own manifest of the session's local run (asked for only now, see above)
    # against the SLURM run's results, with the user's command, and the two runs' manifests
    # (written by the `manifest` rule, there a SLURM job) against each other.
    local = request.getfixturevalue("small_study")
    reference = local / "results" / manifest.MANIFEST_NAME
    differences = manifest.compare(reference, workdir / "results")
    assert differences == [], "\n".join(map(str, differences))
    proc = subprocess.run([sys.executable, "-m", "tinyeit.cli", "verify", str(reference),
                           "--results", str(workdir / "results")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert (workdir / "results" / manifest.MANIFEST_NAME).read_bytes() == reference.read_bytes()
