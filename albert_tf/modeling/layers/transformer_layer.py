"""`AlbertTransformerLayer`: one post-LN attention + FFN block (`inner_group_k`)."""

import keras
from keras import ops

from albert_tf.modeling.activations import get_activation
from albert_tf.modeling.initializers import truncated_normal
from albert_tf.modeling.layers import flat_dense
from albert_tf.modeling.layers.attention import AlbertAttention
from albert_tf.modeling.layers.layer_norm import layer_norm



@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTransformerLayer(keras.layers.Layer):
    """Official `inner_group_{k}`.

    x = LayerNorm(x + attention_1(x)); x = LayerNorm_1(x + ffn_1(x)), where ffn_1 is
    `intermediate/dense` (hidden_act) then `intermediate/output/dense`, then dropout.

    Call args:
        hidden_states: float [batch, seq_len, hidden_size].
        bias: float [batch, 1, 1, seq_len] additive attention bias.
    Returns:
        float [batch, seq_len, hidden_size].
    """

    def __init__(self, hidden_size, num_attention_heads, intermediate_size,
                 hidden_act="gelu", hidden_dropout_rate=0.0, attention_dropout_rate=0.0,
                 initializer_range=0.02, attention_implementation="einsum", **kwargs):
        super().__init__(**kwargs)
        self.attention_implementation = attention_implementation
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.initializer_range = initializer_range
        self._activation = get_activation(hidden_act)

        self.attention = AlbertAttention(
            hidden_size, num_attention_heads, attention_dropout_rate=attention_dropout_rate,
            output_dropout_rate=hidden_dropout_rate, initializer_range=initializer_range,
            attention_implementation=attention_implementation, dtype=self.dtype_policy,
            name="attention_1")
        self.attention_layer_norm = layer_norm("LayerNorm")
        self.intermediate_dense = keras.layers.Dense(
            intermediate_size, kernel_initializer=truncated_normal(initializer_range),
            dtype=self.dtype_policy, name="intermediate_dense")
        self.output_dense = keras.layers.Dense(
            hidden_size, kernel_initializer=truncated_normal(initializer_range),
            dtype=self.dtype_policy, name="intermediate_output_dense")
        self.output_dropout = keras.layers.Dropout(
            hidden_dropout_rate, dtype=self.dtype_policy, name="ffn_dropout")
        self.output_layer_norm = layer_norm("LayerNorm_1")

    def build(self, input_shape):
        self.attention.build(input_shape)
        self.attention_layer_norm.build((None, None, self.hidden_size))
        self.intermediate_dense.build((None, None, self.hidden_size))
        self.output_dense.build((None, None, self.intermediate_size))
        self.output_layer_norm.build((None, None, self.hidden_size))
        self.built = True

    def call(self, hidden_states, bias=None, training=None):
        attention_output = self.attention(hidden_states, bias=bias, training=training)
        attention_output = self.attention_layer_norm(attention_output + hidden_states)
        attention_output = ops.cast(attention_output, self.compute_dtype)
        intermediate = flat_dense.dense_2d(self.intermediate_dense, attention_output)
        if self._activation is not None:
            intermediate = self._activation(intermediate)
        ffn_output = self.output_dropout(flat_dense.dense_2d(self.output_dense, intermediate),
                                         training=training)
        output = self.output_layer_norm(ffn_output + attention_output)
        return ops.cast(output, self.compute_dtype)

    def compute_output_shape(self, hidden_states_shape, bias_shape=None):
        return tuple(hidden_states_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "hidden_size": self.hidden_size,
            "num_attention_heads": self.num_attention_heads,
            "intermediate_size": self.intermediate_size,
            "hidden_act": self.hidden_act,
            "hidden_dropout_rate": self.hidden_dropout_rate,
            "attention_dropout_rate": self.attention_dropout_rate,
            "initializer_range": self.initializer_range,
            "attention_implementation": self.attention_implementation,
        })
        return config
