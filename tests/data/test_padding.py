"""Dynamic padding: trimmed lengths by hand, datasets, and unchanged logits."""

from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.config import AlbertConfig
from albert_tf.data import padding
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.modeling.models import AlbertClassifier, AlbertMultipleChoice


def _mask(lengths, seq):
    return np.array([[1] * n + [0] * (seq - n) for n in lengths], np.int32)


@pytest.mark.parametrize("lengths, multiple, expected", [
    ([3, 2], 1, 3),
    ([3, 2], 4, 4),
    ([5, 8], 4, 8),
    ([9, 1], 4, 10),    # 12 is capped at the 10 columns there are
    ([10, 1], 1, 10),
    ([0, 0], 1, 1),     # official padding examples: all-zero masks keep one column
    ([0, 0], 8, 8),
])
def test_trimmed_length_by_hand(lengths, multiple, expected):
    assert int(padding.trimmed_length(_mask(lengths, 10), multiple)) == expected


def test_trimmed_length_reads_the_last_used_column_not_the_mask_sum():
    mask = np.zeros([2, 12], np.int32)
    mask[0, 6] = 1  # one token, at position 6
    assert int(padding.trimmed_length(mask, 1)) == 7
    # [batch, choices, seq]: the longest choice of any row counts.
    race = np.zeros([2, 4, 12], np.int32)
    race[1, 3, :9] = 1
    race[0, 0, :2] = 1
    assert int(padding.trimmed_length(race, 1)) == 9
    assert int(padding.trimmed_length(race, 8)) == 12


def test_trim_padding_slices_sequence_features_only():
    ids = np.arange(1, 2 * 4 * 16 + 1, dtype=np.int32).reshape(2, 4, 16)
    mask = np.zeros_like(ids)
    mask[0, 2, :11] = 1
    features = {"input_ids": ids, "input_mask": mask, "segment_ids": ids % 2,
                "label_ids": np.array([3, 1]), "is_real_example": np.array([1, 0])}
    out = padding.trim_padding(features, multiple=4)
    for key in ("input_ids", "input_mask", "segment_ids"):
        assert out[key].shape == (2, 4, 12), key
        np.testing.assert_array_equal(out[key], np.asarray(features[key])[..., :12])
    assert out["label_ids"] is features["label_ids"]
    assert out["is_real_example"] is features["is_real_example"]


def test_trim_padding_errors_name_the_problem():
    features = {"input_ids": np.zeros([1, 4], np.int32), "segment_ids": np.zeros([1, 4])}
    with pytest.raises(ValueError, match="no input_mask"):
        padding.trim_padding(features)
    with pytest.raises(ValueError, match="multiple must be a positive integer, got 0"):
        padding.trim_padding(dict(features, input_mask=features["input_ids"]), multiple=0)


def test_padding_multiple_by_setting():
    assert padding.padding_multiple(False) is None
    assert padding.padding_multiple(True) == 8
    assert padding.padding_multiple(True, jit_compile=True) == 64
    assert padding.padding_multiple(True, strategy=tf.distribute.get_strategy()) == 8
    tpu = mock.Mock(spec=tf.distribute.TPUStrategy)
    assert padding.padding_multiple(True, jit_compile=True, strategy=tpu) is None


def _tiny_config():
    return AlbertConfig(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=3,
                        num_attention_heads=2, intermediate_size=24,
                        max_position_embeddings=48)


