"""Mixed precision from the `--mixed_precision` flag."""

import keras

POLICIES = {"none": "float32", "float32": "float32", "bfloat16": "mixed_bfloat16",
            "float16": "mixed_float16"}


def set_mixed_precision(mode):
    """Sets the global Keras dtype policy; returns its name.

    `bfloat16` keeps float32 variables and computes in bfloat16; `float16` does the
    same in float16 and needs loss scaling (`wrap_for_loss_scaling`).
    LayerNorm and the attention softmax always compute in float32.
    """
    key = (mode or "none").lower()
    if key not in POLICIES:
        raise ValueError(f"--mixed_precision: expected one of none, bfloat16, float16; "
                         f"got {mode!r}")
    keras.config.set_dtype_policy(POLICIES[key])
    return POLICIES[key]


def wrap_for_loss_scaling(optimizer, mode):
    """Wraps `optimizer` in dynamic loss scaling for float16; otherwise returns it."""
    if (mode or "none").lower() == "float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
