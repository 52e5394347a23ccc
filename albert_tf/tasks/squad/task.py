"""`run_squad(params)`: SQuAD v1.1 / v2.0 fine-tuning and prediction, the library behind
run_squad.py (official run_squad_v1.py and run_squad_v2.py in one).

Flow, as official: read the questions (JSON file or TFDS), convert them once into
cached TFRecord features, fine-tune (`--do_train`), then predict, post-process
and, when the predict data has gold answers, score with the official metric
(`--do_predict`). Differences from the official scripts:
  * training runs in the `Trainer` (tf.distribute, mixed precision, resumable
    checkpoints), prediction in the one evaluation path of every task;
  * with `--do_train --do_predict` every saved checkpoint is scored, the best
    by F1 is kept as `model.ckpt-best`, and the final predictions are the best
    checkpoint's (official keeps `model.ckpt-best` the same way, but polls the
    directory forever in v2.0; this loop always ends);
  * prediction alone needs no train file. As official, it uses the fine-tuned
    checkpoints left in `output_dir` (with gold answers each one not scored
    before is scored and the best kept, then used; without, `model.ckpt-best`
    or the newest); `--init_checkpoint` only when output_dir holds none.
Outputs in `output_dir`: predictions.json, nbest_predictions.json, (v2.0)
null_odds.json, (with gold) eval_results.json, best_eval.json and
eval_history.jsonl (every scored checkpoint), the final fine-tuned model as an
official-format checkpoint `model.ckpt-<step>` with a `checkpoint` state file,
and albert_config.json beside it; summaries/eval: TensorBoard curves of every
scored checkpoint (EM/F1 and the v2.0 keys).

The lifecycle is `run_loop.run`; `SquadTask` supplies what is SQuAD's.
"""

import dataclasses
import json
import os
import random

import tensorflow as tf
from absl import logging

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import postprocess as squad_postprocess
from albert_tf.tasks.squad import records as squad_records
from albert_tf.training import evaluation, run_loop
from albert_tf.tasks.fine_tuning_params import FineTuningParams
from albert_tf.training.saved_checkpoints import BEST_CHECKPOINT
from albert_tf.settings import setting
from albert_tf.tasks.squad.objective import squad_objective
from albert_tf.training.strategy import is_chief
from albert_tf.training.task import EvalData, Task


EVAL_LOG_FILE = "eval_results.txt"  # official text log of every scored checkpoint


@dataclasses.dataclass(kw_only=True)
class SquadParams(FineTuningParams):
    """Settings of a SQuAD run; names and defaults follow the official flags."""

    version_2_with_negative: bool = setting(
        False, "SQuAD v2.0: unanswerable questions and the official v2 head.")
    train_file: str = setting(None, "SQuAD JSON for training, e.g. train-v2.0.json.")
    predict_file: str = setting(None, "SQuAD JSON to predict, e.g. dev-v2.0.json.")
    train_feature_file: str = setting(
        None, "Cached training features (default output_dir/train.tf_record); made once, "
              "rebuilt when the data or settings change.")
    predict_feature_file: str = setting(
        None, "Cached prediction features (default output_dir/predict.tf_record).")
    tfds_name: str = setting(
        None, "Read a TFDS builder (squad/v1.1 or squad/v2.0) instead of JSON files.")
    tfds_data_dir: str = setting(None, "TFDS data directory.")
    tfds_train_split: str = setting("train", "TFDS split to train on.")
    tfds_predict_split: str = setting("validation", "TFDS split to predict.")
    max_seq_length: int = setting(384, "Window length in tokens.", min=1)
    doc_stride: int = setting(128, "Tokens between the starts of two windows.", min=1)
    max_query_length: int = setting(64, "Question tokens kept.", min=1)
    num_train_epochs: float = setting(
        3.0, "Epochs over the questions (official: steps = questions / batch * epochs).",
        above=0)
    warmup_proportion: float = setting(0.1, "Share of the steps spent warming up.",
                                       min=0, max=1)
    train_step: int = setting(None, "Training steps (overrides num_train_epochs).", min=1)
    warmup_step: int = setting(None, "Warmup steps (overrides warmup_proportion).", min=0)
    n_best_size: int = setting(20, "Answers kept per question in nbest_predictions.json.",
                               min=1)
    max_answer_length: int = setting(30, "Longest answer, in tokens.", min=1)
    start_n_top: int = setting(5, "v2.0: start positions searched.")
    end_n_top: int = setting(5, "v2.0: end positions searched per start.")
    null_score_diff_threshold: float = setting(
        None, "v2.0: answer \"\" when the null odds reach this; default: tuned on the gold "
              "answers as official (best_f1_thresh), none without gold.")

    @property
    def version(self):
        return "v2.0" if self.version_2_with_negative else "v1.1"


