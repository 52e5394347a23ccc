"""The pretraining record: ALBERT's `tf.train.Example` schema and a fast encoder.

Features (all fixed length, exactly as the official create_pretraining_data.py
writes them):

  input_ids, input_mask, segment_ids, token_boundary   int64 x max_seq_length
  masked_lm_positions, masked_lm_ids                    int64 x max_predictions_per_seq
  masked_lm_weights                                     float x max_predictions_per_seq
  next_sentence_labels                                  int64 x 1 (the SOP label)

`encode_example` writes the protobuf wire format directly (no TensorFlow, so
worker processes stay light); its bytes equal
`tf.train.Example.SerializeToString(deterministic=True)`, i.e. map entries in
sorted key order.
"""

import functools
import operator
import struct

from albert_tf.varint import encode_varint

INT64 = "int64"
FLOAT = "float"

SEQUENCE_FEATURES = ("input_ids", "input_mask", "segment_ids", "token_boundary")
PREDICTION_FEATURES = ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")
LABEL_FEATURE = "next_sentence_labels"


def feature_lengths(max_seq_length, max_predictions_per_seq):
    """{name: (kind, length)} of every feature, in the official order."""
    lengths = {name: (INT64, max_seq_length) for name in SEQUENCE_FEATURES}
    lengths["masked_lm_positions"] = (INT64, max_predictions_per_seq)
    lengths["masked_lm_ids"] = (INT64, max_predictions_per_seq)
    lengths["masked_lm_weights"] = (FLOAT, max_predictions_per_seq)
    lengths[LABEL_FEATURE] = (INT64, 1)
    return lengths


@functools.lru_cache(maxsize=None)
def _varint_table(size):
    return tuple(encode_varint(i) for i in range(size))


_TABLE_SIZE = 1 << 15  # covers ids of vocabularies up to 32768 pieces


def _int64_payload(values):
    """Packed varints of non-negative ints."""
    if not values:
        return b""
    if min(values) < 0:
        raise ValueError(f"negative value {min(values)} in a pretraining feature")
    if max(values) < 0x80:
        return bytes(values)  # all one-byte varints
    if len(values) == 1:
        return encode_varint(values[0])
    table = _varint_table(_TABLE_SIZE)
    if max(values) < _TABLE_SIZE:
        return b"".join(operator.itemgetter(*values)(table))
    return b"".join(table[v] if v < _TABLE_SIZE else encode_varint(v) for v in values)


def _length_delimited(field_tag, payload):
    size = len(payload)
    prefix = _varint_table(_TABLE_SIZE)[size] if size < _TABLE_SIZE else encode_varint(size)
    return field_tag + prefix + payload


def _feature(kind, values):
    if kind == INT64:
        # Feature.int64_list (field 3) -> Int64List.value (field 1, packed).
        return _length_delimited(b"\x1a", _length_delimited(b"\x0a", _int64_payload(values)))
    # Feature.float_list (field 2) -> FloatList.value (field 1, packed fixed32).
    payload = struct.pack(f"<{len(values)}f", *values)
    return _length_delimited(b"\x12", _length_delimited(b"\x0a", payload))


def encode_example(features, kinds):
    """Serializes one `tf.train.Example`.

    Args:
      features: {name: list of non-negative ints or floats}.
      kinds: {name: INT64 or FLOAT} (e.g. from `feature_lengths`).

    Returns:
      `bytes` equal to the deterministic protobuf serialization.
    """
    entries = []
    for name in sorted(features):
        key = name.encode("utf-8")
        entry = (_length_delimited(b"\x0a", key)
                 + _length_delimited(b"\x12", _feature(kinds[name], features[name])))
        # Features.feature (field 1, map entry).
        entries.append(_length_delimited(b"\x0a", entry))
    # Example.features (field 1).
    return _length_delimited(b"\x0a", b"".join(entries))


def instance_features(output_ids, segment_ids, token_boundary, masked_lm_positions,
                      masked_lm_ids, is_random_next, max_seq_length,
                      max_predictions_per_seq):
    """The padded feature lists of one instance (official padding with zeros).

    `max_predictions_per_seq` is the padded length of the prediction features
    (the official script doubles it with `do_permutation`).
    """
    length = len(output_ids)
    if length > max_seq_length:
        raise ValueError(f"instance of {length} tokens exceeds max_seq_length {max_seq_length}")
    num_predictions = len(masked_lm_positions)
    if num_predictions > max_predictions_per_seq:
        raise ValueError(f"{num_predictions} predictions exceed {max_predictions_per_seq}")
    pad = [0] * (max_seq_length - length)
    pred_pad = [0] * (max_predictions_per_seq - num_predictions)
    return {
        "input_ids": list(output_ids) + pad,
        "input_mask": [1] * length + pad,
        "segment_ids": list(segment_ids) + pad,
        "token_boundary": list(token_boundary) + pad,
        "masked_lm_positions": list(masked_lm_positions) + pred_pad,
        "masked_lm_ids": list(masked_lm_ids) + pred_pad,
        "masked_lm_weights": [1.0] * num_predictions + [0.0] * len(pred_pad),
        LABEL_FEATURE: [1 if is_random_next else 0],
    }
