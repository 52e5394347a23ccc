"""`run_pretraining(params)`: MLM + SOP pretraining, the library behind run_pretraining.py."""

import dataclasses
import json
import os

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints import restore_official_weights, save_official_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.data.pretraining_dataset import check_record_lengths, pretraining_dataset
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.precision import wrap_for_loss_scaling
from albert_tf.training.pretraining_task import PretrainingTask
from albert_tf.training.runtime import RuntimeParams, setup_runtime
from albert_tf.training.trainer import Trainer, TrainerConfig, write_eval_results


@dataclasses.dataclass
class PretrainingParams:
    """Settings of a pretraining run; names and defaults follow official flags."""

    albert_config_file: str
    input_file: str
    output_dir: str
    init_checkpoint: str = None
    eval_file: str = None               # default: input_file
    max_seq_length: int = 512
    max_predictions_per_seq: int = 20
    do_train: bool = True
    do_eval: bool = False
    train_batch_size: int = 4096
    eval_batch_size: int = 64
    optimizer: str = "lamb"
    learning_rate: float = 0.00176
    poly_power: float = 1.0
    num_train_steps: int = 125000
    num_warmup_steps: int = 3125
    start_warmup_step: int = 0
    save_checkpoints_steps: int = 5000
    keep_checkpoint_max: int = 5
    iterations_per_loop: int = 1000
    max_eval_steps: int = 100
    init_from_group0: bool = False
    distribution_strategy: str = "one_device"
    tpu: str = None
    tpu_zone: str = None
    gcp_project: str = None
    num_tpu_cores: int = None
    num_gpus: int = None
    all_reduce_alg: str = None
    mixed_precision: str = "none"
    jit_compile: bool = False
    gradient_accumulation_steps: int = 1
    dynamic_masking: bool = False
    masked_lm_prob: float = 0.15        # dynamic masking's statistics (the data's
    ngram: int = 3                      # own come from create_pretraining_data.py)
    favor_shorter_ngram: bool = True
    seed: int = 12345
    deterministic: bool = False
    loss_bound: float = None
    max_rollbacks: int = 0
    shuffle_buffer: int = 1000


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


