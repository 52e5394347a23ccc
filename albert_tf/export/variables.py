"""The `tf.Variable`s behind Keras 3 variables: what a SavedModel must track
(`base_module`'s docstring says why) and what `encoder_graph` reads."""

import tensorflow as tf


def tf_variables(variables):
    """The `tf.Variable` behind each Keras 3 variable of `variables`.

    Raises:
      TypeError naming the variable when the backend is not TensorFlow.
    """
    out = []
    for variable in variables:
        value = getattr(variable, "value", variable)
        if not isinstance(value, tf.Variable):
            raise TypeError(f"variable {variable.path} is backed by a "
                            f"{type(value).__name__}, not a tf.Variable: export needs "
                            f"the TensorFlow backend (KERAS_BACKEND=tensorflow)")
        out.append(value)
    return out
