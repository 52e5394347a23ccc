"""What a run starts from (`load_initial_weights`); the loading itself is
`albert_tf.checkpoints.load_weights` (any format, the one head policy).

Training starts from the run's own training checkpoint when output_dir holds one
(the Trainer resumes from it, so `--init_checkpoint` is not read at all), else from
`--init_checkpoint`, else from random weights. Evaluation or prediction alone uses
the fine-tuned model already in output_dir (`model.ckpt-best`, else the newest), as
the official scripts do, and `--init_checkpoint` only when output_dir holds none.
"""

import os

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints import load_weights
from albert_tf.checkpoints.official import is_trainer_checkpoint
from albert_tf.checkpoints.loader import LOADED
from albert_tf.training.saved_checkpoints import checkpoint_step, load_for_prediction
from albert_tf.training.trainer import Trainer, latest_complete_checkpoint


def load_initial_weights(model, params, saved_model_first=True):
    """The weights a run starts from (see the module docstring).

    Args:
        params: with `output_dir`, `init_checkpoint`, `do_train` and (optional)
            `init_from_group0`.
        saved_model_first: without training, use the fine-tuned model in
            output_dir before `init_checkpoint` (the fine-tuning scripts); else the
            Trainer restores the run's newest training checkpoint.
    Returns:
        The global step of the loaded checkpoint when known, else None.
    Raises:
        ValueError when evaluation/prediction alone finds no model at all.
    """
    source = params.init_checkpoint
    if params.do_train or not saved_model_first:
        resumed = latest_complete_checkpoint(
            os.path.join(params.output_dir, Trainer.CHECKPOINT_SUBDIR))
        if resumed:
            if source:
                print(f"Resuming from {resumed}: --init_checkpoint {source} is not read",
                      flush=True)
            return None
    else:
        step = load_for_prediction(model, params.output_dir, source)
        if step is not False:
            return step
        if not source:
            raise ValueError(
                f"nothing to evaluate or predict with: no --init_checkpoint and no "
                f"fine-tuned checkpoint in --output_dir {params.output_dir}; train first "
                "(--do_train)")
    if not source:
        if params.do_train:
            logging.warning("No --init_checkpoint: starting from random weights")
        return None
    report = load_weights(model, source, params.init_from_group0)
    print(f"Initialised from {source}: {len(report['loaded'])} variables; task head "
          f"{report['status']}", flush=True)
    if report["status"] != LOADED and not params.do_train:
        logging.warning("Evaluating/predicting with an untrained task head: %s has no "
                        "(fitting) head for this task", source)
    prefix = report["source"]  # Of a folder: the checkpoint it took.
    if not tf.io.gfile.exists(prefix + ".index"):  # Not an official or Trainer one.
        return None
    if is_trainer_checkpoint(prefix):
        return int(prefix.rsplit("-", 1)[-1])
    return checkpoint_step(prefix)
