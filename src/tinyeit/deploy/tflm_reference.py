"""The tflm engine's own reference: the `tflite-micro` Python interpreter (TFLite Micro's library
with its reference kernels, on the host) run on the frames the firmware embeds.

TFLite Micro rounds int8 FULLY_CONNECTED twice where LiteRT's reference kernels round once, so a
tflm firmware may differ from LiteRT by an LSB; bit equality with this interpreter says the
firmware computed what TFLite Micro defines (CMSIS-NN's kernels equal its reference ones).
The interpreter runs in a child process: it prints its allocation notes to the C runtime's
stdout and may abort on a model it cannot run; neither must reach the caller.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tinyeit.errors import TinyEitError

_SCRIPT = """
import sys
import numpy as np
from tflite_micro import runtime
model, frames, out = sys.argv[1:4]
inputs = np.load(frames)["input"]
it = runtime.Interpreter.from_bytes(open(model, "rb").read())
shape = it.get_input_details(0)["shape"]
rows = []
for frame in inputs:
    it.set_input(np.asarray(frame).reshape(shape), 0)
    it.invoke()
    rows.append(np.array(it.get_output(0)).reshape(-1))
np.save(out, np.stack(rows))
"""


def interpreter_outputs(tflite: str | Path, frames_npz: str | Path, timeout: float = 600) -> np.ndarray:
    """One row of raw outputs per frame of frames.npz's `input`, from the tflite-micro interpreter."""
    with tempfile.TemporaryDirectory(prefix="tinyeit-tflm-ref-") as tmp:
        out = Path(tmp) / "out.npy"
        proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(tflite), str(frames_npz), str(out)],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not out.exists():
            tail = " ".join((proc.stdout + proc.stderr).strip().splitlines()[-4:])
            raise TinyEitError(f"{tflite}: the tflite-micro interpreter could not run it: {tail}")
        return np.load(out)


def compare(got_rows: list[bytes], reference: np.ndarray) -> dict:
    """{"outputs_exact_tflm_interpreter", "outputs_max_abs_diff_tflm_interpreter"} for the frames run."""
    if not got_rows or len(got_rows) > len(reference):
        return {"outputs_exact_tflm_interpreter": False, "outputs_max_abs_diff_tflm_interpreter": None}
    want = reference[: len(got_rows)]
    little = want.astype(want.dtype.newbyteorder("<"), copy=False)
    if any(len(g) != little[0].nbytes for g in got_rows):
        return {"outputs_exact_tflm_interpreter": False, "outputs_max_abs_diff_tflm_interpreter": None}
    got = np.frombuffer(b"".join(got_rows), dtype=little.dtype).reshape(little.shape)
    diff = float(np.max(np.abs(got.astype(np.float64) - little.astype(np.float64))))
    return {"outputs_exact_tflm_interpreter": bool(got.tobytes() == little.tobytes()),
            "outputs_max_abs_diff_tflm_interpreter": float(f"{diff:.9g}")}
