"""`run_squad(params)`: SQuAD v1.1 / v2.0 fine-tuning and prediction, the library behind
run_squad.py (official run_squad_v1.py and run_squad_v2.py in one).

Flow, as official: read the questions (JSON file or TFDS), convert them once into
cached TFRecord features, fine-tune (`--do_train`), then predict, post-process
and, when the predict data has gold answers, score with the official metric
(`--do_predict`). Differences from the official scripts:
  * training and prediction steps share the `Trainer` (tf.distribute, mixed
    precision, resumable checkpoints);
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
and albert_config.json beside it.
"""

import dataclasses
import json
import os
import random

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints import restore_official_weights
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.data import squad_examples, squad_postprocess, squad_records
from albert_tf.training.finetuning import init_from_checkpoint, make_finetuning_trainer
from albert_tf.training.runtime import RuntimeParams, setup_runtime
from albert_tf.training.saved_checkpoints import (
    BEST_CHECKPOINT, evaluate_saved_checkpoints, load_for_prediction, record_evaluation,
    trainer_checkpoint)
from albert_tf.training.squad_task import squad_task
from albert_tf.training.strategy import is_chief
from albert_tf.training.trainer import predict_batches

BEST_EVAL_FILE = "best_eval.json"


@dataclasses.dataclass
class SquadParams:
    """Settings of a SQuAD run; names and defaults follow the official flags."""

    albert_config_file: str
    spm_model_file: str
    output_dir: str
    version_2_with_negative: bool = False
    init_checkpoint: str = None
    train_file: str = None
    predict_file: str = None
    train_feature_file: str = None      # default: output_dir/train.tf_record
    predict_feature_file: str = None    # default: output_dir/predict.tf_record
    tfds_name: str = None               # e.g. "squad/v2.0", instead of the JSON files
    tfds_data_dir: str = None
    tfds_train_split: str = "train"
    tfds_predict_split: str = "validation"
    do_lower_case: bool = True
    max_seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64
    do_train: bool = False
    do_predict: bool = False
    train_batch_size: int = 32
    predict_batch_size: int = 8
    learning_rate: float = 5e-5
    num_train_epochs: float = 3.0
    warmup_proportion: float = 0.1
    train_step: int = None              # overrides num_train_epochs
    warmup_step: int = None             # overrides warmup_proportion
    optimizer: str = "adamw"
    save_checkpoints_steps: int = 1000
    iterations_per_loop: int = 1000
    keep_checkpoint_max: int = 5
    gradient_accumulation_steps: int = 1
    n_best_size: int = 20
    max_answer_length: int = 30
    start_n_top: int = 5
    end_n_top: int = 5
    dropout_prob: float = 0.1
    null_score_diff_threshold: float = None
    runtime: RuntimeParams = dataclasses.field(default_factory=RuntimeParams)

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
    for name in ("train_batch_size", "predict_batch_size", "n_best_size", "max_answer_length"):
        if getattr(params, name) <= 0:
            raise ValueError(f"--{name} must be positive, got {getattr(params, name)}")


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


def _features(params, tokenizer, examples, is_training):
    default = "train.tf_record" if is_training else "predict.tf_record"
    feature_file = ((params.train_feature_file if is_training else params.predict_feature_file)
                    or os.path.join(params.output_dir, default))
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


def _initial_weights(model, params):
    """Loads --init_checkpoint for training. Prediction alone uses the fine-tuned model
    in output_dir (`model.ckpt-best`, else the newest checkpoint) as official, where
    --init_checkpoint only seeds training; --init_checkpoint when output_dir holds none."""
    checkpoint = params.init_checkpoint
    if not params.do_train:
        if load_for_prediction(model, params.output_dir, checkpoint) is not False:
            return
        if not checkpoint:
            raise ValueError(
                "--do_predict without --do_train needs --init_checkpoint (a fine-tuned SQuAD "
                f"checkpoint) or a fine-tuned model in --output_dir {params.output_dir}; "
                "found neither")
    if not checkpoint:
        return
    report = init_from_checkpoint(model, checkpoint)
    head_missing = [n for n in report["missing"] if not n.startswith("bert/")]
    print(f"Initialised from {checkpoint}: {len(report['loaded'])} variables; SQuAD head "
          f"{'newly initialised' if head_missing else 'loaded'}", flush=True)
    if head_missing and not params.do_train:
        logging.warning("Predicting with an untrained SQuAD head: %s has no %s",
                        checkpoint, ", ".join(head_missing))


