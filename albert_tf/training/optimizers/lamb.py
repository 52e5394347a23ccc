"""Official ALBERT `LAMBOptimizer` as a Keras 3 optimizer."""

import keras
from keras import ops

from albert_tf.training.optimizers.adamw import AdamW
from albert_tf.training.optimizers.exclusions import (
    DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY, as_patterns, matches_any)


@keras.saving.register_keras_serializable(package="albert_tf")
class Lamb(AdamW):
    """LAMB (You et al., 2019) exactly as official ALBERT `lamb_optimizer.LAMBOptimizer`.

    The official `AdamW` update (no bias correction, decoupled decay inside the
    update) scaled per variable by the unclipped trust ratio

        ratio = ||w|| / ||update||  if ||w|| > 0 and ||update|| > 0  else 1.0
        w = w - ratio * learning_rate * update

    with `||.||` the L2 norm over all elements of the variable. Variables whose path
    matches `exclude_from_layer_adaptation` use ratio 1.0.

    `keras.optimizers.Lamb` bias-corrects the moments, uses epsilon 1e-7 and has no
    exclusions, so it cannot reproduce official pretraining.

    Args:
        exclude_from_layer_adaptation: regexes of variable paths without trust ratio;
            None (official default) means the `exclude_from_weight_decay` list.
        Other arguments: as `AdamW`.
    """

    def __init__(self, learning_rate=0.001, weight_decay_rate=0.01, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-6,
                 exclude_from_weight_decay=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
                 exclude_from_layer_adaptation=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay_rate=weight_decay_rate,
                         beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         exclude_from_weight_decay=exclude_from_weight_decay, **kwargs)
        if exclude_from_layer_adaptation is None:
            exclude_from_layer_adaptation = self._exclude_from_weight_decay
        self._exclude_from_layer_adaptation = as_patterns(
            "exclude_from_layer_adaptation", exclude_from_layer_adaptation)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._use_layer_adaptation_flags = [
            self._do_layer_adaptation(v) for v in var_list]

    def _do_layer_adaptation(self, variable):
        """Whether `variable`'s step is scaled by the trust ratio (official rule)."""
        return not matches_any(self._exclude_from_layer_adaptation, variable)

    def _trust_ratio(self, index, variable, update):
        if not self._use_layer_adaptation_flags[index]:
            return 1.0
        w_norm = ops.sqrt(ops.sum(ops.square(variable)))
        u_norm = ops.sqrt(ops.sum(ops.square(update)))
        # Guard the untaken branch too, so no inf/NaN is ever computed.
        safe_u_norm = ops.where(ops.greater(u_norm, 0.0), u_norm, 1.0)
        return ops.where(
            ops.logical_and(ops.greater(w_norm, 0.0), ops.greater(u_norm, 0.0)),
            ops.divide(w_norm, safe_u_norm), 1.0)

    def get_config(self):
        config = super().get_config()
        config["exclude_from_layer_adaptation"] = list(self._exclude_from_layer_adaptation)
        return config
