"""`ClassificationTask`: what GLUE, custom data and RACE share: checks, the evaluation
(ordered logits over the TFRecord caches, through `validation_step`), the official
text logs of every evaluation; `SentenceClassificationTask`: GLUE and custom data,
examples from a processor, `AlbertClassifier`."""

import os

import numpy as np
import tensorflow as tf

from albert_tf.atomic_write import write_json_atomically, write_text_atomically
from albert_tf.data import padding
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.classification import objective as classification_objective
from albert_tf.tokenization import FullTokenizer
from albert_tf.training import evaluation
from albert_tf.training.task import EvalData, Task

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


class ClassificationTask(Task):
    """What GLUE, custom data and RACE runs share: the checks, the evaluation path
    (logits put back in record order, padding rows dropped), the official evaluation
    logs, `eval_results.json` of the best evaluation, the results dict.

    Subclasses set in `prepare`: `files` and `examples` ({split: ...}),
    `total_batches` ({split: batches}) and call `plan_training`; they give
    `num_choices` (None: one sequence per example) and `score`."""

    num_choices = None
    is_regression = False

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

    def plan_training(self, strategy, objective, what):
        """Once the data is ready: the objective, the padding multiple, the step counts;
        `what` ("RTE: 2490 examples") heads the training line."""
        p = self.params
        self.strategy = strategy
        self.objective = objective
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

    # ------------------------------------------------------------- evaluation
    def split_data(self, split):
        """`EvalData` of the dev or test records, in file order."""
        p = self.params
        batch_size = p.eval_batch_size if split == "dev" else p.predict_batch_size
        dataset_fn = ordered_dataset_fn(self.files[split], p.max_seq_length, batch_size,
                                        self.is_regression, num_choices=self.num_choices,
                                        trim_padding_multiple=self.multiple)
        return EvalData(dataset_fn, what=f"{self.name} {split}",
                        total_batches=self.total_batches[split])

    def eval_data(self):
        return self.split_data("dev")

    def validation_step(self, model, features):
        logits = model(self.objective.model_inputs(features), training=False)["logits"]
        return {"logits": tf.cast(logits, tf.float32), "label_ids": features["label_ids"],
                "is_real_example": features["is_real_example"],
                "example_index": features["example_index"]}

    def aggregate(self, state, outputs):
        state = state or {key: [] for key in outputs}
        for key, value in outputs.items():
            state[key].append(value)
        return state

    def split_outputs(self, state, split):
        """`logits`, `label_ids` of the real rows of `split` in record order."""
        arrays = {k: np.concatenate(v, axis=0) for k, v in state.items()}
        order = np.argsort(arrays.pop("example_index"), kind="stable")
        return real_rows({k: v[order] for k, v in arrays.items()},
                         len(self.examples[split]), f"{self.name} {split}")

    def reduce(self, state, step):
        metrics = self.score(self.split_outputs(state, "dev"), "dev", step)
        if step is not None:
            metrics["global_step"] = int(step)
        return metrics

    def score(self, outputs, split, step):
        """The metrics of `split`'s `outputs` (+ their mean `loss`)."""
        raise NotImplementedError

    def outputs_of(self, model, split):
        """`split_outputs` of the weights in `model` (prediction's pass)."""
        state = evaluation.aggregate(self.strategy, model, self, self.split_data(split))
        return self.split_outputs(state, split)

    def write_best_files(self, step):
        """More files of the best evaluation (e.g. RACE's dev predictions)."""

    def results(self, outcome):
        return {"train": outcome["train"], "eval": outcome["best"] or outcome["eval"],
                "predict": outcome["predict"]}


class SentenceClassificationTask(ClassificationTask):
    """GLUE and custom data: examples from a processor (`make_processor`, `read_split`,
    `label_list`) cached as TFRecords, `AlbertClassifier`; subclasses give `score` on
    the dev logits and `write_predictions` of the test logits."""

    def make_processor(self):
        raise NotImplementedError

    def read_split(self, split):
        raise NotImplementedError

    def label_list(self):
        return self.processor.get_labels()

    def prepare(self, strategy, config):
        """Reads every split (bad rows reported before the model is built) and writes
        the TFRecord caches."""
        p = self.params
        self.processor = self.make_processor()
        self.labels = self.label_list()
        self.is_regression = self.processor.is_regression
        splits = [s for s, wanted in (("train", p.do_train), ("dev", p.do_eval),
                                      ("test", p.do_predict)) if wanted]
        self.examples = {split: self.read_split(split) for split in splits}
        for split, found in self.examples.items():
            if not found:
                raise ValueError(f"{self.name}: the {split} set is empty")
        tokenizer = FullTokenizer(p.spm_model_file, do_lower_case=p.do_lower_case)
        cached_dir = p.cached_dir or self.work_dir or p.output_dir
        batch_sizes = {"dev": p.eval_batch_size, "test": p.predict_batch_size}
        self.files, self.total_batches = {}, {}
        for split, found in self.examples.items():
            if split in batch_sizes:
                found = classifier_features.pad_to_batch_multiple(found, batch_sizes[split])
                self.total_batches[split] = len(found) // batch_sizes[split]
            self.files[split] = classifier_features.cached_tfrecord_path(cached_dir, self.name,
                                                                         split)
            classifier_features.ensure_classifier_tfrecord(
                found, self.labels, p.max_seq_length, tokenizer, self.files[split],
                self.is_regression)
        if p.do_eval:
            self.dev_labels = [float(e.label) if self.is_regression
                               else self.labels.index(e.label) for e in self.examples["dev"]]
        self.plan_training(
            strategy, classification_objective.objective_for(self.is_regression),
            f"{self.name}: {len(self.examples.get('train', ()))} examples")

    def build_model(self, config):
        return AlbertClassifier(config, num_labels=len(self.labels), **self.dropout_kwargs())

    def train_dataset_fn(self, strategy):
        p = self.params

        def train_input(input_context):
            return classifier_features.classifier_dataset(
                self.files["train"], p.max_seq_length, p.train_batch_size,
                is_training=True, is_regression=self.is_regression, seed=p.runtime.seed,
                input_context=input_context, trim_padding_multiple=self.multiple)
        return train_input

    def score(self, outputs, split, step):
        logits, labels = outputs["logits"], outputs["label_ids"]
        check_labels(labels, self.dev_labels, self.files[split])
        metrics = self.metrics(logits[:, 0] if self.is_regression else logits, labels)
        metrics["loss"] = float(np.mean(classification_objective.numpy_per_example_loss(
            logits, labels, self.is_regression)))
        return metrics

    def metrics(self, scores, labels):
        """The dev metrics of `scores` ([n, classes] logits, or [n] regression scores)."""
        raise NotImplementedError

    def predict(self, model, scored):
        examples = self.examples["test"]
        logits = self.outputs_of(model, "test")["logits"]  # every worker takes part
        return self.write_predictions(examples, logits) if self.chief else None

    def write_predictions(self, examples, logits):
        """Writes the test predictions; returns what `predict` returns."""
        raise NotImplementedError
