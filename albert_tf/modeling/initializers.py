"""Weight initialisers matching the official `create_initializer`."""

import keras


def truncated_normal(initializer_range=0.02, seed=None):
    """Truncated normal (cut at 2 standard deviations), as tf.truncated_normal_initializer."""
    return keras.initializers.TruncatedNormal(stddev=initializer_range, seed=seed)
