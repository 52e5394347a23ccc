"""AlbertMultipleChoice: the official RACE head vs NumPy, official-name checkpoints."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_reference import forward, random_official_weights, write_tf1_checkpoint
from albert_tf import AlbertConfig
from albert_tf.checkpoints import (list_official_variables, official_variable_map,
                                   restore_official_weights, save_official_checkpoint)
from albert_tf.modeling.models import AlbertMultipleChoice
from tiny_config import TINY_CONFIG

CFG = TINY_CONFIG
H = CFG["hidden_size"]


def choice_inputs(seed=0, batch=2, choices=4, seq_len=9):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, CFG["vocab_size"], size=(batch, choices, seq_len)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 2, 6:] = 0
    segments = np.zeros_like(ids)
    segments[..., 4:] = 1
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments}


def race_weights(seed=1):
    """What official run_race.py saves: bert/* + output_weights [1, H] + output_bias [1]."""
    weights = random_official_weights(CFG, seed=seed, with_heads=False)
    rng = np.random.default_rng(seed + 7)
    weights["output_weights"] = (0.5 * rng.standard_normal((1, H))).astype(np.float32)
    weights["output_bias"] = np.array([0.3], np.float32)
    return weights


def reference_choice_logits(weights, x):
    """Each choice through the encoder on its own, then the [1, H] projection."""
    batch, choices, _ = x["input_ids"].shape
    logits = np.zeros((batch, choices))
    for b in range(batch):
        for c in range(choices):
            pooled = forward(weights, CFG, x["input_ids"][b, c][None],
                             x["input_mask"][b, c][None],
                             x["segment_ids"][b, c][None])["pooled_output"][0]
            logits[b, c] = pooled @ np.float64(weights["output_weights"][0]) \
                + weights["output_bias"][0]
    return logits


@pytest.fixture(scope="module")
def official_checkpoint(tmp_path_factory):
    weights = race_weights()
    prefix = str(tmp_path_factory.mktemp("race") / "model.ckpt-best")
    write_tf1_checkpoint(prefix, weights, {"global_step": np.int64(12000)})
    return prefix, weights


def test_official_race_checkpoint_logits_match_numpy(official_checkpoint):
    prefix, weights = official_checkpoint
    model = AlbertMultipleChoice(AlbertConfig(**CFG))
    restore_official_weights(model, prefix)
    x = choice_inputs()
    logits = model(x, training=False)["logits"]
    assert logits.dtype == tf.float32 and tuple(logits.shape) == (2, 4)
    np.testing.assert_allclose(np.asarray(logits), reference_choice_logits(weights, x),
                               atol=2e-5)
    # Another sequence length and batch size through the same model.
    x = choice_inputs(seed=5, batch=3, seq_len=14)
    np.testing.assert_allclose(np.asarray(model(x)["logits"]),
                               reference_choice_logits(weights, x), atol=2e-5)


def test_checkpoint_round_trip_uses_the_official_names(official_checkpoint, tmp_path):
    prefix, weights = official_checkpoint
    model = AlbertMultipleChoice(AlbertConfig(**CFG))
    restore_official_weights(model, prefix)
    assert set(official_variable_map(model)) == set(weights)
    ours = save_official_checkpoint(model, tmp_path / "model.ckpt-3", global_step=3)
    assert list_official_variables(ours) == {n: tuple(v.shape) for n, v in weights.items()}
    assert list_official_variables(ours)["output_weights"] == (1, H)
    reader = tf.train.load_checkpoint(ours)
    np.testing.assert_array_equal(reader.get_tensor("output_bias"), weights["output_bias"])
    again = AlbertMultipleChoice(AlbertConfig(**CFG))
    restore_official_weights(again, ours)
    x = choice_inputs(seed=2)
    np.testing.assert_array_equal(np.asarray(again(x)["logits"]), np.asarray(model(x)["logits"]))


def test_dropout_only_in_training():
    model = AlbertMultipleChoice(AlbertConfig(**CFG), dropout_prob=0.5)
    x = choice_inputs()
    a = np.asarray(model(x, training=False)["logits"])
    np.testing.assert_array_equal(np.asarray(model(x, training=False)["logits"]), a)
    assert np.abs(np.asarray(model(x, training=True)["logits"]) - a).max() > 1e-5
    no_dropout = AlbertMultipleChoice(AlbertConfig(**CFG), dropout_prob=0.0)
    no_dropout.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(no_dropout(x, training=True)["logits"]), a, atol=1e-6)


def test_from_config_round_trip_and_keras_saving(tmp_path):
    model = AlbertMultipleChoice(AlbertConfig(**CFG), num_choices=3, dropout_prob=0.0,
                                 attention_probs_dropout_prob=0.0)
    clone = AlbertMultipleChoice.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert clone.get_config() == model.get_config()
    x = choice_inputs(choices=3)
    np.testing.assert_array_equal(np.asarray(clone(x)["logits"]), np.asarray(model(x)["logits"]))
    model.save(tmp_path / "race.keras")
    loaded = keras.saving.load_model(tmp_path / "race.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)["logits"]), np.asarray(model(x)["logits"]),
                               atol=1e-6)


def test_mixed_precision_logits_are_float32():
    model = AlbertMultipleChoice(AlbertConfig(**CFG), dtype="mixed_bfloat16")
    assert model(choice_inputs())["logits"].dtype == tf.float32
    assert model.classifier.compute_dtype == "bfloat16"


def test_bad_num_choices():
    with pytest.raises(ValueError, match="num_choices must be an integer >= 2, got 1"):
        AlbertMultipleChoice(AlbertConfig(**CFG), num_choices=1)
