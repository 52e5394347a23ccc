"""`run_classifier(params)`: GLUE fine-tuning, evaluation and prediction (run_classifier.py).

Follows google-research/albert `run_classifier.py`: the same flags, TFRecord caches
(`<cached_dir>/<task>_train.tf_record`, `<task>_eval.tf_record`, `predict.tf_record`),
head and loss. With `do_train` and `do_eval`, every saved checkpoint is evaluated on
the dev set and the best one is kept as `model.ckpt-best` (official format), which
`do_predict` then uses, as the official script does. Without `do_train` (the second
call of the official `run_glue.sh`), the fine-tuned checkpoints already in output_dir
are what is evaluated (each one not scored before) and predicted with (the best);
`init_checkpoint` is used only when output_dir holds none.

Outputs in `output_dir`:
    albert_config.json, model.ckpt-<train_step> (+ `checkpoint` state file): the
        fine-tuned model in the official format (usable as `--init_checkpoint`).
    model.ckpt-best, best_eval.json: the best dev checkpoint (with do_eval).
    eval_results.json: the dev metrics of that checkpoint (`glue_metrics` keys,
        `num_examples`, `loss`, `global_step`); eval_history.jsonl: every evaluation
        (with the checkpoint it scored); eval_results.txt and best_trial.txt: the same
        in the official text formats (`eval_accuracy = ...`, `step:best step:best`).
    <GLUE name>.tsv (e.g. MNLI-m.tsv) and test_results.tsv: the test-set submission
        and class probabilities (do_predict).

The helpers below are shared with `race_runner`.
"""

import dataclasses
import json
import math
import os

import numpy as np
import tensorflow as tf
from absl import logging

from albert_tf.checkpoints import (list_official_variables, resolve_checkpoint,
                                   restore_official_weights, save_official_checkpoint)
from albert_tf.config import AlbertConfig
from albert_tf.data import classifier_features, glue, padding, prediction_writers
from albert_tf.evaluation.classification_metrics import glue_metrics
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.tokenization import FullTokenizer
from albert_tf.training import classification_task
from albert_tf.training.finetuning import init_from_checkpoint, make_finetuning_trainer
from albert_tf.training.runtime import RuntimeParams, setup_runtime
from albert_tf.training.saved_checkpoints import (
    BEST_CHECKPOINT, checkpoint_step, evaluate_saved_checkpoints, json_safe,
    load_for_prediction, record_evaluation, trainer_checkpoint)
from albert_tf.training.trainer import predict_batches

# Our metric names -> the official eval_results.txt keys.
OFFICIAL_METRIC_NAMES = {"accuracy": "eval_accuracy", "loss": "eval_loss",
                         "matthews_corrcoef": "matthew_corr"}


@dataclasses.dataclass
class ClassifierParams:
    """Settings of a GLUE run; names and defaults follow official run_classifier.py flags."""

    task_name: str
    output_dir: str
    albert_config_file: str
    spm_model_file: str
    data_dir: str = None
    init_checkpoint: str = None
    cached_dir: str = None              # default: output_dir
    use_tfds: bool = False              # read the tfds `glue/*` builders, not data_dir
    tfds_data_dir: str = None
    do_lower_case: bool = True
    max_seq_length: int = 512
    do_train: bool = False
    do_eval: bool = False
    do_predict: bool = False
    train_batch_size: int = 32
    eval_batch_size: int = 8
    predict_batch_size: int = 8
    learning_rate: float = 5e-5
    train_step: int = 1000
    warmup_step: int = 0
    save_checkpoints_steps: int = 1000
    keep_checkpoint_max: int = 5
    iterations_per_loop: int = 1000
    optimizer: str = "adamw"
    dropout_prob: float = 0.1           # classifier dropout (official: fixed 0.1)
    hidden_dropout_prob: float = None   # encoder dropout ("ALBERT DR"); None: config's
    attention_probs_dropout_prob: float = None
    init_from_group0: bool = False
    gradient_accumulation_steps: int = 1
    trim_padding: bool = True           # drop each batch's padding columns (not official)
    runtime: RuntimeParams = dataclasses.field(default_factory=RuntimeParams)


# ---------------------------------------------------------------------------
# Shared with race_runner.

