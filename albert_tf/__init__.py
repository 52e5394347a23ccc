"""albert_tf: ALBERT (Lan et al., ICLR 2020) in TensorFlow 2 / Keras 3.

    import albert_tf
    model = albert_tf.load_official_checkpoint("albert_base/model.ckpt-best")
"""

__version__ = "0.1.0"

from albert_tf.config import AlbertConfig
from albert_tf.modeling import AlbertEncoder, AlbertPretrainer


def load_official_checkpoint(*args, **kwargs):
    """See `albert_tf.checkpoints.load_official_checkpoint`."""
    from albert_tf.checkpoints import load_official_checkpoint as load

    return load(*args, **kwargs)


def save_official_checkpoint(*args, **kwargs):
    """See `albert_tf.checkpoints.save_official_checkpoint`."""
    from albert_tf.checkpoints import save_official_checkpoint as save

    return save(*args, **kwargs)
