"""`create_optimizer`: the official optimizer set-up in one call."""

from albert_tf.training.optimizers.adamw import AdamW
from albert_tf.training.optimizers.exclusions import DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY
from albert_tf.training.optimizers.lamb import Lamb
from albert_tf.training.schedules import WarmupPolyDecay

OPTIMIZERS = {"adamw": AdamW, "lamb": Lamb}


def create_optimizer(init_lr, num_train_steps, num_warmup_steps, optimizer="adamw",
                     poly_power=1.0, start_warmup_step=0, weight_decay_rate=0.01,
                     clip_norm=1.0, **kwargs):
    """Builds the optimizer of official `optimization.create_optimizer`.

    Official settings: `WarmupPolyDecay` schedule (decay to 0), beta_1 0.9, beta_2
    0.999, epsilon 1e-6, weight decay 0.01 except LayerNorm and bias variables, and
    gradients clipped to global norm 1.0 over all gradients of the step.

    Args:
        init_lr: peak learning rate.
        num_train_steps: steps of the polynomial decay to 0.
        num_warmup_steps: steps of linear warmup; 0 for none.
        optimizer: "adamw" (official default of create_optimizer, used for
            fine-tuning) or "lamb" (official pretraining).
        poly_power: exponent of the polynomial decay.
        start_warmup_step: step at which the warmup starts.
        weight_decay_rate: decoupled weight decay.
        clip_norm: global-norm clip of the gradients; None or 0 for no clipping.
        **kwargs: more `keras.optimizers.Optimizer` arguments (e.g. `name`,
            `gradient_accumulation_steps`).

    Returns:
        an `AdamW` or `Lamb` optimizer.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"create_optimizer: unknown optimizer {optimizer!r}; "
                         f"expected one of {sorted(OPTIMIZERS)}")
    schedule = WarmupPolyDecay(init_lr, num_train_steps, num_warmup_steps,
                               start_warmup_step=start_warmup_step, power=poly_power)
    return OPTIMIZERS[optimizer](
        learning_rate=schedule, weight_decay_rate=weight_decay_rate, beta_1=0.9,
        beta_2=0.999, epsilon=1e-6,
        exclude_from_weight_decay=list(DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY),
        global_clipnorm=clip_norm or None, **kwargs)
