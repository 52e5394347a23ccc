"""`AlbertPretrainer`: encoder + masked-LM head + sentence-order head."""

import keras
from keras import ops

from albert_tf.modeling.encoder import AlbertEncoder, encoder_inputs
from albert_tf.modeling.heads import AlbertMaskedLMHead, OutputProjection


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertPretrainer(keras.Model):
    """The official pretraining model (`bert/*` + `cls/predictions` + `cls/seq_relationship`).

    Inputs (dict, int32): `input_ids`, `input_mask`, `segment_ids` [batch, seq_len] and
    `masked_lm_positions` [batch, P].

    Outputs (dict):
        sequence_output: [batch, seq_len, hidden_size].
        pooled_output: [batch, hidden_size].
        mlm_logits: float32 [batch, P, vocab_size], only at the masked positions.
        sop_logits: float32 [batch, 2] (label 1 = segments swapped / random).

    Args:
        config: `AlbertConfig` (or dict); ignored when `encoder` is given.
        encoder: an existing `AlbertEncoder` to put the heads on.
        Other keyword arguments go to `AlbertEncoder`.
    """

    def __init__(self, config=None, encoder=None, hidden_dropout_prob=None,
                 attention_probs_dropout_prob=None, use_one_hot_embeddings=False,
                 attention_implementation="einsum", dtype=None, name="albert_pretrainer",
                 **kwargs):
        if encoder is None:
            if config is None:
                raise ValueError("AlbertPretrainer needs a config or an encoder")
            encoder = AlbertEncoder(
                config, hidden_dropout_prob=hidden_dropout_prob,
                attention_probs_dropout_prob=attention_probs_dropout_prob,
                use_one_hot_embeddings=use_one_hot_embeddings,
                attention_implementation=attention_implementation, dtype=dtype)
        config = encoder.albert_config
        policy = encoder.layers_dtype_policy

        # === Layers ===
        masked_lm = AlbertMaskedLMHead(
            config.vocab_size, config.embedding_size, hidden_act=config.hidden_act,
            initializer_range=config.initializer_range, embeddings=encoder.embeddings,
            dtype=policy, name="predictions")
        sentence_order = OutputProjection(
            2, initializer_range=config.initializer_range, dtype=policy,
            name="seq_relationship")

        # === Functional graph ===
        inputs = encoder_inputs()
        inputs["masked_lm_positions"] = keras.Input(
            shape=(None,), dtype="int32", name="masked_lm_positions")
        encoded = encoder({k: inputs[k] for k in ("input_ids", "input_mask", "segment_ids")})
        outputs = _heads(masked_lm, sentence_order, encoded, inputs["masked_lm_positions"])
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, name=name, **kwargs)

        # === State ===
        self.encoder = encoder
        self.masked_lm = masked_lm
        self.sentence_order = sentence_order
        self.albert_config = config

    def head_outputs(self, encoder_outputs, masked_lm_positions):
        """The model's outputs from the encoder's outputs on its inputs
        (`sequence_output` [batch, seq_len, hidden_size], `pooled_output` [batch,
        hidden_size]; e.g. another graph of the encoder, as the SavedModel export
        runs) and int32 `masked_lm_positions` [batch, P]. No dropout in the heads."""
        return _heads(self.masked_lm, self.sentence_order, encoder_outputs,
                      masked_lm_positions)

    def get_config(self):
        return {
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(
            config["encoder"], custom_objects={"AlbertEncoder": AlbertEncoder})
        return cls(**config)


def _heads(masked_lm, sentence_order, encoded, masked_lm_positions):
    """The pretrainer's outputs: the encoder's, and the MLM and SOP heads' on them."""
    return {
        "sequence_output": encoded["sequence_output"],
        "pooled_output": encoded["pooled_output"],
        "mlm_logits": masked_lm(encoded["sequence_output"], masked_lm_positions),
        "sop_logits": ops.cast(sentence_order(encoded["pooled_output"]), "float32"),
    }
