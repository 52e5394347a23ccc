"""Reading and writing checkpoints in the official google-research/albert format.

A checkpoint here is a TF name-based checkpoint (`PREFIX.index` +
`PREFIX.data-*`) whose variables carry the official TF1 names
(`bert/embeddings/word_embeddings`, `cls/predictions/output_bias`, ...).
"""

import functools
import os
import re

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from albert_tf.checkpoints.variable_names import VariableMatch, official_variable_map

CONFIG_NAME = "albert_config.json"
BEST_CHECKPOINT = "model.ckpt-best"

# Variables of the official checkpoints that are not model weights.
IGNORED_VARIABLE_PATTERNS = (
    r"^global_step$",
    r".*/adam_[mv]$",          # official AdamW / LAMB slots
    r".*/(Adam|Adam_1|Momentum|LAMB|LAMB_1)$",
    r"^beta[12]_power$",
    r"^good_steps$", r"^loss_scale$",
)


class CheckpointCorruptError(ValueError):
    """Raised when a checkpoint's files cannot be read (truncated or damaged)."""


def _data_files(prefix):
    return ", ".join(sorted(tf.io.gfile.glob(prefix + ".data-*"))) or f"{prefix}.data-*"


def load_reader(prefix):
    """`tf.train.load_checkpoint(prefix)`, failing with the index file named."""
    try:
        return tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError, IndexError) as e:
        raise CheckpointCorruptError(
            f"checkpoint {prefix}: cannot read its index {prefix}.index (truncated or "
            f"corrupt?): {e}") from e


def read_tensor(reader, prefix, name):
    """`reader.get_tensor(name)`, failing with the checkpoint, data file and tensor named.

    TensorFlow reports a truncated data file as a bare `IndexError: Read less bytes
    than requested` and a damaged one as a checksum `DataLossError`.
    """
    try:
        return reader.get_tensor(name)
    except (IndexError, tf.errors.OpError) as e:
        raise CheckpointCorruptError(
            f"checkpoint {prefix}: cannot read tensor {name!r} from {_data_files(prefix)}: "
            f"the file is truncated or corrupt ({type(e).__name__}: {e})") from e


# How TensorFlow reports a truncated or damaged checkpoint file.
CORRUPT_CHECKPOINT_ERRORS = (IndexError, tf.errors.DataLossError, tf.errors.OutOfRangeError)


def is_damaged_checkpoint_error(error):
    """True for the errors TensorFlow raises reading a truncated or damaged checkpoint."""
    return isinstance(error, CORRUPT_CHECKPOINT_ERRORS) or (
        isinstance(error, tf.errors.OpError) and "sstable" in str(error))


def restore_training_checkpoint(model, prefix):
    """Restores `model` (weights only) from an object-based `tf.train.Checkpoint` (our
    Trainer's `ckpt-N`), every existing model object matched; a truncated or damaged
    file fails as `CheckpointCorruptError` naming the checkpoint."""
    try:
        tf.train.Checkpoint(model=model).read(prefix).expect_partial() \
            .assert_existing_objects_matched()
    except (IndexError, tf.errors.OpError) as e:
        if not is_damaged_checkpoint_error(e):
            raise
        raise CheckpointCorruptError(
            f"training checkpoint {prefix}: cannot read {prefix}.index / "
            f"{_data_files(prefix)}: truncated or corrupt ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:200]})") from e


def _step_of(prefix):
    match = re.search(r"-(\d+)$", prefix)
    return int(match.group(1)) if match else -1


def resolve_checkpoint(path):
    """Finds the checkpoint prefix and the config file for `path`.

    `path` is a checkpoint prefix (`.../model.ckpt-best`, `.../ckpt-7`) or a
    directory. A directory means the first of its `checkpoint_candidates` whose
    every tensor reads (`checkpoint_damage`), with a warning naming each damaged one
    before it. For a path only: a caller that loads it reads it through
    `first_intact`, once.

    Returns:
        (prefix, config_path or None)
    Raises:
        FileNotFoundError when there is no checkpoint; CheckpointCorruptError naming
        each one when every checkpoint of a directory is damaged.
    """
    path = str(path)
    if tf.io.gfile.isdir(path):
        directory = path
        prefix, _ = first_intact(directory, _check_intact)
    else:
        prefix = path[:-len(".index")] if path.endswith(".index") else path
        if not tf.io.gfile.exists(prefix + ".index"):
            raise FileNotFoundError(f"checkpoint not found: {prefix}.index does not exist")
        directory = os.path.dirname(prefix)
    config_path = os.path.join(directory, CONFIG_NAME)
    return prefix, (config_path if tf.io.gfile.exists(config_path) else None)


