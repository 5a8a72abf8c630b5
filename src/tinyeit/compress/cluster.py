"""`cluster`: tfmot weight clustering of conv and dense kernels, fine-tuned, then stripped.

Each kernel ends with at most `n_clusters` distinct values (k-means++ initialised centroids,
shared by the kernel's weights). Kernels with no more weights than clusters gain nothing and
are left as they are (tfmot also refuses them). Biases and BatchNorm stay unclustered.

After `prune`, a kernel's zeros are what the board can skip: a kernel that arrives with exact
zeros is clustered with tfmot's sparsity preservation, so every zero stays zero (zero is one of
its values) and the others share the remaining centroids. A trained dense kernel has no exact
zeros, so chains without pruning cluster as before.
"""
from __future__ import annotations

import numpy as np

from tinyeit.compress.common import FoldData, StepResult
from tinyeit.models.architectures import rebuild
from tinyeit.models.tf_env import keras, tfmot
from tinyeit.models.train import compile_classifier, compile_with_built_optimizer, fit


def cluster_step(prefix_model, step_cfg: dict, training_cfg: dict, fold: FoldData) -> StepResult:
    k = keras()
    clustering = tfmot().clustering.keras
    n_clusters = int(step_cfg["n_clusters"])
    epochs = int(step_cfg["epochs"])

    def wrap(layer):
        if isinstance(layer, (k.layers.Conv2D, k.layers.Dense)) and layer.kernel.shape.num_elements() > n_clusters:
            return clustering.cluster_weights(
                layer, number_of_clusters=n_clusters,
                cluster_centroids_init=clustering.CentroidInitialization.KMEANS_PLUS_PLUS,
                preserve_sparsity=has_zeros(layer.get_weights()[0]))
        return layer  # shared with the prefix model, weights included

    wrapped = k.models.clone_model(prefix_model, clone_function=wrap)
    compile_classifier(wrapped, training_cfg["learning_rate"])
    fit(wrapped, fold.x_train, fold.y_train, x_val=fold.x_val, y_val=fold.y_val,
        epochs=epochs, batch_size=training_cfg["batch_size"], patience=None)
    model = rebuild(clustering.strip_clustering(wrapped))
    compile_with_built_optimizer(model, training_cfg["learning_rate"])
    return StepResult(model, epochs)


def has_zeros(kernel: np.ndarray) -> bool:
    """Whether a kernel carries exact zeros to keep (a pruned one does; a trained one does not)."""
    return bool(np.any(kernel == 0))
