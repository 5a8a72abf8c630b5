"""The host-tool doctor: real tools pass, a broken or missing one is named with its package."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from tinyeit import doctor


def _fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_every_host_tool_works_here():
    # make test runs host-deps first, which installs every package the checks name
    assert doctor.diagnose() == []


def test_compiler_without_its_c_library_is_named_with_the_package(tmp_path, monkeypatch):
    # what a cross compiler without libc6-dev-arm64-cross does: it runs, but finds no math.h
    _fake_tool(tmp_path, "aarch64-linux-gnu-gcc",
               'echo "probe.c:2:10: fatal error: math.h: No such file or directory" >&2; exit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    check = next(c for c in doctor.CHECKS if c.argv[0] == "aarch64-linux-gnu-gcc")
    problems = doctor.diagnose([check])
    assert len(problems) == 1
    assert "math.h" in problems[0][1]
    assert "libc6-dev-arm64-cross" in problems[0][0].packages


def test_missing_tool_and_main_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "CHECKS", (doctor.Check("a tool", ("no-such-tool-xyz", "--version"),
                                                         ("some-package",)),))
    assert doctor.main([]) == 1
    err = capsys.readouterr().err
    assert "`no-such-tool-xyz` is not on PATH" in err and "apt-get install some-package" in err


def test_a_hanging_tool_is_cut_by_the_timeout(tmp_path, monkeypatch):
    _fake_tool(tmp_path, "cc", "sleep 30\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    check = next(c for c in doctor.CHECKS if c.argv[0] == "cc")
    problem = doctor.run_check(check, tmp_path, timeout_s=1.0)
    assert problem is not None and "did not finish" in problem