def _random_batch(rng, lengths, seq, vocab=60, choices=None):
    shape = [len(lengths)] + ([choices] if choices else []) + [seq]
    ids = rng.integers(5, vocab, size=shape).astype(np.int32)
    mask = np.zeros(shape, np.int32)
    segments = np.zeros(shape, np.int32)
    for row, n in enumerate(lengths):
        mask[row, ..., :n] = 1
        segments[row, ..., n // 2:n] = 1
    return {"input_ids": ids * mask, "input_mask": mask, "segment_ids": segments}


@pytest.mark.parametrize("attention", ["reference", "fused"])
def test_trimmed_batch_gives_the_full_batch_logits(attention):
    """The independent expectation is the same model on the untrimmed batch."""
    model = AlbertClassifier(_tiny_config(), num_labels=3,
                             attention_implementation=attention)
    batch = _random_batch(np.random.default_rng(0), [5, 17, 9, 2], seq=48)
    full = model(batch, training=False)["logits"]
    trimmed = padding.trim_padding(batch, multiple=8)
    assert trimmed["input_ids"].shape == (4, 24)
    np.testing.assert_allclose(model(trimmed, training=False)["logits"], full,
                               rtol=1e-5, atol=1e-6)
    # The same, one row at a time, each at its own length.
    for row in range(4):
        single = padding.trim_padding({k: v[row:row + 1] for k, v in batch.items()}, 1)
        np.testing.assert_allclose(model(single, training=False)["logits"], full[row:row + 1],
                                   rtol=1e-5, atol=1e-6)


def test_trimmed_race_batch_gives_the_full_batch_logits():
    model = AlbertMultipleChoice(_tiny_config(), num_choices=4)
    batch = _random_batch(np.random.default_rng(1), [30, 12], seq=48, choices=4)
    full = model(batch, training=False)["logits"]
    trimmed = padding.trim_padding(batch, multiple=8)
    assert trimmed["input_ids"].shape == (2, 4, 32)
    np.testing.assert_allclose(model(trimmed, training=False)["logits"], full,
                               rtol=1e-5, atol=1e-6)


def _write_records(path, lengths, seq):
    rng = np.random.default_rng(2)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i, n in enumerate(lengths):
            ids = [int(t) for t in rng.integers(5, 60, size=n)] + [0] * (seq - n)
            features = classifier_features.InputFeatures(
                input_ids=ids, input_mask=[1] * n + [0] * (seq - n), segment_ids=[0] * seq,
                label_id=i % 2, is_real_example=n > 0)
            writer.write(classifier_features.features_to_tf_example(features)
                         .SerializeToString())


@pytest.mark.parametrize("is_training", [False, True])
def test_classifier_dataset_trims_each_batch_to_its_longest_row(tmp_path, is_training):
    seq = 64
    lengths = [3, 7, 20, 4, 41, 9, 0, 0]  # the last batch is official padding examples
    path = tmp_path / "records.tf_record"
    _write_records(path, lengths, seq)
    kwargs = dict(is_training=is_training, shuffle_buffer_size=1, drop_remainder=True)
    full = classifier_features.classifier_dataset(str(path), seq, 2, **kwargs)
    trimmed = classifier_features.classifier_dataset(str(path), seq, 2,
                                                     trim_padding_multiple=8, **kwargs)
    batches = 0
    for whole, cut in zip(full.take(4), trimmed.take(4)):
        longest = int(np.asarray(whole["input_mask"]).sum(-1).max())
        expected = max(8, -(-longest // 8) * 8)
        assert cut["input_ids"].shape == (2, expected)
        for key in ("input_ids", "input_mask", "segment_ids"):
            np.testing.assert_array_equal(cut[key], np.asarray(whole[key])[:, :expected])
            # Only padding was dropped.
            assert not np.asarray(whole["input_mask"])[:, expected:].any()
        np.testing.assert_array_equal(cut["label_ids"], whole["label_ids"])
        batches += 1
    assert batches == 4
    if not is_training:
        widths = [b["input_ids"].shape[1] for b in trimmed]
        assert widths == [8, 24, 48, 8]


@pytest.mark.parametrize("choices", [None, 4])
def test_batch_by_length_puts_every_row_once_in_a_batch_of_its_length(choices):
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 40, size=37)
    rows = _random_batch(rng, lengths, seq=40, choices=choices)
    rows["example_index"] = np.arange(37)
    dataset = padding.batch_by_length(tf.data.Dataset.from_tensor_slices(rows), 5, 8)
    seen = []
    for batch in dataset:
        index = np.asarray(batch["example_index"])
        assert 1 <= len(index) <= 5
        # The batch's width is its rows' common length, rounded up to 8.
        widths = {max(8, -(-int(n) // 8) * 8) for n in lengths[index]}
        width = batch["input_ids"].shape[-1]
        assert widths == {min(width, 40)}
        for key in padding.SEQUENCE_FEATURES:
            np.testing.assert_array_equal(batch[key], rows[key][index][..., :width])
        seen.extend(index.tolist())
    assert sorted(seen) == list(range(37))
