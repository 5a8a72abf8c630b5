"""What every compression step receives and returns.

A step is `fn(prefix_model, step_cfg, training_cfg, fold) -> StepResult`: it turns the model
of the chain's prefix (None for `baseline`) into this chain's model, on one fold's frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FoldData:
    """The frames one model trains on, already in the model's input layout [n, 1, features, 1].

    `name` is "fold{k}" (validation frames present: early stopping and accuracy) or "full"
    (all CV trials, no validation; `epochs` then is the median of the folds' kept epochs).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    n_classes: int
    epochs: int | None = None

    @property
    def is_full(self) -> bool:
        return self.x_val is None


@dataclass
class StepResult:
    """The step's model and the epochs it trained (the kept epoch when early stopping)."""

    model: object
    epochs: int


def max_epochs(fold: FoldData, configured: int) -> int:
    """Epoch budget: the configured maximum on a fold, the folds' median on the full model."""
    return int(fold.epochs) if fold.is_full and fold.epochs else int(configured)