def checkpoint_candidates(directory):
    """A directory's checkpoint prefixes in the order they are tried: its
    `model.ckpt-best` (the released tars; a run's best evaluation), the checkpoint its
    `checkpoint` state file names, then its `*.index` files, highest step first."""
    named = []
    best = os.path.join(directory, BEST_CHECKPOINT)
    if tf.io.gfile.glob(best + ".*"):
        named.append(best)
    try:
        state = tf.train.get_checkpoint_state(directory)
    except (tf.errors.OpError, ValueError):  # An unreadable state file names nothing.
        state = None
    if state is not None and state.model_checkpoint_path:
        latest = state.model_checkpoint_path
        named.append(latest if os.path.isabs(latest) or "://" in latest
                     else os.path.join(directory, latest))
    indexed = sorted((p[:-len(".index")] for p in
                      tf.io.gfile.glob(os.path.join(directory, "*.index"))),
                     key=lambda p: (_step_of(p), p), reverse=True)
    candidates = []
    for prefix in named + indexed:
        if prefix not in candidates:
            candidates.append(prefix)
    return candidates


_WARNED = set()  # (directory, prefix used, damaged) already reported


def first_intact(directory, read, candidates=None):
    """`read(prefix)` of the first of `candidates` (default: `checkpoint_candidates`)
    that reads: one whose index is missing, or whose `read` fails as damaged
    (`CheckpointCorruptError`, `is_damaged_checkpoint_error`), is skipped for the
    next, with one warning naming each skipped. `read` must leave nothing of a
    damaged checkpoint behind (read all, then assign).

    Returns:
        (prefix, what `read` returned)
    Raises:
        FileNotFoundError when there is no candidate; CheckpointCorruptError naming
        each one when none reads. Any other error of `read` as is.
    """
    candidates = checkpoint_candidates(directory) if candidates is None else candidates
    if not candidates:
        raise FileNotFoundError(f"no checkpoint (*.index) found in directory {directory}")
    damaged = []
    for prefix in candidates:
        index = prefix + ".index"
        if not tf.io.gfile.exists(index):
            damaged.append(f"checkpoint {prefix}: its index {index} is missing")
            continue
        try:
            value = read(prefix)
        except CheckpointCorruptError as e:
            damaged.append(str(e))
            continue
        except (IndexError, tf.errors.OpError) as e:
            if not is_damaged_checkpoint_error(e):
                raise
            damaged.append(f"checkpoint {prefix}: {_data_files(prefix)}: truncated or "
                           f"corrupt ({type(e).__name__}: {str(e).splitlines()[0][:200]})")
            continue
        if damaged and (directory, prefix, tuple(damaged)) not in _WARNED:
            _WARNED.add((directory, prefix, tuple(damaged)))  # once, not per reader
            logging.warning("%s: using %s, the newest checkpoint that reads; skipped "
                            "the damaged: %s", directory, prefix, "; ".join(damaged))
        return prefix, value
    raise CheckpointCorruptError(f"every checkpoint in {directory} is damaged: "
                                 f"{'; '.join(damaged)}")


def _check_intact(prefix):
    damage = checkpoint_damage(prefix)
    if damage is not None:
        raise CheckpointCorruptError(damage)


def checkpoint_damage(prefix):
    """Why the checkpoint `prefix` cannot be used, naming it (its index missing or
    unreadable, a tensor cut short or failing its checksum), or None when every tensor
    reads. The files are read once per version of them (their sizes and times)."""
    index = prefix + ".index"
    if not tf.io.gfile.exists(index):
        return f"checkpoint {prefix}: its index {index} is missing"
    stamp = tuple((f, stat.length, stat.mtime_nsec) for f, stat in (
        (f, tf.io.gfile.stat(f)) for f in sorted([index] + tf.io.gfile.glob(prefix +
                                                                         ".data-*"))))
    return _damage(prefix, stamp)


@functools.lru_cache(maxsize=64)
def _damage(prefix, stamp):
    del stamp  # the cache key: files rewritten since are read again
    try:
        reader = load_reader(prefix)
        for name in sorted(reader.get_variable_to_shape_map()):
            read_tensor(reader, prefix, name)
    except CheckpointCorruptError as e:
        return str(e)
    return None


def is_trainer_checkpoint(prefix):
    """True for our Trainer's object-based `tf.train.Checkpoint` (the model's variables
    under `model/.../.ATTRIBUTES/`), False for a name-based official one."""
    return any(name.startswith("model/") and ".ATTRIBUTES/" in name
               for name in load_reader(prefix).get_variable_to_shape_map())


def list_official_variables(prefix):
    """{name: shape} of the model weights in a checkpoint (optimizer slots dropped)."""
    reader = load_reader(prefix)
    ignored = [re.compile(p) for p in IGNORED_VARIABLE_PATTERNS]
    return {name: tuple(shape) for name, shape in reader.get_variable_to_shape_map().items()
            if not any(p.match(name) for p in ignored)}


def _as_patterns(patterns):
    if patterns is None or patterns is False:
        return []
    if patterns is True:
        return [re.compile(".*")]
    if isinstance(patterns, str):
        patterns = [patterns]
    return [re.compile(p) for p in patterns]


