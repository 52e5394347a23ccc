"""The trainer's checkpoint files in `output_dir/training_checkpoints`: finding the
newest complete one (repairing the `checkpoint` state file a kill left behind) and
restoring the newest one that reads, skipping damaged ones."""

import os

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints.official import is_damaged_checkpoint_error

CHECKPOINT_SUBDIR = "training_checkpoints"


def training_checkpoint_dir(output_dir):
    """Where the trainer of a run with this `output_dir` saves its `ckpt-N`."""
    return os.path.join(output_dir, CHECKPOINT_SUBDIR)


def numbered_checkpoints(index_pattern):
    """{N: prefix} of the complete checkpoints `<...>-N` whose `.index` matches the glob."""
    found = {}
    for index in tf.io.gfile.glob(index_pattern):
        prefix = index[:-len(".index")]
        number = prefix.rsplit("-", 1)[-1]
        if number.isdigit():
            found[int(number)] = prefix
    return found


def latest_complete_checkpoint(directory, repair=False):
    """The newest complete `ckpt-N` in `directory`, or None.

    TensorFlow writes a checkpoint's data, then its `.index`, then the `checkpoint`
    state file. A kill between the last two leaves a complete checkpoint the state
    file does not name; it is found here (by its index) rather than lost. With
    `repair`, the state file is rewritten to name it, so that CheckpointManager keeps
    counting it towards `keep_checkpoint_max`.
    """
    named = tf.train.latest_checkpoint(directory)
    found = numbered_checkpoints(os.path.join(directory, "ckpt-*.index"))
    if not found:
        return named
    newest = found[max(found)]
    if named is not None and os.path.basename(named) == os.path.basename(newest):
        return named
    if repair:
        state = tf.train.get_checkpoint_state(directory)
        tf.compat.v1.train.update_checkpoint_state(
            directory, newest, all_model_checkpoint_paths=[found[n] for n in sorted(found)])
        if named is None and state is not None and state.model_checkpoint_path:
            logging.warning("%s/checkpoint named %s, whose .index is missing; it now names "
                            "%s, the newest complete one", directory,
                            state.model_checkpoint_path, newest)
        else:
            logging.warning("%s was complete but not recorded in %s/checkpoint (the run "
                            "was stopped while saving); resuming from it", newest, directory)
    return newest


# What TensorFlow raises for a checkpoint data file cut short (IndexError: "Read less
# bytes than requested") or damaged (DataLossError: checksum mismatch); a damaged index
# is an OpError "not an sstable" / "file is too short to be an sstable".


def unindexed_checkpoints(directory):
    """{N: prefix} of the `ckpt-N` whose data files are there but whose `.index` is not
    (lost or deleted): damaged, never restored."""
    found = {}
    for data in tf.io.gfile.glob(os.path.join(directory, "ckpt-*.data-*")):
        prefix = data[:data.rindex(".data-")]
        number = prefix.rsplit("-", 1)[-1]
        if number.isdigit() and not tf.io.gfile.exists(prefix + ".index"):
            found[int(number)] = prefix
    return found


def restore_newest_intact(checkpoint, directory, repair=False):
    """Restores `checkpoint` from the newest checkpoint in `directory` that reads.

    A checkpoint whose files are truncated or damaged (a full disk, a copy cut
    short), or whose index is missing, is skipped with a warning naming it, and the
    one before it is tried; the damaged files are left for inspection (the next save
    of that step replaces them). A checkpoint that reads but does not fit the model
    still raises.

    Returns:
        The prefix restored, or None when `directory` holds no checkpoint.
    Raises:
        ValueError naming each one when every checkpoint there is damaged.
    """
    unindexed = unindexed_checkpoints(directory)
    newest = latest_complete_checkpoint(directory, repair=repair)
    if newest is None and not unindexed:
        return None
    found = numbered_checkpoints(os.path.join(directory, "ckpt-*.index"))
    candidates = ([newest] if newest else []) + [
        found[n] for n in sorted(found, reverse=True)
        if newest is None or os.path.basename(found[n]) != os.path.basename(newest)]
    damaged = []

    def skip(prefix, why):
        damaged.append(prefix)
        message = f"checkpoint {prefix} is {why}; trying the one before it"
        logging.warning(message)
        print(f"WARNING: {message}", flush=True)

    for prefix in candidates:
        for number in sorted(unindexed, reverse=True):  # newer ones without an index
            if number > int(prefix.rsplit("-", 1)[-1]):
                skip(unindexed.pop(number), "damaged (its .index is missing)")
        try:
            checkpoint.restore(prefix).assert_existing_objects_matched()
        except (IndexError, tf.errors.OpError) as e:
            if not is_damaged_checkpoint_error(e):
                raise
            skip(prefix, f"truncated or corrupt ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200]})")
            continue
        if damaged:
            print(f"WARNING: resumed from {prefix} instead of the damaged "
                  f"{', '.join(damaged)}", flush=True)
        return prefix
    for number in sorted(unindexed, reverse=True):
        skip(unindexed.pop(number), "damaged (its .index is missing)")
    raise ValueError(f"every checkpoint in {directory} is truncated or corrupt: "
                     f"{', '.join(damaged)}; move them away to start afresh")
