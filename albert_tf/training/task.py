"""`Task`: what one run trains and evaluates (Model Garden's base_task, no registries).

A task builds its inputs and model, gives its objective (the loss the `Trainer`
minimises) and evaluates through the one path of `evaluation.evaluate`:
`validation_step` per batch on the replicas, `aggregate` per batch on the host,
`reduce` to the metrics dict. `run_loop.run` drives it in one of the run modes.
"""

import dataclasses
import os


@dataclasses.dataclass
class EvalData:
    """The data a task evaluates on.

    Attributes:
        dataset_fn: `fn(input_context) -> tf.data.Dataset`, finite.
        what: the name in the progress lines ("rte dev").
        total_batches: its batch count when known (for the ETA).
        max_batches: evaluate only the first batches (pretraining's max_eval_steps).
    """

    dataset_fn: object
    what: str = "eval"
    total_batches: int = None
    max_batches: int = None


class Task:
    """What a task tells `run_loop.run`. Subclasses set `params` and `name` and
    implement `prepare`, `build_model`, `train_dataset_fn` and, when they evaluate,
    `eval_data`, `validation_step`, `aggregate` and `reduce`."""

    primary_metric = None       # the evaluation key that picks model.ckpt-best
    higher_is_better = True
    best_record_keys = None     # the keys best_eval.json keeps (None: all)
    saved_model_first = True    # evaluation alone: output_dir's fine-tuned model (else
                                # the run's newest training checkpoint)
    evaluates = False           # whether checkpoints are scored (set by prepare at latest)
    objective = None            # the Trainer's loss, set by prepare
    num_train_steps = num_warmup_steps = None
    # Set by `run_loop.run` before `prepare`: False on the workers of a multi-worker run
    # other than the chief, which write nothing in output_dir; their caches go to their
    # own temporary `work_dir`, deleted when the run ends.
    chief = True
    work_dir = None

    def __init__(self, params):
        self.params = params

    def validate(self):
        """Task-specific checks that need no files."""

    def cache_path(self, name):
        """Where a derived input file (a TFRecord cache) goes unless a flag names it:
        output_dir on the chief, `work_dir` on the other workers."""
        return os.path.join(self.work_dir or self.params.output_dir, name)

    def prepare(self, strategy, config):
        """Reads the data and writes caches (before the model is built); sets
        `objective`, `num_train_steps`, `num_warmup_steps`, `evaluates`."""
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

    # ------------------------------------------------------------- evaluation
    def eval_data(self):
        """The `EvalData` that `evaluate` scores."""
        raise NotImplementedError

    def validation_step(self, model, features):
        """{name: tensor} of one batch on one replica (compiled): per-example outputs
        [batch, ...] and/or scalar sums (summed over the replicas)."""
        raise NotImplementedError

    def aggregate(self, state, outputs):
        """Folds one batch's NumPy `outputs` into `state` (None at the first batch)."""
        raise NotImplementedError

    def reduce(self, state, step):
        """The metrics of the aggregated `state` of the weights at global `step` (None
        on workers that compute none)."""
        raise NotImplementedError

    def on_evaluated(self, step, metrics, improved, keeper):
        """Writes the task's files of an evaluation (chief only)."""

    # ------------------------------------------------------------- prediction
    def wants_prediction(self):
        """Whether the run ends with `predict` (the official --do_predict)."""
        return self.params.do_predict

    def predict(self, model, scored):
        """Writes the prediction files. `scored`: None, or the weights in `model` were
        just evaluated on the same data and these are their metrics ({} on workers
        that computed none)."""
        raise ValueError(f"{self.name} has no --do_predict")

    def results(self, outcome):
        """What the entry function returns, from `run`'s outcome."""
        return outcome