def check_common_params(params):
    """Errors a run can detect before building a strategy or a model."""
    if not (params.do_train or params.do_eval or params.do_predict):
        raise ValueError("at least one of do_train, do_eval or do_predict must be set")
    for name in ("output_dir", "albert_config_file", "spm_model_file"):
        if not getattr(params, name):
            raise ValueError(f"--{name} is required")
    for name in ("albert_config_file", "spm_model_file"):
        if not tf.io.gfile.exists(getattr(params, name)):
            raise FileNotFoundError(f"--{name}: {getattr(params, name)} does not exist")
    if params.do_train:
        for name in ("train_step", "train_batch_size", "save_checkpoints_steps",
                     "iterations_per_loop"):
            value = getattr(params, name)
            if value is None or value <= 0:
                raise ValueError(f"--{name} must be positive for training, got {value}")
        if params.warmup_step < 0 or params.warmup_step > params.train_step:
            raise ValueError(f"--warmup_step ({params.warmup_step}) must be in "
                             f"[0, train_step = {params.train_step}]")
    for name in ("dropout_prob", "hidden_dropout_prob", "attention_probs_dropout_prob"):
        value = getattr(params, name)
        if value is not None and not 0.0 <= value < 1.0:
            raise ValueError(f"--{name} must be in [0, 1), got {value}")


def load_config(params):
    config = AlbertConfig.from_json_file(params.albert_config_file)
    if params.max_seq_length > config.max_position_embeddings:
        raise ValueError(f"max_seq_length {params.max_seq_length} exceeds "
                         f"max_position_embeddings {config.max_position_embeddings} of "
                         f"{params.albert_config_file}")
    return config


def write_json(path, value):
    """Atomic JSON write; non-finite floats become null (valid JSON)."""
    with tf.io.gfile.GFile(path + ".tmp", "w") as f:
        json.dump(json_safe(value), f, indent=2, sort_keys=True)
        f.write("\n")
    tf.io.gfile.rename(path + ".tmp", path, overwrite=True)


def initialise_task_model(model, init_checkpoint, init_from_group0=False):
    """Loads `bert/*` and, if it fits, the task head of `init_checkpoint`.

    A head of another shape (e.g. MNLI's 3 labels for RTE's 2, or a RACE head) is
    left freshly initialised, with a warning saying so.

    Returns:
        "loaded" (head from the checkpoint), "new" (checkpoint has no head) or
        "reinitialised" (its head did not fit).
    """
    prefix, _ = resolve_checkpoint(init_checkpoint)
    available = list_official_variables(prefix)
    head = {name: tuple(v.shape) for name, v in model.official_head_variables().items()}
    found = {name: available.get(name) for name in head}
    if all(shape is None for shape in found.values()):
        init_from_checkpoint(model, prefix, init_from_group0=init_from_group0)
        logging.info("Initialised %s from %s; the task head (%s) is new",
                     type(model).__name__, prefix, ", ".join(head))
        return "new"
    if any(found[name] != head[name] for name in head):
        details = "; ".join(
            f"{name}: checkpoint {list(found[name]) if found[name] else 'missing'}, "
            f"this task {list(head[name])}" for name in head)
        logging.warning("Task head of %s does not fit this task (%s): re-initialising the "
                        "head, loading only bert/*", prefix, details)
        restore_official_weights(model.encoder, prefix, init_from_group0=init_from_group0,
                                 allow_unexpected=True)
        return "reinitialised"
    init_from_checkpoint(model, prefix, init_from_group0=init_from_group0)
    logging.info("Initialised %s from %s, task head included", type(model).__name__, prefix)
    return "loaded"


def initial_weights(model, params):
    """Initial weights. Training: `init_checkpoint` (or none: random, or resuming).
    Evaluation/prediction alone: the fine-tuned model in output_dir (`model.ckpt-best`,
    else the newest checkpoint) as official, where `init_checkpoint` only seeds
    training; `init_checkpoint` when output_dir holds none.

    Returns:
        The global step of the loaded checkpoint when it is known, else None.
    """
    source = params.init_checkpoint
    if not params.do_train:
        step = load_for_prediction(model, params.output_dir, source)
        if step is not False:
            return step
        if not source:
            raise FileNotFoundError(
                f"nothing to evaluate or predict with: no --init_checkpoint and no "
                f"fine-tuned checkpoint in {params.output_dir}; train first (--do_train)")
    if not source:
        logging.warning("No --init_checkpoint: starting from random weights (unless "
                        "resuming a run in %s)", params.output_dir)
        return None
    status = initialise_task_model(model, source, params.init_from_group0)
    if status != "loaded" and not params.do_train:
        logging.warning("Evaluating/predicting with an untrained task head: %s has no "
                        "head for this task", source)
    return checkpoint_step(resolve_checkpoint(source)[0])


