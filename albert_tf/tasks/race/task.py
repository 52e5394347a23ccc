"""`run_race(params)`: RACE fine-tuning and evaluation, the library behind run_race.py.

Follows google-research/albert `run_race.py` / `race_utils.py`: the same flags,
encoding (`race_features`), head (`AlbertMultipleChoice`) and 4-way softmax loss.
With `do_train` and `do_eval`, every saved checkpoint is evaluated on the dev set and
the best is kept as `model.ckpt-best`, as the official script does; without
`do_train`, the checkpoints already in output_dir are evaluated (see `albert_tf.tasks.glue.task`).

Outputs in `output_dir`:
    albert_config.json, model.ckpt-<train_step> (+ `checkpoint` state file): the
        fine-tuned model in the official format (usable as `--init_checkpoint`).
    model.ckpt-best, best_eval.json: the best dev checkpoint (with do_eval).
    eval_results.json: that checkpoint's `accuracy`, `accuracy_middle`,
        `accuracy_high`, `num_examples` (+ per level), `loss`, `global_step`;
        eval_history.jsonl: every evaluation; eval_results.txt, best_trial.txt: the
        official text logs.
    predictions.json: {"<passage id>-<question index>": "A".."D"} on the dev set for
        the same checkpoint; with do_predict, test_predictions.json, test_results.tsv
        (the 4 probabilities per question) and the test accuracy (RACE's test answers
        are public) in test_results.json and, as official, predict_results.txt.
    summaries/eval: TensorBoard curves of every evaluation.

The lifecycle is `run_loop.run`; `RaceTask` supplies what is RACE's.
"""

import dataclasses
import os

import numpy as np

from albert_tf.atomic_write import write_json_atomically, write_text_atomically
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.classification import prediction_files as prediction_writers
from albert_tf.tasks.race import reader as race
from albert_tf.tasks.race import features as race_features
from albert_tf.tasks.classification.metrics import race_metrics
from albert_tf.modeling.models import AlbertMultipleChoice
from albert_tf.tokenization import FullTokenizer
from albert_tf.training import run_loop
from albert_tf.tasks.classification import objective as classification_objective
from albert_tf.tasks.classification.task import (
    OFFICIAL_METRIC_NAMES, ClassificationTask, check_labels, softmax)
from albert_tf.tasks.fine_tuning_params import ClassificationParams
from albert_tf.settings import setting, setting_of
from albert_tf.training.loop_params import TrainingLoopParams


@dataclasses.dataclass(kw_only=True)
class RaceParams(ClassificationParams):
    """Settings of a RACE run; names and defaults follow official run_race.py flags."""

    data_dir: str = setting(
        None, "Folder holding RACE/{train,dev,test}/{middle,high}/ (official download *.txt "
              "files or the official script's all.txt).")
    train_file: str = setting(None, "Train TFRecord cache, written if absent or stale "
                                    "(default <output_dir>/race_train.tf_record).")
    eval_file: str = setting(None, "Dev TFRecord cache (default in output_dir).")
    predict_file: str = setting(None, "Test TFRecord cache (default in output_dir).")
    max_seq_length: int = setting(512, "Tokens per choice, after SentencePiece.", min=4)
    max_qa_length: int = setting(128, "Question+option tokens kept (the last ones).")
    high_only: bool = setting(False, "Use only the high-school passages.")
    middle_only: bool = setting(False, "Use only the middle-school passages.")
    learning_rate: float = setting_of(TrainingLoopParams, "learning_rate", 1e-5)
    train_step: int = setting_of(ClassificationParams, "train_step", 12000)
    warmup_step: int = setting_of(ClassificationParams, "warmup_step", 1000)
    save_checkpoints_steps: int = setting_of(TrainingLoopParams, "save_checkpoints_steps", 100)
    keep_checkpoint_max: int = setting_of(TrainingLoopParams, "keep_checkpoint_max",
                                          flag="num_keep_checkpoint")  # official RACE name


