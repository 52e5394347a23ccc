"""`AlbertEmbeddings`: word + position + token-type embeddings at width E."""

import keras
from keras import ops

from albert_tf.modeling.initializers import truncated_normal

LAYER_NORM_EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertEmbeddings(keras.layers.Layer):
    """Official `bert/embeddings`: sum of three tables, LayerNorm, dropout.

    Call args:
        input_ids: int [batch, seq_len].
        segment_ids: int [batch, seq_len].
    Returns:
        float [batch, seq_len, embedding_size].

    Variables (official names): `word_embeddings` [V, E], `token_type_embeddings`
    [type_vocab_size, E], `position_embeddings` [max_position_embeddings, E] and
    `LayerNorm/{gamma,beta}`.
    """

    def __init__(self, vocab_size, embedding_size, max_position_embeddings=512,
                 type_vocab_size=2, dropout_rate=0.0, initializer_range=0.02,
                 use_one_hot_embeddings=False, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.dropout_rate = dropout_rate
        self.initializer_range = initializer_range
        self.use_one_hot_embeddings = use_one_hot_embeddings
        # LayerNorm statistics always in float32, also under mixed precision.
        self.layer_norm = keras.layers.LayerNormalization(
            axis=-1, epsilon=LAYER_NORM_EPSILON, dtype="float32", name="LayerNorm")
        self.dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy,
                                            name="dropout")

    def build(self, input_shape=None):
        init = truncated_normal(self.initializer_range)
        self.word_embeddings = self.add_weight(
            shape=(self.vocab_size, self.embedding_size), initializer=init,
            name="word_embeddings")
        self.token_type_embeddings = self.add_weight(
            shape=(self.type_vocab_size, self.embedding_size), initializer=init,
            name="token_type_embeddings")
        self.position_embeddings = self.add_weight(
            shape=(self.max_position_embeddings, self.embedding_size), initializer=init,
            name="position_embeddings")
        self.layer_norm.build((None, None, self.embedding_size))
        self.built = True

    def _lookup(self, table, ids, depth, one_hot):
        table = ops.cast(table, self.compute_dtype)
        if one_hot:
            # TPU-friendly: a matmul instead of a gather.
            return ops.matmul(ops.one_hot(ids, depth, dtype=self.compute_dtype), table)
        return ops.take(table, ids, axis=0)

    def call(self, input_ids, segment_ids, training=None):
        input_ids = ops.cast(input_ids, "int32")
        segment_ids = ops.cast(segment_ids, "int32")
        words = self._lookup(self.word_embeddings, input_ids, self.vocab_size,
                             self.use_one_hot_embeddings)
        # The official code always uses one-hot for the tiny token-type table.
        token_types = self._lookup(self.token_type_embeddings, segment_ids,
                                   self.type_vocab_size, True)
        seq_len = ops.shape(input_ids)[1]
        positions = ops.cast(self.position_embeddings, self.compute_dtype)[:seq_len]
        output = words + token_types + positions[None, :, :]
        output = self.layer_norm(output)
        output = ops.cast(output, self.compute_dtype)
        return self.dropout(output, training=training)

    def compute_output_shape(self, input_ids_shape, segment_ids_shape=None):
        return tuple(input_ids_shape) + (self.embedding_size,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocab_size": self.vocab_size,
            "embedding_size": self.embedding_size,
            "max_position_embeddings": self.max_position_embeddings,
            "type_vocab_size": self.type_vocab_size,
            "dropout_rate": self.dropout_rate,
            "initializer_range": self.initializer_range,
            "use_one_hot_embeddings": self.use_one_hot_embeddings,
        })
        return config
