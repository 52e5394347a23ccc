"""The LayerNorm of every ALBERT block: official epsilon, computed in float32."""

import keras

# Official `layer_norm` (tf.contrib) uses 1e-12; Keras's default 1e-3 would change outputs.
LAYER_NORM_EPSILON = 1e-12


def layer_norm(name):
    """A `LayerNormalization` over the last axis with the official epsilon; float32 under
    any mixed-precision policy (its statistics lose too much in bfloat16)."""
    return keras.layers.LayerNormalization(axis=-1, epsilon=LAYER_NORM_EPSILON,
                                           dtype="float32", name=name)
