"""Where `TextClassifier.from_pretrained` gets its weights and SentencePiece model."""

import os

import keras
import tensorflow as tf

from albert_tf.checkpoints import resolve_checkpoint
from albert_tf.checkpoints.hf import is_hf_directory
from albert_tf.checkpoints.hf_tokenizer import find_hf_spm_model
from albert_tf.checkpoints.pretrained import detect_format, load_pretrained
from albert_tf.config import AlbertConfig
from albert_tf.modeling import AlbertEncoder
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.training.initial_weights import init_from_checkpoint

# Beside an official checkpoint (30k-clean.model in the released tars, spiece.model in
# TF-Hub / HF folders) or in a keras-hub preset.
SPM_MODEL_NAMES = ("30k-clean.model", "spiece.model", "spm.model",
                   os.path.join("assets", "tokenizer", "vocabulary.spm"))


def find_spm_model(path):
    """The SentencePiece model in the folder of checkpoint `path`, or None."""
    path = str(path)
    directory = path if tf.io.gfile.isdir(path) else os.path.dirname(path)
    for name in SPM_MODEL_NAMES:
        candidate = os.path.join(directory, name)
        if tf.io.gfile.exists(candidate):
            return candidate
    if is_hf_directory(directory):
        # transformers 5 saves only tokenizer.json: the model is rebuilt from it.
        return find_hf_spm_model(directory)
    return None


def load_classifier(path, num_labels, dropout_prob=0.1, dtype=None):
    """An `AlbertClassifier` with the pretrained (or fine-tuned) weights of `path`.

    The one place `from_pretrained` reads checkpoints:
      - an official TF1 checkpoint (prefix or folder, `albert_config.json` beside
        it), pretrained or fine-tuned (ours or the official scripts'): `bert/*`, and
        the head when it has `num_labels` outputs; otherwise the head is new;
      - a transformers folder or a keras-hub preset (`albert_tf.load_pretrained`):
        its classifier when it has `num_labels` outputs, else its encoder with a
        new head;
      - a `.keras` file of an `AlbertClassifier` (kept when it has `num_labels`),
        `AlbertPretrainer` or `AlbertEncoder` (a new head on its encoder).

    Args:
      num_labels: classes; 1 for regression.
      dropout_prob: the head's dropout (official 0.1).
      dtype: Keras dtype policy of a model built here (None: the global policy).
    """
    path = str(path)
    if detect_format(path) in ("hf", "keras_hub", "keras"):
        loaded = (keras.saving.load_model(path) if path.endswith(".keras")
                  else load_pretrained(path))
        if isinstance(loaded, AlbertClassifier) and loaded.num_labels == num_labels:
            return loaded
        encoder = loaded if isinstance(loaded, AlbertEncoder) else getattr(loaded, "encoder",
                                                                           None)
        if not isinstance(encoder, AlbertEncoder):
            raise ValueError(f"{path}: holds a {type(loaded).__name__}, expected an "
                             f"AlbertClassifier, AlbertPretrainer or AlbertEncoder")
        return AlbertClassifier(encoder=encoder, num_labels=num_labels,
                                dropout_prob=dropout_prob)
    prefix, config_path = resolve_checkpoint(path)
    if config_path is None:
        raise FileNotFoundError(f"no albert_config.json beside the checkpoint {prefix}")
    config = AlbertConfig.from_json_file(config_path)
    model = AlbertClassifier(config, num_labels=num_labels, dropout_prob=dropout_prob,
                             dtype=dtype)
    init_from_checkpoint(model, prefix)
    return model
