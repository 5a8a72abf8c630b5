"""The study's 1D CNN, built as Conv2D with (1, k) kernels on a (1, n_features, 1) input.

tfmot's quantize_model refuses Conv1D, so the network is the same math written in 2D: one
conv block (Conv -> BatchNorm -> MaxPool -> Dropout), Flatten, ReLU dense layers, softmax.
With the paper's baseline (25 filters, kernel 3, dense 128 and 64, 40 features, 10 classes)
it has 70,034 parameters, exactly as the Conv1D original: a (1, k) kernel holds k weights
per input channel, like a Conv1D kernel of size k, and the output length (40 - k + 1) and
pooled length ceil(38 / 2) = 19 are the same.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from tinyeit.errors import TinyEitError
from tinyeit.models.tf_env import keras


@dataclass(frozen=True)
class CnnSpec:
    """Everything needed to rebuild the network; shared by baseline, kd student and fp."""

    n_features: int
    n_classes: int
    conv_filters: int
    kernel_size: int
    pool_size: int
    pool_strides: int
    dropout: float
    dense_units: tuple[int, ...]

    def __post_init__(self):
        if self.kernel_size > self.n_features:
            raise TinyEitError(
                f"kernel_size {self.kernel_size} is larger than the {self.n_features} input features")
        if self.conv_filters < 1 or any(u < 1 for u in self.dense_units):
            raise TinyEitError(f"filters and units must be >= 1, got {self}")


def baseline_spec(baseline_cfg: dict, n_features: int, n_classes: int) -> CnnSpec:
    """The spec from config `steps.baseline`."""
    try:
        return CnnSpec(
            n_features=int(n_features), n_classes=int(n_classes),
            conv_filters=int(baseline_cfg["conv_filters"]),
            kernel_size=int(baseline_cfg["kernel_size"]),
            pool_size=int(baseline_cfg["pool_size"]),
            pool_strides=int(baseline_cfg["pool_strides"]),
            dropout=float(baseline_cfg["dropout"]),
            dense_units=tuple(int(u) for u in baseline_cfg["dense_units"]))
    except KeyError as exc:
        raise TinyEitError(f"config steps.baseline: missing key {exc.args[0]!r}") from None


def student_spec(teacher: CnnSpec, student_cfg: dict) -> CnnSpec:
    """The kd student: the teacher's topology (pooling, dropout) with config `steps.kd.student` sizes."""
    try:
        return replace(
            teacher,
            conv_filters=int(student_cfg["conv_filters"]),
            kernel_size=int(student_cfg["kernel_size"]),
            dense_units=tuple(int(u) for u in student_cfg["dense_units"]))
    except KeyError as exc:
        raise TinyEitError(f"config steps.kd.student: missing key {exc.args[0]!r}") from None


# Layer names are fixed so that filter pruning and tests can find layers by role.
CONV, BN, POOL, DROPOUT, FLATTEN = "conv", "bn", "pool", "dropout", "flatten"
OUTPUT = "output"


def dense_name(i: int) -> str:
    return f"dense{i}"


def build_model(spec: CnnSpec):
    """A tf_keras Sequential model for `spec`, input shape (1, n_features, 1), softmax output."""
    k = keras()
    layers = k.layers
    model = k.Sequential(name="tinyeit_cnn")
    model.add(layers.InputLayer(input_shape=(1, spec.n_features, 1), name="input"))
    model.add(layers.Conv2D(spec.conv_filters, (1, spec.kernel_size), activation="relu", name=CONV))
    model.add(layers.BatchNormalization(name=BN))
    model.add(layers.MaxPooling2D((1, spec.pool_size), strides=(1, spec.pool_strides),
                                  padding="same", name=POOL))
    model.add(layers.Dropout(spec.dropout, name=DROPOUT))
    model.add(layers.Flatten(name=FLATTEN))
    for i, units in enumerate(spec.dense_units):
        model.add(layers.Dense(units, activation="relu", name=dense_name(i)))
    model.add(layers.Dense(spec.n_classes, activation="softmax", name=OUTPUT))
    return model


def pooled_length(spec: CnnSpec) -> int:
    """Positions left after the valid conv and the 'same' max-pool (the Flatten has this x filters)."""
    conv_len = spec.n_features - spec.kernel_size + 1
    return -(-conv_len // spec.pool_strides)


def spec_of_model(model) -> CnnSpec:
    """Read the spec back from a model built by `build_model` (e.g. loaded from .h5)."""
    try:
        conv = model.get_layer(CONV)
        pool = model.get_layer(POOL)
        dropout = model.get_layer(DROPOUT)
        output = model.get_layer(OUTPUT)
    except ValueError as exc:
        raise TinyEitError(
            f"model '{model.name}' is not a tinyeit CNN (layers conv/bn/pool/dropout/dense*/output "
            f"expected; a quantization-aware model cannot be retrained): {exc}") from None
    units = []
    i = 0
    while True:
        try:
            units.append(int(model.get_layer(dense_name(i)).units))
        except ValueError:
            break
        i += 1
    return CnnSpec(
        n_features=int(model.input_shape[2]), n_classes=int(output.units),
        conv_filters=int(conv.filters), kernel_size=int(conv.kernel_size[1]),
        pool_size=int(pool.pool_size[1]), pool_strides=int(pool.strides[1]),
        dropout=float(dropout.rate), dense_units=tuple(units))


def to_model_input(x):
    """Frames [n, n_features] -> the model's input layout [n, 1, n_features, 1]."""
    return x.reshape(x.shape[0], 1, x.shape[1], 1)


def rebuild(model):
    """A fresh `build_model` copy of `model` with the same weights.

    tfmot's strip_* functions return models whose variables lose their layer prefix
    ('kernel:0' several times), which the .h5 optimizer group cannot store; a rebuilt model
    has the usual names.
    """
    clean = build_model(spec_of_model(model))
    clean.set_weights(model.get_weights())
    return clean
