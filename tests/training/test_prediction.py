"""The engine's one compiled pass over a finite dataset (`training.prediction`) and the
one evaluation path built on it (`training.evaluation`)."""

import os

import numpy as np
import tensorflow as tf

from albert_tf.data import padding
from albert_tf.modeling.models import AlbertClassifier, AlbertPretrainer
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training import evaluation, prediction
from albert_tf.training.task import EvalData
from tiny_config import tiny_config


class _Weights:
    """A stand-in model: `x -> x * scale` (weak-referenceable, no albert_config)."""

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, x):
        return x * self.scale


def _numbers(batch_size, count=7):
    values = np.arange(count, dtype=np.float32) + 1.0
    return lambda context: tf.data.Dataset.from_tensor_slices({"x": values}).batch(batch_size)


def test_step_outputs_keep_rows_and_sum_scalars():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    model = _Weights(2.0)

    def replica_step(model, features):
        doubled = model(features["x"])
        return {"doubled": doubled, "total": tf.reduce_sum(doubled)}

    batches = list(prediction.step_outputs(strategy, model, _numbers(3), replica_step))
    assert [b["doubled"].tolist() for b in batches] == [[2, 4, 6], [8, 10, 12], [14]]
    assert [float(b["total"]) for b in batches] == [12.0, 30.0, 14.0]
    assert batches[0]["total"].shape == ()


class _SumTask:
    """A task whose metric is the mean of x over the rows it saw."""

    def validation_step(self, model, features):
        return {"sum": tf.reduce_sum(features["x"]), "rows": tf.cast(tf.size(features["x"]),
                                                                      tf.float32)}

    def aggregate(self, state, outputs):
        return evaluation.add_sums(state, outputs)

    def reduce(self, state, step):
        return {"mean": state["sum"] / state["rows"], "batches": state["batches"],
                "step": step}


def test_evaluate_aggregates_every_batch_or_the_first_max_batches():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    task, model = _SumTask(), _Weights(1.0)
    assert evaluation.evaluate(strategy, model, task, EvalData(_numbers(2)), step=9) == {
        "mean": 4.0, "batches": 4, "step": 9}  # (1 + ... + 7) / 7
    # The first 2 batches only: rows 1..4.
    assert evaluation.evaluate(strategy, model, task, EvalData(_numbers(2), max_batches=2),
                               step=3) == {"mean": 2.5, "batches": 2, "step": 3}


def test_pretraining_evaluation_matches_numpy():
    """`objective_sums` + `add_sums` + `metrics_of_sums` (the pretraining evaluation)
    against the metrics computed in NumPy from the model's own logits."""
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertPretrainer(tiny_config())
    rng = np.random.default_rng(3)
    n, seq, preds = 10, 12, 3
    features = {
        "input_ids": rng.integers(5, 60, (n, seq)).astype(np.int32),
        "input_mask": np.ones((n, seq), np.int32),
        "segment_ids": np.zeros((n, seq), np.int32),
        "masked_lm_positions": rng.integers(1, seq, (n, preds)).astype(np.int32),
        "masked_lm_ids": rng.integers(5, 60, (n, preds)).astype(np.int32),
        "masked_lm_weights": (rng.random((n, preds)) > 0.3).astype(np.float32),
        "next_sentence_labels": rng.integers(0, 2, (n, 1)).astype(np.int32)}
    objective = PretrainingObjective()

    class Task:
        validation_step = staticmethod(
            lambda model, f: evaluation.objective_sums(objective, model, f))
        aggregate = staticmethod(evaluation.add_sums)
        reduce = staticmethod(lambda state, step: evaluation.metrics_of_sums(
            state, objective.metric_names()))

    data = EvalData(lambda context: tf.data.Dataset.from_tensor_slices(features).batch(4))
    results = evaluation.evaluate(strategy, model, Task(), data)

    outputs = model({k: features[k] for k in objective.MODEL_INPUTS}, training=False)
    mlm = np.asarray(outputs["mlm_logits"], np.float64).reshape(n, preds, -1)
    sop = np.asarray(outputs["sop_logits"], np.float64)
    weights, ids = features["masked_lm_weights"], features["masked_lm_ids"]
    labels = features["next_sentence_labels"].reshape(-1)

    def log_softmax(x):
        x = x - x.max(-1, keepdims=True)
        return x - np.log(np.exp(x).sum(-1, keepdims=True))
    mlm_ce = -np.take_along_axis(log_softmax(mlm), ids[..., None], -1)[..., 0]
    sop_ce = -log_softmax(sop)[np.arange(n), labels]
    np.testing.assert_allclose(results["masked_lm_accuracy"],
                               (weights * (mlm.argmax(-1) == ids)).sum() / weights.sum(),
                               rtol=1e-6)
    np.testing.assert_allclose(results["masked_lm_loss"],
                               (weights * mlm_ce).sum() / weights.sum(), rtol=1e-4)
    np.testing.assert_allclose(results["sentence_order_accuracy"],
                               (sop.argmax(-1) == labels).mean(), rtol=1e-6)
    np.testing.assert_allclose(results["sentence_order_loss"], sop_ce.mean(), rtol=1e-4)
    # `loss`: the mean over the batches (4, 4, 2 rows) of each batch's MLM + SOP loss.
    batch_losses = []
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        w = weights[rows]
        batch_losses.append((w * mlm_ce[rows]).sum() / (w.sum() + 1e-5)
                            + sop_ce[rows].mean())
    np.testing.assert_allclose(results["loss"], np.mean(batch_losses), rtol=1e-4)
    assert results["eval_batches"] == 3


