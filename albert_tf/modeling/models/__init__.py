"""Task models: an `AlbertEncoder` with heads."""

from albert_tf.modeling.models.pretrainer import AlbertPretrainer
