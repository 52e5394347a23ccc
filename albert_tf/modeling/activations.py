"""Activation functions named as in `albert_config.json` (`hidden_act`)."""

import math

from keras import ops


def gelu(x):
    """The official ALBERT GELU: the tanh approximation (not Keras' exact default)."""
    cdf = 0.5 * (1.0 + ops.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * ops.power(x, 3))))
    return x * cdf


def relu(x):
    return ops.relu(x)


def tanh(x):
    return ops.tanh(x)


_ACTIVATIONS = {
    "gelu": gelu,
    # The name transformers gives the same tanh approximation.
    "gelu_new": gelu,
    "relu": relu,
    "tanh": tanh,
    "linear": None,
}


def get_activation(name):
    """Maps an official activation name to a function (None for "linear")."""
    if name is None or name == "":
        return None
    if callable(name):
        return name
    key = str(name).lower()
    if key not in _ACTIVATIONS:
        raise ValueError(f"hidden_act: unsupported activation {name!r}; expected one of "
                         f"{sorted(_ACTIVATIONS)}")
    return _ACTIVATIONS[key]
