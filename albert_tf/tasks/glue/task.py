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
    Task `custom` (the user's own CSV/TSV/JSONL files or a TFDS dataset): see
    `albert_tf.tasks.custom.task.CustomTask`.
    summaries/eval: TensorBoard curves of every evaluation (summaries/train: training).

The lifecycle is `run_loop.run`; `GlueTask` supplies what is GLUE's (`CustomTask`
what is custom data's).
"""

import dataclasses
import os

import tensorflow as tf

from albert_tf.atomic_write import atomic_path
from albert_tf.settings import setting
from albert_tf.tasks.classification import prediction_files as prediction_writers
from albert_tf.tasks.classification.metrics import glue_metrics
from albert_tf.tasks.classification.task import SentenceClassificationTask, softmax
from albert_tf.tasks.custom import metrics as custom_metrics
from albert_tf.tasks.custom import reader as custom_text
from albert_tf.tasks.custom.task import CustomTask
from albert_tf.tasks.fine_tuning_params import ClassificationParams
from albert_tf.tasks.glue import processors as glue
from albert_tf.training import run_loop

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


class GlueTask(SentenceClassificationTask):
    """GLUE for `run_loop.run`: examples, TFRecord caches, `AlbertClassifier`, dev
    metrics, the submission files."""

    def __init__(self, params):
        super().__init__(params)
        self.name = params.task_name.lower()
        self.primary_metric = primary_metric(self.name)

    def validate(self):
        p = self.params
        super().validate()
        glue.get_processor(self.name)  # Unknown names fail here, listing the valid ones.
        if self.name == "ax" and (p.do_train or p.do_eval):
            raise ValueError("task ax (the GLUE diagnostic set) has only a test set: use "
                             "--do_predict with an MNLI fine-tuned --init_checkpoint")
        if not p.use_tfds and not p.data_dir:
            raise ValueError("--data_dir is required (or --use_tfds)")

    def make_processor(self):
        return glue.get_processor(self.name, do_lower_case=self.params.do_lower_case)

    def read_split(self, split):
        p = self.params
        if p.use_tfds:
            return self.processor.get_tfds_examples(split, data_dir=p.tfds_data_dir)
        return self.processor.get_examples(p.data_dir, split)

    def metrics(self, scores, labels):
        return glue_metrics(self.name, scores, labels)

    def write_predictions(self, examples, logits):
        p = self.params
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


def task_for(params):
    """`CustomTask` for --task_name=custom, else `GlueTask`."""
    return CustomTask(params) if is_custom(params.task_name) else GlueTask(params)


def run_classifier(params):
    """Trains / evaluates / predicts per `params`; returns {"train", "eval", "predict"}."""
    return run_loop.run(task_for(params))
