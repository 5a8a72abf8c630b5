"""Op lowerings, one module per op family, each registering its functions by TFLite op name.

A lowering is `fn(gen, op, ptr) -> Lowered`: gen is the run's Generator (tensors, constants,
tables, parameters), ptr maps a tensor to the C expression of its storage. Families keep their
params, weight layout and kernel call together, as TFLite keeps its kernels apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Lowered:
    """Everything emitted for one op."""

    code: list[str] = field(default_factory=list)
    consts: list[str] = field(default_factory=list)
    const_bytes: int = 0
    scratch_bytes: int = 0


LOWERINGS: dict[str, Callable] = {}


def lowers(*names: str):
    """Register the decorated function as the lowering of the op names given."""
    def register(fn):
        for name in names:
            if name in LOWERINGS:
                raise ValueError(f"{name} is lowered twice")
            LOWERINGS[name] = fn
        return fn
    return register


# the families register themselves on import
from tinyeit.codegen.ops import (  # noqa: E402,F401
    activation, conv, elementwise, fully_connected, pool, quantize, shape, softmax)