def restore_official_weights(model, checkpoint, init_from_group0=False, allow_missing=None,
                             allow_unexpected=None, skip=None):
    """Assigns the variables of an official-format checkpoint to `model`.

    Args:
        model: an `AlbertEncoder`, `AlbertPretrainer` or task model.
        checkpoint: checkpoint prefix or directory (see `resolve_checkpoint`).
        init_from_group0: a layer group the checkpoint lacks is initialised from
            its `group_0` (official `--init_from_group0`), e.g. to grow a 1-group
            model into several; groups the checkpoint has load as themselves.
        allow_missing: regex(es) of official names the checkpoint may lack (left
            at their initial values), or True for all.
        allow_unexpected: regex(es) of checkpoint names the model may not use
            (e.g. `cls/.*` when loading an encoder from a pretraining
            checkpoint), or True for all.

    Returns:
        dict with the sorted `loaded`, `missing` (allowed) and `unused` names.

    Raises:
        CheckpointMismatchError listing missing variables, unexpected variables and
        shape mismatches (both shapes); CheckpointCorruptError naming the data file
        and tensor when a file is truncated or damaged (of a directory: when every
        checkpoint is). Either way before anything is assigned.
    """
    restore = functools.partial(_restore_official_weights, model,
                                init_from_group0=init_from_group0,
                                allow_missing=allow_missing,
                                allow_unexpected=allow_unexpected, skip=skip)
    if tf.io.gfile.isdir(str(checkpoint)):
        return first_intact(str(checkpoint), restore)[1]
    return restore(resolve_checkpoint(checkpoint)[0])


def _restore_official_weights(model, prefix, init_from_group0, allow_missing,
                              allow_unexpected, skip):
    reader = load_reader(prefix)
    available = list_official_variables(prefix)
    skipped = _as_patterns(skip)
    targets = {n: v for n, v in official_variable_map(model).items()
               if not any(p.match(n) for p in skipped)}
    match = VariableMatch(available, targets, init_from_group0)
    missing_ok, unexpected_ok = _as_patterns(allow_missing), _as_patterns(allow_unexpected)
    missing = [n for n in match.missing if not any(p.match(n) for p in missing_ok)]
    unexpected = [n for n in match.unused if not any(p.match(n) for p in unexpected_ok)]
    if missing or unexpected or match.mismatched:
        raise match.error(prefix, model, missing, unexpected, list(match.mismatched))
    # Every tensor read before any is assigned: a damaged file changes nothing.
    values = {name: np.asarray(read_tensor(reader, prefix, source))
              for name, source in match.plan.items()}
    for name, value in values.items():
        targets[name].assign(value.astype(targets[name].dtype))
    return {"loaded": sorted(match.plan), "missing": sorted(match.missing),
            "unused": match.unused}


def save_official_checkpoint(model, prefix, global_step=None, write_state_file=False):
    """Writes `model`'s weights under their official names at `prefix`.

    The files are written under a temporary prefix and renamed into place, so a
    crash never leaves a half-written checkpoint at `prefix`.

    Args:
        model: an `AlbertEncoder`, `AlbertPretrainer` or task model.
        prefix: checkpoint prefix, e.g. `out/model.ckpt-1000`.
        global_step: optional int64 `global_step` variable, as official checkpoints have.
        write_state_file: also write/refresh the `checkpoint` state file in the
            directory so `tf.train.latest_checkpoint` finds this checkpoint.

    Returns:
        The prefix written.
    """
    arrays = {name: keras.ops.convert_to_numpy(variable)
              for name, variable in official_variable_map(model).items()}
    return write_official_variables(arrays, prefix, global_step=global_step,
                                    write_state_file=write_state_file)


def write_official_variables(arrays, prefix, global_step=None, write_state_file=False):
    """Writes {official name: array} as a checkpoint at `prefix` (see
    `save_official_checkpoint`, which calls this with a model's variables)."""
    prefix = str(prefix)
    directory = os.path.dirname(prefix) or "."
    tf.io.gfile.makedirs(directory)
    names, tensors = [], []
    for name, value in arrays.items():
        names.append(name)
        tensors.append(tf.constant(value))
    if global_step is not None:
        names.append("global_step")
        tensors.append(tf.constant(int(global_step), dtype=tf.int64))
    tmp_prefix = f"{prefix}.tmp-{os.getpid()}"
    tf.raw_ops.SaveV2(prefix=tmp_prefix, tensor_names=names,
                      shape_and_slices=[""] * len(names), tensors=tensors)
    # Data shards first, the index last: a reader only sees a checkpoint once its
    # index is in place, and by then every shard it names is too.
    tmp_files = sorted(tf.io.gfile.glob(tmp_prefix + ".*"), key=lambda f: f.endswith(".index"))
    for tmp_file in tmp_files:
        final = prefix + tmp_file[len(tmp_prefix):]
        tf.io.gfile.rename(tmp_file, final, overwrite=True)
    if write_state_file:
        _write_state_file(directory, prefix)
    return prefix


def _write_state_file(directory, prefix):
    """The `checkpoint` text proto that tf.train.latest_checkpoint reads, written atomically."""
    name = os.path.basename(prefix)
    state = os.path.join(directory, "checkpoint")
    with tf.io.gfile.GFile(state + ".tmp", "w") as f:
        f.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')
    tf.io.gfile.rename(state + ".tmp", state, overwrite=True)
