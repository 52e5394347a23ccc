"""`TrainingLoopParams`: the settings of the one training loop (`run_loop.run`), declared
once for pretraining and every fine-tuning task; a task changes a default with
`settings.setting_of`."""

import dataclasses

from albert_tf.settings import setting
from albert_tf.training.runtime import RuntimeParams


@dataclasses.dataclass(kw_only=True)
class TrainingLoopParams:
    """Batch, optimizer, checkpoints, divergence guard and runtime of a training run."""

    train_batch_size: int = setting(32, "Global train batch size.", min=1)
    learning_rate: float = setting(5e-5, "Peak learning rate.", above=0)
    optimizer: str = setting("adamw", "Optimizer.", choices=["adamw", "lamb"])
    save_checkpoints_steps: int = setting(
        1000, "Checkpoint interval; when evaluating, each checkpoint is scored.", min=1)
    keep_checkpoint_max: int = setting(5, "Training checkpoints kept.", min=1)
    iterations_per_loop: int = setting(
        1000, "Steps per compiled loop (steps per execution) and per progress line.", min=1)
    gradient_accumulation_steps: int = setting(
        1, "Micro-batches per optimizer step (train_batch_size is the total).", min=1)
    loss_bound: float = setting(None, "A loss above this counts as divergence (a NaN/Inf "
                                      "loss always does).")
    max_rollbacks: int = setting(0, "On divergence, roll back to the last checkpoint this "
                                    "many times before stopping.", min=0)
    runtime: RuntimeParams = setting(default_factory=RuntimeParams, help="Runtime settings.")
