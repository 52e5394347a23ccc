"""Official ALBERT optimizers (LAMB, AdamW) as Keras 3 optimizers, TF and JAX backends."""

from albert_tf.training.optimizers.adamw import AdamW
from albert_tf.training.optimizers.exclusions import DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY
from albert_tf.training.optimizers.factory import create_optimizer
from albert_tf.training.optimizers.lamb import Lamb

__all__ = ["AdamW", "Lamb", "create_optimizer", "DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY"]
