"""`fp`: structured filter pruning, then fine-tuning of the narrower network.

Conv filters and hidden dense units with the lowest L1 norm of their incoming weights are
dropped; `ratio` is the fraction dropped (ratio 0.5 halves every layer; at least one filter
or unit stays). A new model with the surviving widths is built and the kept weights are
copied over, including the BatchNorm statistics of the kept channels, and the rows of the
next layer that read the kept channels. The output layer keeps all classes.

Flatten after the (1, L, C) pooled map orders features as position-major, channel-minor:
feature index = position * C + channel. So the first dense layer keeps rows
{p * C + c : c kept}.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from tinyeit.compress.common import FoldData, StepResult, max_epochs
from tinyeit.models.architectures import (BN, CONV, OUTPUT, build_model, dense_name,
                                          pooled_length, spec_of_model)
from tinyeit.models.train import compile_classifier, fit


def kept_indices(l1_norms: np.ndarray, ratio: float) -> np.ndarray:
    """Indices (ascending) of the highest-norm round(n * (1 - ratio)) entries, at least one.

    Ties break toward the lower index (stable sort), so the choice is deterministic.
    """
    n = len(l1_norms)
    keep = max(1, int(round(n * (1.0 - float(ratio)))))
    order = np.argsort(-np.asarray(l1_norms, dtype=np.float64), kind="stable")
    return np.sort(order[:keep])


def prune_weights(weights: dict, ratio: float, pooled_len: int) -> tuple[dict, dict]:
    """Pure-NumPy core: {layer: [arrays]} of the wide net -> (narrow weights, kept indices).

    `weights` holds 'conv' [kernel (1,k,1,C), bias], 'bn' [gamma, beta, mean, var],
    'dense{i}' [kernel, bias] and 'output' [kernel, bias], as Keras orders them.
    """
    conv_k, conv_b = weights[CONV]
    keep_c = kept_indices(np.abs(conv_k).sum(axis=(0, 1, 2)), ratio)
    n_channels = conv_k.shape[-1]
    out = {CONV: [conv_k[..., keep_c], conv_b[keep_c]],
           BN: [w[keep_c] for w in weights[BN]]}
    kept = {CONV: keep_c}
    rows = (np.arange(pooled_len)[:, None] * n_channels + keep_c[None, :]).reshape(-1)
    i = 0
    while dense_name(i) in weights:
        kernel, bias = weights[dense_name(i)]
        kernel = kernel[rows]
        keep_u = kept_indices(np.abs(kernel).sum(axis=0), ratio)
        out[dense_name(i)] = [kernel[:, keep_u], bias[keep_u]]
        kept[dense_name(i)] = keep_u
        rows = keep_u
        i += 1
    kernel, bias = weights[OUTPUT]
    out[OUTPUT] = [kernel[rows], bias]
    return out, kept


def narrow_model(model, ratio: float):
    """Build the pruned, narrower copy of `model` (not compiled) and return it with kept indices."""
    spec = spec_of_model(model)
    weights = {layer.name: layer.get_weights() for layer in model.layers if layer.get_weights()}
    new_weights, kept = prune_weights(weights, ratio, pooled_length(spec))
    units = tuple(len(kept[dense_name(i)]) for i in range(len(spec.dense_units)))
    narrow = build_model(replace(spec, conv_filters=len(kept[CONV]), dense_units=units))
    for name, arrays in new_weights.items():
        narrow.get_layer(name).set_weights(arrays)
    return narrow, kept


def fp_step(prefix_model, step_cfg: dict, training_cfg: dict, fold: FoldData) -> StepResult:
    model, _ = narrow_model(prefix_model, step_cfg["ratio"])
    compile_classifier(model, training_cfg["learning_rate"])
    result = fit(model, fold.x_train, fold.y_train, x_val=fold.x_val, y_val=fold.y_val,
                 epochs=max_epochs(fold, step_cfg["fine_tune_epochs"]),
                 batch_size=training_cfg["batch_size"], patience=training_cfg["patience"])
    return StepResult(model, result.epochs)
