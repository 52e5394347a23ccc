"""AlbertEncoder / AlbertPretrainer: shapes, sizes, config round trips, saving, precision."""

import dataclasses
import pathlib

import keras
import numpy as np
import pytest

from albert_tf import AlbertConfig, AlbertEncoder, AlbertPretrainer
from tiny_config import tiny_config

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[2] / "configs"

# Several groups and inner groups, with dropout.
TINY = tiny_config(vocab_size=40, num_hidden_layers=3, num_hidden_groups=2, inner_group_num=2,
                   num_attention_heads=4, intermediate_size=24, hidden_dropout_prob=0.1,
                   attention_probs_dropout_prob=0.1)


def inputs_for(config, batch=2, seq_len=9, num_masked=3, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq_len), np.int32)
    mask[0, seq_len - 3:] = 0
    return {
        "input_ids": rng.integers(0, config.vocab_size, (batch, seq_len)).astype(np.int32),
        "input_mask": mask,
        "segment_ids": (np.arange(seq_len)[None] >= seq_len // 2).astype(np.int32).repeat(batch, 0),
        "masked_lm_positions": rng.integers(0, seq_len - 3, (batch, num_masked)).astype(np.int32),
    }


def encoder_part(inputs):
    return {k: inputs[k] for k in ("input_ids", "input_mask", "segment_ids")}


@pytest.mark.parametrize("size, encoder_params, pretrainer_params", [
    ("base", 11_683_584, 11_813_810),
    ("large", 17_683_968, 17_847_474),
    ("xlarge", 58_724_864, 59_021_490),
    ("xxlarge", 222_595_584, 223_158_450),
])
def test_released_sizes_count_params_exactly(size, encoder_params, pretrainer_params):
    config = AlbertConfig.from_json_file(str(CONFIG_DIR / f"albert_{size}_v2.json"))
    # Worked out by hand for base: embeddings 30000*128 + 512*128 + 2*128 + 2*128,
    # projection 128*768 + 768, one shared layer 4*(768^2+768) + 2*768*3072 + 3072
    # + 768 + 4*768, pooler 768^2 + 768.
    if size == "base":
        by_hand = (30000 * 128 + 512 * 128 + 2 * 128 + 2 * 128 + 128 * 768 + 768
                   + 4 * (768 * 768 + 768) + 768 * 3072 + 3072 + 3072 * 768 + 768 + 4 * 768
                   + 768 * 768 + 768)
        assert by_hand == encoder_params
    model = AlbertPretrainer(config)
    assert model.encoder.count_params() == encoder_params
    assert model.count_params() == pretrainer_params
    keras.backend.clear_session()


def test_output_shapes_and_variable_sequence_length():
    model = AlbertPretrainer(TINY)
    for seq_len in (5, 9, 24):
        inputs = inputs_for(TINY, seq_len=seq_len)
        out = model(inputs)
        assert tuple(out["sequence_output"].shape) == (2, seq_len, 16)
        assert tuple(out["pooled_output"].shape) == (2, 16)
        assert tuple(out["mlm_logits"].shape) == (2, 3, 40)
        assert tuple(out["sop_logits"].shape) == (2, 2)
        encoded = model.encoder(encoder_part(inputs))
        assert len(encoded["encoder_outputs"]) == 3 * 2
        assert tuple(encoded["embedding_output"].shape) == (2, seq_len, 8)
    assert tuple(model.encoder.get_embedding_table().shape) == (40, 8)
    # The decoder is the embedding table itself (tied), not a copy.
    assert model.masked_lm.embeddings.word_embeddings is model.encoder.get_embedding_table()


def test_shared_weights_one_group_has_one_layer_of_variables():
    config = TINY.replace(num_hidden_groups=1, inner_group_num=1, num_hidden_layers=6)
    encoder = AlbertEncoder(config)
    deeper = AlbertEncoder(config.replace(num_hidden_layers=12))
    assert encoder.count_params() == deeper.count_params()
    assert len(encoder.transformer.groups) == 1 and len(encoder.transformer.groups[0]) == 1


def test_no_projection_when_embedding_size_equals_hidden_size():
    encoder = AlbertEncoder(TINY.replace(embedding_size=16))
    assert encoder.embedding_projection is None
    assert not any("embedding_hidden_mapping_in" in v.path for v in encoder.weights)


def test_dropout_only_in_training():
    model = AlbertPretrainer(TINY)
    inputs = inputs_for(TINY)
    a = np.asarray(model(inputs, training=False)["sequence_output"])
    b = np.asarray(model(inputs, training=False)["sequence_output"])
    np.testing.assert_array_equal(a, b)
    c = np.asarray(model(inputs, training=True)["sequence_output"])
    assert np.abs(a - c).max() > 1e-3
    no_dropout = AlbertPretrainer(TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    no_dropout.set_weights(model.get_weights())
    np.testing.assert_allclose(
        np.asarray(no_dropout(inputs, training=True)["sequence_output"]), a, atol=1e-6)


def test_from_config_round_trip_gives_equal_outputs():
    model = AlbertPretrainer(TINY)
    clone = AlbertPretrainer.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    inputs = inputs_for(TINY)
    for key in ("mlm_logits", "sop_logits", "pooled_output"):
        np.testing.assert_allclose(np.asarray(clone(inputs)[key]),
                                   np.asarray(model(inputs)[key]), atol=1e-6)
    encoder = model.encoder
    config = encoder.get_config()
    assert config["config"]["num_hidden_groups"] == 2
    again = AlbertEncoder.from_config(config)
    assert again.get_config() == config


def test_native_keras_saving_round_trips(tmp_path):
    model = AlbertPretrainer(TINY)
    inputs = inputs_for(TINY)
    want = np.asarray(model(inputs)["mlm_logits"])

    model.save_weights(str(tmp_path / "model.weights.h5"))
    other = AlbertPretrainer(TINY)
    other.load_weights(str(tmp_path / "model.weights.h5"))
    np.testing.assert_array_equal(np.asarray(other(inputs)["mlm_logits"]), want)

    model.save(str(tmp_path / "model.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "model.keras"))
    assert isinstance(loaded, AlbertPretrainer)
    np.testing.assert_array_equal(np.asarray(loaded(inputs)["mlm_logits"]), want)
    # Still tied after loading.
    assert loaded.masked_lm.embeddings is loaded.encoder.embeddings


def test_mixed_bfloat16_keeps_layer_norm_and_softmax_in_float32():
    model = AlbertPretrainer(TINY, dtype="mixed_bfloat16")
    inputs = inputs_for(TINY)
    out = model(inputs)
    assert out["sequence_output"].dtype == "bfloat16"
    assert out["mlm_logits"].dtype == "float32" and out["sop_logits"].dtype == "float32"
    assert all(v.dtype == "float32" for v in model.weights)
    layer = model.encoder.transformer.groups[0][0]
    assert layer.attention.query.compute_dtype == "bfloat16"
    assert layer.attention_layer_norm.compute_dtype == "float32"
    assert model.encoder.embeddings.layer_norm.compute_dtype == "float32"
    # The heads follow the policy given to the model, not the global one.
    assert model.masked_lm.transform_dense.compute_dtype == "bfloat16"
    assert model.encoder.get_config()["dtype"]["config"]["name"] == "mixed_bfloat16"
    # Same weights in float32: bf16 results agree to bf16 precision (8 mantissa bits,
    # relative error ~ 2^-8 per op; we allow 0.1 absolute on O(1) LayerNorm outputs).
    reference = AlbertPretrainer(TINY)
    reference.set_weights(model.get_weights())
    ref = np.asarray(reference(inputs)["sequence_output"])
    got = np.asarray(keras.ops.cast(out["sequence_output"], "float32"))
    assert np.abs(got - ref).max() < 0.1


def test_one_hot_embeddings_match_gather():
    model = AlbertEncoder(TINY)
    one_hot = AlbertEncoder(TINY, use_one_hot_embeddings=True)
    one_hot.set_weights(model.get_weights())
    inputs = encoder_part(inputs_for(TINY))
    np.testing.assert_allclose(np.asarray(one_hot(inputs)["sequence_output"]),
                               np.asarray(model(inputs)["sequence_output"]), atol=1e-5)


def test_fit_and_predict_on_tf_data():
    import tensorflow as tf

    model = AlbertPretrainer(TINY)
    inputs = inputs_for(TINY, batch=4)
    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(2)
    out = model.predict(dataset, verbose=0)
    assert out["mlm_logits"].shape == (4, 3, 40)


@pytest.mark.parametrize("dtype, atol", [("float32", 1e-5), ("mixed_bfloat16", 0.1)])
def test_fused_attention_matches_the_reference_path(dtype, atol):
    reference = AlbertPretrainer(TINY, dtype=dtype)
    fused = AlbertPretrainer(TINY, attention_implementation="fused", dtype=dtype)
    fused.set_weights(reference.get_weights())
    inputs = inputs_for(TINY)
    for key in ("sequence_output", "mlm_logits"):
        want = np.asarray(keras.ops.cast(reference(inputs)[key], "float32"))
        got = np.asarray(keras.ops.cast(fused(inputs)[key], "float32"))
        np.testing.assert_allclose(got, want, atol=atol, err_msg=key)
    # With attention dropout in training, the fused layer falls back to the reference.
    layer = fused.encoder.transformer.groups[0][0].attention
    assert layer.attention_implementation == "fused" and layer.attention_dropout_rate > 0
    config = fused.encoder.get_config()
    assert config["attention_implementation"] == "fused"
    with pytest.raises(ValueError, match="attention_implementation must be one of"):
        AlbertEncoder(TINY, attention_implementation="flash")


def test_fused_path_gradients_match_the_reference_path():
    """The fused path's single QKV matmul feeds the same three kernels the same gradients."""
    import tensorflow as tf

    config = dataclasses.replace(TINY, attention_probs_dropout_prob=0.0,
                                 hidden_dropout_prob=0.0)
    models = {impl: AlbertPretrainer(config, attention_implementation=impl)
              for impl in ("einsum", "fused")}
    models["fused"].set_weights(models["einsum"].get_weights())
    inputs = inputs_for(config)
    mask = np.asarray(inputs["input_mask"]).copy()
    mask[1, 5:] = 0  # A padded row.
    inputs["input_mask"] = mask
    grads = {}
    for impl, model in models.items():
        with tf.GradientTape() as tape:
            out = model(inputs, training=True)
            loss = tf.reduce_sum(out["mlm_logits"] ** 2) + tf.reduce_sum(out["sop_logits"])
        grads[impl] = {v.path: g for v, g in zip(
            model.trainable_variables, tape.gradient(loss, model.trainable_variables))}
    assert grads["fused"].keys() == grads["einsum"].keys()
    assert any("query" in path for path in grads["fused"])
    for path, want in grads["einsum"].items():
        np.testing.assert_allclose(np.asarray(grads["fused"][path]), np.asarray(want),
                                   rtol=1e-4, atol=1e-5, err_msg=path)


def test_tf_checkpoint_sees_every_encoder_variable(tmp_path):
    import tensorflow as tf

    encoder = AlbertEncoder(TINY)
    path = tf.train.Checkpoint(model=encoder).write(str(tmp_path / "ckpt"))
    saved = [name for name, _ in tf.train.list_variables(path) if "OPTIMIZER" not in name]
    weights = [n for n in saved if n.startswith("model/") and "seed_generator" not in n]
    # Every trainable weight (2 groups x 2 inner layers included) is in the checkpoint.
    assert len([n for n in weights if "VARIABLE_VALUE" in n]) >= len(encoder.trainable_weights)
