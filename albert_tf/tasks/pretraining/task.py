"""`run_pretraining(params)`: MLM + SOP pretraining, the library behind run_pretraining.py.

Outputs in `output_dir`, as official run_pretraining.py: training checkpoints,
`model.ckpt-<num_train_steps>` (official format, + `checkpoint` state file) and
albert_config.json, `eval_results.txt` (`key = value` lines of the last evaluation);
ours besides: `model.ckpt-best` / `best_eval.json` (best masked-LM accuracy),
eval_history.jsonl, train_metrics.jsonl, summaries/train and summaries/eval.

The lifecycle is `run_loop.run`; `PretrainingRunTask` supplies what is pretraining's:
its evaluation sums the objective's own metrics over `max_eval_steps` batches.
"""

import dataclasses
import os
import typing

import tensorflow as tf

from albert_tf.tasks.pretraining.inputs import check_record_lengths, pretraining_dataset
from albert_tf.training import evaluation, run_loop
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training.loop_params import TrainingLoopParams
from albert_tf.training.strategy import is_chief
from albert_tf.training.task import EvalData, Task
from albert_tf.settings import ModelFiles, OutputSettings, setting, setting_of
from albert_tf.atomic_write import write_text_atomically


@dataclasses.dataclass(kw_only=True)
class PretrainingParams(OutputSettings, ModelFiles, TrainingLoopParams):
    """Settings of a pretraining run; names and defaults follow official flags."""

    input_file: str = setting(help="TFRecord file(s): comma-separated globs.", required=True)
    eval_file: str = setting(None, "Eval TFRecords (default: input_file).")
    max_seq_length: int = setting(512, "Sequence length of the data.", min=1)
    max_predictions_per_seq: int = setting(20, "Masked positions per sequence.", min=1)
    do_train: bool = setting(True, "Train (official run_pretraining.py default: on).")
    do_eval: bool = setting(False, "Evaluate (after each checkpoint when training).")
    do_predict: typing.ClassVar[bool] = False  # pretraining has no prediction mode
    train_batch_size: int = setting_of(TrainingLoopParams, "train_batch_size", 4096)
    eval_batch_size: int = setting(64, "Global eval batch size.", min=1)
    optimizer: str = setting_of(TrainingLoopParams, "optimizer", "lamb")
    learning_rate: float = setting_of(TrainingLoopParams, "learning_rate", 0.00176)
    poly_power: float = setting(1.0, "Exponent of the polynomial decay.", above=0)
    num_train_steps: int = setting(125000, "Optimizer steps.", min=1)
    num_warmup_steps: int = setting(3125, "Linear warmup steps.", min=0)
    start_warmup_step: int = setting(0, "Step at which warmup starts.", min=0)
    save_checkpoints_steps: int = setting_of(TrainingLoopParams, "save_checkpoints_steps", 5000)
    max_eval_steps: int = setting(100, "Eval batches.", min=1)
    dynamic_masking: bool = setting(False, "Re-draw the n-gram masks every epoch.")
    masked_lm_prob: float = setting(
        0.15, "With --dynamic_masking: share of tokens masked (as create_pretraining_data).",
        above=0, max=1)
    ngram: int = setting(3, "With --dynamic_masking: longest masked n-gram, in words.", min=1)
    favor_shorter_ngram: bool = setting(True,
                                        "With --dynamic_masking: p(n) ~ 1/n (else reversed).")
    shuffle_buffer: int = setting(1000, "Records in the training shuffle buffer.", min=1)
    sentence_order_loss_weight: float = setting(
        1.0, "Weight of the sentence-order loss in the total (official: 1). 0 pretrains "
             "masked LM alone (the paper's 'no sentence task' ablation); the pooler and the "
             "SOP head then stay as drawn.", min=0)


def _check_data_matches_config(files, params, config):
    """Bad data fails before training: lengths per record, ids inside the vocabulary."""
    check_record_lengths(files, params.max_seq_length, params.max_predictions_per_seq)
    max_id = -1
    for record in tf.data.TFRecordDataset(files[:1]).take(64):
        example = tf.train.Example.FromString(record.numpy())
        ids = example.features.feature["input_ids"].int64_list.value
        max_id = max(max_id, max(ids) if ids else -1)
    if max_id >= config.vocab_size:
        raise ValueError(f"{files[0]}: input_ids reach {max_id} but vocab_size in "
                         f"{params.albert_config_file} is {config.vocab_size}; the data was made "
                         "with another vocabulary")