def evaluate_without_training(model, best, loaded_step, evaluate, keep_best, write):
    """--do_eval without --do_train. As official: every fine-tuned checkpoint in
    output_dir (`evaluate_saved_checkpoints`), the best restored into `model`. When
    output_dir holds none, `model` as loaded (from --init_checkpoint) is scored and
    `write(metrics)` records it. Returns the eval results."""
    if evaluate_saved_checkpoints(model, best.output_dir, evaluate, keep_best) is not None:
        best.restore_into(model)
        return dict(best.best) if best.best else None
    metrics = evaluate(loaded_step)
    best.log(loaded_step, metrics)
    write(metrics)
    return metrics


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


def predict_in_order(strategy, model, dataset_fn, model_inputs):
    """Runs the model over `dataset_fn`; returns numpy `logits`, `label_ids`,
    `is_real_example` in record order."""
    parts = {"logits": [], "label_ids": [], "is_real_example": [], "example_index": []}
    for batch in predict_batches(strategy, model, dataset_fn, model_inputs,
                                 passthrough=("label_ids", "is_real_example", "example_index"),
                                 output_keys=("logits",)):
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


class BestCheckpoint:
    """Keeps the best-scoring evaluation as `model.ckpt-best` + `best_eval.json`, and
    logs every evaluation as official: `eval_results.txt` (`key = value` lines under
    official metric names, then `best = <best so far>` and a rule) and
    `best_trial.txt` (`<step>:<best step>:<best value>`).

    Survives restarts through `best_eval.json`.
    """

    def __init__(self, output_dir, metric):
        self.output_dir = output_dir
        self.metric = metric
        self.path = os.path.join(output_dir, "best_eval.json")
        self.best = None
        if tf.io.gfile.exists(self.path):
            with tf.io.gfile.GFile(self.path) as f:
                self.best = json.load(f)

    @staticmethod
    def _score(value):
        return -math.inf if value is None or not math.isfinite(value) else value

    def update(self, model, step, results, checkpoint=None):
        """Saves `model` if `results` beat the best so far, then logs `results`
        (see `log`); returns whether it saved."""
        score = self._score(results.get(self.metric))
        improved = self.best is None or score > self._score(self.best.get(self.metric))
        if improved:
            save_official_checkpoint(model, os.path.join(self.output_dir, BEST_CHECKPOINT),
                                     global_step=step)
            self.best = dict(results, global_step=step)
            write_json(self.path, self.best)
        self.log(step, results, checkpoint)
        return improved

    def log(self, step, results, checkpoint=None):
        """Appends `results` to eval_history.jsonl (with the `checkpoint` it scored)
        and eval_results.txt, and rewrites best_trial.txt."""
        record_evaluation(self.output_dir, results, checkpoint)
        official = {OFFICIAL_METRIC_NAMES.get(k, k): v for k, v in results.items()}
        official["global_step"] = step
        best = self.best or {}
        best_value = best.get(self.metric)
        with tf.io.gfile.GFile(os.path.join(self.output_dir, "eval_results.txt"), "a") as f:
            for key in sorted(official):
                f.write(f"{key} = {official[key]}\n")
            f.write(f"best = {best_value}\n" + "=" * 50 + "\n")
        if best:
            path = os.path.join(self.output_dir, "best_trial.txt")
            with tf.io.gfile.GFile(path + ".tmp", "w") as f:
                f.write(f"{step}:{best.get('global_step')}:{best_value}")
            tf.io.gfile.rename(path + ".tmp", path, overwrite=True)

    def restore_into(self, model):
        """Loads model.ckpt-best into `model` if it exists; returns whether it did."""
        prefix = os.path.join(self.output_dir, BEST_CHECKPOINT)
        if not tf.io.gfile.exists(prefix + ".index"):
            return False
        restore_official_weights(model, prefix)
        return True


