"""The encoder's inference graph for SavedModel signatures, in TensorFlow ops that
TensorFlow's CPU graph optimizer fuses.

`AlbertEncoder` (Keras, also run on JAX) traced as it is gives TensorFlow's
executor about 1,500 small ops per call at batch 1: every one of the 12 layers
reads the shared weights again, the tanh GELU and every LayerNorm run as
separate element-wise ops, and each reshape computes its shape from `Shape` and
`StridedSlice` ops. The same arithmetic, written here with the patterns that
Grappler's oneDNN remapper recognises, runs as far fewer, fused kernels:

  MatMul + BiasAdd + tf.nn.gelu(approximate=True)  -> one fused MatMul
  (the official GELU is this tanh approximation)
  Reshape + FusedBatchNormV3 (training mode) + Mul + Add -> one LayerNorm kernel
  (the Keras 2 `LayerNormalization` graph; normalises each row, as ours)
  BatchMatMul + Mul(scale) + Add(mask bias)     -> one fused BatchMatMul

Every variable is read once per call (query, key and value kernels are
concatenated then, once, into one [hidden, 3 * hidden] projection: at batch 1
one wide MatMul and one head-splitting transpose beat three of each, 2-4 % of
the call), and the token-type lookup is a gather
(the model's one-hot matmul picks the same row exactly). Stock TensorFlow ops
only: the graph runs in any model server or session loader, with or without
oneDNN, where the fusions simply do not happen. Outputs equal the Keras
model's to float32 rounding (tested to 1e-5).

Only float32 encoders take this path (`supports(encoder)`); other dtype
policies keep the Keras graph.
"""

import math

import tensorflow as tf

from albert_tf.config import layer_group
from albert_tf.export.variables import tf_variables
from albert_tf.modeling.activations import get_activation

# `hidden_act` values that are the official tanh-approximated GELU.
_TANH_GELU = ("gelu", "gelu_new")


def supports(encoder):
    """Whether `encoder` (an `AlbertEncoder`) computes in float32 throughout."""
    policy = encoder.layers_dtype_policy
    return policy.compute_dtype == "float32" and policy.variable_dtype == "float32"


def _read(variable):
    """One read of the `tf.Variable` behind a Keras variable."""
    return tf.convert_to_tensor(tf_variables([variable])[0])


def _dense(dense):
    """(kernel, bias) tensors of a Keras `Dense`."""
    return _read(dense.kernel), _read(dense.bias)


def _layer_norm_weights(layer):
    return _read(layer.gamma), _read(layer.beta), float(layer.epsilon)


def _affine(x, weights):
    """x [rows, in] @ kernel + bias, as MatMul + BiasAdd (a fusable pair)."""
    kernel, bias = weights
    return tf.nn.bias_add(tf.matmul(x, kernel), bias)


def _layer_norm(x, weights):
    """LayerNorm of each row of x [rows, width].

    FusedBatchNormV3 in training mode over x viewed as NCHW [1, rows, width, 1]
    normalises every row by its own mean and (biased) variance. Its unit scale
    and zero offset are made here, per LayerNorm: oneDNN's remapper fuses the
    pattern only when nothing else reads them.
    """
    gamma, beta, epsilon = weights
    width = x.shape[-1]
    rows = tf.shape(x)[0]
    normalised, _, _ = tf.compat.v1.nn.fused_batch_norm(
        tf.reshape(x, [1, rows, width, 1]), tf.ones([rows]), tf.zeros([rows]),
        epsilon=epsilon,
        data_format="NCHW", is_training=True)
    return tf.reshape(normalised, [rows, width]) * gamma + beta