def test_prediction_step_is_traced_once_per_model_and_released_with_it():
    """Every checkpoint's evaluation reuses one trace, whatever the batch and trimmed
    lengths; the cache holds the model weakly."""
    import gc

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertClassifier(tiny_config(max_position_embeddings=32), num_labels=2)
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 32, size=11)
    mask = (np.arange(32)[None] < lengths[:, None]).astype(np.int32)
    features = {"input_ids": rng.integers(5, 60, (11, 32)).astype(np.int32) * mask,
                "input_mask": mask, "segment_ids": np.zeros_like(mask)}

    def dataset_fn(batch_size):
        return lambda context: padding.trim_batches(
            tf.data.Dataset.from_tensor_slices(features).batch(batch_size), 1)

    inputs = lambda f: {k: f[k] for k in padding.SEQUENCE_FEATURES}  # noqa: E731
    expected = model(features, training=False)["logits"]
    for batch_size in (4, 3, 11):  # last batches of 3, 2 and none; widths differ per batch
        logits = np.concatenate([b["logits"] for b in prediction.predict_batches(
            strategy, model, dataset_fn(batch_size), inputs, output_keys=["logits"])])
        np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    steps = prediction._STEPS[model]
    assert len(steps) == 1
    assert next(iter(steps.values())).experimental_get_tracing_count() == 1
    gc.collect()  # models of earlier tests leave the cache first
    count = len(prediction._STEPS)
    del model, steps
    gc.collect()
    assert len(prediction._STEPS) == count - 1


TWO_REPLICAS = """
import json
import albert_tf  # noqa: F401
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import os

import numpy as np
from albert_tf.modeling.models import AlbertPretrainer
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training import evaluation, prediction
from albert_tf.training.task import EvalData
from tiny_config import tiny_config

class Scale:
    def __call__(self, x):
        return x * 2.0

def rows(context):
    dataset = tf.data.Dataset.range(12).map(lambda i: {"x": tf.cast(i, tf.float32)})
    dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
    return dataset.batch(context.get_per_replica_batch_size(6))

def step(model, features):
    doubled = model(features["x"])
    return {"doubled": doubled, "total": tf.reduce_sum(doubled)}

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
batches = list(prediction.step_outputs(mirrored, Scale(), rows, step))
out = {"doubled": [sorted(b["doubled"].tolist()) for b in batches],
       "total": [float(b["total"]) for b in batches]}

rng = np.random.default_rng(5)
n, seq, preds = 8, 10, 3
features = {
    "input_ids": rng.integers(5, 60, (n, seq)).astype(np.int32),
    "input_mask": np.ones((n, seq), np.int32), "segment_ids": np.zeros((n, seq), np.int32),
    "masked_lm_positions": rng.integers(1, seq, (n, preds)).astype(np.int32),
    "masked_lm_ids": rng.integers(5, 60, (n, preds)).astype(np.int32),
    "masked_lm_weights": (rng.random((n, preds)) > 0.3).astype(np.float32),
    "next_sentence_labels": rng.integers(0, 2, (n, 1)).astype(np.int32)}
objective = PretrainingObjective()

class Task:
    validation_step = staticmethod(lambda m, f: evaluation.objective_sums(objective, m, f))
    aggregate = staticmethod(evaluation.add_sums)
    reduce = staticmethod(lambda state, step: evaluation.metrics_of_sums(
        state, objective.metric_names()))

def data(context):
    dataset = tf.data.Dataset.from_tensor_slices(features)
    if context.num_input_pipelines > 1:
        dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
    return dataset.batch(context.get_per_replica_batch_size(4))

one = tf.distribute.OneDeviceStrategy("/cpu:0")
with one.scope():
    model = AlbertPretrainer(tiny_config())
    model({k: features[k] for k in objective.MODEL_INPUTS}, training=False)
with mirrored.scope():
    twin = AlbertPretrainer(tiny_config())
    twin({k: features[k] for k in objective.MODEL_INPUTS}, training=False)
twin.set_weights(model.get_weights())
out["one"] = evaluation.evaluate(one, model, Task(), EvalData(data))
out["two"] = evaluation.evaluate(mirrored, twin, Task(), EvalData(data))
print("RESULT " + json.dumps(out))
"""


def test_two_replicas_give_every_row_and_the_one_device_metrics(tmp_path):
    """On two replicas, per-example outputs come back as every row of the global batch
    and scalar sums summed over the replicas, so the evaluation's metrics equal one
    device's."""
    import json
    import pathlib
    import subprocess
    import sys

    tests = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tests.parent), str(tests), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", TWO_REPLICAS], capture_output=True,
                            text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.split("RESULT ", 1)[1])
    assert out["doubled"] == [[0, 2, 4, 6, 8, 10], [12, 14, 16, 18, 20, 22]]
    assert out["total"] == [30.0, 102.0]
    one, two = out["one"], out["two"]
    assert one["eval_batches"] == two["eval_batches"] == 2
    for key in ("masked_lm_accuracy", "masked_lm_loss", "sentence_order_accuracy",
                "sentence_order_loss", "loss"):
        np.testing.assert_allclose(two[key], one[key], rtol=1e-5, err_msg=key)
