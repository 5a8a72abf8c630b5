"""Turn a chain's trained models into .tflite files and measure them with LiteRT.

`run_export` is the single entry point the workflow calls, once per variant; TensorFlow is
imported only when it runs.
"""
from __future__ import annotations


def run_export(variant: str, config: dict, dataset_npz: str, model_dir: str, out_dir: str) -> None:
    """Convert, evaluate and measure one variant; see `tinyeit.export.runner`."""
    from tinyeit.export.runner import run_export as _run

    _run(variant, config, dataset_npz, model_dir, out_dir)
