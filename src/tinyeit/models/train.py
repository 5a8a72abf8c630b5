"""Deterministic training: Adam, mini-batches, early stopping with best weights restored.

A fold model stops early on its fold's validation loss and reports the epoch it kept; the
`full` model (all CV trials, the deployed one) has no validation frames, so it trains for the
median of the folds' kept epochs instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinyeit.models.tf_env import keras


@dataclass
class FitResult:
    """How long a model trained: `epochs` is the epoch whose weights were kept (1-based)."""

    epochs: int
    history: dict


def compile_classifier(model, learning_rate: float, optimizer=None, loss=None, metrics=None):
    """Compile with Adam and sparse categorical cross-entropy unless told otherwise.

    Passing the optimizer a model trained with keeps its slots, so the saved .h5 carries the
    optimizer state (the paper's "model size" is that file).
    """
    k = keras()
    model.compile(
        optimizer=optimizer if optimizer is not None else k.optimizers.Adam(learning_rate=learning_rate),
        loss=loss if loss is not None else "sparse_categorical_crossentropy",
        metrics=metrics if metrics is not None else ["accuracy"])
    return model


def _early_stopping(patience: int):
    k = keras()
    return k.callbacks.EarlyStopping(
        monitor="val_loss", mode="min", patience=int(patience), restore_best_weights=True)


def fit(model, x_train, y_train, *, epochs: int, batch_size: int, x_val=None, y_val=None,
        patience: int | None = None, callbacks=()) -> FitResult:
    """Train a compiled model.

    With validation data and a patience, stop when the validation loss has not improved for
    `patience` epochs and restore the best epoch's weights; otherwise train exactly `epochs`.
    Keras shuffles with the global seed (see `tf_env.seed_everything`).
    """
    cbs = list(callbacks)
    stopper = None
    validation = None
    if x_val is not None and len(x_val):
        validation = (x_val, y_val)
        if patience is not None:
            stopper = _early_stopping(patience)
            cbs.append(stopper)
    hist = model.fit(x_train, y_train, epochs=int(epochs), batch_size=int(batch_size),
                     validation_data=validation, shuffle=True, verbose=0, callbacks=cbs)
    history = {key: [float(v) for v in vals] for key, vals in hist.history.items()}
    ran = len(next(iter(history.values()))) if history else int(epochs)
    if stopper is not None:
        # EarlyStopping restored the weights of the lowest validation loss (first one on ties).
        kept = int(stopper.best_epoch) + 1
    else:
        kept = ran
    return FitResult(epochs=kept, history=history)


def median_epochs(fold_epochs: list[int]) -> int:
    """Epochs for the full model: the median of the folds' kept epochs, rounded up, at least 1."""
    return max(1, int(math.ceil(float(np.median(fold_epochs)))))


def accuracy(model, x, y) -> float:
    """Fraction of frames whose arg-max prediction is the label."""
    probs = model.predict(x, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probs, axis=1) == y))


def steps_per_epoch(n_frames: int, batch_size: int) -> int:
    return max(1, -(-int(n_frames) // int(batch_size)))


def compile_with_built_optimizer(model, learning_rate: float):
    """Compile with a fresh Adam whose slots exist (zeros), for models rebuilt after training.

    tfmot's strip_pruning / strip_clustering return a new model without an optimizer; giving
    it built Adam slots makes its .h5 hold the same kind of content as every other model's,
    so file sizes stay comparable (the slot values are zeros, not the fine-tune's moments).
    """
    compile_classifier(model, learning_rate)
    model.optimizer.build(model.trainable_variables)
    return model
