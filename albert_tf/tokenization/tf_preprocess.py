"""`preprocess_text` as TensorFlow ops (graph, tf.data and SavedModel safe).

Same steps in the same order as the Python function: whitespace collapse as
`" ".join(text.split())`, NFKD, removal of combining characters, `str.lower()`
(including Python's context-dependent final sigma). The Unicode data comes
from this Python (see `unicode_tables`), not from TensorFlow's ICU.
"""

import tensorflow as tf

from albert_tf.tokenization import unicode_tables


def _member(code_points, starts, ends):
    """code_points int32 [N] -> bool [N]: inside one of the inclusive ranges."""
    starts = tf.constant(starts)
    ends = tf.constant(ends)
    index = tf.searchsorted(starts, code_points, side="right") - 1
    safe = tf.maximum(index, 0)
    return (index >= 0) & (code_points <= tf.gather(ends, safe))


def _lookup(code_points, keys):
    """-> (found bool [N], index int32 [N]) of each code point in sorted `keys`."""
    keys = tf.constant(keys)
    index = tf.searchsorted(keys, code_points, side="left", out_type=tf.int32)
    index = tf.minimum(index, tf.size(keys) - 1)
    return tf.equal(tf.gather(keys, index), code_points), index


def _decompose(code_points):
    """NFKD minus combining characters on a ragged [B, (n)] int32 of code points."""
    keys, splits, values = unicode_tables.decomposition_table()
    flat = code_points.flat_values
    found, index = _lookup(flat, keys)
    splits = tf.constant(splits)
    lengths = tf.where(found, tf.gather(splits, index + 1) - tf.gather(splits, index), 1)
    ends = tf.cumsum(lengths)
    starts = ends - lengths
    total = tf.reduce_sum(lengths)
    # Unchanged characters keep their value; the few found ones are written
    # out from the expansion table.
    kept = tf.where(~found)
    changed = tf.where(found)[:, 0]
    expansions = tf.gather(
        tf.RaggedTensor.from_row_splits(tf.constant(values), tf.cast(splits, tf.int64),
                                        validate=False),
        tf.gather(index, changed))
    expansion_starts = tf.gather(tf.gather(starts, changed), expansions.value_rowids())
    expansion_offsets = (tf.range(tf.size(expansions.flat_values, out_type=tf.int64))
                         - tf.gather(expansions.row_splits, expansions.value_rowids()))
    positions = tf.concat([
        tf.gather(tf.cast(starts, tf.int64), kept),
        tf.expand_dims(tf.cast(expansion_starts, tf.int64) + expansion_offsets, 1)], 0)
    new_flat = tf.scatter_nd(
        positions, tf.concat([tf.gather_nd(flat, kept), expansions.flat_values], 0),
        tf.expand_dims(tf.cast(total, tf.int64), 0))
    new_splits = tf.gather(tf.concat([[0], tf.cast(ends, tf.int64)], 0),
                           code_points.row_splits)
    return tf.RaggedTensor.from_row_splits(new_flat, new_splits, validate=False)


def _lower(code_points):
    """Python `str.lower()` on a ragged [B, (n)] int32 of NFKD-decomposed code points."""
    flat = code_points.flat_values
    row_ids = tf.cast(code_points.value_rowids(), tf.int32)
    keys, lowered = unicode_tables.lower_table()
    found, index = _lookup(flat, keys)
    new_flat = tf.where(found, tf.gather(tf.constant(lowered), index), flat)

    has_sigma = tf.reduce_any(tf.equal(flat, unicode_tables.GREEK_CAPITAL_SIGMA))
    new_flat = tf.cond(has_sigma, lambda: _final_sigma(flat, row_ids, new_flat),
                       lambda: new_flat)
    return code_points.with_flat_values(new_flat)


def _final_sigma(flat, row_ids, lowered):
    """Puts final sigma where Python's str.lower() would.

    The nearest non-case-ignorable characters before and after a capital sigma
    (in the same text) must be cased and not cased respectively.
    """
    ign_starts, ign_ends, cased_starts, cased_ends = unicode_tables.final_sigma_tables()
    n = tf.size(flat)
    non_ignorable = ~_member(flat, ign_starts, ign_ends)
    anchor = tf.concat([tf.cast(tf.where(non_ignorable)[:, 0], tf.int32), [n]], 0)
    num_anchors = tf.size(anchor) - 1
    padded_rows = tf.concat([row_ids, [-1]], 0)
    padded_cased = tf.concat([_member(flat, cased_starts, cased_ends), [False]], 0)
    before = tf.cumsum(tf.cast(non_ignorable, tf.int32), exclusive=True)
    prev = tf.gather(anchor, tf.where(before > 0, before - 1, num_anchors))
    nxt = tf.gather(anchor, before + tf.cast(non_ignorable, tf.int32))
    prev_cased = (tf.gather(padded_rows, prev) == row_ids) & tf.gather(padded_cased, prev)
    next_cased = (tf.gather(padded_rows, nxt) == row_ids) & tf.gather(padded_cased, nxt)
    final_sigma = (tf.equal(flat, unicode_tables.GREEK_CAPITAL_SIGMA)
                   & prev_cased & ~next_cased)
    return tf.where(final_sigma, unicode_tables.GREEK_SMALL_FINAL_SIGMA, lowered)


def _preprocess_non_ascii(texts, lower):
    code_points = tf.strings.unicode_decode(texts, "UTF-8")
    code_points = _decompose(code_points)
    if lower:
        code_points = _lower(code_points)
    return tf.strings.unicode_encode(code_points, "UTF-8")


# Plain TensorFlow ops without Python control flow on tensors: AutoGraph would
# only slow down tracing.
@tf.autograph.experimental.do_not_convert
def preprocess_text_graph(texts, lower=False):
    """In-graph `preprocess_text(text, remove_space=True, lower=lower)`.

    Args:
      texts: tf.string [batch], UTF-8 (invalid bytes are dropped, like
        `bytes.decode("utf-8", "ignore")`).
      lower: whether to lower-case.

    Returns:
      tf.string [batch].
    """
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="ignore")
    texts = tf.strings.regex_replace(texts, unicode_tables.whitespace_class() + "+", " ")
    texts = tf.strings.regex_replace(texts, "^ | $", "")
    # ASCII texts need no Unicode tables: NFKD leaves them alone and
    # str.lower() only maps A-Z there.
    is_ascii = tf.strings.regex_full_match(texts, "[\\x{0}-\\x{7f}]*")
    ascii_index = tf.cast(tf.where(is_ascii)[:, 0], tf.int32)
    other_index = tf.cast(tf.where(~is_ascii)[:, 0], tf.int32)
    ascii_texts = tf.gather(texts, ascii_index)
    if lower:
        ascii_texts = tf.strings.lower(ascii_texts)
    other_texts = _preprocess_non_ascii(tf.gather(texts, other_index), lower)
    return tf.dynamic_stitch([ascii_index, other_index], [ascii_texts, other_texts])
