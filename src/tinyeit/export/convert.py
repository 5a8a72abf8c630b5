"""Keras model -> .tflite bytes, for the four terminal conversions of a chain.

- float: plain float32.
- ptq_dynamic: weights int8, activations float (dynamic-range quantization).
- ptq_float16: weights float16, computed in float32.
- ptq_int8: full integer: weights and activations int8, int8 input and output, calibrated
  on a representative set; a quantization-aware model is converted the same way (its
  learned ranges take precedence).
"""
from __future__ import annotations

import warnings

import numpy as np

from tinyeit.errors import TinyEitError
from tinyeit.models.tf_env import tensorflow

CONVERSIONS = ("float", "ptq_dynamic", "ptq_float16", "ptq_int8")


def convert(model, conversion: str, representative: np.ndarray | None = None) -> bytes:
    """Convert `model`; `representative` (frames in model layout) is required for ptq_int8."""
    tf = tensorflow()
    if conversion not in CONVERSIONS:
        raise TinyEitError(f"unknown conversion '{conversion}'; known: {', '.join(CONVERSIONS)}")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if conversion == "ptq_dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif conversion == "ptq_float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif conversion == "ptq_int8":
        if representative is None or len(representative) == 0:
            raise TinyEitError("ptq_int8 needs a non-empty representative set")
        frames = np.asarray(representative, dtype=np.float32)

        def representative_dataset():
            for i in range(len(frames)):
                yield [frames[i:i + 1]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        # Emitted for every int8 conversion of a float-input Keras model; it is expected here.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return bytes(converter.convert())
