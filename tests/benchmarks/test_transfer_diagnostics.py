"""benchmarks/transfer_diagnostics.py: the [CLS] attention it reconstructs is the one the
model runs (the layer's own output, through the value and output projections), for
every layer of a grouped encoder, and its summaries are right on a known case."""

import importlib.util
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
spec = importlib.util.spec_from_file_location(
    "transfer_diagnostics", REPO_ROOT / "benchmarks" / "transfer_diagnostics.py")
diagnostics = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diagnostics)


@pytest.mark.parametrize("groups", [1, 2])
def test_cls_attention_is_what_each_layer_runs(groups):
    import keras
    from albert_tf.modeling import AlbertEncoder
    from albert_tf.modeling.layers.attention import attention_bias
    from tiny_config import tiny_config

    keras.utils.set_random_seed(5)
    config = tiny_config(num_hidden_layers=2, num_hidden_groups=groups)
    encoder = AlbertEncoder(config)
    rng = np.random.default_rng(0)
    # Sharpen every query and key (and the first layer's input) so the attention is far
    # from uniform: a near-uniform softmax would hide a wrong key, scale or mask.
    projection = encoder.embedding_projection
    projection.kernel.assign(rng.normal(0, 1, projection.kernel.shape).astype(np.float32))
    for layer in {id(diagnostics.attention_layer(encoder, k)): diagnostics.attention_layer(
            encoder, k) for k in range(2)}.values():
        for dense in (layer.query, layer.key):
            dense.kernel.assign(rng.normal(0, 1, dense.kernel.shape).astype(np.float32))
    ids = rng.integers(5, config.vocab_size, (3, 7)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[0, 4:], ids[0, 4:] = 0, 0
    segments = np.zeros_like(ids)
    hidden = diagnostics.layer_inputs(encoder, ids, mask, segments)
    assert len(hidden) == 3
    heads = config.num_attention_heads
    size = config.hidden_size // heads
    for k in range(2):
        layer = diagnostics.attention_layer(encoder, k)
        p = diagnostics.cls_attention(layer, hidden[k], mask.astype(np.float64))
        assert p.shape == (3, heads, 7)
        np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-6)
        assert p[0, :, 4:].max() == 0.0 and p.max(-1).mean() > 0.3
        value = hidden[k] @ layer.value.kernel.numpy().reshape(config.hidden_size, -1) \
            + layer.value.bias.numpy()
        context = np.einsum("bnt,btnd->bnd", p, value.reshape(3, 7, heads, size))
        ours = context.reshape(3, -1) @ layer.output_dense.kernel.numpy().reshape(
            config.hidden_size, -1) + layer.output_dense.bias.numpy()
        theirs = np.asarray(layer(hidden[k], attention_bias(mask)))[:, 0]
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    if groups == 2:
        assert diagnostics.attention_layer(encoder, 0) is not diagnostics.attention_layer(
            encoder, 1)


def test_summaries_of_uniform_attention():
    """A fresh encoder's [CLS] attends almost uniformly: entropy 1, and the special
    tokens' share is their count over the row's length (2 of 5, 2 of 4)."""
    import keras
    from albert_tf.modeling import AlbertEncoder
    from tiny_config import tiny_config

    keras.utils.set_random_seed(5)
    encoder = AlbertEncoder(tiny_config(num_hidden_layers=2, initializer_range=1e-6))
    ids = np.array([[2, 7, 8, 9, 3], [2, 5, 6, 3, 0]], np.int32)
    mask = (ids > 0).astype(np.int32)
    mask[:, 0] = 1
    result = diagnostics.measure(encoder, ids, mask, np.zeros_like(ids))
    for k in ("layer1", "layer2"):
        assert result[k]["entropy"] == pytest.approx(1.0, abs=1e-3)
        assert result[k]["special"] == pytest.approx((2 / 5 + 2 / 4) / 2, abs=1e-3)
        assert result[k]["top1"] == pytest.approx((1 / 5 + 1 / 4) / 2, abs=1e-3)


def test_summaries_by_hand():
    """Row 0 (4 keys: [CLS] a b [SEP]): head 0 all on [SEP], head 1 half [CLS] half a.
    Row 1 (3 keys + padding: [CLS] a [SEP] pad): head 0 uniform, head 1 a quarter on a,
    three quarters on [SEP]."""
    p = np.array([[[0, 0, 0, 1.0], [0.5, 0.5, 0, 0]],
                  [[1 / 3, 1 / 3, 1 / 3, 0], [0, 0.25, 0.75, 0]]])
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]])
    result = diagnostics.summarize(p, mask)
    assert result["special"] == pytest.approx((1 + 0.5 + 2 / 3 + 0.75) / 4, abs=1e-4)
    assert result["top1"] == pytest.approx((1 + 0.5 + 1 / 3 + 0.75) / 4, abs=1e-4)
    quarter = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75)) / np.log(3)
    assert result["entropy"] == pytest.approx((0 + np.log(2) / np.log(4) + 1 + quarter) / 4,
                                              abs=1e-4)


class Pieces:
    """Words are pieces 5, 6, 7, ...; "two words" are two pieces."""

    def __init__(self, words):
        self.ids = {w: 5 + i for i, w in enumerate(words)}

    def tokenize(self, text):
        return text.split()

    def convert_tokens_to_ids(self, tokens):
        return [self.ids.get(t, 0) for t in tokens]


def test_word_pairs_by_hand():
    import keras
    from albert_tf.modeling import AlbertEncoder
    from tiny_config import tiny_config

    keras.utils.set_random_seed(5)
    encoder = AlbertEncoder(tiny_config(vocab_size=9, embedding_size=2))
    # 9 pieces on the unit circle at these angles (degrees): good=5 at 0, bad=6 at 30,
    # nice=7 at 10, far=8 at 180; pieces 0-4 at 90.
    angles = np.radians([90, 90, 90, 90, 90, 0, 30, 10, 180])
    table = np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32)
    word_embeddings = next(w for w in encoder.embeddings.weights
                           if w.path.endswith("word_embeddings"))
    word_embeddings.assign(table)
    result = diagnostics.word_pairs(encoder, Pieces(["good", "bad", "nice", "far"]),
                                    [("good", "bad"), ("good", "nice"), ("far", "good"),
                                     ("good", "two words")])
    assert result["good:bad"]["cosine"] == pytest.approx(np.cos(np.radians(30)), abs=1e-4)
    assert result["good:bad"]["nearer"] == 1  # nice (10 degrees) only
    assert result["good:nice"]["nearer"] == 0
    assert result["far:good"] == {"cosine": -1.0, "nearer": 7}  # all but far and good
    assert "good:two words" not in result
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    cosines = unit @ unit.T
    expected = np.abs(cosines[np.triu_indices(9, 1)]).mean()
    assert result["mean_abs_cosine"] == pytest.approx(expected, abs=1e-4)
