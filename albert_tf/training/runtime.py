"""Runtime set-up shared by every entry point: strategy, seeds, precision, and their flags."""

import dataclasses

from albert_tf.training.precision import set_mixed_precision
from albert_tf.training.strategy import STRATEGIES, get_distribution_strategy


@dataclasses.dataclass
class RuntimeParams:
    distribution_strategy: str = "one_device"
    tpu: str = None
    num_gpus: int = None
    all_reduce_alg: str = None
    mixed_precision: str = "none"
    jit_compile: bool = False
    seed: int = 12345
    deterministic: bool = False


def setup_runtime(params):
    """Creates the strategy (first: multi-worker collectives must be configured before
    any TF op), then seeds everything and sets the dtype policy. Returns the strategy."""
    from albert_tf.training.trainer import seed_everything

    strategy = get_distribution_strategy(params.distribution_strategy, params.num_gpus,
                                         params.tpu, params.all_reduce_alg)
    seed_everything(params.seed, params.deterministic)
    set_mixed_precision(params.mixed_precision)
    return strategy


def define_runtime_flags(flags, default_seed=12345):
    """Defines the runtime flags on an absl `flags` module."""
    flags.DEFINE_enum("distribution_strategy", "one_device", list(STRATEGIES),
                      "tf.distribute strategy.")
    flags.DEFINE_string("tpu", None, "TPU address or name ('local' on a TPU VM).")
    flags.DEFINE_integer("num_gpus", None, "GPUs to use (default: all visible).")
    flags.DEFINE_enum("all_reduce_alg", None, ["nccl", "ring"], "Cross-device all-reduce.")
    flags.DEFINE_enum("mixed_precision", "none", ["none", "bfloat16", "float16"],
                      "Compute dtype; float16 adds dynamic loss scaling.")
    flags.DEFINE_bool("jit_compile", False,
                      "XLA-compile the train step (recommended on GPU/TPU; on CPU it loses "
                      "bfloat16's speed-up).")
    flags.DEFINE_integer("random_seed", default_seed, "Seed of weights, data order, dropout.")
    flags.DEFINE_bool("deterministic", False, "Deterministic TF ops (slower).")


def runtime_params_from_flags(flag_values):
    return RuntimeParams(
        distribution_strategy=flag_values.distribution_strategy, tpu=flag_values.tpu,
        num_gpus=flag_values.num_gpus, all_reduce_alg=flag_values.all_reduce_alg,
        mixed_precision=flag_values.mixed_precision, jit_compile=flag_values.jit_compile,
        seed=flag_values.random_seed, deterministic=flag_values.deterministic)
