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
from absl import logging

from albert_tf.atomic_write import json_safe
from albert_tf.checkpoints import restore_official_weights
from albert_tf.checkpoints.official import first_intact, restore_training_checkpoint
from albert_tf.training.checkpoint_files import CHECKPOINT_SUBDIR, numbered_checkpoints

BEST_CHECKPOINT = "model.ckpt-best"
EVAL_HISTORY_FILE = "eval_history.jsonl"
OFFICIAL, TRAINER = "official", "trainer"


def saved_checkpoints(output_dir):
    """{global step: (format, prefix)} of the fine-tuned checkpoints in `output_dir`;
    an official `model.ckpt-N` wins over the trainer's `ckpt-N` of the same step."""
    found = {step: (TRAINER, prefix) for step, prefix in numbered_checkpoints(
        os.path.join(output_dir, CHECKPOINT_SUBDIR, "ckpt-*.index")).items()}
    found.update({step: (OFFICIAL, prefix) for step, prefix in numbered_checkpoints(
        os.path.join(output_dir, "model.ckpt-*.index")).items()})
    return dict(sorted(found.items()))


def checkpoint_step(prefix):
    """The `global_step` stored in a checkpoint, or None."""
    reader = tf.train.load_checkpoint(prefix)
    if reader.has_tensor("global_step"):
        return int(reader.get_tensor("global_step"))
    return None


def load_saved(model, checkpoint):
    """Loads a `(format, prefix)` from `saved_checkpoints` into `model` (weights only)."""
    kind, prefix = checkpoint
    if kind == OFFICIAL:
        restore_official_weights(model, prefix)
    else:
        restore_training_checkpoint(model, prefix)


def load_for_prediction(model, output_dir, init_checkpoint=None):
    """Loads `load_newest_intact(output_dir)` into `model` when output_dir holds a
    checkpoint (then `init_checkpoint`, which seeds training only, is not used, as
    official).

    Returns:
        Its global step (None when unknown), or False when output_dir holds none.
    """
    if not prediction_candidates(output_dir):
        return False
    if init_checkpoint:
        logging.info("Using the fine-tuned model in %s, not --init_checkpoint %s (which "
                     "seeds training only, as official)", output_dir, init_checkpoint)
    kind, prefix = load_newest_intact(model, output_dir)
    print(f"Loaded the fine-tuned model {prefix}", flush=True)
    return checkpoint_step(prefix) if kind == OFFICIAL else int(prefix.rsplit("-", 1)[-1])


def load_newest_intact(model, output_dir):
    """Loads the first of `prediction_candidates(output_dir)` that reads into `model`:
    a damaged one (`model.ckpt-best` cut short, say) is skipped with one warning naming
    it. Every candidate assigns every model variable, so nothing of a damaged one that
    failed part-way is left.

    Returns:
        The `(format, prefix)` loaded, or None when output_dir holds none.
    Raises:
        CheckpointCorruptError naming each one when none reads.
    """
    candidates = prediction_candidates(output_dir)
    if not candidates:
        return None
    kinds = {prefix: kind for kind, prefix in candidates}
    prefix, _ = first_intact(output_dir, lambda p: load_saved(model, (kinds[p], p)),
                             candidates=list(kinds))
    return kinds[prefix], prefix


def prediction_checkpoint(output_dir):
    """`(format, prefix)` to predict with: the first of `prediction_candidates`, or None."""
    candidates = prediction_candidates(output_dir)
    return candidates[0] if candidates else None


def prediction_candidates(output_dir):
    """`(format, prefix)` of output_dir's checkpoints, in the order prediction tries
    them: `model.ckpt-best`, then the saved checkpoints, newest first."""
    best = os.path.join(output_dir, BEST_CHECKPOINT)
    saved = saved_checkpoints(output_dir)
    return ([(OFFICIAL, best)] if tf.io.gfile.exists(best + ".index") else []) + [
        saved[step] for step in sorted(saved, reverse=True)]


def trainer_checkpoint(output_dir, step):
    """The prefix the trainer saves step `step` under (what in-process evaluation sees)."""
    return os.path.join(output_dir, CHECKPOINT_SUBDIR, f"ckpt-{step}")


def record_evaluation(output_dir, metrics, checkpoint):
    """Appends one evaluation to `eval_history.jsonl` (with the checkpoint it scored)."""
    entry = dict(metrics, checkpoint=checkpoint) if checkpoint else metrics
    with tf.io.gfile.GFile(os.path.join(output_dir, EVAL_HISTORY_FILE), "a") as f:
        f.write(json.dumps(json_safe(entry)) + "\n")


def evaluate_saved_checkpoints(model, output_dir, evaluate, on_result, quiet=False):
    """Evaluates each fine-tuned checkpoint in `output_dir` that `eval_history.jsonl`
    has not scored yet, in step order (the official separate-evaluation run).

    Args:
        evaluate: `fn(step) -> metrics` on the loaded weights.
        on_result: `fn(step, metrics, checkpoint)`: keeps the best, then (so that a
            kill never leaves a scored step unconsidered for the best) records the
            evaluation with `record_evaluation`.
        quiet: print the count only when something was evaluated (polling).
    Returns:
        The steps evaluated now, or None when output_dir holds no checkpoint.
    """
    saved = saved_checkpoints(output_dir)
    if not saved:
        return None
    done = scored_steps(output_dir)
    steps = [step for step in saved if step not in done]
    for step in steps:
        load_saved(model, saved[step])
        on_result(step, evaluate(step), saved[step][1])
    if steps or not quiet:
        print(f"Evaluated {len(steps)} checkpoint(s) in {output_dir}"
              + (f"; {len(done)} scored before" if done else ""), flush=True)
    return steps


def scored_steps(output_dir):
    """The global steps of output_dir's checkpoints that its eval_history.jsonl scored."""
    return evaluated_steps(os.path.join(output_dir, EVAL_HISTORY_FILE), output_dir)


def evaluated_steps(history_file, output_dir):
    """Global steps whose output_dir checkpoint `eval_history.jsonl` already scored
    (lines with a `checkpoint` in output_dir or its trainer subfolder)."""
    if not tf.io.gfile.exists(history_file):
        return set()
    folders = {os.path.normpath(output_dir),
               os.path.normpath(os.path.join(output_dir, CHECKPOINT_SUBDIR))}
    steps = set()
    with tf.io.gfile.GFile(history_file) as f:
        for line in f:
            entry = json.loads(line) if line.strip() else {}
            checkpoint = entry.get("checkpoint")
            if (checkpoint and entry.get("global_step") is not None
                    and os.path.normpath(os.path.dirname(checkpoint)) in folders):
                steps.add(int(entry["global_step"]))
    return steps
