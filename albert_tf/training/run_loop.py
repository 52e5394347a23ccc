"""`run(task)`: the one lifecycle behind run_pretraining, run_classifier, run_race and
run_squad (Model Garden's Task + trainer idea, without registries or config files).

The loop owns, once for every task: the settings' ranges, the runtime (strategy,
seeds, precision), the config and its length check, the refusal of an output_dir
that holds another model's config, the initial weights, the `Trainer`, the best
checkpoint (`BestCheckpoint`), TensorBoard evaluation curves
(`output_dir/summaries/eval`), the final official-format checkpoint (chief only),
and the run modes (`Mode`): train, evaluate, train and evaluate, evaluate every new
checkpoint as it appears, predict (after any of them with `do_predict`).

A task (a `training.task.Task`; see `albert_tf.tasks.*.task`) supplies what differs:
its params (a dataclass with output_dir, albert_config_file, max_seq_length,
init_checkpoint, do_train, learning_rate, optimizer, the checkpoint/loop settings and
`runtime`), data, model, objective, evaluation (`evaluation.evaluate`), primary metric
and prediction files.
"""

import enum
import os
import shutil
import tempfile
import time

import tensorflow as tf

from albert_tf import run_lock
from albert_tf.atomic_write import write_text_atomically
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.checkpoints import read_config
from albert_tf.config import AlbertConfig
from albert_tf.training.best_checkpoint import BestCheckpoint
from albert_tf.training.initial_weights import load_initial_weights
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.precision import wrap_for_loss_scaling
from albert_tf.training.runtime import setup_runtime
from albert_tf.training import evaluation
from albert_tf.training.saved_checkpoints import BEST_CHECKPOINT, evaluate_saved_checkpoints, \
    record_evaluation, saved_checkpoints, scored_steps, trainer_checkpoint
from albert_tf.settings import check_ranges
from albert_tf.training.strategy import is_chief
from albert_tf.training.summaries import EvalSummaries
from albert_tf.training.trainer import Trainer, TrainerConfig

CONFIG_FILE = "albert_config.json"


def load_config(albert_config_file, max_seq_length):
    """The model config (an albert_config.json, or the config.json of a transformers
    folder or keras-hub preset); refuses a sequence longer than its position embeddings."""
    config = read_config(albert_config_file)
    if max_seq_length > config.max_position_embeddings:
        raise ValueError(f"max_seq_length {max_seq_length} exceeds "
                         f"max_position_embeddings {config.max_position_embeddings} of "
                         f"{albert_config_file}")
    return config