def save_final_model(model, config, output_dir, step):
    """The fine-tuned model in the official format, found by `tf.train.latest_checkpoint`."""
    with tf.io.gfile.GFile(os.path.join(output_dir, "albert_config.json"), "w") as f:
        f.write(config.to_json_string())
    return save_official_checkpoint(model, os.path.join(output_dir, f"model.ckpt-{step}"),
                                    global_step=step, write_state_file=True)


def make_trainer(strategy, model, task, params):
    return make_finetuning_trainer(
        strategy, model, task, model_dir=params.output_dir,
        learning_rate=params.learning_rate, num_train_steps=params.train_step,
        num_warmup_steps=params.warmup_step, global_batch_size=params.train_batch_size,
        optimizer=params.optimizer, mixed_precision=params.runtime.mixed_precision,
        save_checkpoints_steps=params.save_checkpoints_steps,
        keep_checkpoint_max=params.keep_checkpoint_max,
        iterations_per_loop=params.iterations_per_loop,
        gradient_accumulation_steps=params.gradient_accumulation_steps,
        jit_compile=params.runtime.jit_compile)


def print_results(what, results):
    print(f"{what}: " + " | ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in sorted(results.items())), flush=True)


# ---------------------------------------------------------------------------
# GLUE.

def primary_metric(task_name):
    """The dev metric that picks the best checkpoint, as official."""
    return {"sts-b": "pearson", "cola": "matthews_corrcoef"}.get(task_name, "accuracy")


def _examples(processor, params, split):
    if params.use_tfds:
        return processor.get_tfds_examples(split, data_dir=params.tfds_data_dir)
    return processor.get_examples(params.data_dir, split)


def _check_params(params):
    check_common_params(params)
    task = params.task_name.lower()
    glue.get_processor(task)  # Unknown names fail here, listing the valid ones.
    if task == "ax" and (params.do_train or params.do_eval):
        raise ValueError("task ax (the GLUE diagnostic set) has only a test set: use "
                         "--do_predict with an MNLI fine-tuned --init_checkpoint")
    if not params.use_tfds and not params.data_dir:
        raise ValueError("--data_dir is required (or --use_tfds)")


def run_classifier(params):
    """Trains / evaluates / predicts per `params`; returns {"train", "eval", "predict"}."""
    _check_params(params)
    strategy = setup_runtime(params.runtime)
    task_name = params.task_name.lower()
    processor = glue.get_processor(task_name, do_lower_case=params.do_lower_case)
    label_list = processor.get_labels()
    is_regression = processor.is_regression
    config = load_config(params)
    # Every input is read (and bad rows reported) before the model is built.
    splits = [s for s, wanted in (("train", params.do_train), ("dev", params.do_eval),
                                  ("test", params.do_predict)) if wanted]
    examples = {split: _examples(processor, params, split) for split in splits}
    for split, found in examples.items():
        if not found:
            raise ValueError(f"{task_name}: the {split} set is empty")

    tokenizer = FullTokenizer(params.spm_model_file, do_lower_case=params.do_lower_case)
    cached_dir = params.cached_dir or params.output_dir
    tf.io.gfile.makedirs(params.output_dir)
    tf.io.gfile.makedirs(cached_dir)
    batch_sizes = {"dev": params.eval_batch_size, "test": params.predict_batch_size}
    files = {}
    for split, found in examples.items():
        if split in batch_sizes:
            found = classifier_features.pad_to_batch_multiple(found, batch_sizes[split])
        files[split] = classifier_features.cached_tfrecord_path(cached_dir, task_name, split)
        classifier_features.ensure_classifier_tfrecord(
            found, label_list, params.max_seq_length, tokenizer, files[split], is_regression)

    with strategy.scope():
        model = AlbertClassifier(
            config, num_labels=len(label_list), dropout_prob=params.dropout_prob,
            hidden_dropout_prob=params.hidden_dropout_prob,
            attention_probs_dropout_prob=params.attention_probs_dropout_prob)
        loaded_step = initial_weights(model, params)
    task = classification_task.task_for(is_regression)
    multiple = padding_multiple(params, strategy)
    best = BestCheckpoint(params.output_dir, primary_metric(task_name))
    results = {"train": None, "eval": None, "predict": None}

    if params.do_eval:
        dev_labels = [float(e.label) if is_regression else label_list.index(e.label)
                      for e in examples["dev"]]

    def evaluate(step):
        dataset_fn = ordered_dataset_fn(files["dev"], params.max_seq_length,
                                        params.eval_batch_size, is_regression,
                                        trim_padding_multiple=multiple)
        outputs = real_rows(predict_in_order(strategy, model, dataset_fn, task.model_inputs),
                            len(examples["dev"]), f"{task_name} dev")
        logits, labels = outputs["logits"], outputs["label_ids"]
        check_labels(labels, dev_labels, files["dev"])
        scores = logits[:, 0] if is_regression else logits
        metrics = glue_metrics(task_name, scores, labels)
        metrics["loss"] = float(np.mean(classification_task.numpy_per_example_loss(
            logits, labels, is_regression)))
        if step is not None:
            metrics["global_step"] = int(step)
        print_results(f"eval {task_name} at step {step}", metrics)
        results["eval"] = metrics
        return metrics

    def record_best(step, metrics, checkpoint=None):
        if best.update(model, step, metrics, checkpoint):
            write_json(os.path.join(params.output_dir, "eval_results.json"), metrics)

    if params.do_train:
        print(f"Training {task_name}: {len(examples['train'])} examples, batch "
              f"{params.train_batch_size}, {params.train_step} steps", flush=True)

        def train_input(input_context):
            return classifier_features.classifier_dataset(
                files["train"], params.max_seq_length, params.train_batch_size,
                is_training=True, is_regression=is_regression, seed=params.runtime.seed,
                input_context=input_context, trim_padding_multiple=multiple)

        trainer = make_trainer(strategy, model, task, params)
        evaluated = []

        def on_checkpoint(step, metrics):
            if metrics is not None:
                evaluated.append(step)
                record_best(step, metrics, trainer_checkpoint(params.output_dir, step))
            if step >= params.train_step:
                save_final_model(model, config, params.output_dir, step)

        results["train"] = trainer.train(
            train_input, eval_fn=evaluate if params.do_eval else None,
            on_checkpoint=on_checkpoint)
        if not tf.io.gfile.exists(os.path.join(params.output_dir,
                                               f"model.ckpt-{trainer.global_step}.index")):
            save_final_model(model, config, params.output_dir, trainer.global_step)
        if params.do_eval and not evaluated and best.best is None:
            # Training had already finished before this start, without evaluation.
            record_best(trainer.global_step, evaluate(trainer.global_step),
                        trainer_checkpoint(params.output_dir, trainer.global_step))
        if params.do_eval:
            best.restore_into(model)
            results["eval"] = dict(best.best)
    elif params.do_eval:
        results["eval"] = evaluate_without_training(
            model, best, loaded_step, evaluate, record_best,
            lambda metrics: write_json(os.path.join(params.output_dir, "eval_results.json"),
                                       metrics))

    if params.do_predict:
        results["predict"] = _predict(params, strategy, model, task, processor,
                                      examples["test"], files["test"])
    return results


def _predict(params, strategy, model, task, processor, examples, predict_file):
    task_name = params.task_name.lower()
    dataset_fn = ordered_dataset_fn(predict_file, params.max_seq_length,
                                    params.predict_batch_size, processor.is_regression,
                                    trim_padding_multiple=padding_multiple(params, strategy))
    outputs = real_rows(predict_in_order(strategy, model, dataset_fn, task.model_inputs),
                        len(examples), f"{task_name} test")
    logits = outputs["logits"]
    if processor.is_regression:
        probabilities = logits  # Official STS-B writes the raw score.
    else:
        shifted = logits - logits.max(axis=-1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    submission = prediction_writers.write_glue_submission(
        params.output_dir, task_name, [e.guid for e in examples], logits,
        processor.get_labels(), processor.is_regression)
    probabilities_file = prediction_writers.write_probabilities(
        os.path.join(params.output_dir, "test_results.tsv"), probabilities)
    print(f"Wrote {len(examples)} test predictions to {submission} and "
          f"{probabilities_file}", flush=True)
    return {"submission_file": submission, "probabilities_file": probabilities_file,
            "num_examples": len(examples)}
