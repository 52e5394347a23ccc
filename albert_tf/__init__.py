"""albert_tf: ALBERT (Lan et al., ICLR 2020) in TensorFlow 2 / Keras 3.

    import albert_tf
    model = albert_tf.load_official_checkpoint("albert_base/model.ckpt-best")
"""

__version__ = "0.1.0"

import os as _os

# TensorFlow turns its oneDNN CPU kernels on by default only for CPUs with AVX-512 VNNI/BF16
# or AMX. On AVX2 CPUs they are also faster for ALBERT (matmuls with a 3-D operand, their
# gradients and the attention batch matmuls: see benchmarks/RESULTS.md), so albert_tf turns
# them on unless the user chose (TF_ENABLE_ONEDNN_OPTS=0 keeps Eigen). This only takes effect
# when albert_tf is imported before TensorFlow, as the entry points do.
# On AVX2 CPUs TensorFlow then logs once "oneDNN supports DT_INT64 only on platforms with
# AVX-512" (those ops run on Eigen, as without the switch): albert_tf.quiet_logs drops it.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from albert_tf import quiet_logs as _quiet_logs

# Before anything imports TensorFlow: without its load-time banners (see quiet_logs).
_quiet_logs.import_tensorflow()

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


def load_pretrained(*args, **kwargs):
    """See `albert_tf.checkpoints.load_pretrained`: official, HF or keras-hub weights."""
    from albert_tf.checkpoints import load_pretrained as load

    return load(*args, **kwargs)


def save_pretrained(*args, **kwargs):
    """See `albert_tf.checkpoints.save_pretrained`: official, HF or keras-hub weights."""
    from albert_tf.checkpoints import save_pretrained as save

    return save(*args, **kwargs)


class _RegisteredLater:
    """Stands in Keras' registry for a class whose module loads TensorFlow Text, so that
    `keras.saving.load_model` finds it after a plain `import albert_tf`; importing the
    module on first use registers the class itself in its place."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def from_config(self, config):
        import importlib

        return getattr(importlib.import_module(self.module), self.name).from_config(config)


def _register_text_classes():
    import keras

    registry = keras.saving.get_custom_objects()
    for module, name in (("albert_tf.text.text_classifier", "TextClassifier"),
                         ("albert_tf.text.preprocessor", "AlbertTextPreprocessor"),
                         ("albert_tf.text.multiple_choice", "MultipleChoice"),
                         ("albert_tf.text.multiple_choice_preprocessor",
                          "MultipleChoicePreprocessor")):
        registry.setdefault(f"albert_tf>{name}", _RegisteredLater(module, name))


_register_text_classes()


def __getattr__(name):
    """`albert_tf.TextClassifier` and `albert_tf.MultipleChoice`, imported on first use
    (they load TensorFlow Text)."""
    if name in ("TextClassifier", "MultipleChoice"):
        import albert_tf.text

        return getattr(albert_tf.text, name)
    raise AttributeError(f"module 'albert_tf' has no attribute {name!r}")
