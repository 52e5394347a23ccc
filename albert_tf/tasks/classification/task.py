"""Pieces GLUE and RACE share: checks, ordered prediction over TFRecord caches, the
official text logs of every evaluation, the fine-tuning settings."""

import os

import numpy as np
import tensorflow as tf

from albert_tf.atomic_write import write_json_atomically, write_text_atomically
from albert_tf.data import padding
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.training.trainer import predict_batches
from albert_tf.training.progress import with_progress
from albert_tf.training.run_loop import RunTask

# Our metric names -> the official eval_results.txt keys.
OFFICIAL_METRIC_NAMES = {"accuracy": "eval_accuracy", "loss": "eval_loss",
                         "matthews_corrcoef": "matthew_corr"}


def check_classification_params(params):
    """Errors a GLUE or RACE run can detect before building a strategy or a model."""
    if not (params.do_train or params.do_eval or params.do_predict):
        raise ValueError("at least one of do_train, do_eval or do_predict must be set")
    for name in ("output_dir", "albert_config_file", "spm_model_file"):
        if not getattr(params, name):
            raise ValueError(f"--{name} is required")
    for name in ("albert_config_file", "spm_model_file"):
        if not tf.io.gfile.exists(getattr(params, name)):
            raise FileNotFoundError(f"--{name}: {getattr(params, name)} does not exist")
    if params.do_train and (params.warmup_step < 0 or params.warmup_step > params.train_step):
        raise ValueError(f"--warmup_step ({params.warmup_step}) must be in "
                         f"[0, train_step = {params.train_step}]")


def ordered_dataset_fn(input_file, max_seq_length, batch_size, is_regression=False,
                       num_choices=None, trim_padding_multiple=None):
    """`fn(input_context)` -> one pass over the records with an `example_index` each.

    Predictions are put back in file order by that index whatever the strategy,
    which leaves the batching free: with `trim_padding_multiple`, each batch runs
    only up to its longest row, and on one replica rows of one trimmed length are
    batched together (`padding.batch_by_length`). Several replicas keep file-order
    batches: their count stays a multiple of the replicas (the records are padded
    to whole global batches), so no replica is handed an empty batch.
    """
    def dataset_fn(input_context):
        dataset = tf.data.TFRecordDataset(input_file).enumerate()
        per_replica, replicas = batch_size, 1
        if input_context is not None:
            dataset = dataset.shard(input_context.num_input_pipelines,
                                    input_context.input_pipeline_id)
            per_replica = input_context.get_per_replica_batch_size(batch_size)
            replicas = input_context.num_replicas_in_sync

        def decode(index, record):
            features = classifier_features.decode_record(record, max_seq_length,
                                                         is_regression, num_choices)
            features["example_index"] = index
            return features
        dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        if trim_padding_multiple and replicas == 1:
            dataset = padding.batch_by_length(dataset, per_replica, trim_padding_multiple)
        else:
            dataset = padding.trim_batches(dataset.batch(per_replica), trim_padding_multiple)
        return dataset.prefetch(tf.data.AUTOTUNE)
    return dataset_fn


def padding_multiple(params, strategy):
    """`padding.padding_multiple` for a run's `trim_padding` and runtime settings."""
    return padding.padding_multiple(params.trim_padding, params.runtime.jit_compile, strategy)


def predict_in_order(strategy, model, dataset_fn, model_inputs, total_batches=None,
                     what="predict"):
    """Runs the model over `dataset_fn` (progress with an ETA per `total_batches`);
    returns numpy `logits`, `label_ids`, `is_real_example` in record order."""
    parts = {"logits": [], "label_ids": [], "is_real_example": [], "example_index": []}
    batches = predict_batches(strategy, model, dataset_fn, model_inputs,
                              passthrough=("label_ids", "is_real_example", "example_index"),
                              output_keys=("logits",))
    for batch in with_progress(batches, total_batches, what):
        for key in parts:
            parts[key].append(batch[key])
    arrays = {k: np.concatenate(v, axis=0) for k, v in parts.items()}
    order = np.argsort(arrays.pop("example_index"), kind="stable")
    return {k: v[order] for k, v in arrays.items()}


def real_rows(outputs, num_examples, what):
    """Drops padding rows (is_real_example 0); checks that `num_examples` remain."""
    mask = outputs["is_real_example"].astype(bool)
    kept = {k: v[mask] for k, v in outputs.items()}
    if kept["logits"].shape[0] != num_examples:
        raise ValueError(f"{what}: got predictions for {kept['logits'].shape[0]} examples, "
                         f"expected {num_examples}; is the TFRecord cache stale?")
    return kept


def check_labels(labels, expected, path):
    """The cached records' labels must be the examples' (a stale cache would not be)."""
    if not np.allclose(np.asarray(labels, np.float64), np.asarray(expected, np.float64),
                       rtol=1e-6, atol=1e-6):
        raise ValueError(f"{path}: its labels differ from the examples it should hold; "
                         "delete this stale cache")


def softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)


def write_official_eval_logs(output_dir, step, results, best, metric):
    """The official scripts' logs of an evaluation: `eval_results.txt` (a block of
    `key = value` lines under official metric names, `best = <best so far>` and a
    rule) and `best_trial.txt` (`<step>:<best step>:<best value>`)."""
    official = {OFFICIAL_METRIC_NAMES.get(k, k): v for k, v in results.items()}
    official["global_step"] = step
    best = best or {}
    best_value = best.get(metric)
    with tf.io.gfile.GFile(os.path.join(output_dir, "eval_results.txt"), "a") as f:
        for key in sorted(official):
            f.write(f"{key} = {official[key]}\n")
        f.write(f"best = {best_value}\n" + "=" * 50 + "\n")
    if best:
        write_text_atomically(os.path.join(output_dir, "best_trial.txt"),
                              f"{step}:{best.get('global_step')}:{best_value}")


class ClassificationRunTask(RunTask):
    """What GLUE and RACE runs share: the checks, the official evaluation logs,
    `eval_results.json` of the best evaluation, the results dict."""

    def __init__(self, params):
        super().__init__(params)
        self.evaluates = params.do_eval

    def validate(self):
        check_classification_params(self.params)

    def on_evaluated(self, step, metrics, improved, keeper):
        output_dir = self.params.output_dir
        write_official_eval_logs(output_dir, step, metrics, keeper.best, self.primary_metric)
        if improved:
            write_json_atomically(os.path.join(output_dir, "eval_results.json"), metrics)
            self.write_best_files(step)

    def plan_training(self, strategy, trainer_task, what):
        """Once the data is ready: the loss task, the padding multiple, the step counts;
        `what` ("RTE: 2490 examples") heads the training line."""
        p = self.params
        self.trainer_task = trainer_task
        self.multiple = padding_multiple(p, strategy)
        self.num_train_steps, self.num_warmup_steps = p.train_step, p.warmup_step
        if p.do_train:
            print(f"Training {what}, batch {p.train_batch_size}, {p.train_step} steps",
                  flush=True)

    def dropout_kwargs(self):
        """The model's dropouts: the head's and, when set, the encoder's."""
        p = self.params
        return dict(dropout_prob=p.dropout_prob, hidden_dropout_prob=p.hidden_dropout_prob,
                    attention_probs_dropout_prob=p.attention_probs_dropout_prob)

    def write_best_files(self, step):
        """More files of the best evaluation (e.g. RACE's dev predictions)."""

    def results(self, outcome):
        return {"train": outcome["train"], "eval": outcome["best"] or outcome["eval"],
                "predict": outcome["predict"]}
