"""SQuAD task models: `AlbertSquadV1` (v1.1) and `AlbertSquadV2` (v2.0, official ALBERT head)."""

import keras

from albert_tf.modeling.encoder import AlbertEncoder, encoder_inputs
from albert_tf.modeling.heads.squad import AlbertSquadSpanHead, AlbertSquadV2Head
from albert_tf.modeling.models.classifier import HEAD_INITIALIZER_RANGE

ENCODER_INPUTS = ("input_ids", "input_mask", "segment_ids")


def _dense_variables(layer, official_prefix):
    names = {f"{official_prefix}/kernel": layer.kernel}
    if layer.bias is not None:
        names[f"{official_prefix}/bias"] = layer.bias
    return names


def _make_encoder(config, encoder, hidden_dropout_prob, attention_probs_dropout_prob,
                  use_one_hot_embeddings, dtype, model_name):
    if encoder is not None:
        return encoder
    if config is None:
        raise ValueError(f"{model_name} needs a config or an encoder")
    return AlbertEncoder(config, hidden_dropout_prob=hidden_dropout_prob,
                         attention_probs_dropout_prob=attention_probs_dropout_prob,
                         use_one_hot_embeddings=use_one_hot_embeddings, dtype=dtype)


def _freeze_pooler(encoder):
    """The SQuAD heads read the token vectors only, so the pooler gets no gradient.

    The official optimizer skips variables without a gradient, leaving the pooler
    as loaded; freezing it does the same and keeps the gradient list free of
    None. Its weights are still loaded and saved under `bert/pooler/dense`.
    """
    encoder.pooler.trainable = False


def _deserialize_encoder(config):
    config = dict(config)
    config["encoder"] = keras.saving.deserialize_keras_object(
        config["encoder"], custom_objects={"AlbertEncoder": AlbertEncoder})
    return config


