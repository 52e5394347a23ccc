"""AlbertClassifier: the official head vs NumPy, official-name checkpoints, dropout knobs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_reference import forward, random_official_weights, write_tf1_checkpoint
from albert_tf import AlbertConfig
from albert_tf.checkpoints import (list_official_variables, official_variable_map,
                                   restore_official_weights, save_official_checkpoint)
from albert_tf.modeling.models import AlbertClassifier
from tiny_config import TINY_CONFIG

CFG = TINY_CONFIG
H = CFG["hidden_size"]


def inputs(seed=0, batch=3, seq_len=10):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, CFG["vocab_size"], size=(batch, seq_len)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[0, 7:] = 0  # padding in one row
    segments = np.zeros_like(ids)
    segments[:, 5:] = 1
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments}


def official_finetuned_weights(num_labels, seed=0):
    """What official run_classifier.py saves: bert/* + top-level output_weights/bias."""
    weights = random_official_weights(CFG, seed=seed, with_heads=False)
    rng = np.random.default_rng(seed + 100)
    weights["output_weights"] = (0.3 * rng.standard_normal((num_labels, H))).astype(np.float32)
    weights["output_bias"] = (0.1 * rng.standard_normal(num_labels)).astype(np.float32)
    return weights


def reference_logits(weights, x):
    pooled = forward(weights, CFG, x["input_ids"], x["input_mask"],
                     x["segment_ids"])["pooled_output"]
    return pooled @ np.float64(weights["output_weights"]).T + weights["output_bias"]


@pytest.fixture(scope="module")
def official_checkpoint(tmp_path_factory):
    weights = official_finetuned_weights(num_labels=3)
    prefix = str(tmp_path_factory.mktemp("official") / "model.ckpt-500")
    # Official checkpoints also hold global_step and the AdamW slots.
    extra = {"global_step": np.int64(500),
             "output_weights/adam_m": np.zeros((3, H), np.float32)}
    write_tf1_checkpoint(prefix, weights, extra)
    return prefix, weights


def test_official_checkpoint_loads_and_logits_match_numpy(official_checkpoint):
    prefix, weights = official_checkpoint
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=3)
    report = restore_official_weights(model, prefix)
    assert {"output_weights", "output_bias"} <= set(report["loaded"])
    x = inputs()
    outputs = model(x, training=False)
    assert outputs["logits"].dtype == tf.float32
    assert tuple(outputs["logits"].shape) == (3, 3)
    np.testing.assert_allclose(np.asarray(outputs["logits"]), reference_logits(weights, x),
                               atol=2e-5)


def test_checkpoint_round_trip_uses_the_official_names(official_checkpoint, tmp_path):
    prefix, weights = official_checkpoint
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=3)
    restore_official_weights(model, prefix)
    names = set(official_variable_map(model))
    assert names == set(weights)  # bert/* plus the two top-level head variables, nothing else
    ours = save_official_checkpoint(model, tmp_path / "model.ckpt-7", global_step=7)
    saved = list_official_variables(ours)
    assert saved == {name: tuple(value.shape) for name, value in weights.items()}
    reader = tf.train.load_checkpoint(ours)
    np.testing.assert_array_equal(reader.get_tensor("output_weights"), weights["output_weights"])
    assert reader.get_tensor("global_step") == 7
    again = AlbertClassifier(AlbertConfig(**CFG), num_labels=3)
    restore_official_weights(again, ours)
    x = inputs(seed=3)
    np.testing.assert_array_equal(np.asarray(again(x)["logits"]), np.asarray(model(x)["logits"]))


def test_regression_head_has_one_output():
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=1)
    assert tuple(model(inputs())["logits"].shape) == (3, 1)
    assert tuple(model.official_head_variables()["output_weights"].shape) == (1, H)


def test_classifier_dropout_only_in_training_and_separate_from_encoder_dropout():
    config = AlbertConfig(**dict(CFG, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1))
    x = inputs()
    # Encoder dropout overridden to 0 ("ALBERT DR" 0): only the classifier drops.
    model = AlbertClassifier(config, num_labels=2, dropout_prob=0.5, hidden_dropout_prob=0.0,
                             attention_probs_dropout_prob=0.0)
    assert model.encoder.embeddings.dropout_rate == 0.0
    assert model.encoder.transformer.hidden_dropout_rate == 0.0
    assert model.encoder.transformer.attention_dropout_rate == 0.0
    inference = np.asarray(model(x, training=False)["logits"])
    pooled_train = np.asarray(model(x, training=True)["pooled_output"])
    np.testing.assert_allclose(pooled_train, np.asarray(model(x)["pooled_output"]), atol=1e-6)
    assert np.abs(np.asarray(model(x, training=True)["logits"]) - inference).max() > 1e-4
    np.testing.assert_array_equal(np.asarray(model(x, training=False)["logits"]), inference)
    # The config's encoder dropout stays when not overridden.
    default = AlbertClassifier(config, num_labels=2, dropout_prob=0.0)
    assert default.encoder.embeddings.dropout_rate == 0.1


def test_from_config_round_trip_and_keras_saving(tmp_path):
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=3, dropout_prob=0.2,
                             hidden_dropout_prob=0.05)
    clone = AlbertClassifier.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert (clone.num_labels, clone.dropout_prob) == (3, 0.2)
    assert clone.encoder.hidden_dropout_prob == 0.05
    assert clone.get_config() == model.get_config()
    x = inputs()
    np.testing.assert_array_equal(np.asarray(clone(x)["logits"]), np.asarray(model(x)["logits"]))
    model.save(tmp_path / "classifier.keras")
    loaded = keras.saving.load_model(tmp_path / "classifier.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)["logits"]), np.asarray(model(x)["logits"]),
                               atol=1e-6)


def test_mixed_precision_logits_are_float32():
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=2, dtype="mixed_bfloat16")
    logits = model(inputs())["logits"]
    assert logits.dtype == tf.float32
    assert model.classifier.compute_dtype == "bfloat16"


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_labels=0), "num_labels must be a positive integer, got 0"),
    (dict(num_labels=2, dropout_prob=1.0), r"dropout_prob must be in \[0, 1\), got 1.0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AlbertClassifier(AlbertConfig(**CFG), **kwargs)
