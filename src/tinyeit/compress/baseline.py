"""`baseline`: train the paper's CNN from scratch with early stopping."""
from __future__ import annotations

from tinyeit.compress.common import FoldData, StepResult, max_epochs
from tinyeit.models.architectures import baseline_spec, build_model
from tinyeit.models.train import compile_classifier, fit


def baseline_step(prefix_model, step_cfg: dict, training_cfg: dict, fold: FoldData) -> StepResult:
    if prefix_model is not None:
        raise ValueError("baseline trains from scratch; it takes no prefix model")
    spec = baseline_spec(step_cfg, n_features=fold.x_train.shape[2], n_classes=fold.n_classes)
    model = compile_classifier(build_model(spec), training_cfg["learning_rate"])
    result = fit(model, fold.x_train, fold.y_train, x_val=fold.x_val, y_val=fold.y_val,
                 epochs=max_epochs(fold, training_cfg["epochs"]),
                 batch_size=training_cfg["batch_size"], patience=training_cfg["patience"])
    return StepResult(model, result.epochs)