def check_output_dir_config(output_dir, config, albert_config_file):
    """Refuses, before anything is written, an output_dir whose albert_config.json
    describes another model (its checkpoints would not load into this one)."""
    path = os.path.join(output_dir, CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        return
    existing = AlbertConfig.from_json_file(path).to_dict()
    wanted = config.to_dict()
    differing = sorted(k for k in set(existing) | set(wanted)
                       if existing.get(k) != wanted.get(k))
    if differing:
        details = ", ".join(f"{k}: {existing.get(k)!r} there, {wanted.get(k)!r} in "
                            f"--albert_config_file" for k in differing)
        raise ValueError(f"--output_dir {output_dir} holds a run of another model: its "
                         f"{CONFIG_FILE} differs from {albert_config_file} ({details}); "
                         "use a new --output_dir or the same config")


def save_final_model(model, config, output_dir, step):
    """The trained model in the official format, found by `tf.train.latest_checkpoint`."""
    write_text_atomically(os.path.join(output_dir, CONFIG_FILE), config.to_json_string())
    return save_official_checkpoint(model, os.path.join(output_dir, f"model.ckpt-{step}"),
                                    global_step=step, write_state_file=True)


def make_trainer(strategy, model, task):
    """The official optimizer (`create_optimizer`, loss scaling for float16) and a
    `Trainer` for `task.params`."""
    p, runtime = task.params, task.params.runtime
    with strategy.scope():
        optimizer = create_optimizer(p.learning_rate, task.num_train_steps,
                                     task.num_warmup_steps, optimizer=p.optimizer,
                                     **task.optimizer_kwargs())
        optimizer = wrap_for_loss_scaling(optimizer, runtime.mixed_precision)
    config = TrainerConfig(
        model_dir=p.output_dir, num_train_steps=task.num_train_steps,
        steps_per_loop=p.iterations_per_loop, save_checkpoints_steps=p.save_checkpoints_steps,
        keep_checkpoint_max=p.keep_checkpoint_max,
        gradient_accumulation_steps=p.gradient_accumulation_steps,
        jit_compile=runtime.jit_compile, loss_bound=p.loss_bound,
        max_rollbacks=p.max_rollbacks)
    return Trainer(strategy, model, optimizer, task.objective, config, p.train_batch_size)


def print_results(what, results):
    print(f"{what}: " + " | ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in sorted(results.items())), flush=True)




class Mode(enum.Enum):
    """What a run does, from the official flags (`choose_mode`); `do_predict` adds the
    prediction files after any of them."""

    TRAIN = "train"                                  # --do_train
    TRAIN_AND_EVALUATE = "train_and_evaluate"        # --do_train --do_eval: every checkpoint
    EVALUATE = "evaluate"                            # --do_eval: the checkpoints saved so far
    CONTINUOUS_EVALUATE = "continuous_evaluate"      # ... and each new one as it appears
    PREDICT = "predict"                              # --do_predict alone


def choose_mode(do_train, evaluates, continuous=False):
    """The `Mode` of a run: `evaluates` is the task's (GLUE/RACE/pretraining: --do_eval;
    SQuAD: --do_predict on data with gold answers); `continuous` makes evaluation alone
    wait for new checkpoints (Model Garden's continuous_eval)."""
    if do_train:
        return Mode.TRAIN_AND_EVALUATE if evaluates else Mode.TRAIN
    if evaluates:
        return Mode.CONTINUOUS_EVALUATE if continuous else Mode.EVALUATE
    return Mode.PREDICT


class _Run:
    """One run of a prepared task with its built model: the modes' steps."""

    def __init__(self, task, strategy, model, config, loaded_step):
        self.task, self.params = task, task.params
        self.strategy, self.model, self.config = strategy, model, config
        self.loaded_step = loaded_step
        self.chief = task.chief
        self.keeper = BestCheckpoint(self.params.output_dir, task.primary_metric,
                                     task.higher_is_better, task.best_record_keys)
        self.summaries = EvalSummaries(self.params.output_dir) if self.chief else None
        self.trainer = None
        # (step, metrics) of the weights in `model` when just evaluated, else None; metrics
        # are {} on workers that compute none (all workers must decide alike).
        self.scored = None
        self.outcome = {"train": None, "eval": None, "best": None, "predict": None}

    def evaluate(self, step):
        """The task's metrics of the weights in `model` (the one evaluation path)."""
        metrics = evaluation.evaluate(self.strategy, self.model, self.task,
                                      self.task.eval_data(), step)
        self.scored = (step, {} if metrics is None else metrics)
        if metrics is not None:
            print_results(f"eval {self.task.name} at step {step}", metrics)
            if self.summaries is not None:
                self.summaries.write(step, metrics)
            self.outcome["eval"] = metrics
        return metrics

    def keep(self, step, metrics, checkpoint):
        """Offers an evaluation to the best checkpoint (and the task's files of it)."""
        if metrics is not None:
            improved = self.keeper.update(self.model, step, metrics, checkpoint,
                                          write=self.chief)
            if self.chief:
                self.task.on_evaluated(step, metrics, improved, self.keeper)

    def train(self, evaluating):
        """Trains to the last step (resuming), evaluating every checkpoint if asked."""
        task, output_dir = self.task, self.params.output_dir
        self.trainer = make_trainer(self.strategy, self.model, task)

        def on_checkpoint(step, metrics):
            if metrics is not None:
                self.keep(step, metrics, trainer_checkpoint(output_dir, step))
            if step >= task.num_train_steps and self.chief:
                save_final_model(self.model, self.config, output_dir, step)

        self.outcome["train"] = self.trainer.train(
            task.train_dataset_fn(self.strategy),
            eval_fn=self.evaluate if evaluating else None, on_checkpoint=on_checkpoint)
        step = self.trainer.global_step
        final = os.path.join(output_dir, f"model.ckpt-{step}")
        if self.chief and not tf.io.gfile.exists(final + ".index"):
            # Training had finished before this start (or was killed between its last
            # checkpoint and this save): nothing saved the final model yet.
            save_final_model(self.model, self.config, output_dir, step)
        if evaluating and self.scored is None:  # Already trained before this start.
            metrics = self.evaluate(step)
            if self.keeper.best is None:
                self.keep(step, metrics, trainer_checkpoint(output_dir, step))

    def evaluate_saved(self):
        """Evaluation alone: the checkpoints already in output_dir not scored before (the
        newest training checkpoint for a task that is not `saved_model_first`); without
        any, the model as loaded (--init_checkpoint)."""
        if not self.task.saved_model_first:
            self.trainer = make_trainer(self.strategy, self.model, self.task)
            self.evaluate(self.trainer.restore_latest())
        elif evaluate_saved_checkpoints(self.model, self.params.output_dir, self.evaluate,
                                        self.keep) is None:
            self.evaluate_as_loaded()

    def evaluate_as_loaded(self):
        step = self.loaded_step
        metrics = self.evaluate(step)
        if self.chief and metrics is not None:
            record_evaluation(self.params.output_dir, dict(metrics, global_step=step), None)
            self.task.on_evaluated(step, metrics, True, self.keeper)

    def evaluate_continuously(self, timeout, poll_seconds):
        """Evaluates each checkpoint of output_dir as it appears (another process
        training there), until one of the last step is scored or none came for
        `timeout` seconds."""
        last_new = time.monotonic()
        scored_any = False
        while True:
            steps = evaluate_saved_checkpoints(self.model, self.params.output_dir,
                                               self.evaluate, self.keep, quiet=True)
            if steps:
                last_new, scored_any = time.monotonic(), True
            newest = max(scored_steps(self.params.output_dir), default=None)
            if (self.task.num_train_steps is not None and newest is not None
                    and newest >= self.task.num_train_steps):
                break
            if time.monotonic() - last_new >= timeout:
                print(f"No new checkpoint in {self.params.output_dir} for {timeout:g}s: "
                      "evaluation ends", flush=True)
                break
            time.sleep(poll_seconds)
        if not scored_any and not saved_checkpoints(self.params.output_dir):
            self.evaluate_as_loaded()

    def use_best(self):
        """Puts model.ckpt-best into `model` for the prediction (as official)."""
        best = self.keeper.best
        if best is None:
            return
        if self.keeper.best_step != (self.scored[0] if self.scored else None):
            prefix = self.keeper.restore_into(self.model)
            if prefix is None or prefix == os.path.join(self.params.output_dir,
                                                        BEST_CHECKPOINT):
                print(f"Using model.ckpt-best (step {self.keeper.best_step})", flush=True)
            else:
                print(f"Using {prefix}: model.ckpt-best (step {self.keeper.best_step}) is "
                      "damaged", flush=True)
            self.scored = None
        self.outcome["best"] = dict(best)

    def predict(self):
        self.outcome["predict"] = self.task.predict(
            self.model, None if self.scored is None else self.scored[1])


def check_continuous_eval(params, continuous):
    """Continuous evaluation reads another run's checkpoints: refused with --do_train."""
    if continuous and params.do_train:
        raise ValueError("--do_continuous_eval evaluates the checkpoints that another run "
                         "trains into --output_dir: start that run with --do_train and this "
                         "one without it")
    if continuous and hasattr(params, "do_eval") and not params.do_eval:
        raise ValueError("--do_continuous_eval needs --do_eval (it says what to evaluate "
                         "as each checkpoint appears)")


def hold_evaluation(output_dir, chief):
    """Takes output_dir's evaluation lock (see `run`)."""
    return run_lock.hold(output_dir, chief=chief, name=run_lock.EVAL_LOCK_NAME,
                         what=f"the evaluation of {output_dir}")


@run_lock.releases_locks
def run(task, continuous_eval_timeout=None, poll_seconds=10.0):
    """Runs `task` in the `Mode` its params choose; returns `task.results(outcome)`
    where outcome has "train" (last training metrics), "eval" (the last evaluation),
    "best" (`best_eval.json`), "predict".

    Args:
        continuous_eval_timeout: seconds; when set, evaluation alone waits (polling
            every `poll_seconds`, or more often for a shorter timeout) for the new
            checkpoints of a training run writing to the same output_dir, and ends at
            its last step or after this long without a new one. Default: the params'
            `eval_timeout` when `do_continuous_eval` is set (the command line).

    Locks (`run_lock`): a continuous evaluator holds only the evaluation lock of
    output_dir, so that it runs beside the training run whose checkpoints it reads;
    any other run holds the training lock, and the evaluation lock too once it
    evaluates.
    """
    params = task.params
    check_ranges(params)
    task.validate()
    if continuous_eval_timeout is None and getattr(params, "do_continuous_eval", False):
        continuous_eval_timeout = params.eval_timeout
    continuous = continuous_eval_timeout is not None
    check_continuous_eval(params, continuous)
    strategy = setup_runtime(params.runtime)
    config = load_config(params.albert_config_file, params.max_seq_length)
    check_output_dir_config(params.output_dir, config, params.albert_config_file)
    chief = is_chief(strategy)
    if not continuous:
        run_lock.hold(params.output_dir, chief=chief)  # One live run per output_dir.
    if continuous or getattr(params, "do_eval", False):
        hold_evaluation(params.output_dir, chief)
    task.chief = chief
    task.work_dir = None if chief else tempfile.mkdtemp(prefix="albert_tf_worker_")
    try:
        return _run_modes(task, strategy, config, chief, continuous_eval_timeout,
                          poll_seconds)
    finally:
        if task.work_dir is not None:
            shutil.rmtree(task.work_dir, ignore_errors=True)


def _run_modes(task, strategy, config, chief, continuous_eval_timeout, poll_seconds):
    params = task.params
    continuous = continuous_eval_timeout is not None
    task.prepare(strategy, config)
    if task.evaluates:
        hold_evaluation(params.output_dir, chief)  # SQuAD: known once its data is read
    elif continuous:
        raise ValueError("--do_continuous_eval needs an evaluation: --do_eval (run_squad: "
                         "--do_predict with a --predict_file that has answers)")
    with strategy.scope():
        model = task.build_model(config)
        loaded_step = load_initial_weights(model, params, task.saved_model_first)
    if task.chief:
        tf.io.gfile.makedirs(params.output_dir)
        write_text_atomically(os.path.join(params.output_dir, CONFIG_FILE),
                              config.to_json_string())
    mode = choose_mode(params.do_train, task.evaluates, continuous_eval_timeout is not None)
    one = _Run(task, strategy, model, config, loaded_step)
    if mode in (Mode.TRAIN, Mode.TRAIN_AND_EVALUATE):
        one.train(evaluating=mode is Mode.TRAIN_AND_EVALUATE)
    elif mode is Mode.EVALUATE:
        one.evaluate_saved()
    elif mode is Mode.CONTINUOUS_EVALUATE:
        one.evaluate_continuously(continuous_eval_timeout,
                                  min(poll_seconds, continuous_eval_timeout))
    if task.evaluates and task.saved_model_first:
        one.use_best()
    if task.wants_prediction():
        one.predict()
    return task.results(one.outcome)
