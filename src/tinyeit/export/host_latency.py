"""Host latency of one .tflite through LiteRT: a measured, load-dependent figure in its own file.

The measurement (see `tinyeit.export.timing`) runs LiteRT's default resolver (optimized
kernels plus XNNPACK) on one thread, what a PC user of the .tflite gets, on the first test
frame the firmware embeds (frames.npz, already in the model's input dtype). Its file,
results/tflite/<variant>/host_latency.json, is the only place a wall-clock figure of a
variant is born; re-measuring rewrites it and nothing upstream.

A measurement flagged noisy (spread over timing.SPREAD_LIMIT) is taken again, up to
`ATTEMPTS` times in all; the least spread attempt is kept and the number of attempts recorded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyeit.atomic import write_json
from tinyeit.errors import TinyEitError
from tinyeit.export import timing

ATTEMPTS = 3
INTERPRETER = "LiteRT default resolver (optimized kernels + XNNPACK), num_threads=1"


def first_frame(frames_path: str | Path) -> np.ndarray:
    """The first embedded test frame, as fed to the model (frames.npz 'input' row 0)."""
    from tinyeit.atomic import read_npz

    arrays = read_npz(frames_path, "the export stage's deployment frames")
    if "input" not in arrays:
        raise TinyEitError(f"{frames_path}: cannot read the 'input' frames (no 'input' array)")
    frames = arrays["input"]
    if len(frames) == 0:
        raise TinyEitError(f"{frames_path}: no input frame to time the model with")
    return frames[0]


def prepared_invoke(tflite: bytes, frame: np.ndarray, reference: bool = False,
                    warm: bool = True):
    """An interpreter's bound invoke() with `frame` set as its input (invoked once if `warm`)."""
    from tinyeit.export.litert import interpreter

    it = interpreter(tflite, reference=reference)
    inp = it.get_input_details()[0]
    if frame.size != int(np.prod(inp["shape"])):
        raise TinyEitError(f"frame of {frame.size} values does not fit the model's input "
                           f"{list(inp['shape'])}")
    it.set_tensor(inp["index"], np.asarray(frame, dtype=inp["dtype"]).reshape(inp["shape"]))
    if warm:
        it.invoke()
    return it.invoke


def measure(tflite_path: str | Path, frames_path: str | Path, variant: str) -> dict:
    tflite_path = Path(tflite_path)
    try:
        tflite = tflite_path.read_bytes()
    except OSError as exc:
        raise TinyEitError(f"{tflite_path}: cannot read the model ({exc.strerror})") from None
    invoke = prepared_invoke(tflite, first_frame(frames_path))
    best = None
    for attempt in range(1, ATTEMPTS + 1):
        result = timing.measure(invoke)
        if best is None or result["cpu"]["spread"] < best["cpu"]["spread"]:
            best = result
        if not result["noisy"]:
            break
    from ai_edge_litert import __version__ as litert_version  # noqa: PLC0415

    return {
        "variant": variant,
        "interpreter": INTERPRETER,
        "litert_version": litert_version,
        "host_latency_ms": best["cpu"]["median_ms"],
        "host_latency_iqr_ms": best["cpu"]["iqr_ms"],
        "host_latency_spread": best["cpu"]["spread"],
        "host_latency_noisy": best["noisy"],
        "host_latency_wall_ms": best["wall"]["median_ms"],
        "host_latency_wall_iqr_ms": best["wall"]["iqr_ms"],
        "attempts": attempt,
        "timing": best,
    }


def write(tflite_path: str, frames_path: str, variant: str, out: str) -> dict:
    record = measure(tflite_path, frames_path, variant)
    write_json(out, record)
    return record