def _expand(pattern):
    files = []
    for part in str(pattern).split(","):
        if part.strip():
            files.extend(sorted(tf.io.gfile.glob(part.strip())))
    if not files:
        raise FileNotFoundError(f"no input files match {pattern!r}")
    empty = [f for f in files if tf.io.gfile.stat(f).length == 0]
    if empty:
        raise ValueError(f"empty input file(s): {', '.join(empty)}")
    return files


class PretrainingRunTask(Task):
    """Pretraining for `run_loop.run`: TFRecords, `AlbertPretrainer`, LAMB with the
    polynomial schedule, MLM/SOP evaluation (best by masked-LM accuracy)."""

    name = "pretraining"
    primary_metric = "masked_lm_accuracy"
    best_record_keys = ("masked_lm_accuracy",)
    saved_model_first = False  # evaluation alone: the newest training checkpoint

    def __init__(self, params):
        super().__init__(params)
        self.evaluates = params.do_eval

    def validate(self):
        if not self.params.do_train and not self.params.do_eval:
            raise ValueError("at least one of do_train and do_eval must be set")

    def prepare(self, strategy, config):
        p = self.params
        self.config = config
        self.train_files = _expand(p.input_file)
        self.eval_files = _expand(p.eval_file or p.input_file) if p.do_eval else []
        _check_data_matches_config(self.train_files, p, config)
        if p.train_batch_size % strategy.num_replicas_in_sync:
            raise ValueError(f"train_batch_size {p.train_batch_size} is not divisible by "
                             f"the {strategy.num_replicas_in_sync} replicas")
        self.objective = PretrainingObjective(p.sentence_order_loss_weight)
        self.chief = is_chief(strategy)
        self.num_train_steps, self.num_warmup_steps = p.num_train_steps, p.num_warmup_steps

    def build_model(self, config):
        from albert_tf.modeling import AlbertPretrainer

        model = AlbertPretrainer(config)
        if self.params.sentence_order_loss_weight == 0:
            # Masked LM alone: no loss reaches the pooler or the SOP head. Frozen, they stay
            # as drawn; trainable, weight decay alone would move them (LAMB's trust ratio
            # then shrinks them by the learning rate every step, towards 0).
            model.encoder.pooler.trainable = False
            model.sentence_order.trainable = False
        return model

    def optimizer_kwargs(self):
        return {"poly_power": self.params.poly_power,
                "start_warmup_step": self.params.start_warmup_step}

    def train_dataset_fn(self, strategy):
        p = self.params

        def train_input(input_context):
            return pretraining_dataset(
                self.train_files, p.max_seq_length, p.max_predictions_per_seq,
                p.train_batch_size, is_training=True, input_context=input_context,
                dynamic_masking=p.dynamic_masking, vocab_size=self.config.vocab_size,
                masked_lm_prob=p.masked_lm_prob, ngram=p.ngram,
                favor_shorter_ngram=p.favor_shorter_ngram, seed=p.runtime.seed,
                shuffle_buffer=p.shuffle_buffer)
        return train_input

    def eval_data(self):
        p = self.params

        def eval_input(input_context):
            return pretraining_dataset(
                self.eval_files, p.max_seq_length, p.max_predictions_per_seq,
                p.eval_batch_size, is_training=False, input_context=input_context)
        return EvalData(eval_input, max_batches=p.max_eval_steps)

    def validation_step(self, model, features):
        return evaluation.objective_sums(self.objective, model, features)

    def aggregate(self, state, outputs):
        return evaluation.add_sums(state, outputs)

    def reduce(self, state, step):
        results = evaluation.metrics_of_sums(state, self.objective.metric_names())
        results["global_step"] = step
        if self.chief:  # official: `key = value` lines of the last evaluation, sorted
            write_text_atomically(
                os.path.join(self.params.output_dir, "eval_results.txt"),
                "".join(f"{key} = {results[key]}\n" for key in sorted(results)))
        return results

    def wants_prediction(self):
        return False

    def results(self, outcome):
        return {"train": outcome["train"], "eval": outcome["eval"]}


def run_pretraining(params):
    """Trains (and/or evaluates) per `params`; returns the last train and eval metrics."""
    return run_loop.run(PretrainingRunTask(params))
