"""`AlbertClassifier`: encoder + the official GLUE head (dropout, `output_weights`)."""

import keras
from keras import ops

from albert_tf.modeling.encoder import AlbertEncoder, encoder_inputs
from albert_tf.modeling.heads import OutputProjection

# Official `classifier_utils.create_model` draws the head with a fixed stddev 0.02,
# not the config's initializer_range.
HEAD_INITIALIZER_RANGE = 0.02


def _head(dropout, classifier, encoder_outputs, training=None):
    """The model's outputs from the encoder's: the functional graph and `head_outputs`."""
    pooled_output = encoder_outputs["pooled_output"]
    logits = ops.cast(classifier(dropout(pooled_output, training=training)), "float32")
    return {"logits": logits, "pooled_output": pooled_output}


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertClassifier(keras.Model):
    """Sentence (pair) classification or regression, as official `run_classifier.py`.

    logits = dropout(pooled_output) @ output_weights^T + output_bias, with the head
    variables at the top level of the official checkpoint (`output_weights`
    [num_labels, hidden_size], `output_bias` [num_labels]).

    Inputs (dict, int32 [batch, seq_len]): `input_ids`, `input_mask`, `segment_ids`.

    Outputs (dict):
        logits: float32 [batch, num_labels]; STS-B uses num_labels=1 (the score).
        pooled_output: [batch, hidden_size].

    Args:
        config: `AlbertConfig` (or dict); ignored when `encoder` is given.
        num_labels: classes (1 for regression).
        encoder: an existing `AlbertEncoder`.
        dropout_prob: the classifier's dropout on the pooled output (official 0.1).
        hidden_dropout_prob, attention_probs_dropout_prob: the encoder's dropout,
            overriding the config (the paper's "ALBERT DR").
        use_one_hot_embeddings, dtype: see `AlbertEncoder`.
        label_list: the label names (position = label id), carried into `.keras`
            files and the export formats; None: unnamed ("0", "1", ...).
    """

    def __init__(self, config=None, num_labels=2, encoder=None, dropout_prob=0.1,
                 hidden_dropout_prob=None, attention_probs_dropout_prob=None,
                 use_one_hot_embeddings=False, dtype=None, name="albert_classifier",
                 label_list=None, **kwargs):
        if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1:
            raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
        if not 0.0 <= dropout_prob < 1.0:
            raise ValueError(f"dropout_prob must be in [0, 1), got {dropout_prob!r}")
        if label_list is not None:
            label_list = [str(label) for label in label_list]
            if len(label_list) != num_labels:
                raise ValueError(f"label_list has {len(label_list)} labels "
                                 f"({', '.join(label_list)}), num_labels is {num_labels}")
        if encoder is None:
            if config is None:
                raise ValueError("AlbertClassifier needs a config or an encoder")
            encoder = AlbertEncoder(
                config, hidden_dropout_prob=hidden_dropout_prob,
                attention_probs_dropout_prob=attention_probs_dropout_prob,
                use_one_hot_embeddings=use_one_hot_embeddings, dtype=dtype)
        # The encoder's sublayers carry its policy; `encoder.dtype_policy` itself reads
        # float32 even when built with dtype="mixed_bfloat16".
        policy = encoder.pooler.dtype_policy

        # === Layers ===
        dropout = keras.layers.Dropout(dropout_prob, dtype=policy, name="classifier_dropout")
        classifier = OutputProjection(num_labels, initializer_range=HEAD_INITIALIZER_RANGE,
                                      dtype=policy, name="classifier")

        # === Functional graph ===
        inputs = encoder_inputs()
        outputs = _head(dropout, classifier, encoder(inputs))
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, name=name, **kwargs)

        # === State ===
        self.encoder = encoder
        self.classifier_dropout = dropout
        self.classifier = classifier
        self.albert_config = encoder.albert_config
        self.num_labels = num_labels
        self.dropout_prob = dropout_prob
        self.label_list = label_list

    def head_outputs(self, encoder_outputs, training=None):
        """The model's outputs (logits, pooled_output) from the encoder's outputs on its
        inputs (`pooled_output` [batch, hidden_size]; e.g. another graph of the
        encoder, as the SavedModel export runs)."""
        return _head(self.classifier_dropout, self.classifier, encoder_outputs, training)

    def official_head_variables(self):
        """{official TF1 name: variable} of the head (`output_weights`, `output_bias`)."""
        return {"output_weights": self.classifier.output_weights,
                "output_bias": self.classifier.output_bias}

    def get_config(self):
        return {
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_labels": self.num_labels,
            "dropout_prob": self.dropout_prob,
            "label_list": None if self.label_list is None else list(self.label_list),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(
            config["encoder"], custom_objects={"AlbertEncoder": AlbertEncoder})
        return cls(**config)
