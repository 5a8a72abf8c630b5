"""256-entry tables for elementwise int8 ops (LOGISTIC, TANH), built at generation time.

An int8 input has 256 values, so any elementwise int8 op is exactly a table lookup. The table
is filled by evaluating TFLite's kernel formula for each value: dequantize, apply the float
function (float32, as the kernel does), requantize with round-half-away and clamp.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from tinyeit.codegen.fixedpoint import _round_half_away


def _libm():
    name = ctypes.util.find_library("m")
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:
        lib = None
    if lib is None:
        return None
    for fn in ("expf", "tanhf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    return lib


_LIBM = _libm()


def _expf(x: np.float32) -> np.float32:
    if _LIBM is not None:
        return np.float32(_LIBM.expf(float(x)))
    return np.float32(math.exp(float(x)))


def _tanhf(x: np.float32) -> np.float32:
    if _LIBM is not None:
        return np.float32(_LIBM.tanhf(float(x)))
    return np.float32(math.tanh(float(x)))


def _transform(kind: str, v: np.float32) -> np.float32:
    if kind == "logistic":
        return np.float32(np.float32(1.0) / np.float32(np.float32(1.0) + _expf(np.float32(-v))))
    if kind == "tanh":
        return _tanhf(v)
    raise ValueError(kind)


def int8_table(kind: str, in_q: tuple[float, int], out_q: tuple[float, int]) -> list[int]:
    """Table indexed by input + 128."""
    s_in, z_in = np.float32(in_q[0]), int(in_q[1])
    s_out, z_out = np.float32(out_q[0]), int(out_q[1])
    inv = np.float32(np.float32(1.0) / s_out)
    table = []
    for q in range(-128, 128):
        deq = np.float32(s_in * np.float32(q - z_in))
        y = _transform(kind, deq)
        r = _round_half_away(float(np.float32(y * inv)))
        table.append(max(-128, min(127, r + z_out)))
    return table
