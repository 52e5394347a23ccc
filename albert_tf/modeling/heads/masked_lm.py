"""`AlbertMaskedLMHead`: official `cls/predictions`, decoder tied to the embeddings."""

import keras
from keras import ops

from albert_tf.modeling.activations import get_activation
from albert_tf.modeling.initializers import truncated_normal
from albert_tf.modeling.layers.layer_norm import layer_norm



def gather_positions(sequence, positions):
    """[batch, seq_len, width] gathered at int [batch, P] -> [batch, P, width]."""
    positions = ops.cast(positions, "int32")
    # expand_dims, not [:, :, None]: converts to LiteRT builtins (see attention_bias).
    return ops.take_along_axis(sequence, ops.expand_dims(positions, -1), axis=1)


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMaskedLMHead(keras.layers.Layer):
    """Masked-LM logits at the masked positions only.

    transform/dense (H -> E, hidden_act), transform/LayerNorm, then the transposed
    word-embedding table [V, E] as decoder, plus a per-token `output_bias` [V].

    Args:
        embeddings: the encoder's `AlbertEmbeddings` layer, whose `word_embeddings`
            is the decoder (weight tying). `get_config` stores its config, so a head
            revived alone owns a copy of the embeddings; a model that owns both the
            encoder and the head (`AlbertPretrainer`) serialises only the encoder and
            ties the rebuilt head to it again, so the table exists once.
    Call args:
        sequence_output: float [batch, seq_len, hidden_size].
        masked_lm_positions: int [batch, P].
    Returns:
        float32 logits [batch, P, vocab_size].
    """

    def __init__(self, vocab_size, embedding_size, hidden_act="gelu", initializer_range=0.02,
                 embeddings=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.hidden_act = hidden_act
        self.initializer_range = initializer_range
        self.embeddings = embeddings
        self.transform_dense = keras.layers.Dense(
            embedding_size, activation=get_activation(hidden_act),
            kernel_initializer=truncated_normal(initializer_range), dtype=self.dtype_policy,
            name="transform_dense")
        self.transform_layer_norm = layer_norm("transform_LayerNorm")

    def build(self, sequence_output_shape, masked_lm_positions_shape=None):
        if self.embeddings is not None and not self.embeddings.built:
            self.embeddings.build()  # A revived head's own copy: the decoder table.
        self.transform_dense.build((None, None, sequence_output_shape[-1]))
        self.transform_layer_norm.build((None, None, self.embedding_size))
        self.output_bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros",
                                           name="output_bias")
        self.built = True

    def call(self, sequence_output, masked_lm_positions):
        if self.embeddings is None:
            raise ValueError("AlbertMaskedLMHead needs the encoder's embeddings layer "
                             "(its word_embeddings are the tied decoder)")
        x = gather_positions(sequence_output, masked_lm_positions)
        x = self.transform_layer_norm(self.transform_dense(x))
        x = ops.cast(x, self.compute_dtype)
        table = ops.cast(self.embeddings.word_embeddings, self.compute_dtype)
        logits = ops.matmul(x, ops.transpose(table))
        return ops.cast(logits, "float32") + ops.cast(self.output_bias, "float32")

    def compute_output_shape(self, sequence_output_shape, masked_lm_positions_shape):
        return (sequence_output_shape[0], masked_lm_positions_shape[1], self.vocab_size)

    def get_config(self):
        config = super().get_config()
        config.update({"vocab_size": self.vocab_size, "embedding_size": self.embedding_size,
                       "hidden_act": self.hidden_act,
                       "initializer_range": self.initializer_range,
                       "embeddings": (None if self.embeddings is None else
                                      keras.saving.serialize_keras_object(self.embeddings))})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("embeddings"), dict):
            config["embeddings"] = keras.saving.deserialize_keras_object(config["embeddings"])
        return cls(**config)
