"""The pretraining loss and metrics against a NumPy reference of the official formulas."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.pretraining.objective import PretrainingObjective


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_loss_matches_official_formula():
    rng = np.random.default_rng(0)
    B, P, V = 3, 4, 7
    mlm_logits = rng.standard_normal((B, P, V)).astype(np.float32) * 2
    sop_logits = rng.standard_normal((B, 2)).astype(np.float32)
    ids = rng.integers(0, V, (B, P))
    weights = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], np.float32)
    labels = np.array([[1], [0], [1]])
    features = {"masked_lm_ids": ids.astype(np.int32), "masked_lm_weights": weights,
                "next_sentence_labels": labels.astype(np.int32),
                "input_ids": np.zeros((B, 5), np.int32)}
    task = PretrainingObjective()
    denominators = task.denominators(features)
    loss, metrics = task.loss_and_metrics({"mlm_logits": mlm_logits, "sop_logits": sop_logits},
                                          features, denominators)
    # official: per_example_loss = -sum(log_probs * one_hot(label)); numerator = sum(w * l);
    # denominator = sum(w) + 1e-5; SOP = mean(-sum(log_probs * one_hot)).
    lp = log_softmax(mlm_logits.astype(np.float64))
    per_example = -np.take_along_axis(lp, ids[..., None], -1)[..., 0]
    mlm = (weights * per_example).sum() / (weights.sum() + 1e-5)
    sop_lp = log_softmax(sop_logits.astype(np.float64))
    sop = -np.take_along_axis(sop_lp, labels, -1).mean()
    np.testing.assert_allclose(float(loss), mlm + sop, rtol=1e-6)
    correct = (mlm_logits.argmax(-1) == ids) * weights
    num, den = metrics["masked_lm_accuracy"]
    np.testing.assert_allclose(float(num) / float(den), correct.sum() / weights.sum())
    num, den = metrics["sentence_order_accuracy"]
    assert float(den) == 3
    np.testing.assert_allclose(float(num), (sop_logits.argmax(-1) == labels[:, 0]).sum())


def test_shares_of_split_batches_add_up_to_the_whole_batch_loss():
    """Replicas (or micro-batches) with global denominators sum to the global loss."""
    rng = np.random.default_rng(1)
    B, P, V = 4, 3, 5
    features = {"masked_lm_ids": rng.integers(0, V, (B, P)).astype(np.int32),
                "masked_lm_weights": (rng.random((B, P)) > 0.3).astype(np.float32),
                "next_sentence_labels": rng.integers(0, 2, (B, 1)).astype(np.int32),
                "input_ids": np.zeros((B, 2), np.int32)}
    outputs = {"mlm_logits": rng.standard_normal((B, P, V)).astype(np.float32),
               "sop_logits": rng.standard_normal((B, 2)).astype(np.float32)}
    task = PretrainingObjective()
    whole, _ = task.loss_and_metrics(outputs, features, task.denominators(features))
    halves = [{k: v[i:i + 2] for k, v in d.items()} for d in (features, outputs)
              for i in (0, 2)]
    feature_halves, output_halves = halves[:2], halves[2:]
    totals = {k: sum(float(task.denominators(f)[k]) for f in feature_halves)
              for k in ("masked_lm_weight", "examples")}
    shares = [float(task.loss_and_metrics(o, f, {k: tf.constant(v) for k, v in totals.items()})[0])
              for f, o in zip(feature_halves, output_halves)]
    np.testing.assert_allclose(sum(shares), float(whole), rtol=1e-6)


def test_sentence_order_loss_weight_scales_only_the_sop_term():
    """0 leaves masked LM alone (the paper's "no sentence task"); 1 is the official sum."""
    rng = np.random.default_rng(2)
    B, P, V = 3, 2, 5
    features = {"masked_lm_ids": rng.integers(0, V, (B, P)).astype(np.int32),
                "masked_lm_weights": np.ones((B, P), np.float32),
                "next_sentence_labels": np.array([[0], [1], [1]], np.int32),
                "input_ids": np.zeros((B, 2), np.int32)}
    mlm_logits = rng.standard_normal((B, P, V)).astype(np.float32)
    sop_logits = rng.standard_normal((B, 2)).astype(np.float32)
    lp = log_softmax(mlm_logits.astype(np.float64))
    mlm = -np.take_along_axis(lp, features["masked_lm_ids"][..., None], -1).sum() / (B * P + 1e-5)
    sop = -np.take_along_axis(log_softmax(sop_logits.astype(np.float64)),
                              features["next_sentence_labels"], -1).mean()
    for weight in (0.0, 0.5, 1.0):
        task = PretrainingObjective(sentence_order_loss_weight=weight)
        loss, metrics = task.loss_and_metrics({"mlm_logits": mlm_logits,
                                               "sop_logits": sop_logits},
                                              features, task.denominators(features))
        np.testing.assert_allclose(float(loss), mlm + weight * sop, rtol=1e-6)
        # The SOP metrics are reported whatever the weight.
        np.testing.assert_allclose(float(metrics["sentence_order_loss"][0]) / B, sop,
                                   rtol=1e-6)
    with pytest.raises(ValueError, match="sentence_order_loss_weight must be >= 0"):
        PretrainingObjective(sentence_order_loss_weight=-1.0)
