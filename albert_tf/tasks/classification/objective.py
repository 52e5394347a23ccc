"""The objectives (losses) of GLUE classification, STS-B regression and RACE multiple choice.

Losses follow google-research/albert: softmax cross-entropy of the label
(`classifier_utils.create_model`, `race_utils.create_model`; for RACE the softmax
runs over the 4 choices) and, for STS-B, the squared error of the single logit.
The batch loss is the mean over the real examples of the GLOBAL batch
(`is_real_example` weights; padding examples count for nothing), which is the
official `reduce_mean` whenever a batch has no padding.

The `*_per_example_loss` functions come in TensorFlow (for training) and NumPy (for
predictions gathered during evaluation) versions that compute the same numbers.
"""

import numpy as np
import tensorflow as tf

MODEL_INPUTS = ("input_ids", "input_mask", "segment_ids")


def cross_entropy_per_example_loss(logits, labels):
    """-log softmax(logits)[label]: float32 [batch] from logits [batch, classes]."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(tf.reshape(labels, [-1]), tf.int32), logits=tf.cast(logits, tf.float32))


def squared_error_per_example_loss(logits, labels):
    """(score - label)^2: float32 [batch] from logits [batch, 1] (official STS-B)."""
    scores = tf.reshape(tf.cast(logits, tf.float32), [-1])
    return tf.square(scores - tf.reshape(tf.cast(labels, tf.float32), [-1]))


def numpy_per_example_loss(logits, labels, is_regression=False):
    """NumPy version of the two losses above (float64 [n])."""
    logits = np.asarray(logits, dtype=np.float64)
    if is_regression:
        return np.square(logits.reshape(-1) - np.asarray(labels, np.float64).reshape(-1))
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -log_probs[np.arange(labels.size), labels]


def _example_weights(features):
    """float32 [batch]: 1 for real examples, 0 for padding."""
    if "is_real_example" in features:
        return tf.reshape(tf.cast(features["is_real_example"], tf.float32), [-1])
    return tf.ones([tf.shape(features["input_ids"])[0]], tf.float32)


class ClassificationObjective:
    """Softmax cross-entropy of `label_ids` (GLUE classification; RACE via subclass).

    Features: `input_ids`, `input_mask`, `segment_ids`, int `label_ids` [batch] and
    optionally `is_real_example` [batch]. The model returns float32 `logits`
    [batch, num_labels].
    """

    def metric_names(self):
        return ("accuracy",)

    def model_inputs(self, features):
        return {k: features[k] for k in MODEL_INPUTS}

    def denominators(self, features):
        return {"examples": tf.reduce_sum(_example_weights(features))}

    def per_example_loss(self, logits, labels):
        return cross_entropy_per_example_loss(logits, labels)

    def loss_and_metrics(self, outputs, features, denominators):
        logits = tf.cast(outputs["logits"], tf.float32)
        labels = features["label_ids"]
        weights = _example_weights(features)
        # A global batch of padding only (eval) would otherwise divide 0 by 0.
        total = tf.maximum(denominators["examples"], 1.0)
        loss = tf.reduce_sum(weights * self.per_example_loss(logits, labels)) / total
        return loss, self._metrics(logits, labels, weights)

    def _metrics(self, logits, labels, weights):
        predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
        correct = tf.cast(tf.equal(predictions, tf.cast(tf.reshape(labels, [-1]), tf.int32)),
                          tf.float32)
        return {"accuracy": (tf.reduce_sum(weights * correct), tf.reduce_sum(weights))}


class RegressionObjective(ClassificationObjective):
    """Squared error of the single logit against float `label_ids` (STS-B)."""

    def metric_names(self):
        return ("mean_squared_error",)

    def per_example_loss(self, logits, labels):
        return squared_error_per_example_loss(logits, labels)

    def _metrics(self, logits, labels, weights):
        errors = squared_error_per_example_loss(logits, labels)
        return {"mean_squared_error": (tf.reduce_sum(weights * errors),
                                       tf.reduce_sum(weights))}


class MultipleChoiceObjective(ClassificationObjective):
    """Softmax over the choices' logits [batch, num_choices] (RACE).

    Features as `ClassificationObjective` with ids [batch, num_choices, seq_len] and the
    answer index in `label_ids`.
    """


def objective_for(is_regression=False):
    """`RegressionObjective()` for STS-B, else `ClassificationObjective()`."""
    return RegressionObjective() if is_regression else ClassificationObjective()
