"""`head_outputs` of each task model: the model's outputs from its encoder's outputs
(what the SavedModel export runs on `encoder_graph`), equal to calling the model."""

import keras
import numpy as np
import pytest

from albert_tf.modeling.models import (AlbertClassifier, AlbertMultipleChoice,
                                       AlbertPretrainer, AlbertSquadV1, AlbertSquadV2)
from tiny_config import TINY_CONFIG, tiny_config

ENCODER_INPUTS = ("input_ids", "input_mask", "segment_ids")


def _inputs(shape, seed=0):
    """Rows of the last axis padded to different lengths."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, TINY_CONFIG["vocab_size"], size=shape).astype(np.int32)
    lengths = rng.integers(2, shape[-1] + 1, size=shape[:-1] + (1,))
    mask = (np.arange(shape[-1]) < lengths).astype(np.int32)
    segments = ((np.arange(shape[-1]) >= 4) * mask).astype(np.int32)
    return {"input_ids": ids * mask, "input_mask": mask, "segment_ids": segments}


def _randomize(model, seed=1):
    """Weights far from the initial ones, so that the logits differ visibly."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_weights:
        variable.assign(rng.normal(0.0, 0.3, tuple(variable.shape)).astype("float32"))


def _encode(model, inputs):
    return model.encoder({k: inputs[k] for k in ENCODER_INPUTS}, training=False)


def _assert_outputs_equal(got, expected):
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(value), atol=1e-6,
                                   err_msg=key)


def test_classifier_head_is_the_projection_of_the_pooled_output():
    keras.utils.set_random_seed(0)
    model = AlbertClassifier(tiny_config(), num_labels=3)
    _randomize(model)
    inputs = _inputs((3, 10))
    encoded = _encode(model, inputs)
    outputs = model.head_outputs(encoded, training=False)
    _assert_outputs_equal(outputs, model(inputs, training=False))
    weights = model.official_head_variables()
    expected = np.asarray(encoded["pooled_output"]) @ np.asarray(weights["output_weights"]).T \
        + np.asarray(weights["output_bias"])
    np.testing.assert_allclose(outputs["logits"], expected, atol=1e-5)


def test_multiple_choice_head_unfolds_the_choices_in_batch_order():
    keras.utils.set_random_seed(0)
    model = AlbertMultipleChoice(tiny_config(), num_choices=4)
    _randomize(model)
    inputs = _inputs((2, 4, 9))
    rows = {k: v.reshape(8, 9) for k, v in inputs.items()}  # [batch * choices, seq]
    encoded = _encode(model, rows)
    outputs = model.head_outputs(encoded, training=False)
    _assert_outputs_equal(outputs, model(inputs, training=False))
    weights = model.official_head_variables()
    pooled = np.asarray(encoded["pooled_output"]).reshape(2, 4, -1)
    expected = pooled @ np.asarray(weights["output_weights"])[0] \
        + np.asarray(weights["output_bias"])[0]
    np.testing.assert_allclose(outputs["logits"], expected, atol=1e-5)


@pytest.mark.parametrize("cls", [AlbertSquadV1, AlbertSquadV2])
def test_squad_heads_give_the_model_outputs(cls):
    keras.utils.set_random_seed(0)
    model = cls(tiny_config())
    _randomize(model)
    inputs = _inputs((3, 12))
    extra = ()
    if cls is AlbertSquadV2:
        inputs["p_mask"] = (1 - inputs["segment_ids"]) * (np.arange(12) > 0)
        extra = (inputs["p_mask"],)
    outputs = model.head_outputs(_encode(model, inputs), *extra, training=False)
    _assert_outputs_equal(outputs, model(inputs, training=False))


def test_pretrainer_heads_give_the_model_outputs_at_the_masked_positions():
    keras.utils.set_random_seed(0)
    model = AlbertPretrainer(tiny_config())
    _randomize(model)
    inputs = _inputs((3, 12))
    positions = np.array([[1, 5, 0], [2, 2, 7], [0, 0, 0]], np.int32)
    encoded = _encode(model, inputs)
    outputs = model.head_outputs(encoded, positions)
    _assert_outputs_equal(outputs, model(dict(inputs, masked_lm_positions=positions),
                                         training=False))
    assert outputs["mlm_logits"].shape == (3, 3, TINY_CONFIG["vocab_size"])
    # Each position's logits are those of its own token: row 1's two 2s agree.
    np.testing.assert_allclose(outputs["mlm_logits"][1, 0], outputs["mlm_logits"][1, 1])
    assert not np.allclose(outputs["mlm_logits"][1, 0], outputs["mlm_logits"][1, 2])
    weights = model.sentence_order
    expected = np.asarray(encoded["pooled_output"]) @ np.asarray(weights.output_weights).T \
        + np.asarray(weights.output_bias)
    np.testing.assert_allclose(outputs["sop_logits"], expected, atol=1e-5)
