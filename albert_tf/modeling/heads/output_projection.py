"""`OutputProjection`: a dense layer stored as official `output_weights` [units, in]."""

import keras
from keras import ops

from albert_tf.modeling.initializers import truncated_normal


@keras.saving.register_keras_serializable(package="albert_tf")
class OutputProjection(keras.layers.Layer):
    """logits = x @ output_weights^T + output_bias.

    The official task heads (`cls/seq_relationship`, `cls/squad`, the GLUE and RACE
    classifiers) keep their kernel transposed, [units, input_width]; storing it the
    same way makes checkpoint conversion a plain name table.

    Call args:
        x: float [..., input_width].
    Returns:
        float [..., units].
    """

    def __init__(self, units, initializer_range=0.02, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.initializer_range = initializer_range
        self.use_bias = use_bias

    def build(self, input_shape):
        self.output_weights = self.add_weight(
            shape=(self.units, input_shape[-1]),
            initializer=truncated_normal(self.initializer_range), name="output_weights")
        self.output_bias = None
        if self.use_bias:
            self.output_bias = self.add_weight(shape=(self.units,), initializer="zeros",
                                               name="output_bias")
        self.built = True

    def call(self, x):
        logits = ops.matmul(x, ops.transpose(ops.cast(self.output_weights, x.dtype)))
        if self.output_bias is not None:
            logits = logits + ops.cast(self.output_bias, x.dtype)
        return logits

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "initializer_range": self.initializer_range,
                       "use_bias": self.use_bias})
        return config
