"""Under mixed_bfloat16 the attention scores are scaled, masked and softmaxed in float32.

A bfloat16 softmax shows on large scores: bfloat16 keeps 8 significant bits, so near 70
its spacing is 0.5. Two keys scoring 100 and 101 (exact in bfloat16), scaled by
1/sqrt(head_size=2), are 70.71 and 71.42 in float32 (gap 0.707) but 70.5 and 71.5 in
bfloat16 (gap 1.0): the second key's weight is sigmoid(0.707) = 0.670 in float32 and
sigmoid(1.0) = 0.731 in bfloat16, a difference far above bfloat16's rounding of the
output (2^-8 = 0.004 near 0.7).
"""

import math

import numpy as np
import pytest

from albert_tf.modeling.layers.attention import AlbertAttention, attention_bias


@pytest.mark.parametrize("implementation", ["einsum", "fused"])
def test_large_scores_are_softmaxed_in_float32(implementation):
    layer = AlbertAttention(2, 1, attention_implementation=implementation,
                            dtype="mixed_bfloat16")
    layer.build((None, None, 2))
    # Tokens h0 = [1, 0], h1 = [1, 1]. query = h @ Wq with Wq row 0 = [100, 1]: both
    # queries are [100, 1] (h1's second coordinate meets Wq's zero row 1); keys = h, so
    # the scores are q.k0 = 100 and q.k1 = 101. values = h @ Wv = [0, 0] and [1, 0]: the
    # output's first unit is the weight of key 1.
    kernels = {"query": [[100.0, 1.0], [0.0, 0.0]], "key": np.eye(2),
               "value": [[0.0, 0.0], [1.0, 0.0]], "output_dense": np.eye(2)}
    for name, kernel in kernels.items():
        dense = getattr(layer, name)
        dense.kernel.assign(np.asarray(kernel, np.float32))
        dense.bias.assign(np.zeros(2, np.float32))
    hidden = np.array([[[1.0, 0.0], [1.0, 1.0]]], np.float32)
    output = layer(hidden, bias=attention_bias(np.ones((1, 2), np.int32)), training=False)
    assert output.dtype == "bfloat16"
    weight_of_key_1 = np.asarray(output, np.float32)[0, :, 0]
    want = 1.0 / (1.0 + math.exp(-(101.0 - 100.0) / math.sqrt(2.0)))  # 0.6698
    np.testing.assert_allclose(weight_of_key_1, [want, want], atol=0.008)
