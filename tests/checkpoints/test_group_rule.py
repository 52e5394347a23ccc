"""The official float group rule: groups no layer runs have no variables, and the model runs."""

import numpy as np

import albert_tf
from albert_tf.checkpoints import official_variable_map
from albert_reference import forward, official_variable_shapes, random_official_weights, \
    write_tf1_checkpoint

# 22 layers in 22 groups, as a BERT-like "no sharing" config: official
# int(i / 22 * 22) gives 15 / 22 * 22 = 14.999999999999998 -> 14, so group 15 is never run.
CFG = dict(vocab_size=19, embedding_size=4, hidden_size=8, num_hidden_layers=22,
           num_hidden_groups=22, inner_group_num=1, num_attention_heads=2,
           intermediate_size=8, hidden_act="gelu", hidden_dropout_prob=0.0,
           attention_probs_dropout_prob=0.0, max_position_embeddings=10, type_vocab_size=2,
           initializer_range=0.02)


def _used_groups(num_layers, num_groups):
    # The rule as official modeling.transformer_model writes it, in Python floats.
    return {int(layer_idx / num_layers * num_groups) for layer_idx in range(num_layers)}


def test_rule_leaves_group_15_of_22_unused():
    assert sorted(set(range(22)) - _used_groups(22, 22)) == [15]
    # The other layer counts the issue names leave groups unused too.
    for layers in (22, 23, 26, 39, 43, 44, 45, 46, 47):
        assert len(_used_groups(layers, layers)) < layers


def test_unused_group_has_no_variables_and_model_matches_reference(tmp_path):
    used = _used_groups(22, 22)
    expected_shapes = {name: shape for name, shape in official_variable_shapes(CFG).items()
                       if "/group_" not in name
                       or int(name.split("/group_")[1].split("/")[0]) in used}
    weights = {n: w for n, w in random_official_weights(CFG).items() if n in expected_shapes}
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt"), weights)
    # Every variable the official graph has loads, and the model has no others.
    loaded = albert_tf.load_official_checkpoint(prefix, config=dict(CFG))
    names = official_variable_map(loaded)
    assert {n: tuple(v.shape) for n, v in names.items()} == expected_shapes
    assert not any("/group_15/" in n for n in names)
    # Parameter count as official.
    assert loaded.count_params() == sum(int(np.prod(s)) for s in expected_shapes.values())
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 19, (2, 7)).astype(np.int32)
    mask = np.array([[1] * 7, [1] * 4 + [0] * 3], np.int32)
    segments = np.array([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 0]], np.int32)
    positions = np.array([[1, 2], [0, 3]], np.int32)
    got = loaded({"input_ids": ids, "input_mask": mask, "segment_ids": segments,
                  "masked_lm_positions": positions})
    want = forward(weights, CFG, ids, mask, segments, positions)
    np.testing.assert_allclose(np.asarray(got["sequence_output"]), want["sequence_output"],
                               atol=1e-4)
    np.testing.assert_allclose(np.asarray(got["mlm_logits"]), want["mlm_logits"], atol=1e-4)


def test_a_refused_group_rule_names_a_few_layers_not_all():
    """A config of 10**6 layers in 10**6 groups differs from transformers' and keras-hub's
    rules at hundreds of thousands of layers: the message names ten and counts the rest."""
    import pytest

    from albert_tf.checkpoints import hf, keras_hub

    config = albert_tf.AlbertConfig(**dict(CFG, num_hidden_layers=10 ** 6,
                                           num_hidden_groups=10 ** 6))
    differ = [i for i in range(10 ** 6) if int(i / 10 ** 6 * 10 ** 6) != i]
    assert len(differ) > 10
    for check, who in ((hf.check_group_rule, "transformers"),
                       (keras_hub.check_representable, "keras-hub")):
        with pytest.raises(ValueError) as raised:
            check(config, "config.json")
        message = str(raised.value)
        assert f"{who} runs layers {differ[:10]} and {len(differ) - 10} more from" in message
        assert len(message) < 500
