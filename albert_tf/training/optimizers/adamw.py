"""Official ALBERT/BERT `AdamWeightDecayOptimizer` as a Keras 3 optimizer."""

import keras
from keras import ops

from albert_tf.training.optimizers.exclusions import (
    DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY, as_patterns, matches_any)


def _densify(gradient):
    # Official TF1 turns IndexedSlices into dense tensors inside the Adam update; the
    # global norm is likewise taken over the dense gradient (duplicate rows summed).
    if gradient is not None and keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        if isinstance(gradient, tf.IndexedSlices):
            return tf.convert_to_tensor(gradient)
    return gradient


@keras.saving.register_keras_serializable(package="albert_tf")
class AdamW(keras.optimizers.Optimizer):
    """Adam with decoupled weight decay exactly as official `AdamWeightDecayOptimizer`.

    Per variable `w` with gradient `g` and moments `adam_m`, `adam_v` (in `w`'s dtype:
    float32 under Keras mixed precision, as official):

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        update = m / (sqrt(v) + epsilon) + weight_decay_rate * w   (decay unless excluded)
        w = w - learning_rate * update

    There is NO bias correction, and the decay term goes through the learning rate.
    `keras.optimizers.AdamW` differs on both (bias-corrected moments, decay applied as
    `w -= lr * wd * w` before the Adam step), so it cannot reproduce official runs.

    Variables whose path (Keras `variable.path`, e.g.
    "albert/embeddings/LayerNorm/gamma"; `.name` when there is no path) matches any
    regular expression in `exclude_from_weight_decay` (`re.search`) get no decay.

    Gradient clipping (`global_clipnorm`, like official `tf.clip_by_global_norm(grads,
    1.0)`; `clipnorm` and `clipvalue` too) runs after the cross-replica gradient sum
    under `tf.distribute`, so the clip sees the gradient of the whole global batch and
    N replicas give the same update as one device. Stock Keras clips inside each
    replica before the sum, which changes the result once the clip is active.
    IndexedSlices gradients are made dense first, as official does.

    With a `LearningRateSchedule` the schedule is evaluated at the update count
    (`optimizer.iterations`, which with `gradient_accumulation_steps` counts
    accumulated updates, like official `global_step`), before this step's increment.

    Args:
        learning_rate: float or `LearningRateSchedule` (e.g. `WarmupPolyDecay`).
        weight_decay_rate: decoupled L2 decay factor; official 0.01.
        beta_1, beta_2, epsilon: Adam constants; official 0.9, 0.999, 1e-6.
        exclude_from_weight_decay: regexes of variable paths that get no decay.
        **kwargs: `keras.optimizers.Optimizer` arguments (`global_clipnorm`, `name`,
            `gradient_accumulation_steps`, ...). Keras' own `weight_decay` is refused:
            its decay rule is not the official one.
    """

    def __init__(self, learning_rate=0.001, weight_decay_rate=0.01, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-6,
                 exclude_from_weight_decay=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY, **kwargs):
        if kwargs.get("weight_decay") is not None:
            raise ValueError(
                f"{type(self).__name__}: got weight_decay={kwargs['weight_decay']}; use "
                "weight_decay_rate (official decoupled decay through the Adam update) "
                "instead of Keras' weight_decay")
        kwargs.pop("weight_decay", None)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.weight_decay_rate = float(weight_decay_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self._exclude_from_weight_decay = as_patterns(
            "exclude_from_weight_decay", exclude_from_weight_decay)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Refused: the exclusions are the constructor's `exclude_from_weight_decay`."""
        raise ValueError(
            f"{type(self).__name__}: pass exclude_from_weight_decay=[regex, ...] to the "
            "constructor; Keras' exclude_from_weight_decay() does not apply to it")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._adam_m, self._adam_v = self.add_optimizer_variables(
            var_list, ["adam_m", "adam_v"])
        # Decided once from the Keras variables: inside a tf.distribute update the
        # variable is a per-replica tf.Variable whose name has no scope path.
        self._use_weight_decay_flags = [self._do_use_weight_decay(v) for v in var_list]

    def _do_use_weight_decay(self, variable):
        """Whether `variable` gets decoupled weight decay (official rule)."""
        if not self.weight_decay_rate:
            return False
        return not matches_any(self._exclude_from_weight_decay, variable)

    def _trust_ratio(self, index, variable, update):
        """Layer-wise factor on the step; 1 for Adam (LAMB overrides)."""
        del index, variable, update
        return 1.0

    def update_step(self, gradient, variable, learning_rate):
        """One official update of `variable` from its (clipped, summed) `gradient`."""
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        m, v = self._adam_m[index], self._adam_v[index]
        gradient = ops.cast(gradient, dtype)
        # (1 - beta) is taken in Python double like official, then rounded once.
        next_m = ops.add(ops.multiply(ops.cast(self.beta_1, dtype), m),
                         ops.multiply(ops.cast(1.0 - self.beta_1, dtype), gradient))
        next_v = ops.add(ops.multiply(ops.cast(self.beta_2, dtype), v),
                         ops.multiply(ops.cast(1.0 - self.beta_2, dtype),
                                      ops.square(gradient)))
        update = ops.divide(next_m, ops.add(ops.sqrt(next_v),
                                            ops.cast(self.epsilon, dtype)))
        if self._use_weight_decay_flags[index]:
            update = ops.add(update, ops.multiply(
                ops.cast(self.weight_decay_rate, dtype), variable))
        ratio = self._trust_ratio(index, variable, update)
        step_size = ops.multiply(ops.cast(ratio, dtype), ops.cast(learning_rate, dtype))
        next_variable = ops.subtract(variable, ops.multiply(step_size, update))
        self.assign(variable, next_variable)
        self.assign(m, next_m)
        self.assign(v, next_v)

    # --- Clipping after the cross-replica sum -------------------------------------

    def _clip_gradients(self, grads):
        # Deferred: Keras calls this per replica, before the all-reduce.
        return grads

    def _clip_summed_gradients(self, grads):
        return super()._clip_gradients(grads)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        grads = [_densify(g) for g in grads]
        if keras.backend.backend() != "tensorflow":
            # JAX/torch gradients are already global arrays.
            grads = self._clip_summed_gradients(grads)
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def _all_reduce_sum_gradients(self, grads_and_vars):
        # TensorFlow backend only: Keras' TFOptimizer sums gradients across replicas
        # here, in replica context, right before the per-variable updates.
        grads_and_vars = list(super()._all_reduce_sum_gradients(grads_and_vars))
        grads = self._clip_summed_gradients([g for g, _ in grads_and_vars])
        return [(g, v) for g, (_, v) in zip(grads, grads_and_vars)]

    def _get_current_learning_rate(self):
        schedule = self._learning_rate
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            return schedule(self.iterations)
        return super()._get_current_learning_rate()

    def get_config(self):
        config = super().get_config()
        config.pop("weight_decay", None)
        config.update({
            "weight_decay_rate": self.weight_decay_rate,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "exclude_from_weight_decay": list(self._exclude_from_weight_decay),
        })
        return config

