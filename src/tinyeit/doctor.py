"""`python -m tinyeit.doctor` (`make doctor`): does every host tool the study and the tests call work?

A package can be installed and still useless (a cross compiler without its C library finds no
`math.h`), and a green run on one machine can hide a tool that was installed by hand. So each
check runs the tool the way the project does (compilers compile and link a C file using
<stdint.h> and <math.h>) and, when it fails, names the Debian package that provides it.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_PROBE_C = """\
#include <stdint.h>
#include <math.h>
volatile float x = 2.0f;
int main(void) { int32_t y = (int32_t)(sqrtf(x) * 1000.0f); return y == 1414 ? 0 : 1; }
"""


@dataclass(frozen=True)
class Check:
    name: str                 # what the project uses it for
    argv: tuple[str, ...]     # the probe; "{src}" and "{out}" are filled in for compilers
    packages: tuple[str, ...]  # Debian packages that make it work


CHECKS = (
    Check("host C compiler (generated C checks, QEMU plugins)",
          ("cc", "-O1", "-o", "{out}", "{src}", "-lm"), ("gcc", "libc6-dev")),
    Check("Cortex-M cross compiler with newlib",
          ("arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
           "--specs=nosys.specs", "-o", "{out}", "{src}", "-lm"),
          ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi")),
    Check("aarch64 cross compiler with its C library",
          ("aarch64-linux-gnu-gcc", "-static", "-o", "{out}", "{src}", "-lm"),
          ("gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross")),
    Check("Cortex-M4F emulator", ("qemu-system-arm", "--version"), ("qemu-system-arm",)),
    Check("aarch64 user-mode emulator", ("qemu-aarch64", "--version"), ("qemu-user",)),
    Check("instruction counter", ("valgrind", "--version"), ("valgrind",)),
    Check("headless browser (report test)", ("chromium", "--version"), ("chromium",)),
    Check("base-image bootstrap", ("debootstrap", "--version"), ("debootstrap",)),
    Check("Docker engine (toolchain images)", ("docker", "info", "--format", "{{.ServerVersion}}"),
          ("docker.io",)),
)


def run_check(check: Check, work: Path, timeout_s: float = 120.0) -> str | None:
    """None when the tool works, else one line saying what failed."""
    if shutil.which(check.argv[0]) is None:
        return f"`{check.argv[0]}` is not on PATH"
    src, out = work / "probe.c", work / f"probe-{check.argv[0]}"
    src.write_text(_PROBE_C)
    argv = [a.format(src=src, out=out) if a in ("{src}", "{out}") else a for a in check.argv]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(argv)}` did not finish in {timeout_s:g} s"
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return f"`{argv[0]}` failed: {detail[0] if detail else f'exit {proc.returncode}'}"
    return None


def diagnose(checks=None) -> list[tuple[Check, str]]:
    """(check, problem) for every check that fails (all of CHECKS by default)."""
    checks = CHECKS if checks is None else checks
    with tempfile.TemporaryDirectory(prefix="tinyeit-doctor-") as work:
        results = [(check, run_check(check, Path(work))) for check in checks]
    return [(check, problem) for check, problem in results if problem]


def main(argv: list[str] | None = None) -> int:
    problems = diagnose()
    for check, problem in problems:
        print(f"tinyeit doctor: {check.name}: {problem}; install the Debian package(s) "
              f"{' '.join(check.packages)} (apt-get install {' '.join(check.packages)})",
              file=sys.stderr)
    if problems:
        return 1
    print(f"tinyeit doctor: all {len(CHECKS)} host tools work", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
