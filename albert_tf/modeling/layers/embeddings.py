"""`AlbertEmbeddings`: word + position + token-type embeddings at width E."""

import keras
import numpy as np
from keras import ops

from albert_tf.modeling.initializers import truncated_normal
from albert_tf.modeling.layers.layer_norm import layer_norm



def _concrete_values(x):
    """`x` as a NumPy array when it holds values, None when it is symbolic or traced."""
    if isinstance(x, (np.ndarray, list, tuple)):
        return np.asarray(x)
    if keras.backend.is_keras_tensor(x):
        return None
    try:
        return keras.ops.convert_to_numpy(x)
    except (NotImplementedError, ValueError, TypeError, RuntimeError):
        # A tf.function graph tensor (NotImplementedError) or a JAX tracer (TypeError).
        return None


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
        self.layer_norm = layer_norm("LayerNorm")
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

    def check_inputs(self, input_ids, segment_ids):
        """Raises ValueError for a sequence longer than the position table and, when
        the ids hold values (eager calls, NumPy), for ids outside their tables.

        A gather would otherwise read a negative id as one counted from the end of
        the table (-1 -> vocab_size - 1) and, on GPUs, an id past the end as zeros.
        Traced calls (tf.function, jit, export) are not checked per step: the
        input pipeline checks them (`albert_tf.data.input_checks`).
        """
        seq_len = input_ids.shape[1] if len(input_ids.shape) > 1 else None
        if seq_len is not None and seq_len > self.max_position_embeddings:
            raise ValueError(
                f"{self.name}: sequence length {seq_len} exceeds the config's "
                f"max_position_embeddings ({self.max_position_embeddings}); truncate the "
                f"input to at most {self.max_position_embeddings} tokens")
        for name, ids, field, size in (("input_ids", input_ids, "vocab_size", self.vocab_size),
                                       ("segment_ids", segment_ids, "type_vocab_size",
                                        self.type_vocab_size)):
            values = _concrete_values(ids)
            if values is None or values.size == 0:
                continue
            bad = (values < 0) | (values >= size)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{self.name}: {name} must be in [0, {field}={size}), got "
                    f"{values[where]} at index {list(where)} ({int(bad.sum())} out of range)")

    def call(self, input_ids, segment_ids, training=None):
        self.check_inputs(input_ids, segment_ids)
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
