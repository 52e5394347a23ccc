"""`BestCheckpoint`: the best-scoring evaluation of a run, kept as `model.ckpt-best`.

One policy for every task (Orbit's `NewBestMetric`): the task names the metric and
its direction; the best so far lives in `best_eval.json` (written atomically), so a
restarted run goes on comparing against it. Order of writes, so that a kill never
loses a possible best: `model.ckpt-best`, then `best_eval.json`, then the
`eval_history.jsonl` line (which is what a restarted scan skips).
"""

import json
import math
import os

import tensorflow as tf

from albert_tf.atomic_write import write_json_atomically
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.training.saved_checkpoints import BEST_CHECKPOINT, load_newest_intact, \
    record_evaluation

BEST_EVAL_FILE = "best_eval.json"


class BestCheckpoint:
    """Keeps the best evaluation of `metric` in `output_dir`.

    Args:
        metric: the key of the evaluation results that decides.
        higher_is_better: direction of `metric` (False e.g. for a loss).
        record_keys: the keys `best_eval.json` keeps besides `global_step`;
            None keeps every result.
    """

    def __init__(self, output_dir, metric, higher_is_better=True, record_keys=None):
        self.output_dir = output_dir
        self.metric = metric
        self.higher_is_better = higher_is_better
        self.record_keys = record_keys
        self.path = os.path.join(output_dir, BEST_EVAL_FILE)
        self.best = None
        if tf.io.gfile.exists(self.path):
            with tf.io.gfile.GFile(self.path) as f:
                self.best = json.load(f)

    @property
    def best_step(self):
        return None if self.best is None else self.best.get("global_step")

    def _score(self, value):
        """Larger is better; a missing or non-finite value is the worst."""
        if value is None or not math.isfinite(value):
            return -math.inf
        return value if self.higher_is_better else -value

    def is_better(self, results):
        return self.best is None or (self._score(results.get(self.metric))
                                     > self._score(self.best.get(self.metric)))

    def update(self, model, step, results, checkpoint=None, write=True):
        """Saves `model` as `model.ckpt-best` when `results` beat the best so far,
        then appends `results` to eval_history.jsonl (with the `checkpoint` scored).
        With `write` False (workers other than the chief) only the decision is made,
        so that every worker knows the same best. Returns whether `results` won."""
        improved = self.is_better(results)
        if improved:
            kept = results if self.record_keys is None else {
                k: results.get(k) for k in self.record_keys}
            self.best = dict(kept, global_step=step)
            if write:
                save_official_checkpoint(model, os.path.join(self.output_dir,
                                                             BEST_CHECKPOINT),
                                         global_step=step)
                write_json_atomically(self.path, self.best)
        if write:
            record_evaluation(self.output_dir, dict(results, global_step=step), checkpoint)
        return improved

    def restore_into(self, model):
        """Loads model.ckpt-best into `model` if it exists; when it is damaged, the
        newest intact checkpoint of output_dir instead, with a warning naming it
        (`load_newest_intact`). Returns the prefix loaded, or None."""
        if not tf.io.gfile.exists(os.path.join(self.output_dir, BEST_CHECKPOINT + ".index")):
            return None
        return load_newest_intact(model, self.output_dir)[1]
