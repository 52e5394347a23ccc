"""In-graph `[CLS] A [SEP] (B [SEP])` packing with ALBERT's truncation rule."""

import tensorflow as tf


def _row_lengths(ragged):
    return tf.cast(ragged.row_lengths(), tf.int32)


def truncated_lengths(len_a, len_b, max_num_tokens):
    """Lengths kept by the official `_truncate_seq_pair`, in closed form.

    The official loop pops one token from the end of the longer segment (B when
    equal) until len_a + len_b <= max_num_tokens. That leaves a short segment
    whole and gives the other the rest; when both are long, A keeps
    ceil(max_num_tokens / 2) and B floor(max_num_tokens / 2).

    Args:
      len_a, len_b: int32 [batch] segment lengths in tokens.
      max_num_tokens: Python int >= 0.

    Returns:
      (kept_a, kept_b) int32 [batch].
    """
    half_up = (max_num_tokens + 1) // 2
    half_down = max_num_tokens // 2
    kept_a = tf.minimum(len_a, tf.maximum(max_num_tokens - len_b, half_up))
    kept_b = tf.minimum(len_b, tf.maximum(max_num_tokens - len_a, half_down))
    return kept_a, kept_b


def _keep_first(segment, lengths):
    """Keeps the first `lengths[i]` tokens of row i of a ragged [batch, (n)]."""
    positions = tf.ragged.range(_row_lengths(segment))
    return tf.ragged.boolean_mask(segment, positions < tf.expand_dims(lengths, 1))


@tf.autograph.experimental.do_not_convert
def pack_segments(segments, max_seq_length, cls_id, sep_id, pad_id):
    """Packs 1 or 2 segments of ids into fixed-length model inputs.

    Args:
      segments: list of 1 or 2 int RaggedTensors [batch, (n)] of ids without
        special tokens.
      max_seq_length: Python int, in tokens including [CLS] and [SEP]s.
      cls_id, sep_id, pad_id: Python ints.

    Returns:
      dict of int32 [batch, max_seq_length]: `input_ids` (`[CLS] A [SEP]` or
      `[CLS] A [SEP] B [SEP]`, then pad_id), `input_mask` (1 on real tokens),
      `segment_ids` (0 for [CLS], A and its [SEP]; 1 for B and its [SEP]).
    """
    if len(segments) not in (1, 2):
        raise ValueError(f"pack expects 1 or 2 segments, got {len(segments)}")
    num_special = len(segments) + 1
    if max_seq_length < num_special:
        raise ValueError(f"max_seq_length ({max_seq_length}) must be at least "
                         f"{num_special} for {len(segments)} segment(s)")
    for i, s in enumerate(segments):
        if not isinstance(s, tf.RaggedTensor) or s.shape.rank != 2:
            raise ValueError(f"pack: segment {i} must be a RaggedTensor [batch, (n)], "
                             f"got {s!r}")
    segments = [tf.cast(s, tf.int32).with_row_splits_dtype(tf.int64) for s in segments]
    max_num_tokens = max_seq_length - num_special
    batch = segments[0].nrows(out_type=tf.int32)
    cls = tf.fill([batch, 1], cls_id)
    sep = tf.fill([batch, 1], sep_id)
    cls = tf.RaggedTensor.from_tensor(cls)
    sep = tf.RaggedTensor.from_tensor(sep)
    first = segments[0]
    if len(segments) == 1:
        first = _keep_first(first, tf.minimum(_row_lengths(first),
                                               max_num_tokens))
        pieces = [cls, first, sep]
        types = [0, 0, 0]
    else:
        second = segments[1]
        kept_a, kept_b = truncated_lengths(_row_lengths(first),
                                           _row_lengths(second),
                                           max_num_tokens)
        pieces = [cls, _keep_first(first, kept_a), sep, _keep_first(second, kept_b), sep]
        types = [0, 0, 0, 1, 1]
    input_ids = tf.concat(pieces, axis=1)
    segment_ids = tf.concat([tf.ones_like(p) * t for p, t in zip(pieces, types)], axis=1)
    shape = [None, max_seq_length]
    return {
        "input_ids": input_ids.to_tensor(default_value=pad_id, shape=shape),
        "input_mask": tf.ones_like(input_ids).to_tensor(default_value=0, shape=shape),
        "segment_ids": segment_ids.to_tensor(default_value=0, shape=shape),
    }
