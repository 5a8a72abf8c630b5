"""The host's AArch64 cross compiler and user-mode QEMU, as the NEON kernel tests use them."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tinyeit.codegen.generator import kernel_sources

CC = "aarch64-linux-gnu-gcc"
# the rpi4 firmware's flags (tinyeit.firmware.build), contraction left to the kernels' pragma
FLAGS = ["-march=armv8-a", "-O2", "-std=gnu11", "-Wall"]


def require_tools() -> None:
    """Fail (not skip) where the cross compiler or qemu-aarch64 is missing: `make host-deps`
    installs both."""
    import pytest

    for tool in (CC, "qemu-aarch64"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not on PATH (Debian: gcc-aarch64-linux-gnu, qemu-user)")


def write_kernels(folder: Path) -> Path:
    """The generator's kernel sources written into `folder`; returns tinyeit_kernels.c."""
    for name, text in kernel_sources().items():
        (folder / name).write_text(text)
    return folder / "tinyeit_kernels.c"


def function_bodies(asm: str) -> dict[str, str]:
    """gcc -S output split into global functions (label to .size)."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r"^(\w+):\n(.*?)^\s+\.size\s+\1,", asm, re.M | re.S)}


def run_cases(exe: Path) -> tuple[int, int, int, list[str]]:
    """Run a kernel-vs-reference program under qemu-aarch64; its last line is "cases N bad M".
    Returns N, M, the exit status and the output lines."""
    proc = subprocess.run(["qemu-aarch64", str(exe)], capture_output=True, text=True,
                          timeout=600)
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("cases "), proc.stdout[-3000:] + proc.stderr[-2000:]
    cases, bad = (int(v) for v in re.findall(r"\d+", lines[-1]))
    return cases, bad, proc.returncode, lines
