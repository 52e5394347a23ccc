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
    <GLUE name>.tsv (e.g. MNLI-m.tsv) and, under the official name, submit_results.tsv:
        the test-set submission; test_results.tsv: the class probabilities (do_predict).
    Task `custom` (the user's own CSV/TSV/JSONL files or a TFDS dataset, see
    `albert_tf.tasks.custom.reader`): label_list.txt (the label ids of the model) and
    predictions.tsv (row id, label, probability per label; or the value) instead of
    the GLUE submission files; eval_results.json with accuracy (+ F1 and Matthews
    correlation for 2 labels) or Pearson/Spearman (--regression).
    summaries/eval: TensorBoard curves of every evaluation (summaries/train: training).

The lifecycle is `run_loop.run`; `GlueTask` supplies what is GLUE's.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from albert_tf.atomic_write import atomic_path
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.custom import reader as custom_text
from albert_tf.tasks.glue import processors as glue
from albert_tf.tasks.classification import prediction_files as prediction_writers
from albert_tf.tasks.custom.predictions import PREDICTIONS_FILE, write_custom_predictions
from albert_tf.tasks.custom import metrics as custom_metrics
from albert_tf.tasks.classification.metrics import glue_metrics
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.tokenization import FullTokenizer
from albert_tf.training import run_loop
from albert_tf.tasks.classification import objective as classification_task
from albert_tf.tasks.classification.task import (
    ClassificationRunTask, check_labels, ordered_dataset_fn,
    predict_in_order, real_rows, softmax)
from albert_tf.tasks.fine_tuning_params import ClassificationParams
from albert_tf.settings import setting

OFFICIAL_SUBMISSION_FILE = "submit_results.tsv"


@dataclasses.dataclass(kw_only=True)
class ClassifierParams(ClassificationParams):
    """Settings of a GLUE run; names and defaults follow official run_classifier.py flags."""

    task_name: str = setting(
        help="GLUE task: cola, mnli, mismnli, mrpc, rte, sst-2, sts-b, qqp, qnli, wnli or ax "
             "(case-insensitive); or custom: your own files (--train_file, --eval_file, "
             "--predict_file with --text_a_column, --label_column, ...) or a TFDS dataset "
             "(--tfds_name, --tfds_text_a, --tfds_label).", required=True)
    data_dir: str = setting(None, "glue_data folder (download_glue_data.py layout).")
    cached_dir: str = setting(None, "Where the TFRecord caches go (default output_dir).")
    max_seq_length: int = setting(512, "Tokens per example, after SentencePiece.", min=3)
    custom: custom_text.CustomDataParams = setting(
        default_factory=custom_text.CustomDataParams, help="Task custom: where its rows are.")


def is_custom(task_name):
    return task_name.lower() == custom_text.TASK_NAME


def primary_metric(task_name, is_regression=False):
    """The dev metric that picks the best checkpoint, as official (custom: pearson for
    regression, else accuracy)."""
    if is_custom(task_name):
        return custom_metrics.primary_metric(is_regression)
    return {"sts-b": "pearson", "cola": "matthews_corrcoef"}.get(task_name, "accuracy")


