"""`prune`: unstructured magnitude pruning with tfmot, fine-tuned, then stripped.

tfmot only updates the masks every `frequency` steps between begin_step and end_step; its
default frequency (100) never fires in a short fine-tune. So the schedule is fitted to the
fine-tune: sparsity ramps (polynomial decay) from 0 over the first 60 % of the steps in about
ten mask updates, then the remaining steps recover accuracy at the final sparsity. The reached
sparsity is measured on the stripped model and must match the target within 1 %.

`block_size: [a, b]` (default [1, 1]: unstructured) prunes the dense layers' kernels in whole
blocks of a inputs x b units (tfmot's block sparsity: a block's mean magnitude decides), aligned
to multiples of the block from the first input and unit: [4, 4] is the generated C's block-sparse
layout, so that every pruned block is a block its kernels skip. tfmot's block sparsity only
takes 2D kernels, so conv kernels (4D here, Conv2D (1, k)) are pruned unstructured, per weight,
and so are dense kernels at most one block wide or high (tfmot's block pooling fails on them).
"""
from __future__ import annotations

import numpy as np

from tinyeit.compress.common import FoldData, StepResult
from tinyeit.errors import TinyEitError
from tinyeit.models.architectures import rebuild
from tinyeit.models.tf_env import keras, tfmot
from tinyeit.models.train import (compile_classifier, compile_with_built_optimizer, fit,
                                  steps_per_epoch)

RAMP_FRACTION = 0.6
MASK_UPDATES = 10


def schedule_steps(total_steps: int) -> tuple[int, int]:
    """(end_step, frequency) so that end_step is a mask update and < total_steps."""
    ramp = max(1, int(total_steps * RAMP_FRACTION))
    frequency = max(1, ramp // MASK_UPDATES)
    end_step = frequency * (ramp // frequency)
    return end_step, frequency


def kernel_sparsity(model) -> float:
    """Fraction of zeros over all conv and dense kernels (the weights pruning acts on)."""
    total = zeros = 0
    for layer in model.layers:
        if isinstance(layer, (keras().layers.Conv2D, keras().layers.Dense)):
            kernel = layer.get_weights()[0]
            total += kernel.size
            zeros += int(np.count_nonzero(kernel == 0))
    return zeros / total if total else 0.0


def block_size(step_cfg: dict) -> tuple[int, int]:
    """steps.prune.block_size as (inputs, units); (1, 1) when absent."""
    value = step_cfg.get("block_size", [1, 1])
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise TinyEitError(f"steps.prune.block_size: expected two integers >= 1, got {value!r}")
    return int(value[0]), int(value[1])


def _blockable(layer, block: tuple[int, int]) -> bool:
    """tfmot's block pooling squeezes a kernel that is at most one block wide or high into one
    dimension and then fails: such kernels (a small output layer) are pruned per weight."""
    rows, cols = (int(d) for d in layer.kernel.shape)
    return rows > block[0] and cols > block[1]


def prune_step(prefix_model, step_cfg: dict, training_cfg: dict, fold: FoldData) -> StepResult:
    sparsity_api = tfmot().sparsity.keras
    target = float(step_cfg["target_sparsity"])
    epochs = int(step_cfg["epochs"])
    total = epochs * steps_per_epoch(len(fold.x_train), training_cfg["batch_size"])
    end_step, frequency = schedule_steps(total)
    schedule = sparsity_api.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target,
                                            begin_step=0, end_step=end_step, frequency=frequency)
    block = block_size(step_cfg)
    if block == (1, 1):
        wrapped = sparsity_api.prune_low_magnitude(prefix_model, pruning_schedule=schedule)
    else:
        k = keras()

        def wrap(layer):
            if isinstance(layer, k.layers.Dense) and _blockable(layer, block):
                return sparsity_api.prune_low_magnitude(layer, pruning_schedule=schedule,
                                                        block_size=block)
            if isinstance(layer, (k.layers.Conv2D, k.layers.Dense)):
                return sparsity_api.prune_low_magnitude(layer, pruning_schedule=schedule)
            return layer  # shared with the prefix model, weights included

        wrapped = k.models.clone_model(prefix_model, clone_function=wrap)
    compile_classifier(wrapped, training_cfg["learning_rate"])
    # Fixed length: restoring an earlier "best" epoch could undo the sparsity ramp.
    fit(wrapped, fold.x_train, fold.y_train, x_val=fold.x_val, y_val=fold.y_val,
        epochs=epochs, batch_size=training_cfg["batch_size"], patience=None,
        callbacks=[sparsity_api.UpdatePruningStep()])
    model = rebuild(sparsity_api.strip_pruning(wrapped))
    reached = kernel_sparsity(model)
    if abs(reached - target) > 0.01:
        raise TinyEitError(
            f"steps.prune: reached kernel sparsity {reached:.4f}, target {target:.4f} "
            f"({total} steps, end_step {end_step}, frequency {frequency})")
    compile_with_built_optimizer(model, training_cfg["learning_rate"])
    return StepResult(model, epochs)
