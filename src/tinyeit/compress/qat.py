"""`qat`: quantization-aware fine-tuning with tfmot's default 8-bit scheme.

The study's conv block is Conv(ReLU) -> BatchNorm; tfmot only handles BatchNorm directly
after a linear conv (where it folds), so the standalone BatchNorm is annotated with tfmot's
output-only 8-bit config: its output gets a learned int8 range, as the converter's int8
MUL/ADD pair for it needs. The result stays a quantization-aware Keras model (fake-quant ops,
learned ranges); it is saved under tfmot's quantize_scope (which knows that config) and
becomes a real int8 model only in the `ptq_int8` conversion, the one conversion allowed after it.
"""
from __future__ import annotations

from tinyeit.compress.common import FoldData, StepResult
from tinyeit.models.tf_env import keras, tfmot
from tinyeit.models.train import compile_classifier, fit


def quantization_aware(model):
    """tfmot's quantize_model, with the standalone BatchNorm annotated output-only."""
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import \
        default_8bit_quantize_configs as configs

    q = tfmot().quantization.keras
    k = keras()

    def annotate(layer):
        if isinstance(layer, k.layers.BatchNormalization):
            return q.quantize_annotate_layer(
                layer, quantize_config=configs.Default8BitOutputQuantizeConfig())
        return layer

    annotated = q.quantize_annotate_model(k.models.clone_model(model, clone_function=annotate))
    with q.quantize_scope():
        return q.quantize_apply(annotated)


def qat_step(prefix_model, step_cfg: dict, training_cfg: dict, fold: FoldData) -> StepResult:
    model = quantization_aware(prefix_model)
    compile_classifier(model, training_cfg["learning_rate"])
    epochs = int(step_cfg["epochs"])
    fit(model, fold.x_train, fold.y_train, x_val=fold.x_val, y_val=fold.y_val,
        epochs=epochs, batch_size=training_cfg["batch_size"], patience=None)
    return StepResult(model, epochs)
