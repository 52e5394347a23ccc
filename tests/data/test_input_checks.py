"""Ids outside their tables fail in the input pipeline (not silently, not per step in
the compiled graph): the error names the feature, the range and the config field."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.data.input_checks import check_model_inputs
from albert_tf.training.optimizers import create_optimizer
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training.trainer import Trainer, TrainerConfig

CONFIG = AlbertConfig(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)


def batch(seq=12, **changes):
    rng = np.random.default_rng(0)
    features = {
        "input_ids": rng.integers(0, 60, (4, seq)).astype(np.int32),
        "input_mask": np.ones((4, seq), np.int32),
        "segment_ids": (np.arange(seq)[None, :] >= seq // 2).repeat(4, 0).astype(np.int32),
        "masked_lm_positions": np.tile(np.array([1, 3, 5], np.int32), (4, 1)),
        "masked_lm_ids": rng.integers(0, 60, (4, 3)).astype(np.int32),
        "masked_lm_weights": np.ones((4, 3), np.float32),
        "next_sentence_labels": np.zeros((4, 1), np.int32),
    }
    for name, (index, value) in changes.items():
        features[name][index] = value
    return features


def draw(features):
    dataset = tf.data.Dataset.from_tensors(features)
    return [element for element in check_model_inputs(dataset, CONFIG)]


BAD = [
    ("negative input id", dict(input_ids=((0, 0), -1)),
     r"input_ids must be in \[0, vocab_size=60\); this batch has min\] \[-1\]"),
    ("input id = vocab_size", dict(input_ids=((3, 11), 60)),
     r"input_ids must be in \[0, vocab_size=60\); this batch has min\] \[\d+\] \[max\] \[60\]"),
    ("segment id 2", dict(segment_ids=((1, 1), 2)),
     r"segment_ids must be in \[0, type_vocab_size=2\).*\[max\] \[2\]"),
    ("mask 2", dict(input_mask=((2, 4), 2)), r"input_mask must be in \[0, 2 \(0 or 1\)\)"),
    ("masked lm id -5", dict(masked_lm_ids=((0, 1), -5)),
     r"masked_lm_ids must be in \[0, vocab_size=60\)"),
    ("masked position past the sequence", dict(masked_lm_positions=((0, 2), 12)),
     r"masked_lm_positions must be in \[0, the sequence length\).*\[max\] \[12\]"),
]


@pytest.mark.parametrize("changes,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_out_of_range_features_fail_in_the_pipeline(changes, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        draw(batch(**changes))


def test_sequence_longer_than_the_position_table_fails_in_the_pipeline():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"max_position_embeddings \(32\) of the config: length\] \[40\]"):
        draw(batch(seq=40))


def test_valid_batches_pass_unchanged():
    features = batch(input_ids=((0, 0), 59), segment_ids=((0, 0), 1))
    features["input_ids"][1, 1] = 0
    (checked,) = draw(features)
    for name, value in features.items():
        np.testing.assert_array_equal(checked[name].numpy(), value)
    # Multiple-choice layout [batch, choices, seq] passes too.
    choices = {k: features[k].reshape(2, 2, -1) for k in ("input_ids", "input_mask",
                                                         "segment_ids")}
    (checked,) = draw(choices)
    np.testing.assert_array_equal(checked["input_ids"].numpy(), choices["input_ids"])


def test_trainer_checks_its_input_and_trains_on_nothing_bad(tmp_path):
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertPretrainer(CONFIG)
        optimizer = create_optimizer(1e-3, 10, 0, optimizer="adamw")
    trainer = Trainer(strategy, model, optimizer, PretrainingObjective(),
                      TrainerConfig(model_dir=str(tmp_path), num_train_steps=2, steps_per_loop=2,
                                    save_checkpoints_steps=100), global_batch_size=4)
    before = [np.array(w) for w in model.weights]
    bad = batch(input_ids=((2, 5), -1))  # read as id 59 without the check
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input_ids must be in \[0, "
                                                             r"vocab_size=60\)"):
        trainer.train(lambda ctx: tf.data.Dataset.from_tensors(bad).repeat())
    assert not (tmp_path / "training_checkpoints").exists()
    for want, got in zip(before, model.weights):
        np.testing.assert_array_equal(np.array(got), want)


def test_labels_outside_the_classes_fail_in_the_pipeline():
    features = {k: v for k, v in batch().items() if k in ("input_ids", "input_mask",
                                                          "segment_ids")}
    dataset = tf.data.Dataset.from_tensors(dict(features, label_ids=np.array([0, 2, 1, 3])))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"label_ids must be in \[0, num_labels=3\).*\[max\] \[3\]"):
        list(check_model_inputs(dataset, CONFIG, num_labels=3))
    assert len(list(check_model_inputs(dataset, CONFIG, num_labels=4))) == 1
    # Regression scores (float) are not class ids.
    scores = tf.data.Dataset.from_tensors(dict(features, label_ids=np.array([4.5, -1.0])))
    assert len(list(check_model_inputs(scores, CONFIG, num_labels=3))) == 1
