"""Fused attention kernels behind `AlbertAttention(attention_implementation="fused")`.

`keras.ops.dot_product_attention` takes the padding mask only as a bias or boolean
mask broadcast from [batch, 1, 1, seq_len]. JAX's cuDNN flash-attention path rejects
such a bias (it wants [*, *, seq_q, seq_kv]) and Keras then silently falls back to the
XLA kernel, which materialises the [batch, heads, seq, seq] scores. cuDNN expresses
padding as per-sequence key lengths instead, so on the JAX backend on a GPU, in
bfloat16/float16, this module turns the additive mask into `key_value_seq_lengths`
and calls the cuDNN kernel directly. This is the one place model code touches a
backend; every other case uses `keras.ops.dot_product_attention`.

The lengths form is exact for right-padded masks (ones, then zeros), which is what
every albert_tf data pipeline and the official ones produce.
"""

import keras
from keras import ops

_CUDNN_DTYPES = ("bfloat16", "float16")


def key_lengths(bias, mask_adder):
    """[batch, 1, 1, seq_len] additive bias (0 or `mask_adder`) -> int32 [batch]."""
    unmasked = ops.cast(ops.greater(bias[:, 0, 0, :], 0.5 * mask_adder), "int32")
    return ops.sum(unmasked, axis=-1)


def _cudnn_attention(query, key, value, bias, scale, mask_adder):
    """cuDNN flash attention on the JAX backend, or None where it does not apply."""
    if keras.backend.backend() != "jax":
        return None
    import jax  # Imported only on the JAX backend.

    if jax.devices()[0].platform != "gpu":
        return None
    if keras.backend.standardize_dtype(query.dtype) not in _CUDNN_DTYPES:
        return None
    lengths = None if bias is None else key_lengths(bias, mask_adder)
    try:
        return jax.nn.dot_product_attention(
            query, key, value, key_value_seq_lengths=lengths, scale=scale,
            implementation="cudnn")
    except (NotImplementedError, ValueError, RuntimeError):
        return None  # Shape, head size or cuDNN version the kernel does not cover.


def fused_attention(query, key, value, bias, scale, mask_adder):
    """Softmax attention without dropout.

    Args:
        query, key, value: [batch, seq_len, heads, head_size].
        bias: None or additive padding bias [batch, 1, 1, seq_len].
        scale: float multiplying the scores.
        mask_adder: the bias value of padded keys (negative).
    Returns:
        [batch, seq_len, heads, head_size] in the query's dtype.
    """
    context = _cudnn_attention(query, key, value, bias, scale, mask_adder)
    if context is not None:
        return context
    if bias is not None:
        bias = ops.cast(bias, query.dtype)
    return ops.dot_product_attention(query, key, value, bias=bias, scale=scale)