class _Predictor:
    """Predicts the cached windows, post-processes and (with gold) scores them."""

    def __init__(self, params, strategy, model, task, examples, features, gold):
        self.params = params
        self.strategy = strategy
        self.model = model
        self.task = task
        self.examples = examples
        self.features = features
        self.gold = gold

    def __call__(self, trainer=None):
        p = self.params

        def dataset_fn(input_context):
            return squad_records.squad_dataset(
                self.features.feature_file, p.max_seq_length, is_training=False,
                batch_size=p.predict_batch_size, input_context=input_context)

        kwargs = dict(passthrough=("unique_ids",), output_keys=self.task.output_keys)
        if trainer is not None:
            batches = trainer.predict(dataset_fn, **kwargs)
        else:
            batches = predict_batches(self.strategy, self.model, dataset_fn,
                                      self.task.model_inputs, **kwargs)
        results = squad_postprocess.results_from_batches(batches)
        missing = [m.unique_id for m in self.features.metas if m.unique_id not in results]
        if missing:
            raise RuntimeError(f"prediction returned {len(results)} of "
                               f"{len(self.features.metas)} windows of "
                               f"{self.features.feature_file}; first missing unique_id "
                               f"{missing[0]}")
        if not is_chief(self.strategy):
            return None
        metrics = squad_postprocess.write_predictions(
            p.output_dir, self.examples, self.features.metas, results,
            p.version_2_with_negative, n_best_size=p.n_best_size,
            max_answer_length=p.max_answer_length, start_n_top=p.start_n_top,
            end_n_top=p.end_n_top, gold_dataset=self.gold,
            null_score_diff_threshold=p.null_score_diff_threshold)
        if metrics is not None:
            print(f"SQuAD {p.version} eval: " + " | ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in metrics.items()), flush=True)
        return metrics


def _write_config(config, output_dir):
    tf.io.gfile.makedirs(output_dir)
    with tf.io.gfile.GFile(os.path.join(output_dir, "albert_config.json"), "w") as f:
        f.write(config.to_json_string())


def _read_best(output_dir):
    path = os.path.join(output_dir, BEST_EVAL_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def _keep_best(output_dir, model, step, metrics, checkpoint):
    """model.ckpt-best + best_eval.json when `metrics` has the best F1 so far; then
    (so that a kill never skips a possible best) the eval_history.jsonl line."""
    best = _read_best(output_dir)
    if best is None or metrics["f1"] > best["f1"]:
        save_official_checkpoint(model, os.path.join(output_dir, BEST_CHECKPOINT),
                                 global_step=step)
        path = os.path.join(output_dir, BEST_EVAL_FILE)
        with tf.io.gfile.GFile(path + ".tmp", "w") as f:
            json.dump({"f1": metrics["f1"], "global_step": step}, f)
        tf.io.gfile.rename(path + ".tmp", path, overwrite=True)
    record_evaluation(output_dir, dict(metrics, global_step=step), checkpoint)


def _score_saved_checkpoints(params, model, predictor):
    """As official run_squad_v2 without --do_train: scores each fine-tuned checkpoint in
    output_dir not scored before and keeps the best; None when there is none."""
    if evaluate_saved_checkpoints(
            model, params.output_dir, lambda step: predictor(),
            lambda step, metrics, checkpoint: _keep_best(
                params.output_dir, model, step, metrics, checkpoint)) is None:
        return None
    return _read_best(params.output_dir)


def run_squad(params):
    """Runs training and/or prediction per `params`.

    Returns:
        dict with "train" (last training metrics or None), "num_train_steps",
        "predict" (the official metrics of the final predictions, or None
        without gold or without --do_predict) and "best" (best checkpoint's
        step and F1 when every checkpoint was scored).
    """
    validate_params(params)
    strategy = setup_runtime(params.runtime)
    _check_files(params)
    config = AlbertConfig.from_json_file(params.albert_config_file)
    if params.max_seq_length > config.max_position_embeddings:
        raise ValueError(f"max_seq_length {params.max_seq_length} exceeds "
                         f"max_position_embeddings {config.max_position_embeddings} of "
                         f"{params.albert_config_file}")
    from albert_tf.tokenization import FullTokenizer

    tokenizer = FullTokenizer(params.spm_model_file, do_lower_case=params.do_lower_case)
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"{params.spm_model_file} has {tokenizer.vocab_size} pieces but "
                         f"vocab_size in {params.albert_config_file} is {config.vocab_size}")
    _write_config(config, params.output_dir)
    task = squad_task(params.version_2_with_negative)

    with strategy.scope():
        model = build_squad_model(config, params)
        _initial_weights(model, params)

    predictor = None
    if params.do_predict:
        predict_examples, gold = _read_examples(params, is_training=False)
        if not _has_gold(predict_examples, params.version_2_with_negative):
            logging.info("The predict data has no gold answers: writing predictions only")
            gold = None
        predictor = _Predictor(params, strategy, model, task, predict_examples,
                               _features(params, tokenizer, predict_examples, False), gold)

    result = {"train": None, "num_train_steps": None, "predict": None, "best": None}
    evaluated = {}
    if params.do_train:
        train_examples, _ = _read_examples(params, is_training=True)
        if not params.version_2_with_negative:
            impossible = [e.qas_id for e in train_examples if e.is_impossible]
            if impossible:
                raise ValueError(
                    f"{params.train_file or params.tfds_name}: {len(impossible)} questions are "
                    f"unanswerable (is_impossible), e.g. {impossible[0]}; SQuAD v2.0 data "
                    "needs --version_2_with_negative")
        # Official: pre-shuffle the questions so the small shuffle buffer suffices.
        random.Random(params.runtime.seed).shuffle(train_examples)
        train_features = _features(params, tokenizer, train_examples, True)
        num_steps, num_warmup = num_train_steps_for(params, len(train_examples))
        result["num_train_steps"] = num_steps
        print(f"Training {params.version}: {len(train_examples)} questions, "
              f"{train_features.num_features} windows, {num_steps} steps "
              f"({num_warmup} warmup) at batch {params.train_batch_size}", flush=True)
        trainer = make_finetuning_trainer(
            strategy, model, task, model_dir=params.output_dir,
            learning_rate=params.learning_rate, num_train_steps=num_steps,
            num_warmup_steps=num_warmup, global_batch_size=params.train_batch_size,
            optimizer=params.optimizer, mixed_precision=params.runtime.mixed_precision,
            save_checkpoints_steps=params.save_checkpoints_steps,
            keep_checkpoint_max=params.keep_checkpoint_max,
            iterations_per_loop=params.iterations_per_loop,
            gradient_accumulation_steps=params.gradient_accumulation_steps,
            jit_compile=params.runtime.jit_compile)

        def train_input(input_context):
            return squad_records.squad_dataset(
                train_features.feature_file, params.max_seq_length, is_training=True,
                batch_size=params.train_batch_size, seed=params.runtime.seed,
                input_context=input_context)

        def evaluate(step):
            metrics = predictor(trainer)
            evaluated.update(step=step, metrics=metrics)
            return metrics

        def on_checkpoint(step, metrics):
            if metrics is not None:
                _keep_best(params.output_dir, model, step, metrics,
                           trainer_checkpoint(params.output_dir, step))
            if step >= num_steps:
                save_official_checkpoint(
                    model, os.path.join(params.output_dir, f"model.ckpt-{step}"),
                    global_step=step, write_state_file=True)

        score_checkpoints = predictor is not None and predictor.gold is not None
        result["train"] = trainer.train(train_input,
                                        eval_fn=evaluate if score_checkpoints else None,
                                        on_checkpoint=on_checkpoint)
        final = os.path.join(params.output_dir, f"model.ckpt-{trainer.global_step}")
        if trainer.chief and not tf.io.gfile.exists(final + ".index"):
            # The run had already finished before this start: nothing was saved.
            save_official_checkpoint(model, final, global_step=trainer.global_step,
                                     write_state_file=True)
        best = _read_best(params.output_dir) if score_checkpoints else None
        if best is not None:
            result["best"] = best
            if best["global_step"] != evaluated.get("step"):
                restore_official_weights(model, os.path.join(params.output_dir,
                                                             BEST_CHECKPOINT))
                print(f"Predicting with {BEST_CHECKPOINT} (step {best['global_step']})",
                      flush=True)
                evaluated.clear()
        if params.do_predict:
            result["predict"] = (evaluated["metrics"] if evaluated
                                 else predictor(trainer))
    elif params.do_predict:
        best = (_score_saved_checkpoints(params, model, predictor)
                if predictor.gold is not None else None)
        if best is not None:
            result["best"] = best
            restore_official_weights(model, os.path.join(params.output_dir, BEST_CHECKPOINT))
            print(f"Predicting with {BEST_CHECKPOINT} (step {best['global_step']})",
                  flush=True)
        result["predict"] = predictor()
    return result
