"""Official-format checkpoints: exact parity with a NumPy ALBERT, round trips, errors."""

import os

import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_tf.checkpoints import (CheckpointMismatchError, list_official_variables,
                                   resolve_checkpoint, restore_official_weights)
from albert_reference import forward, official_variable_shapes, random_official_weights, \
    write_tf1_checkpoint
from tiny_config import tiny_config_dict

BASE = tiny_config_dict(vocab_size=53, embedding_size=12, hidden_size=24, num_hidden_layers=4,
                        num_hidden_groups=2, inner_group_num=2, num_attention_heads=3,
                        intermediate_size=40, hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1, max_position_embeddings=20)

CONFIGS = {
    # E != H, 2 groups x 2 inner groups.
    "factorised_2x2": BASE,
    # E == H: no embedding_hidden_mapping_in, as in the official code.
    "no_projection_relu": dict(BASE, embedding_size=24, num_hidden_groups=1, inner_group_num=1,
                               num_hidden_layers=3, hidden_act="relu"),
    # Groups that don't divide the layers: official int(i / L * G) assignment.
    "uneven_groups_tanh": dict(BASE, num_hidden_layers=5, num_hidden_groups=3,
                               inner_group_num=1, hidden_act="tanh"),
}


def make_inputs(cfg, batch=3, seq_len=11, num_masked=4, seed=1):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, cfg["vocab_size"], (batch, seq_len)).astype(np.int32)
    lengths = [seq_len, seq_len - 4, 5][:batch]
    mask = np.array([[1] * n + [0] * (seq_len - n) for n in lengths], np.int32)
    segments = np.array([[0] * (n // 2) + [1] * (seq_len - n // 2) for n in lengths], np.int32)
    segments *= mask
    positions = np.stack([rng.choice(n, num_masked, replace=False) for n in lengths])
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments,
            "masked_lm_positions": positions.astype(np.int32)}


def write_checkpoint_dir(tmp_path, cfg, seed=0, extra=None, name="model.ckpt-best"):
    weights = random_official_weights(cfg, seed=seed)
    directory = tmp_path / "albert"
    directory.mkdir(exist_ok=True)
    albert_tf.AlbertConfig.from_dict(dict(cfg)).to_json_file(str(directory / "albert_config.json"))
    prefix = write_tf1_checkpoint(str(directory / name), weights, extra)
    return weights, prefix


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_load_matches_numpy_reference(tmp_path, name):
    cfg = CONFIGS[name]
    weights, prefix = write_checkpoint_dir(tmp_path, cfg)
    model = albert_tf.load_official_checkpoint(prefix)
    inputs = make_inputs(cfg)
    got = model(inputs, training=False)
    want = forward(weights, cfg, inputs["input_ids"], inputs["input_mask"],
                   inputs["segment_ids"], inputs["masked_lm_positions"])
    for key in ("sequence_output", "pooled_output", "mlm_logits", "sop_logits"):
        np.testing.assert_allclose(np.asarray(got[key]), want[key], atol=1e-5, rtol=1e-5,
                                   err_msg=key)
    encoded = model.encoder({k: inputs[k] for k in ("input_ids", "input_mask", "segment_ids")})
    assert len(encoded["encoder_outputs"]) == cfg["num_hidden_layers"] * cfg["inner_group_num"]
    for got_layer, want_layer in zip(encoded["encoder_outputs"], want["encoder_outputs"]):
        np.testing.assert_allclose(np.asarray(got_layer), want_layer, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(encoded["embedding_output"]),
                               want["embedding_output"], atol=1e-5, rtol=1e-5)


def test_padding_does_not_change_unpadded_positions(tmp_path):
    cfg = CONFIGS["factorised_2x2"]
    _, prefix = write_checkpoint_dir(tmp_path, cfg)
    encoder = albert_tf.load_official_checkpoint(prefix).encoder
    inputs = make_inputs(cfg, batch=1, seq_len=7)
    padded = {k: np.pad(v, ((0, 0), (0, 5))) for k, v in inputs.items() if k != "masked_lm_positions"}
    short = {k: v for k, v in inputs.items() if k != "masked_lm_positions"}
    a = np.asarray(encoder(short)["sequence_output"])
    b = np.asarray(encoder(padded)["sequence_output"])[:, :7]
    # -10000 is an additive mask, not -inf: exp(-10000) underflows to exactly 0 in float32.
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_round_trip_official_keras_official_is_bit_exact(tmp_path):
    cfg = CONFIGS["factorised_2x2"]
    weights, prefix = write_checkpoint_dir(tmp_path, cfg)
    model = albert_tf.load_official_checkpoint(prefix)
    out_prefix = albert_tf.save_official_checkpoint(model, str(tmp_path / "out" / "model.ckpt-7"),
                                                    global_step=7)
    reader = tf.train.load_checkpoint(out_prefix)
    assert set(reader.get_variable_to_shape_map()) == set(weights) | {"global_step"}
    for name, value in weights.items():
        got = reader.get_tensor(name)
        assert got.dtype == np.float32 and got.shape == value.shape, name
        assert np.array_equal(got, value), name
    assert reader.get_tensor("global_step") == 7
    # No temporary files are left behind.
    assert sorted(os.listdir(tmp_path / "out")) == ["model.ckpt-7.data-00000-of-00001",
                                                    "model.ckpt-7.index"]


def test_saved_checkpoint_reads_back_with_tf_compat_v1_saver(tmp_path):
    """Our files restore into plain official-named TF1 variables, as official tools do."""
    cfg = CONFIGS["no_projection_relu"]
    weights, prefix = write_checkpoint_dir(tmp_path, cfg)
    model = albert_tf.load_official_checkpoint(prefix)
    out = albert_tf.save_official_checkpoint(model, str(tmp_path / "out" / "model.ckpt-1"),
                                             write_state_file=True)
    assert tf.train.latest_checkpoint(str(tmp_path / "out")) == out
    graph = tf.Graph()
    with graph.as_default():
        variables = {name: tf.compat.v1.get_variable(name, shape=value.shape, dtype=tf.float32)
                     for name, value in weights.items()}
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as sess:
            saver.restore(sess, out)
            for name, value in weights.items():
                assert np.array_equal(sess.run(variables[name]), value), name


def test_optimizer_slots_and_global_step_are_skipped(tmp_path):
    cfg = CONFIGS["no_projection_relu"]
    slots = {}
    for name, shape in list(official_variable_shapes(cfg).items())[:4]:
        slots[name + "/adam_m"] = np.ones(shape, np.float32)
        slots[name + "/adam_v"] = np.ones(shape, np.float32)
    slots["global_step"] = np.array(125000, np.int64)
    weights, prefix = write_checkpoint_dir(tmp_path, cfg, extra=slots)
    assert "global_step" not in list_official_variables(prefix)
    model = albert_tf.load_official_checkpoint(prefix)
    np.testing.assert_array_equal(np.asarray(model.encoder.get_embedding_table()),
                                  weights["bert/embeddings/word_embeddings"])


def test_directory_resolution(tmp_path):
    cfg = CONFIGS["no_projection_relu"]
    directory = tmp_path / "albert"
    write_checkpoint_dir(tmp_path, cfg, seed=1, name="model.ckpt-100")
    write_checkpoint_dir(tmp_path, cfg, seed=2, name="model.ckpt-2000")
    # Highest step wins without a state file...
    assert resolve_checkpoint(str(directory))[0].endswith("model.ckpt-2000")
    # ...model.ckpt-best wins over steps (the released tars)...
    best_weights, _ = write_checkpoint_dir(tmp_path, cfg, seed=3, name="model.ckpt-best")
    prefix, config_path = resolve_checkpoint(str(directory))
    assert prefix.endswith("model.ckpt-best") and config_path.endswith("albert_config.json")
    model = albert_tf.load_official_checkpoint(str(directory))
    np.testing.assert_array_equal(np.asarray(model.encoder.pooler.kernel),
                                  best_weights["bert/pooler/dense/kernel"])
    # ...also over a `checkpoint` state file (one rule for every command: a run's
    # final model.ckpt-N is named there, its best evaluation is model.ckpt-best)...
    tf.compat.v1.train.update_checkpoint_state(str(directory), str(directory / "model.ckpt-100"))
    assert resolve_checkpoint(str(directory))[0].endswith("model.ckpt-best")
    # ...which wins over the highest step.
    os.remove(str(directory / "model.ckpt-best.index"))
    assert resolve_checkpoint(str(directory))[0].endswith("model.ckpt-100")


def test_missing_unexpected_and_mismatched_variables_are_all_listed(tmp_path):
    cfg = CONFIGS["factorised_2x2"]
    weights = random_official_weights(cfg)
    del weights["bert/pooler/dense/bias"]
    weights["bert/embeddings/word_embeddings"] = np.zeros((99, 12), np.float32)
    weights["bert/encoder/some_new_thing"] = np.zeros((3,), np.float32)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt-1"), weights)
    with pytest.raises(CheckpointMismatchError) as info:
        albert_tf.load_official_checkpoint(prefix, config=dict(cfg))
    message = str(info.value)
    assert "missing from the checkpoint (1)" in message and "bert/pooler/dense/bias" in message
    assert "unexpected in the checkpoint (1)" in message and "some_new_thing" in message
    assert "bert/embeddings/word_embeddings: checkpoint [99, 12] vs model [53, 12]" in message


def test_init_from_group0(tmp_path):
    one_group = dict(CONFIGS["factorised_2x2"], num_hidden_groups=1)
    weights = random_official_weights(one_group)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt-1"), weights)
    two_groups = dict(one_group, num_hidden_groups=2)
    with pytest.raises(CheckpointMismatchError, match="group_1"):
        albert_tf.load_official_checkpoint(prefix, config=two_groups)
    model = albert_tf.load_official_checkpoint(prefix, config=two_groups, init_from_group0=True)
    # Two groups holding group 0's weights compute exactly what one shared group does.
    inputs = make_inputs(one_group)
    want = forward(weights, one_group, inputs["input_ids"], inputs["input_mask"],
                   inputs["segment_ids"], inputs["masked_lm_positions"])
    got = model(inputs)
    np.testing.assert_allclose(np.asarray(got["mlm_logits"]), want["mlm_logits"], atol=1e-5)
    g1 = model.encoder.transformer.groups[1][1].intermediate_dense.kernel
    np.testing.assert_array_equal(
        np.asarray(g1),
        weights["bert/encoder/transformer/group_0/inner_group_1/ffn_1/intermediate/dense/kernel"])
    # As official: a group the checkpoint has loads as itself, not from group_0.
    own = random_official_weights(two_groups)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt-2"), own)
    model = albert_tf.load_official_checkpoint(prefix, config=two_groups, init_from_group0=True)
    np.testing.assert_array_equal(
        np.asarray(model.encoder.transformer.groups[1][1].intermediate_dense.kernel),
        own["bert/encoder/transformer/group_1/inner_group_1/ffn_1/intermediate/dense/kernel"])


def test_encoder_from_pretraining_checkpoint_needs_explicit_unexpected(tmp_path):
    cfg = CONFIGS["factorised_2x2"]
    weights, prefix = write_checkpoint_dir(tmp_path, cfg)
    encoder = albert_tf.AlbertEncoder(albert_tf.AlbertConfig.from_dict(dict(cfg)))
    with pytest.raises(CheckpointMismatchError, match="cls/predictions/output_bias"):
        restore_official_weights(encoder, prefix)
    report = restore_official_weights(encoder, prefix, allow_unexpected=r"cls/.*")
    assert "cls/seq_relationship/output_weights" in report["unused"]
    assert len(report["loaded"]) == len(official_variable_shapes(cfg, with_heads=False))


def test_missing_paths_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.index"):
        albert_tf.load_official_checkpoint(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        albert_tf.load_official_checkpoint(str(tmp_path))
    cfg = CONFIGS["factorised_2x2"]
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt-1"), random_official_weights(cfg))
    with pytest.raises(FileNotFoundError, match="albert_config.json"):
        albert_tf.load_official_checkpoint(prefix)
