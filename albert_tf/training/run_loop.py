"""`run(task)`: the one lifecycle behind run_pretraining, run_classifier, run_race and
run_squad (Model Garden's Task + trainer idea, without registries or config files).

The loop owns, once for every task: the settings' ranges, the runtime (strategy,
seeds, precision), the config and its length check, the refusal of an output_dir
that holds another model's config, the initial weights, the `Trainer`, the best
checkpoint (`BestCheckpoint`), TensorBoard evaluation curves
(`output_dir/summaries/eval`), the final official-format checkpoint (chief only),
evaluate-only runs over the checkpoints already in output_dir, and prediction.

A task (a `RunTask`; see `pretraining`, `classifier_runner`, `race_runner`,
`squad_runner`) supplies what differs: its params (a dataclass with output_dir,
albert_config_file, max_seq_length, init_checkpoint, do_train, learning_rate,
optimizer, the checkpoint/loop settings and `runtime`), data, model, evaluation,
primary metric and prediction files.
"""

import os

import tensorflow as tf

from albert_tf.atomic_write import write_text_atomically
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.checkpoints import read_config
from albert_tf.config import AlbertConfig
from albert_tf.training.best_checkpoint import BestCheckpoint
from albert_tf.training.initial_weights import load_initial_weights
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.precision import wrap_for_loss_scaling
from albert_tf.training.runtime import setup_runtime
from albert_tf.training.saved_checkpoints import evaluate_saved_checkpoints, record_evaluation, \
    trainer_checkpoint
from albert_tf.settings import check_ranges
from albert_tf.training.strategy import is_chief
from albert_tf.training.trainer import Trainer, TrainerConfig, write_scalar_summary

CONFIG_FILE = "albert_config.json"


class RunTask:
    """What a task tells `run`. Subclasses set `params` and `name` and implement
    `prepare`, `build_model`, `train_dataset_fn` and (when they evaluate) `evaluate`."""

    primary_metric = None       # the evaluation key that picks model.ckpt-best
    higher_is_better = True
    best_record_keys = None     # the keys best_eval.json keeps (None: all)
    saved_model_first = True    # evaluation alone: output_dir's fine-tuned model (else
                                # the run's newest training checkpoint)
    evaluates = False           # whether checkpoints are scored (set by prepare at latest)
    trainer_task = None         # the Trainer's loss object, set by prepare
    num_train_steps = num_warmup_steps = None

    def __init__(self, params):
        self.params = params

    def validate(self):
        """Task-specific checks that need no files."""

    def prepare(self, strategy, config):
        """Reads the data and writes caches (before the model is built); sets
        `trainer_task`, `num_train_steps`, `num_warmup_steps`, `evaluates`."""
        raise NotImplementedError

    def build_model(self, config):
        """The Keras model (called inside strategy.scope())."""
        raise NotImplementedError

    def train_dataset_fn(self, strategy):
        """`fn(input_context)` -> the training `tf.data.Dataset`."""
        raise NotImplementedError

    def optimizer_kwargs(self):
        """Extra `create_optimizer` arguments."""
        return {}

    def evaluate(self, model, step, trainer):
        """Metrics of the weights in `model` (None on workers that do not score)."""
        raise NotImplementedError

    def on_evaluated(self, step, metrics, improved, keeper):
        """Writes the task's files of an evaluation (chief only)."""

    def predict(self, model, trainer, scored):
        """Writes the prediction files. `scored`: None, or the weights in `model` were
        just evaluated on the same data and these are their metrics ({} on workers
        that computed none)."""
        raise ValueError(f"{self.name} has no --do_predict")

    def results(self, outcome):
        """What the entry function returns, from `run`'s outcome."""
        return outcome


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
        jit_compile=runtime.jit_compile, loss_bound=getattr(p, "loss_bound", None),
        max_rollbacks=getattr(p, "max_rollbacks", 0))
    return Trainer(strategy, model, optimizer, task.trainer_task, config, p.train_batch_size)


