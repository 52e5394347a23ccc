"""Runtime set-up shared by every entry point: strategy, seeds, precision, and their flags."""

import dataclasses

from absl import logging

from albert_tf.training.cpu_features import cpu_has_native_bf16
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
    warning = slow_precision_warning(params.mixed_precision, strategy.extended.worker_devices,
                                     cpu_has_native_bf16())
    if warning:
        logging.warning(warning)
    return strategy


def slow_precision_warning(mixed_precision, devices, native_bf16):
    """A warning when `--mixed_precision=bfloat16` runs only on CPUs (`devices`) that have
    no bfloat16 instructions (`native_bf16` False); None otherwise, or when unknown."""
    mode = (mixed_precision or "none").lower()
    if mode != "bfloat16" or native_bf16 is not False or not devices:
        return None
    if not all("CPU" in device.upper() for device in devices):
        return None
    return ("--mixed_precision=bfloat16 on a CPU without AVX512_BF16/AMX (or Arm BF16): "
            "bfloat16 matmuls run no faster than float32 here and the casts cost extra; "
            "--mixed_precision=none is faster on this machine (benchmarks/RESULTS.md).")


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