def _span_outputs(span_head, encoder_outputs):
    """`AlbertSquadV1`'s outputs from the encoder's: its functional graph and
    `head_outputs`."""
    start_logits, end_logits = span_head(encoder_outputs["sequence_output"])
    return {"start_logits": start_logits, "end_logits": end_logits}


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSquadV1(keras.Model):
    """ALBERT for SQuAD v1.1 (official `run_squad_v1.py`): `bert/*` + `cls/squad`.

    Inputs (dict, int32 [batch, seq_len]): `input_ids`, `input_mask`, `segment_ids`.
    Outputs (dict): `start_logits`, `end_logits`, float32 [batch, seq_len].

    Args:
        config: `AlbertConfig` (or dict); ignored when `encoder` is given.
        encoder: an existing `AlbertEncoder`.
        Other keyword arguments go to `AlbertEncoder`.
    """

    def __init__(self, config=None, encoder=None, hidden_dropout_prob=None,
                 attention_probs_dropout_prob=None, use_one_hot_embeddings=False, dtype=None,
                 name="albert_squad_v1", **kwargs):
        encoder = _make_encoder(config, encoder, hidden_dropout_prob,
                                attention_probs_dropout_prob, use_one_hot_embeddings, dtype,
                                "AlbertSquadV1")
        config = encoder.albert_config
        _freeze_pooler(encoder)

        # === Layers ===
        # Official create_v1_model: stddev 0.02 whatever the config says.
        span_head = AlbertSquadSpanHead(initializer_range=HEAD_INITIALIZER_RANGE,
                                        dtype=encoder.layers_dtype_policy, name="squad_span")

        # === Functional graph ===
        inputs = encoder_inputs()
        outputs = _span_outputs(span_head, encoder(inputs))
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, name=name, **kwargs)

        # === State ===
        self.encoder = encoder
        self.span_head = span_head
        self.albert_config = config

    def head_outputs(self, encoder_outputs, training=None):
        """The model's outputs (start_logits, end_logits float32 [batch, seq_len]) from
        the encoder's outputs on its inputs (`sequence_output` [batch, seq_len,
        hidden_size]). The head has no dropout: `training` changes nothing."""
        del training
        return _span_outputs(self.span_head, encoder_outputs)

    def official_head_variables(self):
        """{official TF1 name: variable} of the head: `cls/squad/output_{weights,bias}`."""
        projection = self.span_head.output_projection
        return {"cls/squad/output_weights": projection.output_weights,
                "cls/squad/output_bias": projection.output_bias}

    def get_config(self):
        return {"encoder": keras.saving.serialize_keras_object(self.encoder),
                "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_encoder(config))


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSquadV2(keras.Model):
    """ALBERT for SQuAD v2.0 with the official head (official `run_squad_v2.py`).

    Inputs (dict, int32): `input_ids`, `input_mask`, `segment_ids`, `p_mask`
    [batch, seq_len] and, to train, `start_positions` [batch].

    Outputs: see `AlbertSquadV2Head`. With `start_positions` (training, or
    evaluating a loss) the end logits are conditioned on the gold start;
    without them the model searches the top starts and ends, as the official
    PREDICT mode. This is why it is a subclassed model: the two modes return
    different outputs. Dropout follows `training` as usual.

    Args:
        config: `AlbertConfig` (or dict); ignored when `encoder` is given.
        encoder: an existing `AlbertEncoder`.
        start_n_top, end_n_top: beam sizes of the inference search (official 5, 5).
        dropout_prob: dropout in the answer-class layer (official `--dropout_prob`).
        Other keyword arguments go to `AlbertEncoder`.
    """

    def __init__(self, config=None, encoder=None, start_n_top=5, end_n_top=5, dropout_prob=0.1,
                 hidden_dropout_prob=None, attention_probs_dropout_prob=None,
                 use_one_hot_embeddings=False, dtype=None, name="albert_squad_v2", **kwargs):
        encoder = _make_encoder(config, encoder, hidden_dropout_prob,
                                attention_probs_dropout_prob, use_one_hot_embeddings, dtype,
                                "AlbertSquadV2")
        for field, value in (("start_n_top", start_n_top), ("end_n_top", end_n_top)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{field} must be a positive integer, got {value!r}")
        super().__init__(dtype=dtype, name=name, **kwargs)
        config = encoder.albert_config
        _freeze_pooler(encoder)
        self.encoder = encoder
        self.albert_config = config
        self.start_n_top = start_n_top
        self.end_n_top = end_n_top
        self.dropout_prob = dropout_prob
        self.squad_head = AlbertSquadV2Head(
            config.hidden_size, start_n_top=start_n_top, end_n_top=end_n_top,
            dropout_prob=dropout_prob, initializer_range=config.initializer_range,
            dtype=encoder.layers_dtype_policy, name="squad_v2")
        # Built here so that the weights exist (and checkpoints load) before a call.
        self.squad_head.build((None, None, config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        encoded = self.encoder({k: inputs[k] for k in ENCODER_INPUTS}, training=training)
        return self.head_outputs(encoded, inputs["p_mask"], inputs.get("start_positions"),
                                 training=training)

    def head_outputs(self, encoder_outputs, p_mask, start_positions=None, training=None):
        """The model's outputs (see `AlbertSquadV2Head`) from the encoder's outputs on
        its inputs (`sequence_output` [batch, seq_len, hidden_size]), p_mask [batch,
        seq_len] and optional start_positions [batch]."""
        return self.squad_head(encoder_outputs["sequence_output"], p_mask,
                               start_positions=start_positions, training=training)

    def official_head_variables(self):
        """{official TF1 name: variable} of the head, as `create_v2_model` names them."""
        head = self.squad_head
        names = {}
        names.update(_dense_variables(head.start_dense, "start_logits/dense"))
        names.update(_dense_variables(head.end_dense_0, "end_logits/dense_0"))
        names["end_logits/LayerNorm/gamma"] = head.end_layer_norm.gamma
        names["end_logits/LayerNorm/beta"] = head.end_layer_norm.beta
        names.update(_dense_variables(head.end_dense_1, "end_logits/dense_1"))
        names.update(_dense_variables(head.answer_dense_0, "answer_class/dense_0"))
        names.update(_dense_variables(head.answer_dense_1, "answer_class/dense_1"))
        return names

    def get_config(self):
        return {"encoder": keras.saving.serialize_keras_object(self.encoder),
                "start_n_top": self.start_n_top, "end_n_top": self.end_n_top,
                "dropout_prob": self.dropout_prob, "name": self.name,
                "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_encoder(config))