class RaceTask(ClassificationTask):
    """RACE for `run_loop.run`: passages, TFRecord caches, `AlbertMultipleChoice`,
    accuracy overall and per level, the prediction files."""

    name = "RACE"
    primary_metric = "accuracy"
    num_choices = race.NUM_CHOICES

    def __init__(self, params):
        super().__init__(params)
        self._dev_logits = {}  # step -> dev logits, until on_evaluated has used them

    def validate(self):
        p = self.params
        super().validate()
        if p.high_only and p.middle_only:
            raise ValueError("--high_only and --middle_only cannot both be set")
        if not p.use_tfds and not p.data_dir:
            raise ValueError("--data_dir is required (or --use_tfds)")
        if p.max_qa_length < 1 or p.max_qa_length > p.max_seq_length - 3:
            raise ValueError(f"--max_qa_length ({p.max_qa_length}) must be in "
                             f"[1, max_seq_length - 3 = {p.max_seq_length - 3}]")

    def prepare(self, strategy, config):
        """Reads every split (bad passages reported before the model is built) and
        writes the TFRecord caches."""
        p = self.params
        processor = race.RaceProcessor(do_lower_case=p.do_lower_case, high_only=p.high_only,
                                       middle_only=p.middle_only)
        wanted = [(split, path, name, batch) for split, do, path, name, batch in (
            ("train", p.do_train, p.train_file, "race_train.tf_record", None),
            ("dev", p.do_eval, p.eval_file, "race_eval.tf_record", p.eval_batch_size),
            ("test", p.do_predict, p.predict_file, "race_predict.tf_record",
             p.predict_batch_size)) if do]
        self.examples = {}
        for split, _, _, _ in wanted:
            if p.use_tfds:
                self.examples[split] = processor.get_tfds_examples(split,
                                                                   data_dir=p.tfds_data_dir)
            else:
                self.examples[split] = processor.get_examples(p.data_dir, split)
            if not self.examples[split]:
                raise ValueError(f"the RACE {split} set is empty")
        tokenizer = FullTokenizer(p.spm_model_file, do_lower_case=p.do_lower_case)
        self.files, self.total_batches = {}, {}
        for split, path, default_name, batch_size in wanted:
            records = self.examples[split]
            if batch_size:
                records = classifier_features.pad_to_batch_multiple(records, batch_size)
                self.total_batches[split] = len(records) // batch_size
            self.files[split] = path or self.cache_path(default_name)
            race_features.ensure_race_tfrecord(records, p.max_seq_length, tokenizer,
                                               self.files[split], p.max_qa_length)
        self.plan_training(strategy, classification_objective.MultipleChoiceObjective(),
                           f"RACE: {len(self.examples.get('train', ()))} questions")

    def build_model(self, config):
        return AlbertMultipleChoice(config, num_choices=race.NUM_CHOICES,
                                    **self.dropout_kwargs())

    def train_dataset_fn(self, strategy):
        p = self.params

        def train_input(input_context):
            return race_features.race_dataset(
                self.files["train"], p.max_seq_length, p.train_batch_size, is_training=True,
                seed=p.runtime.seed, input_context=input_context,
                trim_padding_multiple=self.multiple)
        return train_input

    def score(self, outputs, split, step):
        """Accuracy overall and per level, mean loss; keeps the dev logits of `step`
        for `write_best_files`."""
        logits, labels = outputs["logits"], outputs["label_ids"]
        split_examples = self.examples[split]
        check_labels(labels, [e.label for e in split_examples], self.files[split])
        metrics = race_metrics(logits, labels, [e.level for e in split_examples])
        metrics["loss"] = float(np.mean(classification_objective.numpy_per_example_loss(
            logits, labels)))
        if split == "dev":
            self._dev_logits[step] = logits
        return metrics

    def on_evaluated(self, step, metrics, improved, keeper):
        super().on_evaluated(step, metrics, improved, keeper)
        self._dev_logits.clear()

    def write_best_files(self, step):
        prediction_writers.write_race_predictions(
            os.path.join(self.params.output_dir, "predictions.json"),
            [e.example_id for e in self.examples["dev"]], self._dev_logits[step])

    def predict(self, model, scored):
        # RACE's test answers are public: the test accuracy is what the paper reports
        # (official: predict_results.txt).
        p = self.params
        outputs = self.outputs_of(model, "test")
        test_metrics, logits = self.score(outputs, "test", None), outputs["logits"]
        run_loop.print_results("test RACE", test_metrics)
        if not self.chief:
            return None
        write_json_atomically(os.path.join(p.output_dir, "test_results.json"), test_metrics)
        write_text_atomically(
            os.path.join(p.output_dir, "predict_results.txt"),
            "".join(f"{OFFICIAL_METRIC_NAMES.get(key, key)} = {value}\n"
                    for key, value in sorted(test_metrics.items())))
        letters_file = prediction_writers.write_race_predictions(
            os.path.join(p.output_dir, "test_predictions.json"),
            [e.example_id for e in self.examples["test"]], logits)
        probabilities_file = prediction_writers.write_probabilities(
            os.path.join(p.output_dir, "test_results.tsv"), softmax(logits))
        print(f"Wrote {len(self.examples['test'])} test predictions to {letters_file}",
              flush=True)
        return {"predictions_file": letters_file, "probabilities_file": probabilities_file,
                "num_examples": len(self.examples["test"]), **test_metrics}


def run_race(params):
    """Trains / evaluates / predicts per `params`; returns {"train", "eval", "predict"}."""
    return run_loop.run(RaceTask(params))
