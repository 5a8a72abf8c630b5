"""Snakemake's own conventions, as the snakemake-workflows catalog checks them: `snakemake
--lint` finds nothing (logs, benchmarks, conda envs, no functions among rules) and snakefmt
would change nothing. Any finding fails, with Snakemake's or snakefmt's own words."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tinyeit.workflow import ROOT, copy_workflow, snakemake

CONFIGS = {"default": ROOT / "config.yaml", "small": ROOT / "tests" / "configs" / "small.yaml"}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_snakemake_lint_finds_nothing(tmp_path, name):
    workdir = copy_workflow(tmp_path / name, CONFIGS[name])
    proc = snakemake(workdir, "--lint", capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Lints for" not in out, out[-6000:]
    assert "your workflow is in a good condition" in out, out[-3000:]


def test_snakefmt_would_change_nothing():
    proc = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "--diff", "Snakefile", "rules/"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


BENCHMARKED = {"baseline", "kd", "fp", "prune", "cluster", "qat", "export", "firmware", "profile"}


def test_every_job_logs_to_a_file_of_its_own_and_the_costly_ones_are_benchmarked(tmp_path):
    """From the jobs Snakemake plans for the default study: a log under logs/ for every job
    that runs something (one file per job), a benchmark under benchmarks/ for training,
    export, firmware and profiling, and the shell jobs' output sent to their log."""
    workdir = copy_workflow(tmp_path / "plan", CONFIGS["default"])
    proc = snakemake(workdir, "--dry-run", "--printshellcmds", "all", capture_output=True, text=True,
                     timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    blocks = re.split(r"^rule (\w+):\s*$", proc.stdout + proc.stderr, flags=re.M)
    jobs = list(zip(blocks[1::2], blocks[2::2]))
    assert {rule for rule, _ in jobs} >= BENCHMARKED | {"dataset", "codegen", "summary", "report", "manifest"}
    logs = []
    for rule, body in jobs:
        if rule == "all":
            continue
        log = re.search(r"^\s+log: (\S+)$", body, re.M)
        assert log and log.group(1).startswith("logs/"), (rule, body[:400])
        logs.append(log.group(1))
        benchmark = re.search(r"^\s+benchmark: (\S+)$", body, re.M)
        if rule in BENCHMARKED:
            assert benchmark and benchmark.group(1).startswith("benchmarks/"), (rule, body[:400])
        command = re.search(r"^Shell command: (.*)$", body, re.M).group(1)
        if command != "None":  # a script job sends its output to the log itself (tinyeit.joblog)
            assert command.endswith(f"> {log.group(1)} 2>&1"), (rule, command)
    assert len(logs) == len(set(logs)), "two jobs share a log file"


def test_every_rule_names_the_pinned_conda_env():
    """The lint wants an env per rule; this one is the file test_envs holds against the lock."""
    common = (ROOT / "rules" / "common.smk").read_text()
    assert re.search(r'^ENV = "\.\./envs/tinyeit\.yaml"$', common, re.M)
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for block in re.split(r"^\s*rule\b", smk.read_text(), flags=re.M)[1:]:
            if re.search(r"^\s+(shell|script):", block, re.M):
                assert re.search(r"^\s+conda:\s*\n\s+ENV\s*$", block, re.M), (smk.name, block[:300])
