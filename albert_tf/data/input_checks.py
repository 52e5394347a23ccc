"""Range checks of model inputs in the input pipeline, off the compiled step.

A gather reads a negative id as one counted from the end of its table and, on
GPUs, an id past the end as zeros: bad ids train silently. The compiled step
carries no checks (they would cost every step); instead each batch is checked
here, on the host CPUs, in parallel with the accelerator (a few reductions per
batch; see README "Errors and recovery" for the measured cost).
"""

import tensorflow as tf

# feature -> (config field giving the exclusive upper bound, what the ids index).
_ID_FEATURES = {
    "input_ids": "vocab_size",
    "masked_lm_ids": "vocab_size",
    "segment_ids": "type_vocab_size",
}


def _in_range(name, values, low, high, high_text):
    """An assert op: low <= values < high, else a message with the batch's min and max."""
    smallest, largest = tf.reduce_min(values), tf.reduce_max(values)
    ok = tf.logical_or(tf.equal(tf.size(values), 0),
                       tf.logical_and(smallest >= tf.cast(low, values.dtype),
                                      largest < tf.cast(high, values.dtype)))
    return tf.debugging.Assert(ok, [f"input pipeline: {name} must be in [{low}, {high_text}); "
                                    "this batch has min", smallest, "max", largest],
                               name=f"check_{name}")


def check_batch(features, vocab_size, type_vocab_size, max_position_embeddings,
                num_labels=None):
    """`features` unchanged, once every id is inside its table.

    Checks `input_ids`, `masked_lm_ids` in [0, vocab_size), `segment_ids` in
    [0, type_vocab_size), `input_mask` in {0, 1}, `masked_lm_positions` in
    [0, seq_len), seq_len <= max_position_embeddings and, with `num_labels`,
    integer `label_ids` in [0, num_labels), for those features present. Works on
    any batch layout ([batch, seq], [batch, choices, seq]).

    Raises (when the batch is drawn):
      tf.errors.InvalidArgumentError naming the feature, the range and the
      config field.
    """
    limits = {"vocab_size": vocab_size, "type_vocab_size": type_vocab_size}
    asserts = []
    for name, field in _ID_FEATURES.items():
        if name in features:
            asserts.append(_in_range(name, features[name], 0, limits[field],
                                     f"{field}={limits[field]}"))
    if "input_mask" in features:
        asserts.append(_in_range("input_mask", features["input_mask"], 0, 2, "2 (0 or 1)"))
    reference = next((features[k] for k in ("input_ids", "input_mask", "segment_ids")
                      if k in features), None)
    if reference is not None:
        seq_len = tf.shape(reference)[-1]
        asserts.append(tf.debugging.Assert(
            seq_len <= max_position_embeddings,
            [f"input pipeline: sequence length exceeds max_position_embeddings "
             f"({max_position_embeddings}) of the config: length", seq_len], name="check_seq_len"))
        if "masked_lm_positions" in features:
            asserts.append(_in_range("masked_lm_positions", features["masked_lm_positions"],
                                     0, seq_len, "the sequence length"))
    labels = features.get("label_ids")
    if num_labels is not None and labels is not None and labels.dtype.is_integer:
        # A one-hot of an out-of-range label is all zeros: a loss of 0, silently.
        asserts.append(_in_range("label_ids", labels, 0, num_labels,
                                 f"num_labels={num_labels}"))
    with tf.control_dependencies(asserts):
        return {name: tf.identity(value) if isinstance(value, tf.Tensor) else value
                for name, value in features.items()}


def check_model_inputs(dataset, config, num_labels=None):
    """`dataset.map(check_batch)` with the limits of `config` (an `AlbertConfig`) and,
    if given, the number of classes (or choices) `label_ids` index.

    Batches must be dicts; anything else passes unchecked.
    """
    if not isinstance(dataset.element_spec, dict):
        return dataset
    limits = (config.vocab_size, config.type_vocab_size, config.max_position_embeddings,
              num_labels)

    def check(features):
        return check_batch(features, *limits)
    return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE)