class GlueTask(ClassificationRunTask):
    """GLUE for `run_loop.run`: examples, TFRecord caches, `AlbertClassifier`, dev
    metrics, the submission files."""

    def __init__(self, params):
        super().__init__(params)
        self.name = params.task_name.lower()
        self.custom = is_custom(self.name)
        self.primary_metric = primary_metric(self.name, bool(params.custom.regression))

    def validate(self):
        p = self.params
        super().validate()
        if self.custom:
            p.custom.validate()
            needs = (("do_train", p.do_train, "train_file", p.custom.train_file),
                     ("do_eval", p.do_eval, "eval_file", p.custom.eval_file),
                     ("do_predict", p.do_predict, "predict_file", p.custom.predict_file))
            if not p.custom.tfds_name:
                for do_flag, wanted, file_flag, given in needs:
                    if wanted and not given:
                        raise ValueError(f"task custom: --{do_flag} needs --{file_flag}")
            elif p.do_predict and not p.custom.tfds_predict_split:
                raise ValueError("task custom: --do_predict with --tfds_name needs "
                                 "--tfds_predict_split")
            return
        glue.get_processor(self.name)  # Unknown names fail here, listing the valid ones.
        if self.name == "ax" and (p.do_train or p.do_eval):
            raise ValueError("task ax (the GLUE diagnostic set) has only a test set: use "
                             "--do_predict with an MNLI fine-tuned --init_checkpoint")
        if not p.use_tfds and not p.data_dir:
            raise ValueError("--data_dir is required (or --use_tfds)")

    def _examples(self, split):
        p = self.params
        if self.custom:
            return self.processor.get_examples(None, split)
        if p.use_tfds:
            return self.processor.get_tfds_examples(split, data_dir=p.tfds_data_dir)
        return self.processor.get_examples(p.data_dir, split)

    def prepare(self, strategy, config):
        """Reads every split (bad rows reported before the model is built) and writes
        the TFRecord caches."""
        p = self.params
        self.strategy = strategy
        if self.custom:
            self.processor = custom_text.CustomTextProcessor(
                p.custom, do_lower_case=p.do_lower_case, tfds_data_dir=p.tfds_data_dir)
            self.labels = self.processor.resolve_label_list(p.output_dir)
        else:
            self.processor = glue.get_processor(self.name, do_lower_case=p.do_lower_case)
            self.labels = self.processor.get_labels()
        self.is_regression = self.processor.is_regression
        splits = [s for s, wanted in (("train", p.do_train), ("dev", p.do_eval),
                                      ("test", p.do_predict)) if wanted]
        self.examples = {split: self._examples(split) for split in splits}
        for split, found in self.examples.items():
            if not found:
                raise ValueError(f"{self.name}: the {split} set is empty")
        tokenizer = FullTokenizer(p.spm_model_file, do_lower_case=p.do_lower_case)
        cached_dir = p.cached_dir or p.output_dir
        batch_sizes = {"dev": p.eval_batch_size, "test": p.predict_batch_size}
        self.files = {}
        for split, found in self.examples.items():
            if split in batch_sizes:
                found = classifier_features.pad_to_batch_multiple(found, batch_sizes[split])
            self.files[split] = classifier_features.cached_tfrecord_path(cached_dir, self.name,
                                                                         split)
            classifier_features.ensure_classifier_tfrecord(
                found, self.labels, p.max_seq_length, tokenizer, self.files[split],
                self.is_regression)
        if p.do_eval:
            self.dev_labels = [float(e.label) if self.is_regression
                               else self.labels.index(e.label) for e in self.examples["dev"]]
        self.plan_training(
            strategy, classification_task.task_for(self.is_regression),
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

    def _outputs(self, model, split, batch_size):
        dataset_fn = ordered_dataset_fn(self.files[split], self.params.max_seq_length,
                                        batch_size, self.is_regression,
                                        trim_padding_multiple=self.multiple)
        total = -(-len(classifier_features.pad_to_batch_multiple(self.examples[split],
                                                                 batch_size)) // batch_size)
        outputs = predict_in_order(self.strategy, model, dataset_fn,
                                   self.trainer_task.model_inputs, total,
                                   f"{self.name} {split}")
        return real_rows(outputs, len(self.examples[split]), f"{self.name} {split}")

    def evaluate(self, model, step, trainer):
        outputs = self._outputs(model, "dev", self.params.eval_batch_size)
        logits, labels = outputs["logits"], outputs["label_ids"]
        check_labels(labels, self.dev_labels, self.files["dev"])
        scores = logits[:, 0] if self.is_regression else logits
        if self.custom:
            metrics = custom_metrics.custom_metrics(scores, labels, len(self.labels),
                                                    self.is_regression)
        else:
            metrics = glue_metrics(self.name, scores, labels)
        metrics["loss"] = float(np.mean(classification_task.numpy_per_example_loss(
            logits, labels, self.is_regression)))
        if step is not None:
            metrics["global_step"] = int(step)
        return metrics

    def predict(self, model, trainer, scored):
        p = self.params
        examples = self.examples["test"]
        logits = self._outputs(model, "test", p.predict_batch_size)["logits"]
        if self.custom:
            path = write_custom_predictions(
                os.path.join(p.output_dir, PREDICTIONS_FILE), [e.guid for e in examples],
                logits, self.labels, self.is_regression)
            print(f"Wrote {len(examples)} predictions to {path}", flush=True)
            return {"predictions_file": path, "num_examples": len(examples)}
        # Official STS-B writes the raw score as its "probability".
        probabilities = logits if self.is_regression else softmax(logits)
        submission = prediction_writers.write_glue_submission(
            p.output_dir, self.name, [e.guid for e in examples], logits, self.labels,
            self.is_regression)
        with atomic_path(os.path.join(p.output_dir, OFFICIAL_SUBMISSION_FILE)) as tmp:
            tf.io.gfile.copy(submission, tmp, overwrite=True)
        probabilities_file = prediction_writers.write_probabilities(
            os.path.join(p.output_dir, "test_results.tsv"), probabilities)
        print(f"Wrote {len(examples)} test predictions to {submission} (and "
              f"{OFFICIAL_SUBMISSION_FILE}) and {probabilities_file}", flush=True)
        return {"submission_file": submission, "probabilities_file": probabilities_file,
                "num_examples": len(examples)}


def run_classifier(params):
    """Trains / evaluates / predicts per `params`; returns {"train", "eval", "predict"}."""
    return run_loop.run(GlueTask(params))
