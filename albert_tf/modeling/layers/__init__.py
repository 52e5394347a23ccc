"""Building blocks of the ALBERT encoder."""

from albert_tf.modeling.layers.attention import AlbertAttention, attention_bias
from albert_tf.modeling.layers.embeddings import AlbertEmbeddings
from albert_tf.modeling.layers.transformer import AlbertTransformer, layer_group
from albert_tf.modeling.layers.transformer_layer import AlbertTransformerLayer
