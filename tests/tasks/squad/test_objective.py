"""SQuAD training objectives against hand-worked numbers and a NumPy transcription."""

import math

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.squad.objective import SquadV1Objective, SquadV2Objective


def np_ce(logits, labels):
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


def np_sigmoid_ce(logits, labels):
    logits = np.asarray(logits, np.float64)
    return np.log1p(np.exp(-np.abs(logits))) + np.maximum(logits, 0) - logits * labels


def run(task, outputs, features, global_examples=None):
    features = {k: tf.constant(v) for k, v in features.items()}
    outputs = {k: tf.constant(v, tf.float32) for k, v in outputs.items()}
    denominators = {k: tf.constant(float(v)) for k, v in task.denominators(features).items()}
    if global_examples is not None:
        denominators["examples"] = tf.constant(float(global_examples))
    loss, metrics = task.loss_and_metrics(outputs, features, denominators)
    return float(loss), {k: (float(n), float(d)) for k, (n, d) in metrics.items()}


def test_v1_hand_worked():
    # Row 0: logits [0, ln 3, 0] -> p = [1/5, 3/5, 1/5]; labels start 1, end 0.
    # Row 1: uniform over 3 -> CE ln 3 for any label.
    start = [[0.0, math.log(3.0), 0.0], [0.0, 0.0, 0.0]]
    end = [[0.0, math.log(3.0), 0.0], [1.0, 1.0, 1.0]]
    features = {"input_ids": np.zeros((2, 3), np.int32),
                "start_positions": np.array([1, 2], np.int32),
                "end_positions": np.array([0, 1], np.int32)}
    loss, metrics = run(SquadV1Objective(), {"start_logits": start, "end_logits": end}, features)
    start_ce = [math.log(5 / 3), math.log(3)]
    end_ce = [math.log(5), math.log(3)]
    assert loss == pytest.approx((sum(start_ce) + sum(end_ce)) / 2 / 2, rel=1e-6)
    assert metrics["start_loss"] == pytest.approx((sum(start_ce), 2.0), rel=1e-6)
    # argmax of the uniform row is 0 (first), which is not label 2.
    assert metrics["start_accuracy"] == (1.0, 2.0)
    assert metrics["end_accuracy"] == (0.0, 2.0)


def test_v1_uses_the_global_batch_as_denominator():
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=(4, 9)), rng.normal(size=(4, 9))
    s, e = rng.integers(0, 9, 4), rng.integers(0, 9, 4)
    features = {"input_ids": np.zeros((4, 9), np.int32), "start_positions": s.astype(np.int32),
                "end_positions": e.astype(np.int32)}
    # This replica's share of a global batch of 16 examples.
    loss, _ = run(SquadV1Objective(), {"start_logits": start, "end_logits": end}, features,
                  global_examples=16)
    want = (np_ce(start, s).sum() + np_ce(end, e).sum()) / 2 / 16
    assert loss == pytest.approx(want, rel=1e-5)


def test_v2_loss_matches_numpy_with_masked_logits():
    rng = np.random.default_rng(1)
    batch, seq = 5, 11
    p_mask = np.zeros((batch, seq), np.int32)
    p_mask[:, 1:4] = 1          # question
    p_mask[:, -2:] = 1          # [SEP] and padding
    start = rng.normal(size=(batch, seq)) * 3
    end = rng.normal(size=(batch, seq)) * 3
    start = start * (1 - p_mask) - 1e30 * p_mask   # as the model outputs them
    end = end * (1 - p_mask) - 1e30 * p_mask
    cls = rng.normal(size=batch) * 2
    impossible = np.array([1, 0, 0, 1, 0], np.int32)
    s = np.where(impossible == 1, 0, rng.integers(4, seq - 2, batch)).astype(np.int32)
    e = np.where(impossible == 1, 0, s + 1).astype(np.int32)
    features = {"input_ids": np.zeros((batch, seq), np.int32), "p_mask": p_mask,
                "start_positions": s, "end_positions": e, "is_impossible": impossible}
    outputs = {"start_logits": start, "end_logits": end, "cls_logits": cls}
    loss, metrics = run(SquadV2Objective(), outputs, features)
    start_ce, end_ce = np_ce(start, s), np_ce(end, e)
    class_ce = np_sigmoid_ce(cls, impossible)
    want = 0.5 * (start_ce.mean() + end_ce.mean()) + 0.5 * class_ce.mean()
    assert loss == pytest.approx(want, rel=1e-5)
    assert metrics["answer_class_loss"][0] == pytest.approx(class_ce.sum(), rel=1e-5)
    assert metrics["answer_class_accuracy"] == (
        float(((cls > 0).astype(int) == impossible).sum()), float(batch))


def test_v2_hand_worked_answer_class_term():
    # Two positions, equal logits -> CE ln 2 for start and end; cls logit 0 -> BCE ln 2.
    features = {"input_ids": np.zeros((1, 2), np.int32), "p_mask": np.zeros((1, 2), np.int32),
                "start_positions": np.array([0], np.int32),
                "end_positions": np.array([1], np.int32),
                "is_impossible": np.array([1], np.int32)}
    outputs = {"start_logits": [[0.0, 0.0]], "end_logits": [[2.0, 2.0]], "cls_logits": [0.0]}
    loss, _ = run(SquadV2Objective(), outputs, features)
    assert loss == pytest.approx(0.5 * (2 * math.log(2)) + 0.5 * math.log(2), rel=1e-6)


def test_v2_model_inputs_carry_the_gold_start_only_when_present():
    task = SquadV2Objective()
    features = {k: np.zeros((1, 3), np.int32) for k in ("input_ids", "input_mask",
                                                          "segment_ids", "p_mask")}
    features["unique_ids"] = np.zeros((1,), np.int32)
    assert set(task.model_inputs(features)) == {"input_ids", "input_mask", "segment_ids",
                                                "p_mask"}
    features["start_positions"] = np.zeros((1,), np.int32)
    assert "start_positions" in task.model_inputs(features)
    assert set(SquadV1Objective().model_inputs(features)) == {"input_ids", "input_mask",
                                                         "segment_ids"}
