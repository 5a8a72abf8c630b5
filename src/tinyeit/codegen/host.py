"""Compile generated C with the host compiler and run it on rows of inputs.

This is how tests and tools hold the C against LiteRT: the same sources that go into every
firmware, built for the host, fed every row of an input array.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

from tinyeit.codegen.model_reader import CodegenError

HARNESS = """\
/* Host harness: reads rows of TINYEIT_INPUT_TYPE from argv[1], writes outputs to argv[2].
 * With argv[3] = N, runs the first row N times (for instruction counting). */
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

static TINYEIT_INPUT_TYPE in_buf[TINYEIT_INPUT_SIZE];
static TINYEIT_OUTPUT_TYPE out_buf[TINYEIT_OUTPUT_SIZE];

int main(int argc, char **argv)
{
    FILE *fi, *fo;
    long repeat = argc > 3 ? atol(argv[3]) : 0;
    if (argc < 3) return 2;
#ifdef TINYEIT_HAS_PREPARE
    if (tinyeit_prepare() != 0) return 7;
#endif
    fi = fopen(argv[1], "rb");
    fo = fopen(argv[2], "wb");
    if (!fi || !fo) return 3;
    if (repeat > 0) {
        long k;
        if (fread(in_buf, sizeof in_buf, 1, fi) != 1) return 4;
        for (k = 0; k < repeat; ++k)
            if (tinyeit_invoke(in_buf, out_buf) != 0) return 5;
        fwrite(out_buf, sizeof out_buf, 1, fo);
    } else {
        while (fread(in_buf, sizeof in_buf, 1, fi) == 1) {
            if (tinyeit_invoke(in_buf, out_buf) != 0) return 5;
            if (fwrite(out_buf, sizeof out_buf, 1, fo) != 1) return 6;
        }
    }
    fclose(fi);
    fclose(fo);
    return 0;
}
"""

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


def compiler() -> str:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise CodegenError(f"no host C compiler: {cc!r} is not on PATH (install gcc)")
    return cc


def build_executable(files: dict[str, str], extra_flags: tuple[str, ...] = ()) -> str:
    """Compile the generated sources plus the harness; cached by content hash."""
    cc = compiler()
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    digest.update(HARNESS.encode() + " ".join(CFLAGS + list(extra_flags)).encode())
    cache = os.path.join(tempfile.gettempdir(), f"tinyeit-codegen-{os.getuid()}")
    exe = os.path.join(cache, digest.hexdigest()[:24], "model_host")
    if os.path.exists(exe):
        return exe
    work = tempfile.mkdtemp(prefix="build-", dir=_mkdir(cache))
    for name, text in files.items():
        with open(os.path.join(work, name), "w") as fh:
            fh.write(text)
    with open(os.path.join(work, "harness.c"), "w") as fh:
        fh.write(HARNESS)
    sources = [os.path.join(work, n) for n in sorted(files) if n.endswith(".c")]
    out = os.path.join(work, "model_host")
    cmd = [cc, *CFLAGS, *extra_flags, "-I", work, *sources, os.path.join(work, "harness.c"),
           "-o", out, "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CodegenError(f"compiling generated C failed ({' '.join(cmd)}):\n{proc.stderr}")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    os.replace(out, exe)
    return exe


def _mkdir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


def run_rows(exe: str, inputs: np.ndarray, out_dtype: np.dtype, out_size: int) -> np.ndarray:
    """Run the host executable on every row; returns (rows, out_size) raw outputs."""
    with tempfile.TemporaryDirectory(prefix="tinyeit-run-") as tmp:
        fin, fout = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        np.ascontiguousarray(inputs).tofile(fin)
        proc = subprocess.run([exe, fin, fout], capture_output=True, text=True)
        if proc.returncode != 0:
            raise CodegenError(f"generated model failed on the host (exit {proc.returncode}): "
                               f"{proc.stderr}")
        out = np.fromfile(fout, dtype=out_dtype)
    return out.reshape(len(inputs), out_size)
