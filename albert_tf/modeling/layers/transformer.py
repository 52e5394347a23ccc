"""`AlbertTransformer`: the shared-parameter layer stack (`encoder/transformer`)."""

import keras

from albert_tf.config import layer_group, used_groups
from albert_tf.modeling.layers.transformer_layer import AlbertTransformerLayer


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTransformer(keras.layers.Layer):
    """Runs `num_hidden_layers` layers drawn from `num_hidden_groups` groups.

    Group g owns `inner_group_num` `AlbertTransformerLayer`s
    (`group_{g}/inner_group_{k}`); layer i runs all inner layers of group
    `layer_group(i, ...)` in turn, so with one group every layer shares weights.
    A group no layer runs (the official float rule leaves some, e.g. group 15 of
    22 layers in 22 groups) has no layers and no variables, as in the official
    graph: `groups[g]` is then an empty list.

    Call args:
        hidden_states: float [batch, seq_len, hidden_size].
        bias: float [batch, 1, 1, seq_len].
    Returns:
        A list of num_hidden_layers * inner_group_num outputs, each float
        [batch, seq_len, hidden_size], in execution order (the official
        `all_encoder_layers`); the last one is the sequence output.
    """

    def __init__(self, num_hidden_layers, num_hidden_groups, inner_group_num, hidden_size,
                 num_attention_heads, intermediate_size, hidden_act="gelu",
                 hidden_dropout_rate=0.0, attention_dropout_rate=0.0,
                 initializer_range=0.02, attention_implementation="einsum", **kwargs):
        super().__init__(**kwargs)
        self.attention_implementation = attention_implementation
        if num_hidden_groups > num_hidden_layers:
            raise ValueError(f"num_hidden_groups ({num_hidden_groups}) must not exceed "
                             f"num_hidden_layers ({num_hidden_layers})")
        self.num_hidden_layers = num_hidden_layers
        self.num_hidden_groups = num_hidden_groups
        self.inner_group_num = inner_group_num
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.initializer_range = initializer_range
        # groups[g][k] is official `group_{g}/inner_group_{k}`.
        used = set(used_groups(num_hidden_layers, num_hidden_groups))
        self.groups = [
            [AlbertTransformerLayer(
                hidden_size, num_attention_heads, intermediate_size, hidden_act=hidden_act,
                hidden_dropout_rate=hidden_dropout_rate,
                attention_dropout_rate=attention_dropout_rate,
                initializer_range=initializer_range,
                attention_implementation=attention_implementation, dtype=self.dtype_policy,
                name=f"group_{g}_inner_group_{k}")
             for k in range(inner_group_num if g in used else 0)]
            for g in range(num_hidden_groups)]
        # Also as direct attributes: tf.train.Checkpoint and tf.saved_model do not see
        # layers held only in nested lists.
        for group in self.groups:
            for layer in group:
                setattr(self, layer.name, layer)

    def build(self, input_shape):
        for group in self.groups:
            for layer in group:
                layer.build(input_shape)
        self.built = True

    def call(self, hidden_states, bias=None, training=None):
        outputs = []
        for layer_idx in range(self.num_hidden_layers):
            group = self.groups[layer_group(layer_idx, self.num_hidden_layers,
                                            self.num_hidden_groups)]
            for layer in group:
                hidden_states = layer(hidden_states, bias=bias, training=training)
                outputs.append(hidden_states)
        return outputs

    def compute_output_shape(self, hidden_states_shape, bias_shape=None):
        return [tuple(hidden_states_shape)] * (self.num_hidden_layers * self.inner_group_num)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_hidden_layers": self.num_hidden_layers,
            "num_hidden_groups": self.num_hidden_groups,
            "inner_group_num": self.inner_group_num,
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
