"""Task heads on top of `AlbertEncoder`."""

from albert_tf.modeling.heads.masked_lm import AlbertMaskedLMHead, gather_positions
from albert_tf.modeling.heads.output_projection import OutputProjection
from albert_tf.modeling.heads.squad import AlbertSquadSpanHead, AlbertSquadV2Head
