"""SQuAD heads: the v1.1 span head (`cls/squad`) and the official ALBERT v2.0 head.

Both follow google-research/albert squad_utils.py (`create_v1_model`,
`create_v2_model`) and return float32 logits whatever the compute dtype.
"""

import keras
from keras import ops

from albert_tf.modeling.heads.masked_lm import gather_positions
from albert_tf.modeling.layers.layer_norm import layer_norm
from albert_tf.modeling.heads.output_projection import OutputProjection
from albert_tf.modeling.initializers import truncated_normal

# Official squad_utils masks impossible positions with logit * (1 - p) - 1e30 * p.
MASKED_LOGIT = 1e30


def mask_logits(logits, p_mask):
    """Official p_mask rule on float32 logits [..., T]; p_mask broadcasts to them.

    Done in float32: 1e30 overflows float16.
    """
    p_mask = ops.cast(p_mask, "float32")
    return ops.cast(logits, "float32") * (1.0 - p_mask) - MASKED_LOGIT * p_mask


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSquadSpanHead(keras.layers.Layer):
    """SQuAD v1.1: start and end logits from one projection (official `cls/squad`).

    Call args:
        sequence_output: float [batch, seq_len, hidden_size].
    Returns:
        (start_logits, end_logits): float32 [batch, seq_len] each, unmasked (as official).
    """

    def __init__(self, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_range = initializer_range
        self.output_projection = OutputProjection(
            2, initializer_range=initializer_range, dtype=self.dtype_policy, name="squad")

    def build(self, sequence_output_shape):
        self.output_projection.build(sequence_output_shape)
        self.built = True

    def call(self, sequence_output):
        logits = ops.cast(self.output_projection(sequence_output), "float32")
        return logits[..., 0], logits[..., 1]

    def compute_output_shape(self, sequence_output_shape):
        shape = tuple(sequence_output_shape[:-1])
        return shape, shape

    def get_config(self):
        config = super().get_config()
        config.update({"initializer_range": self.initializer_range})
        return config


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSquadV2Head(keras.layers.Layer):
    """The official ALBERT SQuAD v2.0 head (`create_v2_model`).

    start: dense(H -> 1) over the tokens, masked by p_mask.
    end: for a start token s and every token t, dense_0([h_t ; h_s]) (2H -> H,
        tanh), LayerNorm, dense_1(H -> 1), masked by p_mask. Training
        conditions on the gold start; inference on each of the `start_n_top`
        most likely starts and keeps the `end_n_top` best ends of each.
    answer class: [sum_t softmax(start)_t h_t ; h_CLS] -> dense_0 (2H -> H,
        tanh) -> dropout -> dense_1 (H -> 1, no bias): the no-answer logit.

    Call args:
        sequence_output: float [batch, seq_len, hidden_size].
        p_mask: int [batch, seq_len], 1 where a token cannot be an answer.
        start_positions: optional int [batch]: gold starts (teacher forcing).
    Returns (dict, float32 scores, int32 indices):
        with start_positions: start_logits, end_logits [batch, seq_len] (masked
            logits) and cls_logits [batch];
        without: start_top_log_probs, start_top_index [batch, start_n_top],
            end_top_log_probs, end_top_index [batch, start_n_top * end_n_top]
            (end j of start i at i * end_n_top + j) and cls_logits [batch].
    """

    def __init__(self, hidden_size, start_n_top=5, end_n_top=5, dropout_prob=0.1,
                 initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.start_n_top = start_n_top
        self.end_n_top = end_n_top
        self.dropout_prob = dropout_prob
        self.initializer_range = initializer_range
        policy = self.dtype_policy

        def dense(units, name, activation=None, use_bias=True):
            return keras.layers.Dense(
                units, activation=activation, use_bias=use_bias,
                kernel_initializer=truncated_normal(initializer_range), dtype=policy, name=name)

        # Names after the official scopes start_logits/, end_logits/, answer_class/.
        self.start_dense = dense(1, "start_logits_dense")
        self.end_dense_0 = dense(hidden_size, "end_logits_dense_0", activation="tanh")
        self.end_layer_norm = layer_norm("end_logits_LayerNorm")
        self.end_dense_1 = dense(1, "end_logits_dense_1")
        self.answer_dense_0 = dense(hidden_size, "answer_class_dense_0", activation="tanh")
        self.answer_dropout = keras.layers.Dropout(dropout_prob, dtype=policy,
                                                   name="answer_class_dropout")
        self.answer_dense_1 = dense(1, "answer_class_dense_1", use_bias=False)

    def build(self, sequence_output_shape, p_mask_shape=None, start_positions_shape=None):
        width = self.hidden_size
        self.start_dense.build((None, width))
        self.end_dense_0.build((None, 2 * width))
        self.end_layer_norm.build((None, width))
        self.end_dense_1.build((None, width))
        self.answer_dense_0.build((None, 2 * width))
        self.answer_dense_1.build((None, width))
        self.built = True

    # ------------------------------------------------------------- pieces
    def start_logits(self, sequence_output, p_mask):
        """Masked start logits, float32 [batch, seq_len]."""
        logits = ops.squeeze(self.start_dense(sequence_output), -1)
        return mask_logits(logits, p_mask)

    def end_logits(self, sequence_output, start_states, p_mask):
        """Masked end logits for given start vectors.

        Args:
            sequence_output: [batch, seq_len, hidden_size].
            start_states: [batch, K, hidden_size], the token vectors of K starts.
            p_mask: [batch, seq_len].
        Returns:
            float32 [batch, K, seq_len].
        """
        # dense_0 of the concatenation [h_t ; h_s] is h_t @ W[:H] + h_s @ W[H:]: the
        # token half is computed once instead of once per start (same numbers).
        kernel = ops.cast(self.end_dense_0.kernel, self.compute_dtype)
        bias = ops.cast(self.end_dense_0.bias, self.compute_dtype)
        sequence_output = ops.cast(sequence_output, self.compute_dtype)
        start_states = ops.cast(start_states, self.compute_dtype)
        token_part = ops.matmul(sequence_output, kernel[:self.hidden_size])
        start_part = ops.matmul(start_states, kernel[self.hidden_size:])
        # expand_dims, not None-indexing: converts to LiteRT builtins (see attention_bias).
        hidden = ops.tanh(ops.expand_dims(token_part, 1) + ops.expand_dims(start_part, 2)
                          + bias)
        hidden = ops.cast(self.end_layer_norm(hidden), self.compute_dtype)
        logits = ops.squeeze(self.end_dense_1(hidden), -1)
        return mask_logits(logits, ops.expand_dims(p_mask, 1))

    def answer_logits(self, sequence_output, start_logits, training=None):
        """No-answer logit, float32 [batch], from the masked start logits [batch, seq_len]."""
        start_probs = ops.softmax(ops.cast(start_logits, "float32"), axis=-1)
        sequence = ops.cast(sequence_output, "float32")
        start_feature = ops.einsum("bt,bth->bh", start_probs, sequence)
        cls_feature = sequence[:, 0, :]
        hidden = self.answer_dense_0(ops.concatenate([start_feature, cls_feature], axis=-1))
        hidden = self.answer_dropout(hidden, training=training)
        return ops.cast(ops.squeeze(self.answer_dense_1(hidden), -1), "float32")

    # --------------------------------------------------------------- call
    def call(self, sequence_output, p_mask, start_positions=None, training=None):
        start_logits = self.start_logits(sequence_output, p_mask)
        cls_logits = self.answer_logits(sequence_output, start_logits, training=training)
        if start_positions is not None:
            positions = ops.reshape(ops.cast(start_positions, "int32"), (-1, 1))
            start_states = gather_positions(sequence_output, positions)
            end_logits = self.end_logits(sequence_output, start_states, p_mask)[:, 0, :]
            return {"start_logits": start_logits, "end_logits": end_logits,
                    "cls_logits": cls_logits}

        start_log_probs = ops.log_softmax(start_logits, axis=-1)
        start_top_log_probs, start_top_index = ops.top_k(start_log_probs, self.start_n_top)
        start_top_index = ops.cast(start_top_index, "int32")
        start_states = gather_positions(sequence_output, start_top_index)
        end_log_probs = ops.log_softmax(
            self.end_logits(sequence_output, start_states, p_mask), axis=-1)
        end_top_log_probs, end_top_index = ops.top_k(end_log_probs, self.end_n_top)
        flat = (-1, self.start_n_top * self.end_n_top)
        return {
            "start_top_log_probs": start_top_log_probs,
            "start_top_index": start_top_index,
            "end_top_log_probs": ops.reshape(end_top_log_probs, flat),
            "end_top_index": ops.reshape(ops.cast(end_top_index, "int32"), flat),
            "cls_logits": cls_logits,
        }

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_size": self.hidden_size, "start_n_top": self.start_n_top,
                       "end_n_top": self.end_n_top, "dropout_prob": self.dropout_prob,
                       "initializer_range": self.initializer_range})
        return config
