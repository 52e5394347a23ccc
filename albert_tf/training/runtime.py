"""Runtime set-up shared by every entry point: strategy, seeds, precision, and their flags."""

import dataclasses

import tensorflow as tf
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
    tpu_zone: str = None                # Cloud TPU zone / project (official flags)
    gcp_project: str = None
    num_tpu_cores: int = None           # official flag: checked against the TPU found
    seed: int = 12345
    deterministic: bool = False


def setup_runtime(params):
    """Creates the strategy (first: multi-worker collectives must be configured before
    any TF op), then seeds everything and sets the dtype policy. Returns the strategy."""
    from albert_tf.training.trainer import seed_everything

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
    # The official scripts' flags, so their command lines run unchanged.
    flags.DEFINE_bool("use_tpu", False, "Official flag: --distribution_strategy=tpu.")
    flags.DEFINE_string("tpu_name", None, "Official flag: the same as --tpu.")
    flags.DEFINE_string("master", None, "Official flag: TPU address (grpc://...), as --tpu.")
    flags.DEFINE_string("tpu_zone", None, "GCE zone of the Cloud TPU (else from metadata).")
    flags.DEFINE_string("gcp_project", None, "GCP project of the Cloud TPU.")
    flags.DEFINE_integer("num_tpu_cores", None,
                         "Official flag: the TPU's cores are all used; a mismatch is logged.")
    flags.DEFINE_string("vocab_file", None,
                        "Official flag: ALBERT's vocabulary is --spm_model_file's; ignored.")
    flags.DEFINE_string("albert_hub_module_handle", None,
                        "Official flag: TF-Hub modules are not supported (must be unset).")
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


def runtime_params_from_flags(flag_values):
    """`RuntimeParams` from the flags; the official TPU flags map onto ours."""
    tpu = flag_values.tpu or flag_values.tpu_name or flag_values.master
    strategy = flag_values.distribution_strategy
    if flag_values.use_tpu:
        strategy = "tpu"
    return RuntimeParams(
        distribution_strategy=strategy, tpu=tpu,
        num_gpus=flag_values.num_gpus, all_reduce_alg=flag_values.all_reduce_alg,
        mixed_precision=flag_values.mixed_precision, jit_compile=flag_values.jit_compile,
        seed=flag_values.random_seed, deterministic=flag_values.deterministic,
        tpu_zone=flag_values.tpu_zone, gcp_project=flag_values.gcp_project,
        num_tpu_cores=flag_values.num_tpu_cores)
