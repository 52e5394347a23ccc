"""`encoder_graph.encode`, the export's TensorFlow graph of the encoder, against the
Keras `AlbertEncoder` it reads its weights from (the reference implementation)."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.export import encoder_graph
from albert_tf.modeling import AlbertEncoder
from tests.tiny_config import tiny_config

from .export_test_helpers import randomize


def _inputs(batch=3, seq_len=11, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 60, size=(batch, seq_len)).astype(np.int32)
    mask = np.ones_like(ids)
    if batch == 3:
        mask[1, 7:] = 0  # Padded rows: the mask must reach every layer.
        mask[2, 2:] = 0
    segments = np.zeros_like(ids)
    segments[:, 4:] = 1
    return ids, mask, segments


def _encode(encoder, ids, mask, segments):
    function = tf.function(lambda *x: encoder_graph.encode(encoder, *x), autograph=False)
    return [t.numpy() for t in function(tf.constant(ids), tf.constant(mask),
                                        tf.constant(segments))]


@pytest.mark.parametrize("overrides", [
    {},                                            # E != H: the projection
    dict(embedding_size=16),                       # E == H: no projection
    dict(num_hidden_layers=3, num_hidden_groups=2, inner_group_num=2),
    dict(hidden_act="relu"),
])
def test_encode_equals_the_keras_encoder(overrides):
    encoder = AlbertEncoder(tiny_config(**overrides))
    randomize(encoder, seed=1)
    for batch, seq_len in ((3, 11), (3, 24), (1, 1)):
        ids, mask, segments = _inputs(batch, seq_len)
        expected = encoder({"input_ids": ids, "input_mask": mask, "segment_ids": segments},
                           training=False)
        sequence_output, pooled_output = _encode(encoder, ids, mask, segments)
        np.testing.assert_allclose(sequence_output, expected["sequence_output"], atol=1e-5)
        np.testing.assert_allclose(pooled_output, expected["pooled_output"], atol=1e-5)


def test_each_weight_is_read_once_in_fusable_patterns():
    """The graph's point: weights shared by all layers are read once per call (the
    Keras trace reads them once per layer), every projection is MatMul + BiasAdd
    (query, key and value as one) and every LayerNorm a FusedBatchNormV3, the
    patterns Grappler fuses."""
    encoder = AlbertEncoder(tiny_config(num_hidden_layers=4))
    ids, mask, segments = _inputs()
    function = tf.function(lambda *x: encoder_graph.encode(encoder, *x), autograph=False)
    graph = function.get_concrete_function(
        *(tf.TensorSpec([None, None], tf.int32) for _ in range(3))).graph
    op_types = [op.type for op in graph.get_operations()]
    assert op_types.count("ReadVariableOp") == len(encoder.weights)
    # 4 per layer (query-key-value, attention output, FFN in and out), the
    # embedding projection, the pooler.
    assert op_types.count("BiasAdd") == 4 * 4 + 2
    assert op_types.count("Transpose") == 4 * 2  # Heads split once, merged once.
    assert op_types.count("FusedBatchNormV3") == 4 * 2 + 1


def test_float32_only():
    assert encoder_graph.supports(AlbertEncoder(tiny_config()))
    assert not encoder_graph.supports(AlbertEncoder(tiny_config(), dtype="mixed_bfloat16"))
