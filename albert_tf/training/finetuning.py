"""Pieces every fine-tuning script shares: initial weights, optimizer, trainer."""

import re

from absl import logging

from albert_tf.checkpoints import CheckpointMismatchError, restore_official_weights
from albert_tf.checkpoints.variable_names import official_variable_map
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.precision import wrap_for_loss_scaling
from albert_tf.training.trainer import Trainer, TrainerConfig

# Variables a pretraining checkpoint has and a task model does not.
PRETRAINING_ONLY = (r"^cls/predictions/.*", r"^cls/seq_relationship/.*")


def init_from_checkpoint(model, init_checkpoint, init_from_group0=False):
    """Loads `bert/*` (and the task head if the checkpoint has it) into a task model.

    Works with official pretraining checkpoints (the task head stays freshly
    initialised; the pretraining heads are ignored) and with fine-tuned
    checkpoints in the official format, ours or the official scripts' (the head
    is loaded too, e.g. MNLI -> RTE as in the paper once the label count matches).
    Every `bert/*` variable must be present.
    """
    head_names = [n for n in official_variable_map(model) if not n.startswith("bert/")]
    head_patterns = [re.escape(n) + "$" for n in head_names]
    try:
        report = restore_official_weights(model, init_checkpoint,
                                          init_from_group0=init_from_group0,
                                          allow_missing=head_patterns, allow_unexpected=True)
    except CheckpointMismatchError as error:
        # A head of another size (e.g. MNLI's 3 labels into RTE's 2, as the paper
        # fine-tunes RTE from MNLI): keep the encoder, start the head afresh. Any
        # other mismatch is a real error.
        lines = str(error).splitlines()
        problems = [l.strip() for l in lines if l.startswith("    ")]
        if not problems or not all(p.split(":")[0] in head_names for p in problems):
            raise
        logging.warning("Task head in %s does not fit (%s); it is re-initialised and only "
                        "bert/* is loaded", init_checkpoint, "; ".join(problems))
        report = restore_official_weights(model, init_checkpoint,
                                          init_from_group0=init_from_group0,
                                          allow_unexpected=True, skip=head_patterns)
    missing_heads = [n for n in report["missing"] if n in head_names]
    logging.info("Loaded %d variables from %s; task head %s; %d checkpoint variables unused",
                 len(report["loaded"]), init_checkpoint,
                 "newly initialised" if missing_heads else "loaded", len(report["unused"]))
    return report


def make_finetuning_trainer(strategy, model, task, *, model_dir, learning_rate, num_train_steps,
                            num_warmup_steps, global_batch_size, optimizer="adamw",
                            mixed_precision="none", save_checkpoints_steps=1000,
                            keep_checkpoint_max=5, iterations_per_loop=100,
                            gradient_accumulation_steps=1, jit_compile=False, loss_bound=None,
                            max_rollbacks=0):
    """The official fine-tuning optimizer (AdamW by default, warmup + linear decay,
    clip 1.0) and a `Trainer`. Call inside nothing: the optimizer is created in
    `strategy.scope()` here; the model must already have been."""
    with strategy.scope():
        opt = create_optimizer(learning_rate, num_train_steps, num_warmup_steps,
                               optimizer=optimizer)
        opt = wrap_for_loss_scaling(opt, mixed_precision)
    config = TrainerConfig(
        model_dir=model_dir, num_train_steps=num_train_steps,
        steps_per_loop=iterations_per_loop, save_checkpoints_steps=save_checkpoints_steps,
        keep_checkpoint_max=keep_checkpoint_max,
        gradient_accumulation_steps=gradient_accumulation_steps, jit_compile=jit_compile,
        loss_bound=loss_bound, max_rollbacks=max_rollbacks)
    return Trainer(strategy, model, opt, task, config, global_batch_size)