def run_pretraining(params):
    """Trains (and/or evaluates) per `params`; returns the last train and eval metrics."""
    if not params.do_train and not params.do_eval:
        raise ValueError("at least one of do_train and do_eval must be set")
    strategy = setup_runtime(RuntimeParams(
        distribution_strategy=params.distribution_strategy, tpu=params.tpu,
        num_gpus=params.num_gpus, all_reduce_alg=params.all_reduce_alg,
        mixed_precision=params.mixed_precision, jit_compile=params.jit_compile,
        seed=params.seed, deterministic=params.deterministic, tpu_zone=params.tpu_zone,
        gcp_project=params.gcp_project, num_tpu_cores=params.num_tpu_cores))
    config = AlbertConfig.from_json_file(params.albert_config_file)
    if params.max_seq_length > config.max_position_embeddings:
        raise ValueError(f"max_seq_length {params.max_seq_length} exceeds "
                         f"max_position_embeddings {config.max_position_embeddings} of "
                         f"{params.albert_config_file}")
    train_files = _expand(params.input_file)
    eval_files = _expand(params.eval_file or params.input_file) if params.do_eval else []
    _check_data_matches_config(train_files, params, config)

    if params.train_batch_size % strategy.num_replicas_in_sync:
        raise ValueError(f"train_batch_size {params.train_batch_size} is not divisible by "
                         f"the {strategy.num_replicas_in_sync} replicas")
    tf.io.gfile.makedirs(params.output_dir)
    with tf.io.gfile.GFile(os.path.join(params.output_dir, "albert_config.json"), "w") as f:
        f.write(config.to_json_string())

    from albert_tf.modeling import AlbertPretrainer

    with strategy.scope():
        model = AlbertPretrainer(config)
        if params.init_checkpoint:
            restore_official_weights(model, params.init_checkpoint,
                                     init_from_group0=params.init_from_group0)
            logging.info("Initialised from %s", params.init_checkpoint)
        optimizer = create_optimizer(
            params.learning_rate, params.num_train_steps, params.num_warmup_steps,
            optimizer=params.optimizer, poly_power=params.poly_power,
            start_warmup_step=params.start_warmup_step)
        optimizer = wrap_for_loss_scaling(optimizer, params.mixed_precision)

    trainer_config = TrainerConfig(
        model_dir=params.output_dir, num_train_steps=params.num_train_steps,
        steps_per_loop=params.iterations_per_loop,
        save_checkpoints_steps=params.save_checkpoints_steps,
        keep_checkpoint_max=params.keep_checkpoint_max,
        gradient_accumulation_steps=params.gradient_accumulation_steps,
        jit_compile=params.jit_compile, loss_bound=params.loss_bound,
        max_rollbacks=params.max_rollbacks)
    trainer = Trainer(strategy, model, optimizer, PretrainingTask(), trainer_config,
                      params.train_batch_size)

    def train_input(input_context):
        return pretraining_dataset(
            train_files, params.max_seq_length, params.max_predictions_per_seq,
            params.train_batch_size, is_training=True, input_context=input_context,
            dynamic_masking=params.dynamic_masking, vocab_size=config.vocab_size,
            masked_lm_prob=params.masked_lm_prob, ngram=params.ngram,
            favor_shorter_ngram=params.favor_shorter_ngram, seed=params.seed,
            shuffle_buffer=params.shuffle_buffer)

    def eval_input(input_context):
        return pretraining_dataset(
            eval_files, params.max_seq_length, params.max_predictions_per_seq,
            params.eval_batch_size, is_training=False, input_context=input_context)

    best_path = os.path.join(params.output_dir, "best_eval.json")
    last_eval = {}

    def evaluate(step):
        results = trainer.evaluate(eval_input, steps=params.max_eval_steps)
        if trainer.chief:
            write_eval_results(os.path.join(params.output_dir, "eval_results.txt"), results)
        print("eval at step %d: %s" % (step, " | ".join(
            f"{k} {v:.4f}" for k, v in results.items() if isinstance(v, float))), flush=True)
        last_eval.clear()
        last_eval.update(results)
        return results

    def on_checkpoint(step, eval_results):
        if eval_results is not None:
            best = None
            if tf.io.gfile.exists(best_path):
                with tf.io.gfile.GFile(best_path) as f:
                    best = json.load(f)
            score = eval_results["masked_lm_accuracy"]
            if best is None or score > best["masked_lm_accuracy"]:
                save_official_checkpoint(model, os.path.join(params.output_dir,
                                                             "model.ckpt-best"),
                                         global_step=step)
                with tf.io.gfile.GFile(best_path + ".tmp", "w") as f:
                    json.dump({"masked_lm_accuracy": score, "global_step": step}, f)
                tf.io.gfile.rename(best_path + ".tmp", best_path, overwrite=True)
        if step >= params.num_train_steps:
            export_final(step)

    def export_final(step):
        save_official_checkpoint(model, os.path.join(params.output_dir, f"model.ckpt-{step}"),
                                 global_step=step, write_state_file=True)

    train_results = None
    if params.do_train:
        train_results = trainer.train(train_input,
                                      eval_fn=evaluate if params.do_eval else None,
                                      on_checkpoint=on_checkpoint)
        final = os.path.join(params.output_dir, f"model.ckpt-{trainer.global_step}")
        if trainer.chief and not tf.io.gfile.exists(final + ".index"):
            # Killed between the last training checkpoint and this export: the
            # restart had no step left to run, so nothing exported it.
            export_final(trainer.global_step)
        if params.do_eval and not last_eval:  # Already finished before this start.
            evaluate(trainer.global_step)
    else:
        trainer.restore_latest()
        evaluate(trainer.global_step)
    return {"train": train_results, "eval": dict(last_eval) or None}
