"""The fine-tuned checkpoints a run leaves in its output_dir, found again by a later run.

The official GLUE workflow (`run_glue.sh`) trains in one call (`--do_train`) and
evaluates and predicts in a second (`--do_eval --do_predict`, still passing the
pretrained `--init_checkpoint`). That second call evaluates every checkpoint of the
first, keeps the best as `model.ckpt-best` and predicts with it; `--init_checkpoint`
only seeds training. The helpers here find those checkpoints in both formats a
fine-tuning run writes: the official `model.ckpt-N` in output_dir and the trainer's
own `training_checkpoints/ckpt-N` (every `--save_checkpoints_steps`).
"""

import json
import os

import tensorflow as tf

from albert_tf.checkpoints import restore_official_weights
from albert_tf.training.trainer import Trainer

BEST_CHECKPOINT = "model.ckpt-best"
OFFICIAL, TRAINER = "official", "trainer"


def _numbered(pattern):
    """{N: prefix} of the complete (`.index` present) checkpoints `<...>-N` matching."""
    found = {}
    for index in tf.io.gfile.glob(pattern):
        prefix = index[:-len(".index")]
        number = prefix.rsplit("-", 1)[-1]
        if number.isdigit():
            found[int(number)] = prefix
    return found


def saved_checkpoints(output_dir):
    """{global step: (format, prefix)} of the fine-tuned checkpoints in `output_dir`;
    an official `model.ckpt-N` wins over the trainer's `ckpt-N` of the same step."""
    found = {step: (TRAINER, prefix) for step, prefix in _numbered(
        os.path.join(output_dir, Trainer.CHECKPOINT_SUBDIR, "ckpt-*.index")).items()}
    found.update({step: (OFFICIAL, prefix) for step, prefix in _numbered(
        os.path.join(output_dir, "model.ckpt-*.index")).items()})
    return dict(sorted(found.items()))


def load_saved(model, checkpoint):
    """Loads a `(format, prefix)` from `saved_checkpoints` into `model` (weights only)."""
    kind, prefix = checkpoint
    if kind == OFFICIAL:
        restore_official_weights(model, prefix)
    else:
        status = tf.train.Checkpoint(model=model).read(prefix)
        status.expect_partial().assert_existing_objects_matched()


def prediction_checkpoint(output_dir):
    """`(format, prefix)` to predict with: `model.ckpt-best`, else the newest saved
    checkpoint; None when output_dir holds none."""
    best = os.path.join(output_dir, BEST_CHECKPOINT)
    if tf.io.gfile.exists(best + ".index"):
        return OFFICIAL, best
    saved = saved_checkpoints(output_dir)
    return saved[max(saved)] if saved else None


def trainer_checkpoint(output_dir, step):
    """The prefix the trainer saves step `step` under (what in-process evaluation sees)."""
    return os.path.join(output_dir, Trainer.CHECKPOINT_SUBDIR, f"ckpt-{step}")


def evaluated_steps(history_file, output_dir):
    """Global steps whose output_dir checkpoint `eval_history.jsonl` already scored
    (lines with a `checkpoint` in output_dir or its trainer subfolder)."""
    if not tf.io.gfile.exists(history_file):
        return set()
    folders = {os.path.normpath(output_dir),
               os.path.normpath(os.path.join(output_dir, Trainer.CHECKPOINT_SUBDIR))}
    steps = set()
    with tf.io.gfile.GFile(history_file) as f:
        for line in f:
            entry = json.loads(line) if line.strip() else {}
            checkpoint = entry.get("checkpoint")
            if (checkpoint and entry.get("global_step") is not None
                    and os.path.normpath(os.path.dirname(checkpoint)) in folders):
                steps.add(int(entry["global_step"]))
    return steps
