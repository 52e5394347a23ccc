"""`Trainer`: one custom training loop for pretraining and every fine-tuning task.

It owns the parts every script shares: tf.distribute, gradient accumulation,
loss scaling, compiled multi-step loops (`steps_per_loop`), atomic resumable
checkpoints, progress lines, TensorBoard summaries and a divergence guard.
Evaluation is not its job (`evaluation.evaluate`, the one path of every task).

An objective (the task's loss; e.g. `PretrainingObjective`) tells it what the
model computes:

    objective.model_inputs(features) -> dict fed to the model
    objective.denominators(features) -> {name: local float32 scalar}; summed over all
        replicas (and micro-batches) into global denominators before the loss, so
        the same global batch gives the same loss on any number of replicas.
    objective.loss_and_metrics(outputs, features, denominators) ->
        (loss, {metric: (numerator, denominator)}): `loss` is this replica's share
        of the global loss (the shares add up to it); metrics are sums.
    objective.metric_names() -> the metrics' names.
"""

import dataclasses
import json
import math
import os
import time

import keras
import tensorflow as tf
from absl import logging

from albert_tf.data import record_diagnosis
from albert_tf.training.checkpoint_files import (CHECKPOINT_SUBDIR, latest_complete_checkpoint,
                                                 restore_newest_intact)
from albert_tf.training.prediction import model_input_checker
from albert_tf.training.progress import format_duration
from albert_tf.training.strategy import is_chief
from albert_tf.training.summaries import write_scalar_summary


class DivergenceError(RuntimeError):
    """The loss became NaN/Inf or exceeded its bound and no rollback was left."""