class _Layer:
    """The weights of one `AlbertTransformerLayer`, read once per call."""

    def __init__(self, layer):
        attention = layer.attention
        # Query, key and value as one [hidden, 3 * hidden] projection: one wider
        # MatMul runs faster than three narrow ones at batch 1, and one transpose
        # then splits the heads of all three. Concatenated once per call.
        projections = [_dense(attention.query), _dense(attention.key),
                       _dense(attention.value)]
        self.query_key_value = (tf.concat([kernel for kernel, _ in projections], axis=1),
                                tf.concat([bias for _, bias in projections], axis=0))
        self.attention_output = _dense(attention.output_dense)
        self.attention_norm = _layer_norm_weights(layer.attention_layer_norm)
        self.intermediate = _dense(layer.intermediate_dense)
        self.output = _dense(layer.output_dense)
        self.output_norm = _layer_norm_weights(layer.output_layer_norm)
        self.heads = attention.num_attention_heads
        self.head_size = attention.head_size
        self.hidden_act = layer.hidden_act


def _activate(x, hidden_act):
    if isinstance(hidden_act, str) and hidden_act.lower() in _TANH_GELU:
        return tf.nn.gelu(x, approximate=True)
    activation = get_activation(hidden_act)
    return x if activation is None else activation(x)


def _transformer_layer(hidden, weights, batch, seq_len, mask_bias):
    """One post-LN block on hidden [batch * seq_len, hidden_size]."""
    heads, head_size = weights.heads, weights.head_size

    # [batch * seq, 3 * hidden] -> [3, batch, heads, seq, head_size]
    query_key_value = tf.transpose(
        tf.reshape(_affine(hidden, weights.query_key_value),
                   [batch, seq_len, 3, heads, head_size]), [2, 0, 3, 1, 4])
    query, key, value = tf.unstack(query_key_value, num=3)
    scores = tf.matmul(query, key, transpose_b=True) * (1.0 / math.sqrt(head_size))
    probs = tf.nn.softmax(scores + mask_bias, axis=-1)
    context = tf.reshape(tf.transpose(tf.matmul(probs, value), [0, 2, 1, 3]),
                         [-1, heads * head_size])
    attention = _layer_norm(_affine(context, weights.attention_output) + hidden,
                            weights.attention_norm)
    intermediate = _activate(_affine(attention, weights.intermediate), weights.hidden_act)
    return _layer_norm(_affine(intermediate, weights.output) + attention,
                       weights.output_norm)


def encode(encoder, input_ids, input_mask, segment_ids):
    """`encoder`'s sequence_output [batch, seq_len, hidden_size] and pooled_output
    [batch, hidden_size] (inference: no dropout) for int32 [batch, seq_len] inputs.

    To be called inside a `tf.function`; `encoder` is a float32 `AlbertEncoder`.
    """
    config = encoder.albert_config
    embeddings = encoder.embeddings
    shape = tf.shape(input_ids)
    batch, seq_len = shape[0], shape[1]
    rows = batch * seq_len

    words = tf.gather(_read(embeddings.word_embeddings), input_ids)
    token_types = tf.gather(_read(embeddings.token_type_embeddings), segment_ids)
    positions = _read(embeddings.position_embeddings)[:seq_len]
    summed = words + token_types + positions[tf.newaxis]
    hidden = _layer_norm(tf.reshape(summed, [rows, config.embedding_size]),
                         _layer_norm_weights(embeddings.layer_norm))
    if encoder.embedding_projection is not None:
        hidden = _affine(hidden, _dense(encoder.embedding_projection))

    # The official additive mask: 0 for tokens, -10000 for padding.
    mask = tf.cast(input_mask, tf.float32)
    mask_bias = tf.reshape((1.0 - mask) * -10000.0, [batch, 1, 1, seq_len])
    transformer = encoder.transformer
    groups = [[_Layer(layer) for layer in group] for group in transformer.groups]
    for layer_idx in range(config.num_hidden_layers):
        for weights in groups[layer_group(layer_idx, config.num_hidden_layers,
                                          config.num_hidden_groups)]:
            hidden = _transformer_layer(hidden, weights, batch, seq_len, mask_bias)

    sequence_output = tf.reshape(hidden, [batch, seq_len, config.hidden_size])
    pooled_output = tf.tanh(_affine(sequence_output[:, 0], _dense(encoder.pooler)))
    return sequence_output, pooled_output
