"""Save and load models as Keras .h5 files, atomically and with the optimizer state.

The paper's "model size" is the saved Keras file with Adam's slots, so every model is saved
with `include_optimizer=True`. Quantization-aware models need tfmot's scope to load.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from tinyeit.atomic import replacing
from tinyeit.errors import TinyEitError
from tinyeit.models.tf_env import keras, tfmot


def save_model(model, path: str | os.PathLike) -> None:
    """Write `path` via a temporary file in the same folder, so a failure leaves no partial file."""
    with replacing(path, suffix=".h5") as tmp, tfmot().quantization.keras.quantize_scope(), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy")
        model.save(str(tmp), include_optimizer=True, save_format="h5")


def load_model(path: str | os.PathLike, compile: bool = False):
    """Load a .h5 model (plain or quantization-aware); a missing file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise TinyEitError(f"{path}: model file not found")
    try:
        with tfmot().quantization.keras.quantize_scope():
            return keras().models.load_model(path, compile=compile)
    except (OSError, ValueError) as exc:
        raise TinyEitError(f"{path}: cannot load Keras model: {exc}") from None


def is_quantization_aware(model) -> bool:
    """True for a model from tfmot's quantize_model (its layers are QuantizeWrapper/QuantizeLayer)."""
    return any(type(layer).__name__.startswith("Quantize") for layer in model.layers)
