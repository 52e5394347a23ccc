"""Small pretraining TFRecords in the official schema, written directly with tf.train.Example."""

import numpy as np


def write_records(path, num_records, max_seq_length=32, max_predictions_per_seq=5,
                  vocab_size=60, seed=0):
    """Random but learnable records: official feature names, lengths and dtypes."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))

    with tf.io.TFRecordWriter(str(path)) as writer:
        for _ in range(num_records):
            length = int(rng.integers(max_seq_length // 2, max_seq_length + 1))
            ids = rng.integers(5, vocab_size, length)
            ids[0], ids[length // 2], ids[-1] = 2, 3, 3
            n = int(rng.integers(1, max_predictions_per_seq + 1))
            positions = np.sort(rng.choice(np.arange(1, length - 1), n, replace=False))
            pad = max_seq_length - length
            mpad = max_predictions_per_seq - n
            features = {
                "input_ids": ints(list(ids) + [0] * pad),
                "input_mask": ints([1] * length + [0] * pad),
                "segment_ids": ints([0] * (length // 2 + 1) + [1] * (length - length // 2 - 1)
                                    + [0] * pad),
                "token_boundary": ints([1] * length + [0] * pad),
                "masked_lm_positions": ints(list(positions) + [0] * mpad),
                "masked_lm_ids": ints(list(ids[positions]) + [0] * mpad),
                "masked_lm_weights": tf.train.Feature(float_list=tf.train.FloatList(
                    value=[1.0] * n + [0.0] * mpad)),
                "next_sentence_labels": ints([int(rng.integers(0, 2))]),
            }
            writer.write(tf.train.Example(
                features=tf.train.Features(feature=features)).SerializeToString())
    return str(path)
