"""Instructions per LiteRT invoke() on the host, counted by callgrind: a cost no load changes.

Host latency depends on what else the machine runs; the instruction count does not. A small
child process (`tinyeit.export.invoke_child`) sets up the interpreter the latency measurement
uses (LiteRT's default resolver: optimized kernels + XNNPACK, one thread) on the same frame and
calls invoke() `1 + INVOCATIONS` times under `valgrind --tool=callgrind`. Collection is off
except inside LiteRT's `InterpreterWrapper::Invoke` (the C++ side of Python's invoke()), and a
profile part is dumped after each call, so every invoke() gets its own exact count; Python's
start-up and the interpreter's set-up are never counted. They even run uninstrumented (about
2.5 times faster): the child says when it is set up, `callgrind_control -i on` turns
instrumentation on, and only then does the child call invoke(). The first call (one-time work) is
reported apart; the figure is the median of the others (they are equal in practice).

Counts are of the instructions valgrind executes for this CPU's features (XNNPACK picks its
kernels by them, as valgrind presents them), so they are exact and repeatable on one machine
and comparable across variants, not across machines with different instruction sets.
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tinyeit.atomic import write_json
from tinyeit.errors import TinyEitError
from tinyeit.export.host_latency import INTERPRETER

FUNCTION = "tflite::interpreter_wrapper::InterpreterWrapper::Invoke(int)"
INVOCATIONS = 3
REFERENCE_INTERPRETER = "LiteRT BUILTIN_REF reference kernels, num_threads=1"


class InstructionCountError(TinyEitError):
    """valgrind is missing, failed, or counted nothing inside LiteRT's invoke()."""


def valgrind_version() -> str:
    exe = shutil.which("valgrind")
    if exe is None or shutil.which("callgrind_control") is None:
        raise InstructionCountError(
            "valgrind (or its callgrind_control) not found on PATH: host instruction counts "
            "need it (Debian package "
            "'valgrind', listed in envs/debian-packages.txt; `make host-deps` installs it)")
    return subprocess.run([exe, "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _parts(out_base: Path) -> list[int]:
    """Ir of each dumped part (cg.out.1, cg.out.2, ...), in call order."""
    counts = {}
    for part in out_base.parent.glob(out_base.name + ".*"):
        suffix = part.name[len(out_base.name) + 1:]
        if not suffix.isdigit():
            continue
        m = re.search(r"^summary:\s+(\d+)", part.read_text(errors="replace"), re.M)
        if m is None:
            raise InstructionCountError(f"callgrind wrote {part.name} without a summary line")
        counts[int(suffix)] = int(m.group(1))
    return [counts[k] for k in sorted(counts)]


def per_invoke(tflite_path: str | Path, frames_path: str | Path,
               invocations: int = INVOCATIONS, reference: bool = False) -> list[int]:
    """Instructions of each of the 1 + `invocations` invoke() calls of a fresh interpreter."""
    valgrind_version()
    with tempfile.TemporaryDirectory(prefix="tinyeit-callgrind-") as tmp:
        out = Path(tmp) / "cg.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--instr-atstart=no", "--collect-atstart=no", f"--toggle-collect={FUNCTION}",
               f"--dump-after={FUNCTION}",
               sys.executable, "-m", "tinyeit.export.invoke_child", str(tflite_path),
               str(frames_path), str(invocations + 1)] + (["ref"] if reference else [])
        env = {**os.environ, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
        with open(Path(tmp) / "stderr", "w+") as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, text=True, env=env)
            try:
                ready = proc.stdout.readline().strip() == "ready"
                if ready:
                    ctl = subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)],
                                         capture_output=True, text=True, timeout=600)
                    ready = ctl.returncode == 0
                    proc.stdin.write("go\n")
                    proc.stdin.close()
                proc.stdout.read()
                code = proc.wait(timeout=3600)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            err.seek(0)
            stderr = err.read()
        if code != 0 or not ready:
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            what = f"exit {code}" if code != 0 else "instrumentation could not be turned on"
            raise InstructionCountError(f"{tflite_path}: callgrind run failed ({what}):\n{tail}")
        counts = _parts(out)
    if len(counts) != invocations + 1 or not all(counts):
        raise InstructionCountError(
            f"{tflite_path}: callgrind counted {counts} for {invocations + 1} invoke() calls; "
            f"expected one non-zero count per call inside {FUNCTION} (has LiteRT renamed it?)")
    return counts


def count(tflite_path: str | Path, frames_path: str | Path, variant: str,
          invocations: int = INVOCATIONS) -> dict:
    counts = per_invoke(tflite_path, frames_path, invocations)
    return {
        "variant": variant,
        "interpreter": INTERPRETER,
        "counter": f"{valgrind_version()} callgrind: instructions executed inside {FUNCTION}",
        "host_instructions_per_invoke": int(statistics.median_low(counts[1:])),
        "first_invoke_instructions": counts[0],
        "per_invoke": counts,
    }


def write(tflite_path: str, frames_path: str, variant: str, out: str) -> dict:
    if not Path(tflite_path).is_file():   # named here, not in the counting child's traceback
        raise InstructionCountError(f"{tflite_path}: model file not found")
    from tinyeit.export.host_latency import first_frame
    first_frame(frames_path)
    record = count(tflite_path, frames_path, variant)
    write_json(out, record)
    return record
