"""Running a model over a finite dataset, batch by batch, on every replica.

`step_outputs` is the one compiled pass behind evaluation (`evaluation.evaluate`)
and prediction (`predict_batches`): the input is range-checked against the model
(`albert_tf.data.input_checks`), a damaged TFRecord is named, and each batch's
outputs come back to the host as NumPy.
"""

import weakref

import numpy as np
import tensorflow as tf

from albert_tf.data import input_checks
from albert_tf.data import record_diagnosis


def model_input_checker(model):
    """`fn(dataset) -> dataset` adding `input_checks` against `model.albert_config` (the
    identity without one). Holds the config, not the model."""
    config = getattr(model, "albert_config", None)
    if config is None:
        return lambda dataset: dataset
    # Classes of a classifier (1: a regression score, not checked), choices of RACE.
    num_labels = getattr(model, "num_labels", None) or getattr(model, "num_choices", None)
    num_labels = num_labels if num_labels and num_labels > 1 else None
    return lambda dataset: input_checks.check_model_inputs(dataset, config, num_labels)


def explaining_data_loss(dataset, files):
    """Iterates `dataset`; a DataLossError is re-raised naming the damaged TFRecord file."""
    iterator = iter(dataset)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except tf.errors.DataLossError as e:
            raise record_diagnosis.explain_data_loss(e, files) from e
        yield batch


def checked_inputs(strategy, model, dataset_fn):
    """`dataset_fn`'s batches (distributed over the replicas when several) with the
    model's input checks (`input_checks`) mapped in, and the list of TFRecord files
    they read (filled as the datasets are made), for naming a damaged one."""
    files = []
    checker = model_input_checker(model)

    def tracked_fn(input_context):
        dataset = dataset_fn(input_context)
        files.extend(record_diagnosis.tagged_files(dataset))
        return checker(dataset)
    if strategy.num_replicas_in_sync == 1:
        return tracked_fn(tf.distribute.InputContext()), files
    return strategy.distribute_datasets_from_function(tracked_fn), files


def _to_host(strategy, value):
    """A replica output as NumPy: per-example values [batch, ...] concatenated over this
    worker's replicas along the batch axis; scalars (sums) arrive already summed."""
    parts = [np.asarray(p) for p in strategy.experimental_local_results(value)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


# model -> {cache key: traced step}; entries go with their model.
_STEPS = weakref.WeakKeyDictionary()


def step_outputs(strategy, model, dataset_fn, replica_step, cache_key=None):
    """Yields, per batch of `dataset_fn` (finite), `replica_step(model, features)` as NumPy.

    `replica_step` runs compiled on every replica (training=False is its business) and
    returns {name: tensor}: per-example tensors [per-replica batch, ...] come back
    concatenated over this worker's replicas; scalar tensors (metric sums) come back
    summed over all replicas and workers. The step is traced once per model, strategy,
    `cache_key` (default `replica_step`; a bound method of one object is equal to
    itself) and batch spec, and kept, so the evaluation at every checkpoint does not
    trace the model again; the spec leaves the batch size and trimmed lengths
    (`albert_tf.data.padding`) open.
    """
    dataset, files = checked_inputs(strategy, model, dataset_fn)
    key = (id(strategy), repr(dataset.element_spec),
           replica_step if cache_key is None else cache_key)
    steps = _STEPS.setdefault(model, {})
    if key not in steps:
        model_ref = weakref.ref(model)  # a strong one would keep the model's entry alive

        def replica_fn(features):
            return replica_step(model_ref(), features)

        @tf.function(input_signature=[dataset.element_spec])
        def step(batch):
            outputs = strategy.run(replica_fn, args=(batch,))
            return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                    if strategy.experimental_local_results(v)[0].shape.rank == 0 else v
                    for k, v in outputs.items()}
        steps[key] = step
    step = steps[key]
    for batch in explaining_data_loss(dataset, files):
        outputs = step(batch)
        yield {k: _to_host(strategy, v) for k, v in outputs.items()}


def predict_batches(strategy, model, dataset_fn, model_inputs, passthrough=(),
                    output_keys=None):
    """Runs `model` (training=False) over a finite dataset; yields numpy dicts per batch.

    Args:
        dataset_fn: `fn(input_context) -> tf.data.Dataset` (not repeating).
        model_inputs: `fn(features) -> model input dict`.
        passthrough: feature names copied to the outputs (e.g. "unique_ids").
        output_keys: model outputs to keep (default all).
    """
    passthrough = tuple(passthrough)
    output_keys = None if output_keys is None else tuple(output_keys)

    def replica_step(model, features):
        outputs = model(model_inputs(features), training=False)
        if output_keys is not None:
            outputs = {k: outputs[k] for k in output_keys}
        outputs = {k: tf.cast(v, tf.float32) if v.dtype.is_floating else v
                   for k, v in outputs.items()}
        outputs.update({k: features[k] for k in passthrough})
        return outputs
    return step_outputs(strategy, model, dataset_fn, replica_step,
                        cache_key=("predict", model_inputs, passthrough, output_keys))
