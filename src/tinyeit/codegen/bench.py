"""`make bench-codegen`: instructions per inference (callgrind) and arena bytes, generated C
beside the TFLite Micro interpreter, for the study's float baseline and int8 final variant.

Instructions per inference = (Ir of N invocations - Ir of 1 invocation) / (N - 1), so start-up
(process, interpreter construction, allocation) cancels out. Prints a markdown table.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import numpy as np

VARIANTS = ("baseline", "baseline+kd+fp+ptq_int8")
N = 101

TFLM_SCRIPT = """
import sys, numpy as np
from tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1])
x = np.load(sys.argv[2])
for _ in range(int(sys.argv[3])):
    it.set_input(x, 0); it.invoke()
"""


def _callgrind_ir(cmd: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                       env={**os.environ, "PYTHONHASHSEED": "0"},
                       check=True, capture_output=True)
        text = open(out).read()
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    return int(m.group(1))


def _model_paths(tmp: str) -> dict[str, str]:
    paths = {}
    for v in VARIANTS:
        p = os.path.join("results", "tflite", v, "model.tflite")
        if os.path.exists(p):
            paths[v] = p
    if len(paths) < len(VARIANTS):
        from tinyeit.codegen import sample_models as sm  # noqa: PLC0415

        model = sm.study_like_model(0)
        rep = sm.representative_inputs((1, 40, 1), 64, 0)
        for v, mode in zip(VARIANTS, ("float", "ptq_int8")):
            if v not in paths:
                p = os.path.join(tmp, f"{mode}.tflite")
                with open(p, "wb") as fh:
                    fh.write(sm.convert(model, mode, rep))
                paths[v] = p + " (representative)"
    return paths


TFLM_ARENA_SCRIPT = """
import sys
from tflite_micro import runtime
runtime.Interpreter.from_file(sys.argv[1]).print_allocations()
"""


def tflm_arena(path: str) -> tuple[int, int]:
    """TFLite Micro's arena bytes (total, head = tensor data) for `path`.

    The interpreter prints its allocation record to the C runtime's stdout, which Python's
    sys.stdout redirection does not see: run it in a child process and read its fds 1 and 2.
    """
    proc = subprocess.run([sys.executable, "-c", TFLM_ARENA_SCRIPT, path],
                          capture_output=True, text=True, check=True)
    text = proc.stdout + proc.stderr
    total = re.search(r"Arena allocation total (\d+) bytes", text)
    head = re.search(r"Arena allocation head (\d+) bytes", text)
    if not total or not head:
        raise RuntimeError(f"{path}: TFLite Micro printed no arena record:\n{text}")
    return int(total.group(1)), int(head.group(1))


def measure(path: str) -> dict:
    from tinyeit.codegen.generator import build  # noqa: PLC0415
    from tinyeit.codegen.host import build_executable  # noqa: PLC0415
    info = build(path)
    exe = build_executable(info["files"])
    shape = info["input_shape"]
    dtype = np.dtype(info["input_dtype"])
    x = (np.zeros(shape, dtype) + (1 if dtype == np.int8 else 0.5)).astype(dtype)
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout, fnpy = (os.path.join(tmp, n) for n in ("in.bin", "out.bin", "in.npy"))
        x.tofile(fin)
        np.save(fnpy, x)
        c1 = _callgrind_ir([exe, fin, fout, "1"])
        cn = _callgrind_ir([exe, fin, fout, str(N)])
        script = os.path.join(tmp, "tflm.py")
        with open(script, "w") as fh:
            fh.write(TFLM_SCRIPT)
        t1 = _callgrind_ir([sys.executable, script, path, fnpy, "1"])
        tn = _callgrind_ir([sys.executable, script, path, fnpy, str(N)])
    tflm_total, tflm_head = tflm_arena(path)
    return {"c_ir": (cn - c1) // (N - 1), "tflm_ir": (tn - t1) // (N - 1),
            "arena": info["arena_bytes"], "tflm_arena": tflm_total, "tflm_head": tflm_head,
            "weights": info["weights_bytes"]}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for variant, path in _model_paths(tmp).items():
            real = path.split(" ")[0]
            r = measure(real)
            rows.append(f"| {variant}{' (representative)' if ' ' in path else ''} | "
                        f"{r['c_ir']} | {r['tflm_ir']} | {r['c_ir'] / max(1, r['tflm_ir']):.2f} | "
                        f"{r['arena']} | {r['tflm_head']} | {r['tflm_arena']} | {r['weights']} |")
    print("| model | C instr/inference | TFLM instr/inference | ratio | C arena B | "
          "TFLM arena B (tensors) | TFLM arena B (total) | weights B |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
