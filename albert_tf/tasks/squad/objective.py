"""The SQuAD objectives (losses), as official run_squad_v1.py / squad_utils.py.

v1.1: loss = (CE_start + CE_end) / 2.
v2.0: loss = (CE_start + CE_end) / 2 + sigmoid_CE(cls_logits, is_impossible) / 2,
      the start/end cross-entropies over the p_mask-masked logits.
Every term is a mean over the global batch (official `reduce_mean`).
"""

import tensorflow as tf

ENCODER_INPUTS = ("input_ids", "input_mask", "segment_ids")
V1_OUTPUT_KEYS = ("start_logits", "end_logits")
V2_OUTPUT_KEYS = ("start_top_log_probs", "start_top_index", "end_top_log_probs",
                  "end_top_index", "cls_logits")


def _cross_entropy(logits, positions):
    """Per-example CE [B] of float32 logits [B, T] at int positions [B]."""
    labels = tf.reshape(tf.cast(positions, tf.int32), [-1])
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=tf.cast(logits, tf.float32))


def _correct(logits, positions):
    labels = tf.reshape(tf.cast(positions, tf.int32), [-1])
    return tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)


class SquadV1Objective:
    """Official v1.1 span loss on `start_logits` / `end_logits`."""

    output_keys = V1_OUTPUT_KEYS

    def metric_names(self):
        return ("start_accuracy", "end_accuracy", "start_loss", "end_loss")

    def model_inputs(self, features):
        return {k: features[k] for k in ENCODER_INPUTS}

    def denominators(self, features):
        return {"examples": tf.cast(tf.shape(features["input_ids"])[0], tf.float32)}

    def loss_and_metrics(self, outputs, features, denominators):
        start_ce = _cross_entropy(outputs["start_logits"], features["start_positions"])
        end_ce = _cross_entropy(outputs["end_logits"], features["end_positions"])
        loss = 0.5 * (tf.reduce_sum(start_ce) + tf.reduce_sum(end_ce)) / denominators["examples"]
        examples = tf.cast(tf.shape(start_ce)[0], tf.float32)
        metrics = {
            "start_accuracy": (tf.reduce_sum(_correct(outputs["start_logits"],
                                                      features["start_positions"])), examples),
            "end_accuracy": (tf.reduce_sum(_correct(outputs["end_logits"],
                                                    features["end_positions"])), examples),
            "start_loss": (tf.reduce_sum(start_ce), examples),
            "end_loss": (tf.reduce_sum(end_ce), examples),
        }
        return loss, metrics


class SquadV2Objective:
    """Official ALBERT v2.0 loss; feeds `p_mask` and the gold `start_positions`
    (when the batch has them) to `AlbertSquadV2`, so the end logits are
    conditioned on the gold start as in official training."""

    output_keys = V2_OUTPUT_KEYS

    def metric_names(self):
        return ("start_accuracy", "end_accuracy", "answer_class_accuracy", "start_loss",
                "end_loss", "answer_class_loss")

    def model_inputs(self, features):
        inputs = {k: features[k] for k in ENCODER_INPUTS + ("p_mask",)}
        if "start_positions" in features:
            inputs["start_positions"] = features["start_positions"]
        return inputs

    def denominators(self, features):
        return {"examples": tf.cast(tf.shape(features["input_ids"])[0], tf.float32)}

    def loss_and_metrics(self, outputs, features, denominators):
        start_ce = _cross_entropy(outputs["start_logits"], features["start_positions"])
        end_ce = _cross_entropy(outputs["end_logits"], features["end_positions"])
        cls_logits = tf.reshape(tf.cast(outputs["cls_logits"], tf.float32), [-1])
        is_impossible = tf.reshape(tf.cast(features["is_impossible"], tf.float32), [-1])
        class_ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=is_impossible,
                                                           logits=cls_logits)
        # Official: total = (start + end) * 0.5 + answer_class * 0.5.
        loss = (0.5 * (tf.reduce_sum(start_ce) + tf.reduce_sum(end_ce))
                + 0.5 * tf.reduce_sum(class_ce)) / denominators["examples"]
        examples = tf.cast(tf.shape(start_ce)[0], tf.float32)
        class_correct = tf.cast(tf.equal(tf.cast(cls_logits > 0, tf.float32), is_impossible),
                                tf.float32)
        metrics = {
            "start_accuracy": (tf.reduce_sum(_correct(outputs["start_logits"],
                                                      features["start_positions"])), examples),
            "end_accuracy": (tf.reduce_sum(_correct(outputs["end_logits"],
                                                    features["end_positions"])), examples),
            "answer_class_accuracy": (tf.reduce_sum(class_correct), examples),
            "start_loss": (tf.reduce_sum(start_ce), examples),
            "end_loss": (tf.reduce_sum(end_ce), examples),
            "answer_class_loss": (tf.reduce_sum(class_ce), examples),
        }
        return loss, metrics


def squad_objective(version_2_with_negative):
    """The objective of v1.1 (False) or v2.0 (True)."""
    return SquadV2Objective() if version_2_with_negative else SquadV1Objective()
