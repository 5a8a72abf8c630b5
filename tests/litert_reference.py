"""LiteRT as the reference interpreter for the generated C: its reference kernels
(BUILTIN_REF), one thread, one invoke per row, raw outputs. Shared by the codegen tests."""
from pathlib import Path

import numpy as np

from tinyeit.export.litert import interpreter


def litert_outputs(path: str | Path, x: np.ndarray) -> np.ndarray:
    """Rows of `x` are already in the model's input dtype and shape (batch dim optional)."""
    it = interpreter(Path(path).read_bytes(), reference=True)
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    out = []
    for row in x:
        it.set_tensor(i["index"], row.reshape(i["shape"]))
        it.invoke()
        out.append(it.get_tensor(o["index"]).reshape(-1).copy())
    return np.array(out)
