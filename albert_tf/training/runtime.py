"""Runtime set-up shared by every entry point: strategy, seeds, precision, and their flags."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from albert_tf.training.cpu_features import cpu_has_native_bf16
from albert_tf.training.precision import set_mixed_precision
from albert_tf.settings import define_flags, params_from_flags, setting
from albert_tf.training.strategy import STRATEGIES, get_distribution_strategy


@dataclasses.dataclass
class RuntimeParams:
    """Where and how a run computes; every entry point takes these flags."""

    distribution_strategy: str = setting("one_device", "tf.distribute strategy.",
                                         choices=list(STRATEGIES))
    tpu: str = setting(None, "TPU address or name ('local' on a TPU VM).")
    num_gpus: int = setting(None, "GPUs to use (default: all visible).", min=0)
    all_reduce_alg: str = setting(None, "Cross-device all-reduce.", choices=["nccl", "ring"])
    mixed_precision: str = setting("none", "Compute dtype; float16 adds dynamic loss scaling.",
                                   choices=["none", "bfloat16", "float16"])
    jit_compile: bool = setting(False, "XLA-compile the train step (recommended on GPU/TPU; "
                                "on CPU it loses bfloat16's speed-up).")
    tpu_zone: str = setting(None, "GCE zone of the Cloud TPU (else from metadata).")
    gcp_project: str = setting(None, "GCP project of the Cloud TPU.")
    num_tpu_cores: int = setting(None, "Official flag: the TPU's cores are all used; a "
                                 "mismatch is logged.", min=1)
    seed: int = setting(12345, "Seed of weights, data order, dropout.", flag="random_seed")
    deterministic: bool = setting(False, "Deterministic TF ops (slower).")

    @staticmethod
    def define_flags(flags_module):
        return define_runtime_flags(flags_module)

    @staticmethod
    def from_flags(flag_values):
        return runtime_params_from_flags(flag_values)


# Where `--help` lists the runtime flags and the official scripts' aliases: after the
# command's own flags, each under its heading.
RUNTIME_FLAGS_MODULE = __name__
OFFICIAL_FLAGS_MODULE = "official flags of google-research/albert (aliases, or accepted)"


@dataclasses.dataclass
class OfficialRuntimeFlags:
    """The official scripts' TPU / vocab / hub flags, so their command lines run
    unchanged; `runtime_params_from_flags` maps them onto `RuntimeParams`."""

    use_tpu: bool = setting(False, "Official flag: --distribution_strategy=tpu.")
    tpu_name: str = setting(None, "Official flag: the same as --tpu.")
    master: str = setting(None, "Official flag: TPU address (grpc://...), as --tpu.")
    vocab_file: str = setting(None, "Official flag: ALBERT's vocabulary is "
                                    "--spm_model_file's; ignored.")
    albert_hub_module_handle: str = setting(
        None, "Official flag: TF-Hub modules are not supported (must be unset).")


def setup_runtime(params):
    """Creates the strategy (first: multi-worker collectives must be configured before
    any TF op), then seeds everything and sets the dtype policy. Returns the strategy."""
    strategy = get_distribution_strategy(params.distribution_strategy, params.num_gpus,
                                         params.tpu, params.all_reduce_alg,
                                         tpu_zone=params.tpu_zone,
                                         gcp_project=params.gcp_project)
    if (params.num_tpu_cores and isinstance(strategy, tf.distribute.TPUStrategy)
            and strategy.num_replicas_in_sync != params.num_tpu_cores):
        logging.warning("--num_tpu_cores=%d, but the TPU has %d cores: using all of them",
                        params.num_tpu_cores, strategy.num_replicas_in_sync)
    seed_everything(params.seed, params.deterministic)
    set_mixed_precision(params.mixed_precision)
    if (params.mixed_precision or "").lower() == "bfloat16":  # /proc/cpuinfo only then
        warning = slow_precision_warning(params.mixed_precision,
                                         strategy.extended.worker_devices,
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


def define_runtime_flags(flags):
    """Defines the runtime flags (`RuntimeParams`' fields and `OfficialRuntimeFlags`) on
    an absl `flags` module, each under its `--help` heading; returns their names."""
    names = define_flags(RuntimeParams, flags, RUNTIME_FLAGS_MODULE)
    names += define_flags(OfficialRuntimeFlags, flags, OFFICIAL_FLAGS_MODULE)
    flags.register_validator(
        "albert_hub_module_handle", lambda value: not value,
        "TF-Hub modules are not supported: download the model's tar "
        "(albert_config.json, 30k-clean.model, model.ckpt-best.*) and pass "
        "--albert_config_file, --spm_model_file and --init_checkpoint")
    flags.register_multi_flags_validator(
        ["use_tpu", "distribution_strategy"],
        lambda v: not v["use_tpu"] or v["distribution_strategy"] in ("one_device", "tpu"),
        "--use_tpu conflicts with --distribution_strategy (use one of them)")
    flags.register_multi_flags_validator(
        ["tpu", "tpu_name", "master"],
        lambda v: len({x for x in v.values() if x}) <= 1,
        "--tpu, --tpu_name and --master name the TPU: give one (or equal values)")
    return names


def runtime_params_from_flags(flag_values):
    """`RuntimeParams` from the flags; the official TPU flags map onto ours."""
    tpu = flag_values.tpu or flag_values.tpu_name or flag_values.master
    strategy = flag_values.distribution_strategy
    if flag_values.use_tpu:
        strategy = "tpu"
    return params_from_flags(RuntimeParams, flag_values, distribution_strategy=strategy,
                             tpu=tpu)


def seed_everything(seed, deterministic=False):
    """Seeds Python, NumPy, TensorFlow and Keras; optionally deterministic TF ops."""
    keras.utils.set_random_seed(seed)
    np.random.seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()