def validate_params(params):
    """Checks that need no files; raises ValueError naming the flag."""
    if not params.do_train and not params.do_predict:
        raise ValueError("at least one of --do_train and --do_predict must be set")
    if params.do_train and not (params.train_file or params.tfds_name):
        raise ValueError("--do_train needs --train_file (or --tfds_name)")
    if params.do_predict and not (params.predict_file or params.tfds_name):
        raise ValueError("--do_predict needs --predict_file (or --tfds_name)")
    if params.tfds_name and ("v2" in params.tfds_name) != params.version_2_with_negative:
        raise ValueError(f"--tfds_name={params.tfds_name} does not match "
                         f"--version_2_with_negative={params.version_2_with_negative}")
    if params.max_seq_length <= params.max_query_length + 3:
        raise ValueError(f"max_seq_length ({params.max_seq_length}) must be greater than "
                         f"max_query_length ({params.max_query_length}) + 3")
    for name in ("start_n_top", "end_n_top"):
        value = getattr(params, name)
        if not 0 < value <= params.max_seq_length:
            raise ValueError(f"--{name} must be in [1, max_seq_length "
                             f"{params.max_seq_length}], got {value}")


def _check_files(params):
    needed = [("albert_config_file", params.albert_config_file),
              ("spm_model_file", params.spm_model_file)]
    if params.do_train and params.train_file:
        needed.append(("train_file", params.train_file))
    if params.do_predict and params.predict_file:
        needed.append(("predict_file", params.predict_file))
    for flag, path in needed:
        if not path:
            raise ValueError(f"--{flag} is required")
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"--{flag} not found: {path}")


def _read_examples(params, is_training):
    """(examples, gold) for the train or predict data; gold is a path or a JSON dict."""
    path = params.train_file if is_training else params.predict_file
    if path:
        return squad_examples.read_squad_examples(path, is_training), path
    split = params.tfds_train_split if is_training else params.tfds_predict_split
    examples = squad_examples.read_squad_examples_from_tfds(
        params.tfds_name, split, is_training, data_dir=params.tfds_data_dir)
    return examples, squad_examples.examples_to_json(examples, params.version)


def _has_gold(examples, version_2_with_negative):
    """Whether the predict data can be scored (else it is new, unlabelled data)."""
    if version_2_with_negative:
        return any(e.answers or e.is_impossible for e in examples)
    return bool(examples) and all(e.answers for e in examples)


def _features(params, tokenizer, examples, is_training, cache_path):
    default = "train.tf_record" if is_training else "predict.tf_record"
    feature_file = ((params.train_feature_file if is_training else params.predict_feature_file)
                    or cache_path(default))
    features = squad_records.load_or_create_squad_features(
        examples, tokenizer, feature_file, is_training, max_seq_length=params.max_seq_length,
        doc_stride=params.doc_stride, max_query_length=params.max_query_length)
    print(f"SQuAD {'train' if is_training else 'predict'} features: {len(examples)} questions "
          f"-> {features.num_features} windows in {features.feature_file}"
          f"{' (cached)' if features.reused else ''}; stats {json.dumps(features.stats)}",
          flush=True)
    if features.num_features == 0:
        raise ValueError(f"no SQuAD features were made from the "
                         f"{'train' if is_training else 'predict'} data "
                         f"(stats {features.stats})")
    return features


