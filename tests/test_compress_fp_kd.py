"""Filter pruning copies exactly the kept weights; the distillation loss is the textbook one."""
from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit.compress import fp, kd  # noqa: E402
from tinyeit.models import architectures as arch  # noqa: E402


def random_model(seed=0):
    spec = arch.CnnSpec(n_features=40, n_classes=5, conv_filters=6, kernel_size=3, pool_size=3,
                        pool_strides=2, dropout=0.2, dense_units=(10, 7))
    model = arch.build_model(spec)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) if i != 5
                       else rng.uniform(0.5, 2.0, size=w.shape).astype(np.float32)  # BN variance
                       for i, w in enumerate(model.get_weights())])
    return spec, model


def top_by_l1(columns: np.ndarray, keep: int) -> list[int]:
    """Reference: indices of the `keep` columns with the largest L1 norm, ascending."""
    norms = [float(np.sum(np.abs(columns[:, j]))) for j in range(columns.shape[1])]
    return sorted(sorted(range(len(norms)), key=lambda j: -norms[j])[:keep])


def test_fp_keeps_the_highest_l1_filters_and_units_and_copies_their_weights():
    spec, wide = random_model()
    narrow, kept = fp.narrow_model(wide, ratio=0.5)
    w = {layer.name: layer.get_weights() for layer in wide.layers if layer.get_weights()}
    n = {layer.name: layer.get_weights() for layer in narrow.layers if layer.get_weights()}

    conv_k = w["conv"][0].reshape(-1, 6)
    keep_c = top_by_l1(conv_k, 3)
    assert list(kept["conv"]) == keep_c
    np.testing.assert_array_equal(n["conv"][0], w["conv"][0][..., keep_c])
    np.testing.assert_array_equal(n["conv"][1], w["conv"][1][keep_c])
    for got, full in zip(n["bn"], w["bn"]):
        np.testing.assert_array_equal(got, full[keep_c])

    positions = arch.pooled_length(spec)
    rows = [p * 6 + c for p in range(positions) for c in keep_c]  # Flatten: position-major
    d0 = w["dense0"][0][rows]
    keep_u0 = top_by_l1(d0, 5)
    np.testing.assert_array_equal(n["dense0"][0], d0[:, keep_u0])
    np.testing.assert_array_equal(n["dense0"][1], w["dense0"][1][keep_u0])
    d1 = w["dense1"][0][keep_u0]
    keep_u1 = top_by_l1(d1, 4)  # round(7 * 0.5) = 4 (round half to even)
    np.testing.assert_array_equal(n["dense1"][0], d1[:, keep_u1])
    np.testing.assert_array_equal(n["output"][0], w["output"][0][keep_u1])
    np.testing.assert_array_equal(n["output"][1], w["output"][1])


def test_fp_narrow_model_computes_the_wide_model_with_the_dropped_parts_cut():
    _, wide = random_model(1)
    narrow, kept = fp.narrow_model(wide, ratio=0.5)
    # Cut the wide model's links out of every dropped channel/unit: same function as narrow.
    positions = wide.get_layer("pool").output_shape[2]
    k, b = wide.get_layer("dense0").get_weights()
    channel_mask = np.isin(np.arange(k.shape[0]) % 6, kept["conv"])
    wide.get_layer("dense0").set_weights([k * channel_mask[:, None], b])
    for name, prev in (("dense1", "dense0"), ("output", "dense1")):
        k, b = wide.get_layer(name).get_weights()
        mask = np.isin(np.arange(k.shape[0]), kept[prev])
        wide.get_layer(name).set_weights([k * mask[:, None], b])
    x = np.random.default_rng(2).normal(size=(16, 1, 40, 1)).astype(np.float32)
    assert positions * 6 == wide.get_layer("dense0").get_weights()[0].shape[0]
    np.testing.assert_allclose(narrow.predict(x, verbose=0), wide.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_kept_indices_keeps_at_least_one_and_breaks_ties_by_index():
    assert list(fp.kept_indices(np.array([1.0, 1.0, 1.0, 1.0]), 0.5)) == [0, 1]
    assert list(fp.kept_indices(np.array([0.1, 5.0]), 0.9)) == [1]


def test_distillation_loss_matches_a_numpy_reference():
    from tinyeit.models.tf_env import tensorflow

    tf = tensorflow()
    rng = np.random.default_rng(0)
    n, c, t, alpha = 6, 4, 3.0, 0.3
    teacher = rng.dirichlet(np.ones(c), size=n).astype(np.float32)
    student = rng.dirichlet(np.ones(c), size=n).astype(np.float32)
    labels = rng.integers(0, c, size=n)
    y_true = np.concatenate([np.eye(c, dtype=np.float32)[labels], kd.soft_targets(teacher, t)], axis=1)
    got = kd.distillation_loss(c, t, alpha)(tf.constant(y_true), tf.constant(student)).numpy()

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p_t, p_s = softmax(np.log(teacher) / t), softmax(np.log(student) / t)
    ce = -np.log(student[np.arange(n), labels])
    kl = np.sum(p_t * (np.log(p_t) - np.log(p_s)), axis=1)
    np.testing.assert_allclose(got, alpha * ce + (1 - alpha) * t * t * kl, rtol=1e-4)
    # At T = 1 the soft targets are the teacher's probabilities themselves.
    np.testing.assert_allclose(kd.soft_targets(teacher, 1.0), teacher, rtol=1e-5)


def test_prune_schedule_fires_and_ends_before_training_ends():
    from tinyeit.compress.prune import schedule_steps

    for total in (1, 2, 3, 6, 40, 400, 4000):
        end, freq = schedule_steps(total)
        assert 1 <= freq <= max(1, end) and end % freq == 0
        assert end < total or total == 1
