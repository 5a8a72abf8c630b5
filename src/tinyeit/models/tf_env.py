"""One place that prepares TensorFlow: Keras 2 (tfmot needs it), one thread, fixed seeds.

Single-threaded ops and op determinism make two runs with the same seed give byte-identical
weights; the thread settings must be applied before TensorFlow runs its first op.
"""
from __future__ import annotations

import os

_CONFIGURED = False


def tensorflow():
    """Return the `tensorflow` module configured for Keras 2 and deterministic single-threaded ops."""
    global _CONFIGURED
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if not _CONFIGURED:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            # TensorFlow already ran ops in this process (e.g. a caller imported and used it):
            # the settings cannot change any more; determinism then rests on op determinism.
            pass
        tf.config.experimental.enable_op_determinism()
        tf.get_logger().setLevel("ERROR")  # retracing notices drown the step's own messages
        _CONFIGURED = True
    return tf


def keras():
    """The Keras 2 API (`tf_keras`), which tfmot requires."""
    tensorflow()
    import tf_keras

    return tf_keras


def tfmot():
    tensorflow()
    import tensorflow_model_optimization as tfmot

    return tfmot


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow so weight init, dropout and shuffling repeat exactly."""
    keras().utils.set_random_seed(int(seed))
