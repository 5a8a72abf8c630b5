"""Variants are chains of steps joined with '+'; this module is the grammar of those chains.

A chain's model is its prefix's model with one more step applied, so the workflow can build
shared prefixes once. A terminal conversion only turns a trained model into a .tflite file,
so it may appear once, last; a chain without one is exported as plain float32.
"""
from __future__ import annotations

from tinyeit.errors import TinyEitError

FIRST_STEP = "baseline"
TRAINING_STEPS = ("kd", "fp", "prune", "cluster", "qat")
TERMINAL_STEPS = ("float", "ptq_dynamic", "ptq_float16", "ptq_int8")
STEPS = (FIRST_STEP, *TRAINING_STEPS, *TERMINAL_STEPS)
SEPARATOR = "+"
# Wildcard pattern for Snakemake: one or more step names joined with '+'.
CHAIN_PATTERN = r"[a-z0-9_]+(?:\+[a-z0-9_]+)*"


def steps(variant: str) -> list[str]:
    return variant.split(SEPARATOR)


def check(variant: str) -> None:
    """Refuse a chain that cannot be built, saying which step is wrong and why."""
    parts = steps(variant)
    for i, step in enumerate(parts):
        where = f"variant '{variant}', step {i + 1} '{step}'"
        if step not in STEPS:
            raise TinyEitError(f"{where}: unknown step; known steps: {', '.join(STEPS)}")
        if i == 0 and step != FIRST_STEP:
            raise TinyEitError(f"{where}: a chain starts with '{FIRST_STEP}'")
        if i > 0 and step == FIRST_STEP:
            raise TinyEitError(f"{where}: '{FIRST_STEP}' can only be the first step")
        if step in parts[:i]:
            raise TinyEitError(f"{where}: step repeated")
        if i > 0 and parts[i - 1] in TERMINAL_STEPS:
            raise TinyEitError(
                f"{where}: comes after the terminal conversion '{parts[i - 1]}'; "
                "a conversion to .tflite must be the last step")
        if i > 0 and parts[i - 1] == "qat" and step != "ptq_int8":
            raise TinyEitError(
                f"{where}: a quantization-aware model can only be followed by 'ptq_int8'")
    if parts[-1] == "qat":
        raise TinyEitError(f"variant '{variant}': 'qat' must be followed by 'ptq_int8'")


def conversion(variant: str) -> str:
    """The .tflite conversion of a variant: its terminal step, or float."""
    last = steps(variant)[-1]
    return last if last in TERMINAL_STEPS else "float"


def model_chain(variant: str) -> str:
    """The trained-model chain behind a variant (the variant without its terminal step)."""
    parts = steps(variant)
    if parts[-1] in TERMINAL_STEPS:
        parts = parts[:-1]
    return SEPARATOR.join(parts)


def prefix(chain: str) -> str | None:
    """The chain whose model this chain's last step starts from (None for the baseline)."""
    parts = steps(chain)
    return SEPARATOR.join(parts[:-1]) if len(parts) > 1 else None


def last_step(chain: str) -> str:
    return steps(chain)[-1]


def model_chains(variants: list[str]) -> list[str]:
    """Every trained-model chain the variants need, prefixes included, in build order."""
    seen: dict[str, None] = {}
    for variant in variants:
        parts = steps(model_chain(variant))
        for n in range(1, len(parts) + 1):
            seen.setdefault(SEPARATOR.join(parts[:n]), None)
    return sorted(seen, key=lambda c: (len(steps(c)), c))
