"""`RawTextModel`: what the Keras models on raw text share (`TextClassifier`,
`MultipleChoice`): an albert_tf task model behind an in-graph preprocessor."""

import keras
import tensorflow as tf

from albert_tf.data import padding
from albert_tf.training.optimizers import create_optimizer

FEATURES = padding.SEQUENCE_FEATURES


def is_features(inputs):
    """Whether `inputs` are packed model features (`input_ids`, ...), not raw text."""
    return isinstance(inputs, dict) and "input_ids" in inputs


class RawTextModel(keras.Model):
    """A subclass sets `preprocessor` (raw text -> features) and returns its task model
    (`AlbertClassifier`, `AlbertMultipleChoice`) from `task_model`."""

    @property
    def task_model(self):
        raise NotImplementedError

    # The task model's attributes, so official_variable_map (and with it
    # save_official_checkpoint) takes this model too.
    @property
    def encoder(self):
        return self.task_model.encoder

    @property
    def albert_config(self):
        return self.task_model.albert_config

    def official_head_variables(self):
        return self.task_model.official_head_variables()

    def call(self, inputs, training=False):
        features = inputs if is_features(inputs) else self.preprocessor.preprocess(inputs)
        features = {name: features[name] for name in FEATURES}
        return self.task_model(features, training=training)["logits"]

    def packed_dataset(self, dataset):
        """Batches of (inputs[, labels]) -> (features[, labels]), prefetched: raw text is
        packed by the preprocessor (given features pass through), then each batch is cut
        to its longest input (`[batch, ..., longest]`)."""

        def features(*element):
            inputs, rest = element[0], element[1:]
            if not is_features(inputs):
                inputs = self.preprocessor.preprocess(inputs)
            inputs = padding.trim_padding({name: inputs[name] for name in FEATURES})
            return (inputs,) + rest if rest else inputs

        dataset = dataset.map(features, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)

    def official_optimizer(self, num_train_steps, learning_rate=None, warmup_proportion=None,
                           optimizer="adamw"):
        """The official fine-tuning optimizer for `num_train_steps` updates: AdamW (no bias
        correction, weight decay 0.01 except LayerNorm and biases, gradients clipped to
        global norm 1.0) or LAMB, linear warmup over `warmup_proportion` of the steps,
        then linear decay to 0."""
        num_train_steps = int(num_train_steps)
        if num_train_steps <= 0:
            raise ValueError(f"num_train_steps must be positive, got {num_train_steps}")
        rate = self.learning_rate if learning_rate is None else learning_rate
        warmup = self.warmup_proportion if warmup_proportion is None else warmup_proportion
        with self.distribute_strategy.scope():
            return create_optimizer(rate, num_train_steps, int(num_train_steps * warmup),
                                    optimizer=optimizer)