def print_results(what, results):
    print(f"{what}: " + " | ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in sorted(results.items())), flush=True)


class EvalSummaries:
    """TensorBoard scalars of every evaluation in `output_dir/summaries/eval`, at the
    step of the evaluated checkpoint (beside the trainer's `summaries/train`)."""

    def __init__(self, output_dir):
        self.directory = os.path.join(output_dir, "summaries", "eval")
        self._writer = None

    def write(self, step, metrics):
        if step is None:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.directory)
        with self._writer.as_default(step=int(step)):
            for key, value in sorted(metrics.items()):
                if key != "global_step" and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    write_scalar_summary(key, float(value), int(step))
        self._writer.flush()


def run(task):
    """Runs `task` (train / evaluate / predict per its params); returns
    `task.results(outcome)` where outcome has "train" (last training metrics),
    "eval" (the last evaluation), "best" (`best_eval.json`), "predict"."""
    params = task.params
    check_ranges(params)
    task.validate()
    strategy = setup_runtime(params.runtime)
    config = load_config(params.albert_config_file, params.max_seq_length)
    check_output_dir_config(params.output_dir, config, params.albert_config_file)
    task.prepare(strategy, config)
    with strategy.scope():
        model = task.build_model(config)
        loaded_step = load_initial_weights(model, params, task.saved_model_first)
    chief = is_chief(strategy)
    if chief:
        tf.io.gfile.makedirs(params.output_dir)
        write_text_atomically(os.path.join(params.output_dir, CONFIG_FILE),
                              config.to_json_string())
    keeper = BestCheckpoint(params.output_dir, task.primary_metric,
                            task.higher_is_better, task.best_record_keys)
    summaries = EvalSummaries(params.output_dir) if chief else None
    outcome = {"train": None, "eval": None, "best": None, "predict": None}
    # The step (every worker) and metrics (where computed) of the weights in `model`,
    # when just evaluated: workers must take the same decisions, metrics or not.
    last = {}
    trainer = None

    def evaluate(step):
        metrics = task.evaluate(model, step, trainer)
        last.clear()
        last["step"] = step
        if metrics is not None:
            print_results(f"eval {task.name} at step {step}", metrics)
            if summaries is not None:
                summaries.write(step, metrics)
            last["metrics"] = metrics
            outcome["eval"] = metrics
        return metrics

    def keep(step, metrics, checkpoint):
        if metrics is not None:
            improved = keeper.update(model, step, metrics, checkpoint, write=chief)
            if chief:
                task.on_evaluated(step, metrics, improved, keeper)

    if params.do_train or not task.saved_model_first:
        trainer = make_trainer(strategy, model, task)
    if params.do_train:
        def on_checkpoint(step, metrics):
            if metrics is not None:
                keep(step, metrics, trainer_checkpoint(params.output_dir, step))
            if step >= task.num_train_steps and chief:
                save_final_model(model, config, params.output_dir, step)

        outcome["train"] = trainer.train(task.train_dataset_fn(strategy),
                                         eval_fn=evaluate if task.evaluates else None,
                                         on_checkpoint=on_checkpoint)
        step = trainer.global_step
        final = os.path.join(params.output_dir, f"model.ckpt-{step}")
        if chief and not tf.io.gfile.exists(final + ".index"):
            # Training had finished before this start (or was killed between its last
            # checkpoint and this save): nothing saved the final model yet.
            save_final_model(model, config, params.output_dir, step)
        if task.evaluates and not last:  # Already trained before this start.
            metrics = evaluate(step)
            if keeper.best is None:
                keep(step, metrics, trainer_checkpoint(params.output_dir, step))
    elif task.evaluates and not task.saved_model_first:
        evaluate(trainer.restore_latest())
    elif task.evaluates:
        if evaluate_saved_checkpoints(model, params.output_dir, evaluate, keep) is None:
            # No checkpoint in output_dir: the model as loaded (--init_checkpoint).
            metrics = evaluate(loaded_step)
            if chief and metrics is not None:
                record_evaluation(params.output_dir, dict(metrics, global_step=loaded_step),
                                  None)
                task.on_evaluated(loaded_step, metrics, True, keeper)
    if task.evaluates and task.saved_model_first and keeper.best is not None:
        if keeper.best_step != last.get("step"):
            keeper.restore_into(model)
            print(f"Using model.ckpt-best (step {keeper.best_step})", flush=True)
            last.clear()
        outcome["best"] = dict(keeper.best)
    if getattr(params, "do_predict", False):
        scored = last.get("metrics", {}) if last else None
        outcome["predict"] = task.predict(model, trainer, scored)
    return task.results(outcome)
