"""Classification / regression / multiple-choice losses against hand-worked values."""

import math

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.classification.objective import (ClassificationObjective, MultipleChoiceObjective,
                                                    RegressionObjective, numpy_per_example_loss,
                                                    objective_for)


def run(task, logits, labels, is_real=None):
    features = {"input_ids": tf.zeros([len(labels), 4], tf.int32),
                "label_ids": tf.constant(labels)}
    if is_real is not None:
        features["is_real_example"] = tf.constant(is_real, tf.int32)
    denominators = task.denominators(features)
    loss, metrics = task.loss_and_metrics({"logits": tf.constant(logits, tf.float32)},
                                          features, denominators)
    return float(loss), {k: (float(n), float(d)) for k, (n, d) in metrics.items()}


def test_cross_entropy_by_hand_with_a_padding_example():
    # Row 0: softmax(0, ln 3) = (1/4, 3/4), label 1 -> ln(4/3).
    # Row 1: softmax(ln 2, 0) = (2/3, 1/3), label 1 -> ln 3.
    # Row 2 is padding (is_real_example 0) and must not count.
    logits = [[0.0, math.log(3)], [math.log(2), 0.0], [50.0, -50.0]]
    loss, metrics = run(ClassificationObjective(), logits, [1, 1, 1], is_real=[1, 1, 0])
    # (ln(4/3) + ln 3) / 2 = ln 4 / 2 = ln 2.
    assert loss == pytest.approx(math.log(2), abs=1e-6)
    assert metrics == {"accuracy": (1.0, 2.0)}
    # Without is_real_example every row counts: official reduce_mean.
    loss, _ = run(ClassificationObjective(), logits[:2], [1, 1])
    assert loss == pytest.approx(math.log(2), abs=1e-6)


def test_squared_error_by_hand():
    logits = [[1.5], [0.0], [9.0]]
    loss, metrics = run(RegressionObjective(), logits, [1.0, 2.0, 0.0], is_real=[1, 1, 0])
    assert loss == pytest.approx((0.25 + 4.0) / 2)
    assert metrics == {"mean_squared_error": (4.25, 2.0)}
    assert isinstance(objective_for(is_regression=True), RegressionObjective)
    assert type(objective_for()) is ClassificationObjective


def test_four_way_softmax_by_hand():
    # Row 0: uniform over 4 -> ln 4 (argmax 0, label 2: wrong).
    # Row 1: softmax(0, ln2, ln3, ln4) = (1, 2, 3, 4) / 10, label 3 -> -ln 0.4 (right).
    logits = [[0.0, 0.0, 0.0, 0.0], [0.0, math.log(2), math.log(3), math.log(4)]]
    loss, metrics = run(MultipleChoiceObjective(), logits, [2, 3])
    assert loss == pytest.approx((math.log(4) - math.log(0.4)) / 2, abs=1e-6)  # ln(10) / 2
    assert loss == pytest.approx(math.log(10) / 2, abs=1e-6)
    assert metrics == {"accuracy": (1.0, 2.0)}


def test_replica_shares_add_up_to_the_global_mean():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 6).astype(np.int32)
    is_real = np.array([1, 1, 1, 1, 1, 0], np.int32)
    task = ClassificationObjective()
    full, _ = run(task, logits, labels, is_real)
    # Two replicas: each divides by the all-reduced (global) count of real examples.
    shares = []
    for part in (slice(0, 3), slice(3, 6)):
        features = {"input_ids": tf.zeros([3, 4], tf.int32), "label_ids": labels[part],
                    "is_real_example": is_real[part]}
        loss, _ = task.loss_and_metrics({"logits": tf.constant(logits[part])}, features,
                                        {"examples": tf.constant(5.0)})
        shares.append(float(loss))
    assert sum(shares) == pytest.approx(full, rel=1e-6)
    expected = numpy_per_example_loss(logits[:5], labels[:5]).mean()
    assert full == pytest.approx(expected, rel=1e-6)


def test_numpy_losses_match_tensorflow():
    rng = np.random.default_rng(1)
    logits = 5 * rng.standard_normal((7, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 7)
    tf_loss, _ = run(MultipleChoiceObjective(), logits, labels.astype(np.int32))
    assert numpy_per_example_loss(logits, labels).mean() == pytest.approx(tf_loss, rel=1e-6)
    scores = rng.standard_normal((7, 1)).astype(np.float32)
    targets = rng.uniform(0, 5, 7).astype(np.float32)
    tf_loss, _ = run(RegressionObjective(), scores, targets)
    assert numpy_per_example_loss(scores, targets, is_regression=True).mean() == \
        pytest.approx(tf_loss, rel=1e-6)
    # Hand values for the NumPy version too.
    np.testing.assert_allclose(numpy_per_example_loss([[0.0, math.log(3)]], [1]),
                               [math.log(4 / 3)])
    np.testing.assert_allclose(numpy_per_example_loss([[3.0]], [1.0], is_regression=True),
                               [4.0])
