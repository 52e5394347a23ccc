"""TF Hub's TF2 text API on the encoder and preprocess exports, used as TF Hub users do.

References: TensorFlow Text's `RoundRobinTrimmer`, `combine_segments` and
`pad_model_inputs` (what TF Hub's preprocessors pack with), the exports'
serving_default signatures, the in-process Keras encoder, and `hub.KerasLayer`.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from .export_test_helpers import CONFIG, MAX_SEQ_LENGTH, strings
from albert_tf.export import ExportParams

TEXTS = ["Hello, World!", "", "Café au lait costs 1,000 € in Zürich.", "long text " * 40,
         b"ab\xffcd \xc3 ok"]
HUB_INPUTS = ["input_mask", "input_type_ids", "input_word_ids"]
CLS, SEP, PAD = 2, 3, 0


@pytest.fixture(scope="module")
def loaded(exports):
    return tf.saved_model.load(exports["encoder"]), tf.saved_model.load(exports["preprocess"])


def test_encoder_of_preprocess_equals_serving_default(loaded, tiny_models):
    encoder, preprocess = loaded
    text = tf.constant(strings(TEXTS))
    inputs = preprocess(text)
    assert sorted(inputs) == HUB_INPUTS
    for value in inputs.values():
        assert value.dtype == tf.int32 and value.shape == (len(TEXTS), MAX_SEQ_LENGTH)
    outputs = encoder(inputs)
    assert sorted(outputs) == ["default", "encoder_outputs", "pooled_output",
                               "sequence_output"]
    served = encoder.signatures["serving_default"](text=text)
    np.testing.assert_array_equal(inputs["input_word_ids"], served["input_ids"])
    np.testing.assert_allclose(outputs["pooled_output"], served["pooled_output"], atol=1e-5)
    np.testing.assert_allclose(outputs["sequence_output"], served["sequence_output"],
                               atol=1e-5)
    np.testing.assert_array_equal(outputs["default"], outputs["pooled_output"])
    # Every layer's output, as the Keras encoder computes it.
    keras_encoder = tiny_models["encoder"][0].encoder
    expected = keras_encoder({"input_ids": inputs["input_word_ids"],
                              "input_mask": inputs["input_mask"],
                              "segment_ids": inputs["input_type_ids"]}, training=False)
    assert len(outputs["encoder_outputs"]) == CONFIG["num_hidden_layers"]
    for got, want in zip(outputs["encoder_outputs"], expected["encoder_outputs"]):
        assert got.shape == (len(TEXTS), MAX_SEQ_LENGTH, CONFIG["hidden_size"])
        np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_array_equal(outputs["encoder_outputs"][-1], outputs["sequence_output"])
    # The training=True trace is there too, and applies the config's dropout afresh at
    # every call (fine-tuning through hub.KerasLayer); training=False never does.
    assert CONFIG["hidden_dropout_prob"] > 0 and CONFIG["attention_probs_dropout_prob"] > 0
    again = encoder(inputs, training=False)
    for name in ("pooled_output", "sequence_output"):
        np.testing.assert_array_equal(again[name], outputs[name])
    trained = [encoder(inputs, training=True)["sequence_output"] for _ in range(2)]
    for output in trained:
        assert output.shape == outputs["sequence_output"].shape
        assert np.abs(output - outputs["sequence_output"]).max() > 1e-2
    assert np.abs(trained[0] - trained[1]).max() > 1e-2


def _reference_pack(segments, seq_length):
    """TF Hub's packing, built from TensorFlow Text's own ops."""
    trimmed = tf_text.RoundRobinTrimmer(seq_length - len(segments) - 1).trim(segments)
    ids, types = tf_text.combine_segments(trimmed, CLS, SEP)
    word_ids, mask = tf_text.pad_model_inputs(ids, seq_length, PAD)
    type_ids, _ = tf_text.pad_model_inputs(types, seq_length, 0)
    return {"input_word_ids": word_ids, "input_mask": mask, "input_type_ids": type_ids}


def test_tokenize_and_bert_pack_inputs_pack_as_tf_hub(loaded, full_tokenizer):
    _, preprocess = loaded
    texts_a = strings(["The cat sat.", "long first text " * 9, "a", "", "short"])
    texts_b = strings(["On the mat.", "b " * 30, "", "b", "long second text " * 9])
    tokens_a = preprocess.tokenize(tf.constant(texts_a))
    tokens_b = preprocess.tokenize(tf.constant(texts_b))
    assert isinstance(tokens_a, tf.RaggedTensor) and tokens_a.dtype == tf.int32
    assert tokens_a.to_list() == [full_tokenizer.encode(t.decode("utf-8")) for t in texts_a]
    for seq_length in (5, 12, MAX_SEQ_LENGTH):
        for segments in ([tokens_a], [tokens_a, tokens_b]):
            got = preprocess.bert_pack_inputs(segments, seq_length=seq_length)
            want = _reference_pack(segments, seq_length)
            assert sorted(got) == HUB_INPUTS
            for name in HUB_INPUTS:
                np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    # The default seq_length is the export's; the root call is bert_pack_inputs(tokenize).
    root = preprocess(tf.constant(texts_a))
    packed = preprocess.bert_pack_inputs([tokens_a])
    for name in HUB_INPUTS:
        np.testing.assert_array_equal(packed[name], root[name])
    # Where TF Hub's packing and serving_pair (official) differ: an empty second text.
    pair = preprocess.signatures["serving_pair"](text_a=tf.constant(texts_a),
                                                 text_b=tf.constant(texts_b))
    packed = preprocess.bert_pack_inputs([tokens_a, tokens_b], seq_length=MAX_SEQ_LENGTH)
    assert pair["input_ids"][2, :4].numpy().tolist() == [CLS, tokens_a[2][0], SEP, PAD]
    assert packed["input_word_ids"][2, :4].numpy().tolist() == [CLS, tokens_a[2][0], SEP, SEP]
    same = [0, 1, 3, 4]  # Every other row: identical, the truncated ones included.
    np.testing.assert_array_equal(tf.gather(pair["input_ids"], same),
                                  tf.gather(packed["input_word_ids"], same))
    np.testing.assert_array_equal(tf.gather(pair["segment_ids"], same),
                                  tf.gather(packed["input_type_ids"], same))


def test_hub_keras_layer_loads_and_fine_tunes_both(exports, loaded):
    hub = pytest.importorskip("tensorflow_hub")
    preprocess = hub.KerasLayer(exports["preprocess"])
    encoder = hub.KerasLayer(exports["encoder"], trainable=True)
    text = tf.constant(strings(TEXTS))
    served = loaded[0].signatures["serving_default"](text=text)["pooled_output"]
    np.testing.assert_allclose(encoder(preprocess(text), training=False)["pooled_output"],
                               served, atol=1e-5)
    with tf.GradientTape() as tape:
        pooled = encoder(preprocess(text), training=True)["pooled_output"]
        loss = tf.reduce_sum(pooled ** 2)
    # Fine-tuning runs the config's dropout.
    assert np.abs(pooled - served).max() > 1e-2
    # The encoder's weights (not the pretraining heads) are what fine-tuning trains.
    weights = encoder.trainable_weights
    assert len(weights) == len(loaded[0].trainable_variables) > 0
    gradients = tape.gradient(loss, weights)
    assert all(g is not None for g in gradients)
    assert not preprocess.trainable_weights


def test_preprocess_default_length_is_tf_hubs(spm_model_file, tmp_path):
    params = ExportParams(model_kind="preprocess", export_dir=str(tmp_path / "p"),
                          spm_model_file=spm_model_file)
    params.validate()
    assert params.max_seq_length == 128
