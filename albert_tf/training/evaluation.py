"""The one evaluation path of every task (Model Garden's `validation_step` +
`aggregate_logs` + `reduce_aggregated_logs`, without its registries).

A task gives:
    validation_step(model, features) -> {name: tensor}, compiled, on each replica:
        per-example outputs [batch, ...] (logits, ids) and/or scalar sums (metric
        numerators and denominators, summed over the replicas);
    aggregate(state, outputs) -> state, on the host, per batch (state starts None);
    reduce(state, step) -> the metrics dict (None where this worker computes none).
"""

import itertools

import tensorflow as tf

from albert_tf.training.prediction import step_outputs
from albert_tf.training.progress import with_progress


def aggregate(strategy, model, task, data):
    """`task.aggregate` over `task.validation_step` of every batch of `data` (an
    `EvalData`; only its first `max_batches` when set), with progress lines."""
    batches = step_outputs(strategy, model, data.dataset_fn, task.validation_step)
    if data.max_batches is not None:
        batches = itertools.islice(batches, data.max_batches)
    total = data.total_batches if data.total_batches is not None else data.max_batches
    state = None
    for outputs in with_progress(batches, total, data.what):
        state = task.aggregate(state, outputs)
    return state


def evaluate(strategy, model, task, data, step=None):
    """The metrics of the weights in `model` (at global `step`) on `data`:
    `task.reduce` of `aggregate`."""
    return task.reduce(aggregate(strategy, model, task, data), step)


def objective_sums(objective, model, features):
    """A `validation_step` from an objective's own loss and metrics (pretraining's):
    `loss` (this replica's share of the batch loss) and `<metric>/numerator`,
    `<metric>/denominator` per metric, all scalars, so summed over the replicas.
    The denominators are global, as in training."""
    ctx = tf.distribute.get_replica_context()
    denominators = {k: ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(v, tf.float32))
                    for k, v in objective.denominators(features).items()}
    outputs = model(objective.model_inputs(features), training=False)
    loss, metrics = objective.loss_and_metrics(outputs, features, denominators)
    sums = {"loss": loss}
    for name, (numerator, denominator) in metrics.items():
        sums[f"{name}/numerator"] = numerator
        sums[f"{name}/denominator"] = denominator
    return sums


def add_sums(state, outputs):
    """`aggregate` of `objective_sums`: running totals, and the batch count."""
    state = dict(state or {}, batches=(state or {}).get("batches", 0) + 1)
    for key, value in outputs.items():
        state[key] = state.get(key, 0.0) + float(value)
    return state


def metrics_of_sums(state, names):
    """`reduce` of `add_sums`: each metric in `names` as numerator / denominator (NaN
    for a zero denominator), `loss` the mean batch loss, `eval_batches`."""
    state = state or {}
    results = {}
    for name in names:
        denominator = state.get(f"{name}/denominator", 0.0)
        results[name] = (state[f"{name}/numerator"] / denominator if denominator
                         else float("nan"))
    batches = state.get("batches", 0)
    results["loss"] = state.get("loss", 0.0) / max(batches, 1)
    results["eval_batches"] = batches
    return results
