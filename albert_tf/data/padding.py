"""Dropping a batch's trailing padding columns (dynamic padding).

Official records are padded to `max_seq_length` (GLUE runs use 512), while a
GLUE sentence is 10-70 tokens. Every column in which all rows of a batch are
padding can go: the encoder gives padded keys zero attention weight (the
-10000 additive mask underflows to exactly 0 after softmax) and padded queries
only produce outputs that nothing reads, so the logits of a trimmed batch are
those of the full one up to float rounding, at a fraction of the cost.

TPUs need static shapes: keep `multiple=None` (no trimming) there. Under XLA
every distinct length compiles the step once, so round lengths up to a coarse
multiple (64) to bound the number of programs.
"""

import tensorflow as tf

SEQUENCE_FEATURES = ("input_ids", "input_mask", "segment_ids")
MULTIPLE = 8
XLA_MULTIPLE = 64


def trimmed_length(input_mask, multiple):
    """int32 scalar: last column with a nonzero mask + 1, rounded up to `multiple`.

    Never more than the mask's own length seq; a mask with no tokens keeps
    `multiple` columns (at most seq).

    Args:
      input_mask: int [..., seq]; any layout of ones, not only a prefix.
      multiple: Python int >= 1.
    """
    seq = tf.shape(input_mask)[-1]
    positions = tf.range(1, seq + 1)
    used = tf.reduce_any(tf.not_equal(tf.reshape(input_mask, [-1, seq]), 0), axis=0)
    length = tf.reduce_max(tf.where(used, positions, 0))
    length = tf.maximum(length, 1)
    rounded = (length + multiple - 1) // multiple * multiple
    return tf.minimum(rounded, seq)


def trim_padding(features, multiple=MULTIPLE, keys=SEQUENCE_FEATURES, mask_key="input_mask"):
    """Slices the last axis of `features[keys]` to `trimmed_length` of the mask.

    Args:
      features: dict of batched tensors; `keys` are [batch, seq] or
        [batch, choices, seq] (RACE), other features pass through.
      multiple: lengths are rounded up to a multiple of this (Python int >= 1).

    Returns:
      A new dict; `keys` become [..., trimmed] with trimmed <= seq.
    """
    if not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"trim_padding: multiple must be a positive integer, got {multiple!r}")
    missing = [key for key in (mask_key, *keys) if key not in features]
    if missing:
        raise ValueError(f"trim_padding: features have no {', '.join(missing)} "
                         f"(have {', '.join(sorted(features))})")
    length = trimmed_length(features[mask_key], multiple)
    trimmed = dict(features)
    for key in keys:
        trimmed[key] = features[key][..., :length]
    return trimmed


def padding_multiple(trim, jit_compile=False, strategy=None):
    """The `multiple` to trim batches with, or None for fixed-length batches.

    None when `trim` is off or on TPU (static shapes only); 64 under XLA (one
    compiled program per length); 8 otherwise.
    """
    if not trim:
        return None
    if strategy is not None and isinstance(
            strategy, (tf.distribute.TPUStrategy, tf.distribute.experimental.TPUStrategy)):
        return None
    return XLA_MULTIPLE if jit_compile else MULTIPLE


def trim_batches(dataset, multiple):
    """`dataset.map(trim_padding)` over batched feature dicts; unchanged if `multiple` is None."""
    if multiple is None:
        return dataset
    return dataset.map(lambda features: trim_padding(features, multiple),
                       num_parallel_calls=tf.data.AUTOTUNE)


def batch_by_length(dataset, batch_size, multiple, mask_key="input_mask"):
    """Batches unbatched rows of the same trimmed length together, then trims.

    For evaluation and prediction, whose outputs are put back in order by an
    index: rows are held back until `batch_size` of one length (rounded up to
    `multiple`) have come, so a short sentence is not padded to the longest one
    of its neighbours. Every row comes out exactly once; the last batch of each
    length may be smaller.

    Args:
      dataset: unbatched feature dicts with `mask_key` [seq] or [choices, seq].
      batch_size: Python int, rows per batch.
      multiple: Python int >= 1, the length rounding of `trim_padding`.
    """
    def length_key(features):
        return tf.cast(trimmed_length(features[mask_key], multiple) // multiple, tf.int64)

    dataset = dataset.group_by_window(length_key, lambda _, rows: rows.batch(batch_size),
                                      window_size=batch_size)
    return trim_batches(dataset, multiple)