def num_train_steps_for(params, num_examples):
    """(train steps, warmup steps); official: questions / batch size * epochs."""
    steps = params.train_step
    if steps is None:
        steps = int(num_examples / params.train_batch_size * params.num_train_epochs)
    if steps <= 0:
        raise ValueError(f"{num_examples} training questions / train_batch_size "
                         f"{params.train_batch_size} * num_train_epochs "
                         f"{params.num_train_epochs} gives {steps} training steps; "
                         "set more epochs or --train_step")
    warmup = params.warmup_step
    if warmup is None:
        warmup = int(steps * params.warmup_proportion)
    return steps, warmup


def build_squad_model(config, params):
    """`AlbertSquadV1` or `AlbertSquadV2` per `params` (call inside strategy.scope())."""
    from albert_tf.modeling.models.squad import AlbertSquadV1, AlbertSquadV2

    if params.version_2_with_negative:
        return AlbertSquadV2(config, start_n_top=params.start_n_top,
                             end_n_top=params.end_n_top, dropout_prob=params.dropout_prob)
    return AlbertSquadV1(config)


class SquadTask(Task):
    """SQuAD for `run_loop.run`: questions, cached windows, `AlbertSquadV1/V2`, the
    official post-processing and metric (every checkpoint is scored when the predict
    data has gold answers)."""

    primary_metric = "f1"
    best_record_keys = ("f1",)

    def __init__(self, params):
        super().__init__(params)
        self.name = f"SQuAD {params.version}"

    def validate(self):
        validate_params(self.params)
        _check_files(self.params)

    def prepare(self, strategy, config):
        from albert_tf.tokenization import FullTokenizer

        p = self.params
        self.strategy = strategy
        self.chief = is_chief(strategy)
        tokenizer = FullTokenizer(p.spm_model_file, do_lower_case=p.do_lower_case)
        if tokenizer.vocab_size != config.vocab_size:
            raise ValueError(f"{p.spm_model_file} has {tokenizer.vocab_size} pieces but "
                             f"vocab_size in {p.albert_config_file} is {config.vocab_size}")
        self.objective = squad_objective(p.version_2_with_negative)
        if p.do_predict:
            self.predict_examples, gold = _read_examples(p, is_training=False)
            if not _has_gold(self.predict_examples, p.version_2_with_negative):
                logging.info("The predict data has no gold answers: writing predictions only")
                gold = None
            self.gold = gold
            self.predict_features = _features(p, tokenizer, self.predict_examples, False,
                                              self.cache_path)
            self.evaluates = gold is not None
        self.num_train_steps = self.num_warmup_steps = None
        if p.do_train:
            examples, _ = _read_examples(p, is_training=True)
            if not p.version_2_with_negative:
                impossible = [e.qas_id for e in examples if e.is_impossible]
                if impossible:
                    raise ValueError(
                        f"{p.train_file or p.tfds_name}: {len(impossible)} questions are "
                        f"unanswerable (is_impossible), e.g. {impossible[0]}; SQuAD v2.0 "
                        "data needs --version_2_with_negative")
            # Official: pre-shuffle the questions so the small shuffle buffer suffices.
            random.Random(p.runtime.seed).shuffle(examples)
            self.train_features = _features(p, tokenizer, examples, True, self.cache_path)
            self.num_train_steps, self.num_warmup_steps = num_train_steps_for(p, len(examples))
            print(f"Training {p.version}: {len(examples)} questions, "
                  f"{self.train_features.num_features} windows, {self.num_train_steps} steps "
                  f"({self.num_warmup_steps} warmup) at batch {p.train_batch_size}", flush=True)

    def build_model(self, config):
        return build_squad_model(config, self.params)

    def train_dataset_fn(self, strategy):
        p = self.params

        def train_input(input_context):
            return squad_records.squad_dataset(
                self.train_features.feature_file, p.max_seq_length, is_training=True,
                batch_size=p.train_batch_size, seed=p.runtime.seed,
                input_context=input_context)
        return train_input

    # ----------------------------------------- evaluation = prediction + scoring
    def eval_data(self):
        p = self.params
        feature_file = self.predict_features.feature_file

        def dataset_fn(input_context):
            return squad_records.squad_dataset(
                feature_file, p.max_seq_length, is_training=False,
                batch_size=p.predict_batch_size, input_context=input_context)
        return EvalData(dataset_fn, what=f"SQuAD {p.version} predict",
                        total_batches=-(-self.predict_features.num_features
                                        // p.predict_batch_size))

    def validation_step(self, model, features):
        outputs = model(self.objective.model_inputs(features), training=False)
        outputs = {k: tf.cast(outputs[k], tf.float32) if outputs[k].dtype.is_floating
                   else outputs[k] for k in self.objective.output_keys}
        outputs["unique_ids"] = features["unique_ids"]
        return outputs

    def aggregate(self, state, outputs):
        state = state if state is not None else {}
        state.update(squad_postprocess.results_from_batches([outputs]))
        return state

    def reduce(self, state, step):
        """Writes predictions.json (+ nbest, null odds) and, with gold answers, returns
        the official metrics (None without gold, or on workers other than the chief)."""
        p, features = self.params, self.predict_features
        results = state or {}
        missing = [m.unique_id for m in features.metas if m.unique_id not in results]
        if missing:
            raise RuntimeError(f"prediction returned {len(results)} of "
                               f"{len(features.metas)} windows of "
                               f"{features.feature_file}; first missing unique_id "
                               f"{missing[0]}")
        if not self.chief:
            return None
        metrics = squad_postprocess.write_predictions(
            p.output_dir, self.predict_examples, features.metas, results,
            p.version_2_with_negative, n_best_size=p.n_best_size,
            max_answer_length=p.max_answer_length, start_n_top=p.start_n_top,
            end_n_top=p.end_n_top, gold_dataset=self.gold,
            null_score_diff_threshold=p.null_score_diff_threshold)
        if metrics is not None:
            print(f"SQuAD {p.version} eval: " + " | ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in metrics.items()), flush=True)
        return metrics

    def on_evaluated(self, step, metrics, improved, keeper):
        """`reduce` wrote predictions.json and eval_results.json; this appends
        the official text log (run_squad_v1/v2.py's eval_results.txt blocks)."""
        lines = [f"{key} = {metrics[key]}\n" for key in sorted(metrics)]
        if improved and keeper.best_step == step:
            lines.append(f"saved step {step} to "
                         f"{os.path.join(self.params.output_dir, BEST_CHECKPOINT)}\n")
        best = (keeper.best or metrics)["f1"]  # no best kept: the one evaluation
        lines.append(f"best f1 = {best}\n" + "=" * 50 + "\n")
        with tf.io.gfile.GFile(os.path.join(self.params.output_dir, EVAL_LOG_FILE), "a") as f:
            f.write("".join(lines))

    def predict(self, model, scored):
        if scored is not None:  # These weights were just scored: their files are written
            return scored or None  # ({} on workers that do not write them).
        return evaluation.evaluate(self.strategy, model, self, self.eval_data())

    def results(self, outcome):
        return {"train": outcome["train"], "num_train_steps": self.num_train_steps,
                "predict": outcome["predict"], "best": outcome["best"]}


def run_squad(params):
    """Runs training and/or prediction per `params`.

    Returns:
        dict with "train" (last training metrics or None), "num_train_steps",
        "predict" (the official metrics of the final predictions, or None
        without gold or without --do_predict) and "best" (best checkpoint's
        step and F1 when every checkpoint was scored).
    """
    return run_loop.run(SquadTask(params))
