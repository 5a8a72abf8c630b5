"""`kd`: distil the prefix model (teacher) into a smaller student of the same topology.

Loss = alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(teacher_T || student_T), where
x_T = softmax(logits / T) (Hinton et al. 2015; T^2 keeps the soft-gradient scale independent
of T). Both networks end in softmax, so their log-probabilities serve as logits: softmax of
log(p) / T equals softmax(z / T) for the logits z. The teacher's soft targets are computed
once and packed next to the one-hot labels in `y_true`, so plain `fit` does the training.
"""
from __future__ import annotations

import numpy as np

from tinyeit.compress.common import FoldData, StepResult, max_epochs
from tinyeit.models.architectures import build_model, spec_of_model, student_spec
from tinyeit.models.tf_env import tensorflow
from tinyeit.models.train import compile_classifier, fit

_EPS = 1e-7


def soft_targets(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(p) / T) of softmax outputs p, in float64 then float32."""
    logits = np.log(np.clip(probabilities.astype(np.float64), _EPS, 1.0)) / float(temperature)
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_loss(n_classes: int, temperature: float, alpha: float):
    """Keras loss over y_true = [one-hot labels | teacher soft targets] and student softmax."""
    tf = tensorflow()
    t = float(temperature)

    def loss(y_true, y_pred):
        hard, soft = y_true[:, :n_classes], y_true[:, n_classes:]
        log_p = tf.math.log(tf.clip_by_value(y_pred, _EPS, 1.0))
        ce = -tf.reduce_sum(hard * log_p, axis=1)
        log_student_t = tf.nn.log_softmax(log_p / t, axis=1)
        kl = tf.reduce_sum(soft * (tf.math.log(tf.clip_by_value(soft, _EPS, 1.0)) - log_student_t),
                           axis=1)
        return alpha * ce + (1.0 - alpha) * t * t * kl

    loss.__name__ = "distillation_loss"
    return loss


def _hard_accuracy(n_classes: int):
    tf = tensorflow()

    def hard_accuracy(y_true, y_pred):
        return tf.cast(tf.equal(tf.argmax(y_true[:, :n_classes], axis=1), tf.argmax(y_pred, axis=1)),
                       tf.float32)

    return hard_accuracy


def _targets(teacher, x, y, n_classes, temperature):
    probs = teacher.predict(x, batch_size=256, verbose=0)
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    return np.concatenate([onehot, soft_targets(probs, temperature)], axis=1)


def kd_step(prefix_model, step_cfg: dict, training_cfg: dict, fold: FoldData) -> StepResult:
    teacher = prefix_model
    n = fold.n_classes
    t, alpha = float(step_cfg["temperature"]), float(step_cfg["alpha"])
    student = build_model(student_spec(spec_of_model(teacher), step_cfg["student"]))
    compile_classifier(student, training_cfg["learning_rate"],
                       loss=distillation_loss(n, t, alpha), metrics=[_hard_accuracy(n)])
    y_train = _targets(teacher, fold.x_train, fold.y_train, n, t)
    y_val = None if fold.is_full else _targets(teacher, fold.x_val, fold.y_val, n, t)
    result = fit(student, fold.x_train, y_train, x_val=fold.x_val, y_val=y_val,
                 epochs=max_epochs(fold, training_cfg["epochs"]),
                 batch_size=training_cfg["batch_size"], patience=training_cfg["patience"])
    # Recompile as a plain classifier (so the .h5 loads anywhere) keeping the trained optimizer.
    compile_classifier(student, training_cfg["learning_rate"], optimizer=student.optimizer)
    return StepResult(student, result.epochs)
