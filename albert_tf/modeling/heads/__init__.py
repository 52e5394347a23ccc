"""Task heads on top of `AlbertEncoder`."""

from albert_tf.modeling.heads.masked_lm import AlbertMaskedLMHead, gather_positions
from albert_tf.modeling.heads.output_projection import OutputProjection
