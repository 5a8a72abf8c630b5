"""A study-like .tflite and its deployment frames (LiteRT reference outputs), for tflm tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_model_and_frames(out_dir: Path, mode: str = "ptq_int8", n: int = 3, seed: int = 0) -> tuple[Path, Path]:
    """(model.tflite, frames.npz) as the export stage writes them: `input` as fed, `output` raw."""
    from tinyeit.codegen.sample_models import write_study_like
    from tinyeit.export.litert import interpreter, run_frames

    out_dir = Path(out_dir)
    tflite = Path(write_study_like(str(out_dir), mode, seed))
    it = interpreter(tflite.read_bytes())
    shape = it.get_input_details()[0]["shape"]
    frames = np.random.default_rng(seed + 1).normal(0, 1, (n, int(np.prod(shape[1:])))).astype(np.float32)
    fed, outputs = run_frames(it, frames)
    npz = out_dir / f"frames_{mode}.npz"
    np.savez(npz, input=fed.reshape(n, -1), output=outputs)
    return tflite, npz
