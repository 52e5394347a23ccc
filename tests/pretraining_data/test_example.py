"""The hand-written tf.train.Example encoder against TensorFlow's protobuf."""

import random

import pytest
import tensorflow as tf

from albert_tf.pretraining_data import example as pe


def reference_bytes(features, kinds):
    proto = tf.train.Example()
    for name, values in features.items():
        if kinds[name] == pe.INT64:
            proto.features.feature[name].int64_list.value.extend(values)
        else:
            proto.features.feature[name].float_list.value.extend(values)
    return proto.SerializeToString(deterministic=True)


def test_feature_schema_is_the_official_one():
    assert pe.feature_lengths(128, 20) == {
        "input_ids": ("int64", 128),
        "input_mask": ("int64", 128),
        "segment_ids": ("int64", 128),
        "token_boundary": ("int64", 128),
        "masked_lm_positions": ("int64", 20),
        "masked_lm_ids": ("int64", 20),
        "masked_lm_weights": ("float", 20),
        "next_sentence_labels": ("int64", 1),
    }


@pytest.mark.parametrize("max_value", [1, 127, 128, 30000, 40000, 2 ** 40])
def test_encode_example_matches_tensorflow(max_value):
    rng = random.Random(max_value)
    kinds = {name: kind for name, (kind, _) in pe.feature_lengths(64, 10).items()}
    features = pe.instance_features(
        output_ids=[rng.randint(0, max_value) for _ in range(50)],
        segment_ids=[0] * 20 + [1] * 30,
        token_boundary=[rng.randint(0, 1) for _ in range(50)],
        masked_lm_positions=[3, 9, 49],
        masked_lm_ids=[rng.randint(0, max_value) for _ in range(3)],
        is_random_next=True, max_seq_length=64, max_predictions_per_seq=10)
    encoded = pe.encode_example(features, kinds)
    assert encoded == reference_bytes(features, kinds)
    parsed = tf.train.Example.FromString(encoded).features.feature
    assert list(parsed["input_mask"].int64_list.value) == [1] * 50 + [0] * 14
    assert list(parsed["masked_lm_weights"].float_list.value) == [1.0] * 3 + [0.0] * 7
    assert list(parsed["next_sentence_labels"].int64_list.value) == [1]


def test_instance_features_padding_and_limits():
    features = pe.instance_features([2, 7, 3], [0, 0, 0], [1, 1, 1], [1], [9], False, 5, 2)
    assert features["input_ids"] == [2, 7, 3, 0, 0]
    assert features["input_mask"] == [1, 1, 1, 0, 0]
    assert features["masked_lm_positions"] == [1, 0]
    assert features["masked_lm_ids"] == [9, 0]
    assert features["masked_lm_weights"] == [1.0, 0.0]
    assert features["next_sentence_labels"] == [0]
    with pytest.raises(ValueError, match="max_seq_length"):
        pe.instance_features([1] * 6, [0] * 6, [1] * 6, [], [], False, 5, 2)
    with pytest.raises(ValueError, match="negative"):
        pe.encode_example({"input_ids": [1, -1]}, {"input_ids": pe.INT64})
