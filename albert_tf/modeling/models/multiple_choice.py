"""`AlbertMultipleChoice`: one score per choice, softmax over the choices (RACE)."""

import keras
from keras import ops

from albert_tf.modeling.encoder import AlbertEncoder
from albert_tf.modeling.heads import OutputProjection
# Official `race_utils.create_model` draws the head with a fixed stddev 0.02, as GLUE's.
from albert_tf.modeling.models.classifier import HEAD_INITIALIZER_RANGE

INPUT_NAMES = ("input_ids", "input_mask", "segment_ids")


def _head(dropout, classifier, unfold, encoder_outputs, training=None):
    """The model's outputs from the encoder's: the functional graph and `head_outputs`."""
    logits = classifier(dropout(encoder_outputs["pooled_output"], training=training))
    return {"logits": ops.cast(unfold(logits), "float32")}


@keras.saving.register_keras_serializable(package="albert_tf")
class _FoldChoices(keras.layers.Layer):
    """[batch, num_choices, seq_len] -> [batch * num_choices, seq_len]."""

    def call(self, x):
        return ops.reshape(x, (-1, ops.shape(x)[-1]))

    def compute_output_shape(self, input_shape):
        batch, choices = input_shape[0], input_shape[1]
        folded = None if batch is None or choices is None else batch * choices
        return (folded, input_shape[-1])


@keras.saving.register_keras_serializable(package="albert_tf")
class _UnfoldChoices(keras.layers.Layer):
    """[batch * num_choices, 1] -> [batch, num_choices]."""

    def __init__(self, num_choices, **kwargs):
        super().__init__(**kwargs)
        self.num_choices = num_choices

    def call(self, x):
        return ops.reshape(x, (-1, self.num_choices))

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        return (None if batch is None else batch // self.num_choices, self.num_choices)


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMultipleChoice(keras.Model):
    """Multiple choice as official `run_race.py`.

    Each of the `num_choices` sequences of an example goes through the encoder
    separately; logit_c = dropout(pooled_output_c) @ output_weights^T + output_bias
    with `output_weights` [1, hidden_size] and `output_bias` [1] at the top level of
    the official checkpoint; the loss is a softmax over the choices.

    Inputs (dict, int32 [batch, num_choices, seq_len]): `input_ids`, `input_mask`,
    `segment_ids`.

    Outputs (dict):
        logits: float32 [batch, num_choices].

    Args:
        config: `AlbertConfig` (or dict); ignored when `encoder` is given.
        num_choices: options per question (RACE: 4).
        encoder: an existing `AlbertEncoder`.
        dropout_prob: dropout on the pooled output (official `--dropout_prob`, 0.1).
        hidden_dropout_prob, attention_probs_dropout_prob: the encoder's dropout,
            overriding the config (the paper's "ALBERT DR").
        use_one_hot_embeddings, dtype: see `AlbertEncoder`.
    """

    def __init__(self, config=None, num_choices=4, encoder=None, dropout_prob=0.1,
                 hidden_dropout_prob=None, attention_probs_dropout_prob=None,
                 use_one_hot_embeddings=False, dtype=None, name="albert_multiple_choice",
                 **kwargs):
        if isinstance(num_choices, bool) or not isinstance(num_choices, int) or num_choices < 2:
            raise ValueError(f"num_choices must be an integer >= 2, got {num_choices!r}")
        if not 0.0 <= dropout_prob < 1.0:
            raise ValueError(f"dropout_prob must be in [0, 1), got {dropout_prob!r}")
        if encoder is None:
            if config is None:
                raise ValueError("AlbertMultipleChoice needs a config or an encoder")
            encoder = AlbertEncoder(
                config, hidden_dropout_prob=hidden_dropout_prob,
                attention_probs_dropout_prob=attention_probs_dropout_prob,
                use_one_hot_embeddings=use_one_hot_embeddings, dtype=dtype)
        # The encoder's sublayers carry its policy; `encoder.dtype_policy` itself reads
        # float32 even when built with dtype="mixed_bfloat16".
        policy = encoder.pooler.dtype_policy

        # === Layers ===
        fold = _FoldChoices(dtype=policy, name="fold_choices")
        dropout = keras.layers.Dropout(dropout_prob, dtype=policy, name="classifier_dropout")
        classifier = OutputProjection(1, initializer_range=HEAD_INITIALIZER_RANGE,
                                      dtype=policy, name="classifier")
        unfold = _UnfoldChoices(num_choices, dtype=policy, name="unfold_choices")

        # === Functional graph ===
        inputs = {name: keras.Input(shape=(num_choices, None), dtype="int32", name=name)
                  for name in INPUT_NAMES}
        outputs = _head(dropout, classifier, unfold,
                        encoder({name: fold(inputs[name]) for name in INPUT_NAMES}))
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, name=name, **kwargs)

        # === State ===
        self.encoder = encoder
        self.classifier_dropout = dropout
        self.classifier = classifier
        self.albert_config = encoder.albert_config
        self.num_choices = num_choices
        self.dropout_prob = dropout_prob

    def head_outputs(self, encoder_outputs, training=None):
        """The model's outputs ({"logits": [batch, num_choices]}) from the encoder's
        outputs on its inputs with the choices folded into the batch (`pooled_output`
        [batch * num_choices, hidden_size], rows in [batch, num_choices] order)."""
        return _head(self.classifier_dropout, self.classifier,
                     self.get_layer("unfold_choices"), encoder_outputs, training)

    def official_head_variables(self):
        """{official TF1 name: variable} of the head (`output_weights`, `output_bias`)."""
        return {"output_weights": self.classifier.output_weights,
                "output_bias": self.classifier.output_bias}

    def get_config(self):
        return {
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_choices": self.num_choices,
            "dropout_prob": self.dropout_prob,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(
            config["encoder"], custom_objects={"AlbertEncoder": AlbertEncoder})
        return cls(**config)
