"""`get_distribution_strategy`: a tf.distribute strategy from a string flag."""

import json
import os

import tensorflow as tf

STRATEGIES = ("one_device", "mirrored", "multi_worker_mirrored", "tpu")


def get_distribution_strategy(distribution_strategy="one_device", num_gpus=None, tpu=None,
                              all_reduce_alg=None, tpu_zone=None, gcp_project=None):
    """Returns the strategy named by `distribution_strategy`.

    Args:
        distribution_strategy: one of `STRATEGIES`.
        num_gpus: GPUs to use for `one_device` / `mirrored`; None = all visible.
            With no GPU, `mirrored` spans the logical CPU devices.
        tpu: TPU address or name, for `tpu` ("" or "local" for a local TPU VM).
        all_reduce_alg: "nccl" or "ring" cross-device ops for `mirrored` /
            `multi_worker_mirrored`; None for TensorFlow's choice.
        tpu_zone, gcp_project: where a named Cloud TPU is (None: from GCE metadata).
    """
    name = (distribution_strategy or "one_device").lower()
    if name not in STRATEGIES:
        raise ValueError(f"--distribution_strategy: unknown value {distribution_strategy!r}; "
                         f"expected one of {STRATEGIES}")
    # Physical, not logical: listing logical devices initialises the runtime, after
    # which multi_worker_mirrored can no longer configure its collectives.
    gpus = tf.config.list_physical_devices("GPU")
    if num_gpus is not None and num_gpus > len(gpus):
        raise ValueError(f"--num_gpus={num_gpus} but only {len(gpus)} GPU(s) are visible")
    if name == "tpu":
        if tpu is None:
            raise ValueError("--distribution_strategy=tpu needs --tpu (an address, a name, "
                             "or 'local' on a TPU VM)")
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu="" if tpu == "local" else tpu, zone=tpu_zone, project=gcp_project)
        if tpu not in ("", "local"):
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if name == "one_device":
        if num_gpus not in (None, 0, 1):
            raise ValueError(f"--distribution_strategy=one_device uses one device, "
                             f"got --num_gpus={num_gpus}; use mirrored for several")
        use_gpu = gpus and num_gpus != 0
        return tf.distribute.OneDeviceStrategy("/gpu:0" if use_gpu else "/cpu:0")
    if name == "mirrored":
        if gpus and num_gpus != 0:
            logical = tf.config.list_logical_devices("GPU")
            devices = [d.name for d in logical[:num_gpus or len(logical)]]
        else:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        cross_device_ops = None
        if all_reduce_alg == "nccl":
            cross_device_ops = tf.distribute.NcclAllReduce()
        elif all_reduce_alg == "ring":
            cross_device_ops = tf.distribute.HierarchicalCopyAllReduce()
        elif all_reduce_alg is not None:
            raise ValueError(f"--all_reduce_alg: expected nccl or ring, got {all_reduce_alg!r}")
        return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross_device_ops)
    # multi_worker_mirrored: the cluster comes from TF_CONFIG.
    if "TF_CONFIG" in os.environ:
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON: {e}") from e
    implementation = {None: tf.distribute.experimental.CommunicationImplementation.AUTO,
                      "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL,
                      "ring": tf.distribute.experimental.CommunicationImplementation.RING}
    if all_reduce_alg not in implementation:
        raise ValueError(f"--all_reduce_alg: expected nccl or ring, got {all_reduce_alg!r}")
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=implementation[all_reduce_alg])
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def is_chief(strategy):
    """True on the worker that writes checkpoints and summaries."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type is None or (task_type in ("chief",) or
                                 (task_type == "worker" and task_id == 0
                                  and "chief" not in resolver.cluster_spec().as_dict()))
