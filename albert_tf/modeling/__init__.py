"""ALBERT model code, written in `keras` and `keras.ops` only (TensorFlow and JAX)."""

from albert_tf.modeling.encoder import AlbertEncoder
from albert_tf.modeling.models import AlbertPretrainer
