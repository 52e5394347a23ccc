"""The official pretraining objective: masked LM + sentence-order prediction."""

import tensorflow as tf

# Official run_pretraining.py adds this to the masked-LM weight sum.
MLM_DENOMINATOR_EPSILON = 1e-5


class PretrainingObjective:
    """Loss = MLM + SOP, exactly as official `run_pretraining.py`.

    MLM: cross-entropy at the masked positions weighted by `masked_lm_weights`,
    divided by (sum of the weights + 1e-5) over the global batch. SOP: mean
    cross-entropy of `next_sentence_labels` (1 = swapped / random B), times
    `sentence_order_loss_weight` (official: 1; 0: masked LM alone, the paper's
    "no sentence task" ablation; the SOP metrics are reported either way).
    """

    MODEL_INPUTS = ("input_ids", "input_mask", "segment_ids", "masked_lm_positions")

    def __init__(self, sentence_order_loss_weight=1.0):
        if not sentence_order_loss_weight >= 0:
            raise ValueError(f"sentence_order_loss_weight must be >= 0, got "
                             f"{sentence_order_loss_weight}")
        self.sentence_order_loss_weight = float(sentence_order_loss_weight)

    def metric_names(self):
        return ("masked_lm_accuracy", "masked_lm_loss", "sentence_order_accuracy",
                "sentence_order_loss")

    def model_inputs(self, features):
        return {k: features[k] for k in self.MODEL_INPUTS}

    def denominators(self, features):
        return {"masked_lm_weight": tf.reduce_sum(tf.cast(features["masked_lm_weights"],
                                                          tf.float32)),
                "examples": tf.cast(tf.shape(features["input_ids"])[0], tf.float32)}

    def loss_and_metrics(self, outputs, features, denominators):
        mlm_logits = tf.cast(outputs["mlm_logits"], tf.float32)
        mlm_ids = tf.cast(features["masked_lm_ids"], tf.int32)
        weights = tf.cast(features["masked_lm_weights"], tf.float32)
        mlm_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=mlm_ids,
                                                                logits=mlm_logits)
        mlm_numerator = tf.reduce_sum(weights * mlm_ce)
        mlm_loss = mlm_numerator / (denominators["masked_lm_weight"] + MLM_DENOMINATOR_EPSILON)

        sop_logits = tf.cast(outputs["sop_logits"], tf.float32)
        sop_labels = tf.reshape(tf.cast(features["next_sentence_labels"], tf.int32), [-1])
        sop_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sop_labels,
                                                                logits=sop_logits)
        sop_loss = tf.reduce_sum(sop_ce) / denominators["examples"]

        mlm_correct = tf.cast(tf.equal(tf.argmax(mlm_logits, -1, output_type=tf.int32),
                                       mlm_ids), tf.float32)
        sop_correct = tf.cast(tf.equal(tf.argmax(sop_logits, -1, output_type=tf.int32),
                                       sop_labels), tf.float32)
        weight_sum = tf.reduce_sum(weights)
        examples = tf.cast(tf.shape(sop_labels)[0], tf.float32)
        metrics = {
            "masked_lm_accuracy": (tf.reduce_sum(weights * mlm_correct), weight_sum),
            "masked_lm_loss": (mlm_numerator, weight_sum),
            "sentence_order_accuracy": (tf.reduce_sum(sop_correct), examples),
            "sentence_order_loss": (tf.reduce_sum(sop_ce), examples),
        }
        if self.sentence_order_loss_weight == 1.0:  # official: the plain sum
            return mlm_loss + sop_loss, metrics
        return mlm_loss + self.sentence_order_loss_weight * sop_loss, metrics
