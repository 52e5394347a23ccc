"""In-graph SQuAD windows: `[CLS] question [SEP] context-part [SEP]`, as in training.

The graph form of `albert_tf.tasks.squad.features.convert_examples_to_features`
(official `squad_utils`): the question keeps its first max_query_length
tokens; the context is covered by windows of up to
`max_seq_length - len(question) - 3` tokens starting `doc_stride` tokens apart
(the last window ends at the context's end); a context token's max-context
window is the one where min(left, right) context + 0.01 * window length is
largest, the first on ties. An empty context gives one window with no context
tokens (and so no answer).
"""

import math

import tensorflow as tf


def max_context_radius(max_seq_length, doc_stride):
    """How many windows apart two windows sharing a token can be, at most.

    Windows start `stride = min(doc_stride, window length)` tokens apart and
    are at most max_seq_length - 3 long, so a token lies in at most
    ceil((max_seq_length - 3) / doc_stride) windows.
    """
    return max(1, math.ceil((max_seq_length - 3) / doc_stride))


@tf.autograph.experimental.do_not_convert
def squad_windows(query_ids, doc_ids, max_seq_length, doc_stride, cls_id, sep_id, pad_id):
    """Cuts every (question, context) into model windows.

    Args:
      query_ids: int32 RaggedTensor [batch, (q)], already cut to max_query_length
        (q <= max_seq_length - 4).
      doc_ids: int32 RaggedTensor [batch, (n)], the context pieces.
      max_seq_length, doc_stride: Python ints, in tokens.
      cls_id, sep_id, pad_id: Python ints.

    Returns:
      dict over windows W:
        example_index int64 [W]: the question each window belongs to (windows
          of one question are consecutive, in context order);
        doc_start, doc_length int64 [W]: the window's context tokens;
        doc_offset int64 [W]: input position of its first context token;
        token_is_max_context bool [W, max_seq_length]: for context token j of
          the window (j < doc_length), whether this is its max-context window;
        input_ids, input_mask, segment_ids, p_mask int32 [W, max_seq_length]
          (p_mask 1 where no answer can be: question, [SEP]s, padding).
    """
    query_length = query_ids.row_lengths()
    num_doc = doc_ids.row_lengths()
    max_tokens = max_seq_length - query_length - 3
    stride = tf.minimum(max_tokens, doc_stride)
    # Windows start 0, stride, 2 * stride, ... until one reaches the end.
    extra = tf.maximum(num_doc - max_tokens, 0)
    num_windows = 1 + (extra + stride - 1) // stride
    example_index = tf.repeat(tf.range(tf.size(num_windows, out_type=tf.int64)), num_windows)
    first_window = tf.repeat(tf.cumsum(num_windows, exclusive=True), num_windows)
    window_in_example = tf.range(tf.size(example_index, out_type=tf.int64)) - first_window
    doc_start = window_in_example * tf.gather(stride, example_index)
    doc_length = tf.minimum(tf.gather(num_doc, example_index) - doc_start,
                            tf.gather(max_tokens, example_index))
    doc_offset = tf.gather(query_length, example_index) + 2

    token_is_max_context = _max_context(example_index, doc_start, doc_length, max_seq_length,
                                        max_context_radius(max_seq_length, doc_stride))

    num_windows_total = tf.size(example_index)
    cls = tf.RaggedTensor.from_tensor(tf.fill([num_windows_total, 1], cls_id))
    sep = tf.RaggedTensor.from_tensor(tf.fill([num_windows_total, 1], sep_id))
    query = tf.gather(query_ids, example_index)
    first_doc = tf.gather(doc_ids.row_starts(), example_index) + doc_start
    doc = tf.gather(doc_ids.flat_values,
                    tf.ragged.range(first_doc, first_doc + doc_length))
    parts = [cls, query, sep, doc, sep]
    segment = [0, 0, 0, 1, 1]
    impossible = [0, 1, 1, 0, 1]
    input_ids = tf.concat(parts, axis=1)
    shape = [None, max_seq_length]

    def fill(values, padding):
        return tf.concat([tf.ones_like(p) * v for p, v in zip(parts, values)],
                         axis=1).to_tensor(default_value=padding, shape=shape)

    return {
        "example_index": example_index,
        "doc_start": doc_start,
        "doc_length": doc_length,
        "doc_offset": doc_offset,
        "token_is_max_context": token_is_max_context,
        "input_ids": input_ids.to_tensor(default_value=pad_id, shape=shape),
        "input_mask": tf.ones_like(input_ids).to_tensor(default_value=0, shape=shape),
        "segment_ids": fill(segment, 0),
        "p_mask": fill(impossible, 1),
    }


def _max_context(example_index, doc_start, doc_length, max_seq_length, radius):
    """[W, max_seq_length] bool: is window w the max-context window of its token j?

    Compares each window with its `radius` neighbours on each side, which hold
    every other window that can share a token (see `max_context_radius`).
    Scores are float64, as the Python doubles of the official code, so ties
    are found the same way.
    """
    num_windows = tf.size(example_index, out_type=tf.int64)
    j = tf.range(max_seq_length, dtype=tf.int64)[tf.newaxis, :]
    position = doc_start[:, tf.newaxis] + j  # Context token of slot j: [W, T].
    in_window = j < doc_length[:, tf.newaxis]

    def score(start, length, pos):
        left = tf.cast(pos - start, tf.float64)
        right = tf.cast(start + length - 1 - pos, tf.float64)
        return tf.minimum(left, right) + 0.01 * tf.cast(length, tf.float64)

    own = score(doc_start[:, tf.newaxis], doc_length[:, tf.newaxis], position)
    beaten = tf.zeros_like(in_window)
    for distance in range(-radius, radius + 1):
        if distance == 0:
            continue
        other = tf.range(num_windows) + distance
        exists = (other >= 0) & (other < num_windows)
        other = tf.clip_by_value(other, 0, tf.maximum(num_windows - 1, 0))
        same = exists & tf.equal(tf.gather(example_index, other), example_index)
        start = tf.gather(doc_start, other)[:, tf.newaxis]
        length = tf.gather(doc_length, other)[:, tf.newaxis]
        contains = same[:, tf.newaxis] & (position >= start) & (position < start + length)
        their = score(start, length, position)
        # An earlier window wins ties, a later one must be strictly better.
        better = their >= own if distance < 0 else their > own
        beaten = beaten | (contains & better)
    return in_window & ~beaten
