"""Representative models for the code generator's tests and benchmark.

The study's own .tflite files come from earlier stages; when they are absent (unit tests, a
fresh checkout) these builders give models of the same shape and op set: Conv2D (1, k) on a
(1, 40, 1) input, BatchNorm, MaxPool SAME, Flatten, Dense, softmax, converted the way the
export stage converts (float, dynamic range, float16, full int8 with int8 input and output).
TensorFlow is imported lazily: only callers that build models pay for it.
"""
from __future__ import annotations

import os

import numpy as np

from tinyeit.export.convert import CONVERSIONS as MODES


def _keras():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tf_keras  # noqa: PLC0415 - heavy, lazy on purpose

    return tf_keras


def study_like_model(seed: int = 0, filters: int = 25, kernel: int = 3,
                     dense_units: tuple[int, ...] = (128, 64), n_classes: int = 10,
                     n_features: int = 40):
    """The study's baseline 1D CNN as Conv2D (1, k) on (1, n_features, 1), random weights."""
    keras = _keras()

    keras.utils.set_random_seed(seed)  # Keras 2 seeds unseeded initializers from all three RNGs
    layers = keras.layers
    inputs = keras.Input((1, n_features, 1))
    x = layers.Conv2D(filters, (1, kernel), activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D((1, 3), strides=(1, 2), padding="same")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    for units in dense_units:
        x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    randomize_batchnorm(model, seed)
    return model


def randomize_batchnorm(model, seed: int) -> None:
    """Give BatchNorm layers non-trivial statistics so that they are not identity maps."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                rng.normal(0, 0.2, beta.shape).astype(np.float32),
                rng.normal(0, 0.2, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
            ])


def convert(model, mode: str, representative: np.ndarray | None = None) -> bytes:
    """Convert a Keras model to .tflite bytes: the export stage's own conversion."""
    from tinyeit.export.convert import convert as export_convert  # noqa: PLC0415

    return export_convert(model, mode, representative)


def representative_inputs(shape: tuple[int, ...], n: int, seed: int = 0) -> np.ndarray:
    """Deterministic float inputs of `shape` (without batch), n rows, roughly unit scale."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, (n, *shape)).astype(np.float32)


def write_study_like(out_dir: str, mode: str, seed: int = 0) -> str:
    """Build, convert and write a study-like model; returns the .tflite path."""
    model = study_like_model(seed)
    rep = representative_inputs(tuple(model.input_shape[1:]), 64, seed)
    data = convert(model, mode, rep)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"study_like_{mode}.tflite")
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def op_zoo_model(seed: int = 0, n_features: int = 40, channels: int = 1):
    """A Conv1D classifier using the rest of the supported op set through Keras layers:
    dilated Conv1D (SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND), SAME padding, strides,
    DepthwiseConv, ZeroPadding (PAD), ReLU6 / sigmoid / tanh, BatchNorm after activation
    (MUL + ADD), Add, Multiply, Concatenate, AveragePooling, GlobalAveragePooling (MEAN)."""
    keras = _keras()

    keras.utils.set_random_seed(seed)  # Keras 2 seeds unseeded initializers from all three RNGs
    L = keras.layers
    inputs = keras.Input((n_features, channels))
    a = L.Conv1D(8, 3, dilation_rate=2, padding="same", activation="relu")(inputs)
    a = L.BatchNormalization()(a)
    b = L.Conv1D(8, 5, strides=1, padding="same")(inputs)
    b = L.ReLU(max_value=6.0)(b)
    x = L.Add()([a, b])
    x = L.ZeroPadding1D((1, 2))(x)
    x = L.DepthwiseConv1D(3, padding="valid", activation="tanh")(x)
    g = L.Conv1D(8, 1, activation="sigmoid")(x)
    x = L.Multiply()([x, g])
    x = L.Concatenate()([x, L.Conv1D(4, 3, padding="same", strides=1)(x)])
    x = L.AveragePooling1D(2, padding="same")(x)
    x = L.Conv1D(6, 3, strides=2, padding="valid", activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dense(16)(x)
    x = L.ReLU()(x)
    outputs = L.Dense(5, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    randomize_batchnorm(model, seed)
    return model
