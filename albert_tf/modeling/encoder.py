"""`AlbertEncoder`: the ALBERT network (official scope `bert`) as a Keras model."""

import keras

from albert_tf.config import AlbertConfig
from albert_tf.modeling.initializers import truncated_normal
from albert_tf.modeling.layers import AlbertEmbeddings, AlbertTransformer, attention_bias


def as_albert_config(config):
    """Accepts an `AlbertConfig` or its dict form."""
    if isinstance(config, AlbertConfig):
        return config
    if isinstance(config, dict):
        return AlbertConfig.from_dict(config)
    raise TypeError(f"config must be an AlbertConfig or a dict, got {type(config).__name__}")


def encoder_inputs(name_prefix=""):
    """Symbolic int32 inputs `input_ids`, `input_mask`, `segment_ids`, [batch, seq_len]."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name_prefix + name)
            for name in ("input_ids", "input_mask", "segment_ids")}


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertEncoder(keras.Model):
    """Factorised embeddings, the shared transformer stack and the tanh pooler.

    Inputs (dict, int32 [batch, seq_len]; seq_len may vary between calls, up to
    `max_position_embeddings`): `input_ids`, `input_mask` (1 = token, 0 = padding),
    `segment_ids`.

    Outputs (dict):
        sequence_output: [batch, seq_len, hidden_size], the last layer.
        pooled_output: [batch, hidden_size], tanh(dense(sequence_output[:, 0])).
        encoder_outputs: list of num_hidden_layers * inner_group_num tensors
            [batch, seq_len, hidden_size], every inner layer's output.
        embedding_output: [batch, seq_len, embedding_size], after LayerNorm and
            dropout, before the E -> H projection.

    Args:
        config: `AlbertConfig` (or its dict).
        hidden_dropout_prob, attention_probs_dropout_prob: override the config's
            dropout, e.g. to fine-tune with dropout a checkpoint pretrained without.
        use_one_hot_embeddings: gather word embeddings by one-hot matmul (TPU).
        attention_implementation: "einsum" (reference) or "fused"
            (`keras.ops.dot_product_attention`; see `AlbertAttention`).
        dtype: a Keras dtype policy such as "mixed_bfloat16"; LayerNorm and the
            attention softmax always compute in float32.
    """

    def __init__(self, config, hidden_dropout_prob=None, attention_probs_dropout_prob=None,
                 use_one_hot_embeddings=False, attention_implementation="einsum", dtype=None,
                 name="albert_encoder", **kwargs):
        config = as_albert_config(config)
        hidden_dropout = (config.hidden_dropout_prob if hidden_dropout_prob is None
                          else hidden_dropout_prob)
        attention_dropout = (config.attention_probs_dropout_prob
                             if attention_probs_dropout_prob is None
                             else attention_probs_dropout_prob)
        policy = keras.dtype_policies.get(dtype) if dtype is not None else None

        # === Layers (names follow the official variable scopes) ===
        embeddings = AlbertEmbeddings(
            config.vocab_size, config.embedding_size,
            max_position_embeddings=config.max_position_embeddings,
            type_vocab_size=config.type_vocab_size, dropout_rate=hidden_dropout,
            initializer_range=config.initializer_range,
            use_one_hot_embeddings=use_one_hot_embeddings, dtype=policy, name="embeddings")
        # As in the official code and checkpoints, the E -> H projection exists
        # only when the widths differ.
        projection = None
        if config.embedding_size != config.hidden_size:
            projection = keras.layers.Dense(
                config.hidden_size, kernel_initializer=truncated_normal(config.initializer_range),
                dtype=policy, name="embedding_hidden_mapping_in")
        transformer = AlbertTransformer(
            config.num_hidden_layers, config.num_hidden_groups, config.inner_group_num,
            config.hidden_size, config.num_attention_heads, config.intermediate_size,
            hidden_act=config.hidden_act, hidden_dropout_rate=hidden_dropout,
            attention_dropout_rate=attention_dropout,
            initializer_range=config.initializer_range,
            attention_implementation=attention_implementation, dtype=policy, name="transformer")
        pooler = keras.layers.Dense(
            config.hidden_size, activation="tanh",
            kernel_initializer=truncated_normal(config.initializer_range), dtype=policy,
            name="pooler")

        # === Functional graph ===
        inputs = encoder_inputs()
        embedding_output = embeddings(inputs["input_ids"], inputs["segment_ids"])
        hidden = embedding_output if projection is None else projection(embedding_output)
        bias = attention_bias(inputs["input_mask"])
        encoder_outputs = transformer(hidden, bias=bias)
        sequence_output = encoder_outputs[-1]
        pooled_output = pooler(sequence_output[:, 0, :])
        outputs = {
            "sequence_output": sequence_output,
            "pooled_output": pooled_output,
            "encoder_outputs": list(encoder_outputs),
            "embedding_output": embedding_output,
        }
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, name=name, **kwargs)
        # A functional model does not keep the `dtype` policy it was given; remember the
        # one its layers compute with, for heads built on top and for get_config.
        self.layers_dtype_policy = pooler.dtype_policy

        # === State ===
        self.albert_config = config
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.use_one_hot_embeddings = use_one_hot_embeddings
        self.attention_implementation = attention_implementation
        self.embeddings = embeddings
        self.embedding_projection = projection
        self.transformer = transformer
        self.pooler = pooler

    def get_embedding_table(self):
        """The word embeddings [vocab_size, embedding_size] (tied to the MLM decoder)."""
        return self.embeddings.word_embeddings

    def get_config(self):
        return {
            "config": self.albert_config.to_dict(),
            "hidden_dropout_prob": self.hidden_dropout_prob,
            "attention_probs_dropout_prob": self.attention_probs_dropout_prob,
            "use_one_hot_embeddings": self.use_one_hot_embeddings,
            "attention_implementation": self.attention_implementation,
            "dtype": keras.dtype_policies.serialize(self.layers_dtype_policy),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
