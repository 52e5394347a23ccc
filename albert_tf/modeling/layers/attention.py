"""`AlbertAttention`: multi-head self-attention with the official mask and scale."""

import math

import keras
from keras import ops

from albert_tf.modeling.initializers import truncated_normal
from albert_tf.modeling.layers import flat_dense
from albert_tf.modeling.layers.attention_kernels import fused_attention

# Official additive mask value for padded keys (not -inf, so fully padded rows
# stay finite and match the released checkpoints' numbers).
MASK_ADDER = -10000.0


def attention_bias(input_mask, dtype="float32"):
    """[batch, seq_len] 1/0 mask -> additive bias [batch, 1, 1, seq_len]."""
    mask = ops.cast(input_mask, dtype)
    # expand_dims, not [:, None, None, :]: LiteRT's builtin StridedSlice has no
    # new_axis_mask, so indexing with None needs a TF (flex) op at dynamic shapes.
    return ops.expand_dims(ops.expand_dims((1.0 - mask) * MASK_ADDER, 1), 1)


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertAttention(keras.layers.Layer):
    """Official `attention_1`: `self/{query,key,value}` then `output/dense`.

    All kernels are 2-D [hidden_size, hidden_size] as in the official checkpoints.

    Call args:
        hidden_states: float [batch, seq_len, hidden_size].
        bias: float [batch, 1, 1, seq_len], from `attention_bias(input_mask)`.
    Returns:
        float [batch, seq_len, hidden_size]: the projected context, after dropout,
        before the residual and LayerNorm.

    `attention_implementation`:
        "einsum": scores, mask and softmax written out (float32 softmax); the
            reference path, and the only one that applies attention dropout.
        "fused": `attention_kernels.fused_attention`: cuDNN flash attention on JAX
            GPUs in bfloat16/float16 (padding as key lengths, so right-padded masks,
            as all albert_tf and official data have), else
            `keras.ops.dot_product_attention`. Used only where attention dropout is inactive
            (inference, or attention_dropout_rate 0 as in the v2 configs); training
            with attention dropout falls back to "einsum". Padded keys still get
            exactly zero weight (exp(-10000) underflows to 0), so outputs agree
            with "einsum" to float rounding.
    """

    IMPLEMENTATIONS = ("einsum", "fused")

    def __init__(self, hidden_size, num_attention_heads, attention_dropout_rate=0.0,
                 output_dropout_rate=0.0, initializer_range=0.02,
                 attention_implementation="einsum", **kwargs):
        super().__init__(**kwargs)
        if attention_implementation not in self.IMPLEMENTATIONS:
            raise ValueError(f"attention_implementation must be one of {self.IMPLEMENTATIONS}, "
                             f"got {attention_implementation!r}")
        self.attention_implementation = attention_implementation
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by "
                             f"num_attention_heads ({num_attention_heads})")
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.head_size = hidden_size // num_attention_heads
        self.attention_dropout_rate = attention_dropout_rate
        self.output_dropout_rate = output_dropout_rate
        self.initializer_range = initializer_range

        def dense(name):
            return keras.layers.Dense(
                hidden_size, kernel_initializer=truncated_normal(initializer_range),
                bias_initializer="zeros", dtype=self.dtype_policy, name=name)

        self.query = dense("query")
        self.key = dense("key")
        self.value = dense("value")
        self.output_dense = dense("output_dense")
        self.attention_dropout = keras.layers.Dropout(
            attention_dropout_rate, dtype=self.dtype_policy, name="attention_dropout")
        self.output_dropout = keras.layers.Dropout(
            output_dropout_rate, dtype=self.dtype_policy, name="output_dropout")

    def build(self, input_shape):
        for layer in (self.query, self.key, self.value, self.output_dense):
            layer.build((None, None, self.hidden_size))
        self.built = True

    def _split_heads(self, x):
        batch, seq_len = ops.shape(x)[0], ops.shape(x)[1]
        return ops.reshape(x, (batch, seq_len, self.num_attention_heads, self.head_size))

    def call(self, hidden_states, bias=None, training=None):
        q, k, v = (self._split_heads(flat_dense.dense_2d(layer, hidden_states))
                   for layer in (self.query, self.key, self.value))
        dropout_active = bool(training) and self.attention_dropout_rate > 0
        if self.attention_implementation == "fused" and not dropout_active:
            context = fused_attention(q, k, v, bias, 1.0 / math.sqrt(self.head_size),
                                      MASK_ADDER)
        else:
            context = self._einsum_attention(q, k, v, bias, training)
        batch, seq_len = ops.shape(context)[0], ops.shape(context)[1]
        context = ops.reshape(context, (batch, seq_len, self.hidden_size))
        output = flat_dense.dense_2d(self.output_dense, context)
        return self.output_dropout(output, training=training)

    def _einsum_attention(self, q, k, v, bias, training):
        """[batch, seq, heads, head_size] q/k/v -> context of the same shape."""
        # Scores and softmax in float32, also under mixed precision.
        scores = ops.einsum("bfnd,btnd->bnft", q, k)
        scores = ops.cast(scores, "float32") * (1.0 / math.sqrt(self.head_size))
        if bias is not None:
            scores = scores + ops.cast(bias, "float32")
        probs = ops.softmax(scores, axis=-1)
        probs = ops.cast(probs, self.compute_dtype)
        probs = self.attention_dropout(probs, training=training)
        return ops.einsum("bnft,btnd->bfnd", probs, v)

    def compute_output_shape(self, hidden_states_shape, bias_shape=None):
        return tuple(hidden_states_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "hidden_size": self.hidden_size,
            "num_attention_heads": self.num_attention_heads,
            "attention_dropout_rate": self.attention_dropout_rate,
            "output_dropout_rate": self.output_dropout_rate,
            "initializer_range": self.initializer_range,
            "attention_implementation": self.attention_implementation,
        })
        return config
