"""The fused-attention helpers: padding bias -> key lengths, and the portable fallback."""

import math

import keras
import numpy as np

from albert_tf.modeling.layers.attention import MASK_ADDER, attention_bias
from albert_tf.modeling.layers.attention_kernels import fused_attention, key_lengths


def test_key_lengths_count_the_unpadded_keys():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 33, 16)
    mask = (np.arange(32)[None] < lengths[:, None]).astype("int32")
    for dtype in ("float32", "bfloat16"):
        bias = keras.ops.cast(attention_bias(mask), dtype)
        got = keras.ops.convert_to_numpy(key_lengths(bias, MASK_ADDER))
        np.testing.assert_array_equal(got, lengths)
        assert got.dtype == np.int32


def test_fallback_is_masked_softmax_attention():
    """Off the JAX GPU path: exact softmax attention with padded keys ignored (NumPy)."""
    rng = np.random.default_rng(1)
    b, t, n, d = 2, 6, 3, 4
    q, k, v = (rng.standard_normal((b, t, n, d)).astype("float32") for _ in range(3))
    mask = np.array([[1] * 6, [1, 1, 1, 1, 0, 0]], "int32")
    got = keras.ops.convert_to_numpy(
        fused_attention(q, k, v, attention_bias(mask), 1 / math.sqrt(d), MASK_ADDER))
    scores = np.einsum("bqnd,bknd->bnqk", q, k) / math.sqrt(d)
    scores = np.where(mask[:, None, None, :] == 1, scores, -np.inf)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(got, np.einsum("bnqk,bknd->bqnd", probs, v), atol=1e-5)