@dataclasses.dataclass
class TrainerConfig:
    """Loop settings (official flag names in comments)."""

    model_dir: str                      # output_dir
    num_train_steps: int                # num_train_steps
    steps_per_loop: int = 1000          # iterations_per_loop
    save_checkpoints_steps: int = 5000  # save_checkpoints_steps
    keep_checkpoint_max: int = 5        # keep_checkpoint_max
    gradient_accumulation_steps: int = 1
    jit_compile: bool = False
    loss_bound: float = None            # stop/roll back when the loss exceeds this
    max_rollbacks: int = 0
    checkpoint_input_pipeline: bool = True
    log_gradient_norm: bool = True

    def validate(self):
        for name in ("num_train_steps", "steps_per_loop", "save_checkpoints_steps",
                     "keep_checkpoint_max", "gradient_accumulation_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _sum_dicts(a, b):
    return {k: (a[k][0] + b[k][0], a[k][1] + b[k][1]) for k in a}


class Trainer:
    """Trains `model` with `optimizer` on `objective` under `strategy`.

    Create the model and optimizer inside `strategy.scope()`.
    """

    CHECKPOINT_SUBDIR = CHECKPOINT_SUBDIR

    def __init__(self, strategy, model, optimizer, objective, config, global_batch_size):
        config.validate()
        self.strategy = strategy
        self.model = model
        self.optimizer = optimizer
        self.objective = objective
        self.config = config
        self.global_batch_size = global_batch_size
        self.num_replicas = strategy.num_replicas_in_sync
        if global_batch_size % self.num_replicas:
            raise ValueError(f"train batch size {global_batch_size} is not divisible by the "
                             f"{self.num_replicas} replicas")
        per_replica = global_batch_size // self.num_replicas
        if per_replica % config.gradient_accumulation_steps:
            raise ValueError(
                f"per-replica batch {per_replica} (= {global_batch_size} / {self.num_replicas} "
                f"replicas) is not divisible by gradient_accumulation_steps "
                f"{config.gradient_accumulation_steps}")
        self.chief = is_chief(strategy)
        self.loss_scaling = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        with strategy.scope():
            self.optimizer.build(self.model.trainable_variables)
        # Steps' worth of batches drawn from the input, for resuming its position (each
        # step takes one per-replica batch per replica an input pipeline feeds).
        self._input_batches = tf.Variable(0, dtype=tf.int64, trainable=False,
                                          name="input_batches")
        self._train_loop_fn = None
        self._summary_writer = None
        self._metrics_log = os.path.join(config.model_dir, "train_metrics.jsonl")
        self._input_files = []  # TFRecords the training input reads, for error messages

    # ------------------------------------------------------------------ steps
    @property
    def global_step(self):
        return int(self.optimizer.iterations.numpy())

    def _micro_batches(self, features):
        k = self.config.gradient_accumulation_steps
        if k == 1:
            return None

        def split(t):
            shape = tf.shape(t)
            return tf.reshape(t, tf.concat([[k, shape[0] // k], shape[1:]], 0))
        return tf.nest.map_structure(split, features)

    def _forward_loss(self, features, denominators):
        outputs = self.model(self.objective.model_inputs(features), training=True)
        return self.objective.loss_and_metrics(outputs, features, denominators)

    def _replica_train_step(self, features):
        ctx = tf.distribute.get_replica_context()
        local = self.objective.denominators(features)
        denominators = {k: ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(v, tf.float32))
                        for k, v in local.items()}
        variables = self.model.trainable_variables
        micro = self._micro_batches(features)
        if micro is None:
            with tf.GradientTape() as tape:
                loss, metrics = self._forward_loss(features, denominators)
                scaled = self.optimizer.scale_loss(loss) if self.loss_scaling else loss
            grads = tape.gradient(scaled, variables)
            # Variables a task does not use (e.g. the pooler for SQuAD) get zero, as the
            # official optimizer leaves them unchanged apart from weight decay.
            grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
        else:
            # Micro-batches share the global denominators, so their gradients add up
            # to the gradient of the whole batch's loss.
            k = self.config.gradient_accumulation_steps
            grads = [tf.zeros_like(v) for v in variables]
            loss = tf.constant(0.0)
            metrics = None
            for i in range(k):
                chunk = tf.nest.map_structure(lambda t, i=i: t[i], micro)
                with tf.GradientTape() as tape:
                    chunk_loss, chunk_metrics = self._forward_loss(chunk, denominators)
                    scaled = (self.optimizer.scale_loss(chunk_loss) if self.loss_scaling
                              else chunk_loss)
                chunk_grads = tape.gradient(scaled, variables)
                grads = [g if c is None else g + tf.convert_to_tensor(c)
                         for g, c in zip(grads, chunk_grads)]
                loss = loss + chunk_loss
                metrics = chunk_metrics if metrics is None else _sum_dicts(metrics,
                                                                           chunk_metrics)
        grad_norm = tf.constant(0.0)
        if self.config.log_gradient_norm:
            dense = [tf.convert_to_tensor(g) for g in grads]
            summed = ctx.all_reduce(tf.distribute.ReduceOp.SUM, dense) \
                if self.num_replicas > 1 else dense
            grad_norm = tf.linalg.global_norm(summed)
            if self.loss_scaling:
                grad_norm = grad_norm / tf.cast(self.optimizer.dynamic_scale, tf.float32)
            grad_norm = grad_norm / self.num_replicas  # reduced with SUM below
        if self.loss_scaling and self.num_replicas > 1:
            grads = self._poison_if_any_replica_overflowed(ctx, grads)
        self.optimizer.apply(grads, variables)
        return loss, metrics, grad_norm

    @staticmethod
    def _poison_if_any_replica_overflowed(ctx, grads):
        """Makes every replica's gradients non-finite when any replica's are.

        Keras's LossScaleOptimizer decides whether to skip a step from the gradients
        it is given, which under tf.distribute are one replica's own (summed only
        later, inside the inner optimizer): an overflow on another replica would be
        applied, turning the weights into NaN. With this, all replicas agree, so the
        step is skipped and the scale lowered exactly as on one device.
        """
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(g)))
                                for g in grads])
        overflowed = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                                    1.0 - tf.cast(finite, tf.float32))
        poison = tf.where(overflowed > 0.0, float("nan"), 0.0)
        return [g + tf.cast(poison, g.dtype) for g in grads]

    def _build_train_loop(self):
        strategy = self.strategy
        step_fn = self._replica_train_step
        if self.config.jit_compile:
            step_fn = tf.function(step_fn, jit_compile=True)

        @tf.function
        def train_loop(iterator, num_steps):
            loss_sum = tf.constant(0.0)
            last_loss = tf.constant(0.0)
            norm_sum = tf.constant(0.0)
            sums = {name: (tf.constant(0.0), tf.constant(0.0)) for name in self._metric_names}
            for _ in tf.range(num_steps):
                loss, metrics, norm = strategy.run(step_fn, args=(next(iterator),))
                loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
                norm = strategy.reduce(tf.distribute.ReduceOp.SUM, norm, axis=None)
                metrics = tf.nest.map_structure(
                    lambda t: strategy.reduce(tf.distribute.ReduceOp.SUM, t, axis=None),
                    metrics)
                sums = _sum_dicts(sums, metrics)
                loss_sum += loss
                norm_sum += norm
                last_loss = loss
            return loss_sum, last_loss, norm_sum, sums
        return train_loop

    # -------------------------------------------------------------- checkpoints
    def _saves_iterator(self, iterator):
        """Whether checkpoints hold `iterator` itself (else resuming skips batches)."""
        return (iterator is not None and self.config.checkpoint_input_pipeline
                and isinstance(iterator, tf.__internal__.tracking.Trackable))

    def _checkpoint(self, iterator):
        # Dropout's random state is not reached through the model's trackable
        # attributes; without it a resumed run would draw other dropout masks.
        rng_states = [v for v in self.model.non_trainable_variables
                      if "seed_generator" in v.path]
        items = {"model": self.model, "optimizer": self.optimizer,
                 "input_batches": self._input_batches, "dropout_rng": rng_states}
        if self._saves_iterator(iterator):
            items["iterator"] = iterator
        return tf.train.Checkpoint(**items)

    def _make_iterator(self, dataset_fn, skip_steps=0):
        """A checkpointable iterator where possible (one replica), else one that skips
        the batches of the `skip_steps` steps already taken, so a resumed run sees the
        same data order."""
        if self.num_replicas == 1 and not isinstance(self.strategy, tf.distribute.TPUStrategy):
            dataset = self._checked_inputs(dataset_fn(tf.distribute.InputContext()))
            return iter(dataset.skip(skip_steps) if skip_steps else dataset)

        def skipping_fn(input_context):
            dataset = self._checked_inputs(dataset_fn(input_context))
            # A pipeline hands one per-replica batch to each replica it feeds per step.
            per_step = (input_context.num_replicas_in_sync
                        // input_context.num_input_pipelines)
            return dataset.skip(skip_steps * per_step) if skip_steps else dataset
        return iter(self.strategy.distribute_datasets_from_function(skipping_fn))

    def _checked_inputs(self, dataset):
        """The training input with its ids range-checked per batch (on the host, not in
        the compiled step), remembering its TFRecord files for error messages."""
        self._input_files = record_diagnosis.tagged_files(dataset)
        return model_input_checker(self.model)(dataset)

    def _checkpoint_dir(self):
        if self.chief:
            return os.path.join(self.config.model_dir, self.CHECKPOINT_SUBDIR)
        # Non-chief workers of multi_worker_mirrored must write too (collective
        # save), but to a scratch location that is deleted afterwards.
        task_id = self.strategy.cluster_resolver.task_id
        return os.path.join(self.config.model_dir, f".worker_{task_id}_tmp")

    def restore_latest(self, iterator=None):
        """Restores the latest training checkpoint, if any; returns the step."""
        directory = os.path.join(self.config.model_dir, self.CHECKPOINT_SUBDIR)
        latest = restore_newest_intact(self._checkpoint(iterator), directory)
        if latest:
            logging.info("Restored %s at step %d", latest, self.global_step)
        return self.global_step

    # ------------------------------------------------------------------- train
    def train(self, dataset_fn, eval_fn=None, on_checkpoint=None):
        """Runs until `num_train_steps`, resuming from the latest checkpoint.

        Args:
            dataset_fn: `fn(input_context) -> tf.data.Dataset` of per-replica batches.
            eval_fn: optional `fn(step) -> dict`, run after each checkpoint.
            on_checkpoint: optional `fn(step, eval_results)` after each checkpoint
                (e.g. to export an official-format checkpoint).
        Returns:
            dict of the last loop's metrics.
        """
        cfg = self.config
        self._metric_names = list(self.objective.metric_names())
        iterator = self._make_iterator(dataset_fn)
        ckpt = self._checkpoint(iterator)
        latest = restore_newest_intact(
            ckpt, os.path.join(cfg.model_dir, self.CHECKPOINT_SUBDIR), repair=self.chief)
        manager = tf.train.CheckpointManager(
            ckpt, self._checkpoint_dir(), max_to_keep=cfg.keep_checkpoint_max,
            checkpoint_name="ckpt")
        if latest:
            if not self._saves_iterator(iterator):
                iterator = self._make_iterator(dataset_fn, int(self._input_batches.numpy()))
            print(f"Resumed from {latest} at step {self.global_step}", flush=True)
        if self._train_loop_fn is None:
            self._train_loop_fn = self._build_train_loop()
        if self.chief:
            tf.io.gfile.makedirs(cfg.model_dir)
            self._summary_writer = tf.summary.create_file_writer(
                os.path.join(cfg.model_dir, "summaries", "train"))
        rollbacks = 0
        last = {}
        start_step = self.global_step
        start_time = time.time()
        while self.global_step < cfg.num_train_steps:
            step = step_before = self.global_step
            next_save = (step // cfg.save_checkpoints_steps + 1) * cfg.save_checkpoints_steps
            num_steps = min(cfg.steps_per_loop, next_save - step, cfg.num_train_steps - step)
            loop_start = time.time()
            try:
                loss_sum, last_loss, norm_sum, sums = self._train_loop_fn(
                    iterator, tf.constant(num_steps))
            except tf.errors.DataLossError as e:
                raise record_diagnosis.explain_data_loss(e, self._input_files) from e
            self._input_batches.assign_add(num_steps)
            elapsed = time.time() - loop_start
            step = self.global_step
            loss = float(loss_sum) / num_steps
            last = {"step": step, "loss": loss, "last_loss": float(last_loss),
                    "gradient_norm": float(norm_sum) / num_steps,
                    "learning_rate": float(self._learning_rate(step - 1))}
            last.update({name: float(n) / max(float(d), 1e-12) for name, (n, d) in
                         sums.items()})
            last["steps_per_second"] = num_steps / elapsed
            last["examples_per_second"] = num_steps * self.global_batch_size / elapsed
            if self._diverged(last):
                # The chief's checkpoint, read by every worker as on resume (a worker's
                # own scratch folder is empty after a restart): all decide alike.
                good = latest_complete_checkpoint(
                    os.path.join(cfg.model_dir, self.CHECKPOINT_SUBDIR))
                if rollbacks >= cfg.max_rollbacks or good is None:
                    raise DivergenceError(
                        f"training diverged at step {step}: loss {last['loss']!r} "
                        f"(bound {cfg.loss_bound}); {rollbacks} rollback(s) used of "
                        f"{cfg.max_rollbacks}. The last good checkpoint is "
                        f"{good}; nothing was saved after it.")
                rollbacks += 1
                # Weights and optimizer go back; the input pipeline keeps moving
                # forward, so the replay sees new data (and its count stays).
                consumed = self._input_batches.numpy()
                self._checkpoint(None).restore(good)
                self._input_batches.assign(consumed)
                logging.warning("Loss diverged at step %d (%r); rolled back to %s (rollback "
                                "%d of %d)", step, last["loss"], good, rollbacks,
                                cfg.max_rollbacks)
                continue
            self._report(last, start_step, start_time)
            # A loop whose every step was skipped (float16 overflows) saves nothing new.
            if step > step_before and (step % cfg.save_checkpoints_steps == 0
                                       or step >= cfg.num_train_steps):
                manager.save(checkpoint_number=step)
                eval_results = eval_fn(step) if eval_fn is not None else None
                if on_checkpoint is not None and self.chief:
                    on_checkpoint(step, eval_results)
        if not self.chief and tf.io.gfile.exists(self._checkpoint_dir()):
            tf.io.gfile.rmtree(self._checkpoint_dir())
        return last

    def _learning_rate(self, step):
        optimizer = getattr(self.optimizer, "inner_optimizer", self.optimizer)
        rate = optimizer.learning_rate
        schedule = getattr(optimizer, "_learning_rate", None)
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            return float(schedule(max(step, 0)))
        return float(rate)

    def _diverged(self, results):
        loss = results["loss"]
        if not math.isfinite(loss) or not math.isfinite(results["last_loss"]):
            return True
        return self.config.loss_bound is not None and loss > self.config.loss_bound

    def _report(self, results, start_step, start_time):
        cfg = self.config
        step = results["step"]
        done = step - start_step
        rate = done / max(time.time() - start_time, 1e-9)
        eta = (cfg.num_train_steps - step) / rate if rate > 0 else float("inf")
        metrics = " | ".join(f"{k} {v:.4f}" for k, v in results.items()
                             if k not in ("step", "loss", "last_loss", "steps_per_second",
                                          "examples_per_second", "learning_rate",
                                          "gradient_norm"))
        line = (f"step {step}/{cfg.num_train_steps} | loss {results['loss']:.4f}"
                + (f" | {metrics}" if metrics else "")
                + f" | lr {results['learning_rate']:.3g}"
                + f" | {results['steps_per_second']:.2f} steps/s"
                + f" | {results['examples_per_second']:.1f} examples/s"
                + f" | ETA {format_duration(eta)}")
        print(line, flush=True)
        if not self.chief:
            return
        with self._summary_writer.as_default(step=step):
            for key, value in results.items():
                if key != "step":
                    write_scalar_summary(key, value, step)
        self._summary_writer.flush()
        with tf.io.gfile.GFile(self._metrics_log, "a") as f:
            f.write(json.dumps(results) + "\n")
