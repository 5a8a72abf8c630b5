"""A script job's output, Python's and its children's, goes to the job's log file."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(tmp_path, body: str) -> subprocess.CompletedProcess:
    """A script that prints, then runs `body` inside logging_to, then prints again."""
    log = str(tmp_path / "logs" / "job.log")
    code = "\n".join(["import os, subprocess, sys",
                      "from tinyeit.joblog import logging_to",
                      "print('before')",
                      f"with logging_to({log!r}):",
                      textwrap.indent(textwrap.dedent(body).strip(), "    "),
                      "print('after')"])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_python_c_level_and_subprocess_output_all_reach_the_log(tmp_path):
    proc = _run(tmp_path, """
        print("from python")
        print("to stderr", file=sys.stderr)
        os.write(2, b"from the C level\\n")
        subprocess.run(["sh", "-c", "echo from a child"], check=True)
    """)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "logs" / "job.log").read_text()
    for line in ("from python", "to stderr", "from the C level", "from a child"):
        assert line in log
    assert proc.stdout == "before\nafter\n" and proc.stderr == ""


def test_a_failure_is_in_the_log_and_still_fails(tmp_path):
    proc = _run(tmp_path, """
        raise RuntimeError("the step broke")
    """)
    assert proc.returncode != 0
    assert "RuntimeError: the step broke" in (tmp_path / "logs" / "job.log").read_text()
    assert "RuntimeError: the step broke" in proc.stderr  # and on the terminal, for Snakemake
