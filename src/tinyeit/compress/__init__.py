"""Compression chains: each step turns the models of a chain's prefix into the chain's models.

`run_step` is the single entry point the workflow calls, once per chain step; TensorFlow is
imported only when it runs.
"""
from __future__ import annotations


def run_step(step: str, chain: str, config: dict, dataset_npz: str, prefix_dir: str | None,
             out_dir: str) -> None:
    """Train `step` on every CV fold and on the full CV pool; see `tinyeit.compress.runner`."""
    from tinyeit.compress.runner import run_step as _run

    _run(step, chain, config, dataset_npz, prefix_dir, out_dir)
