"""Where `TextClassifier.from_pretrained` gets its weights and SentencePiece model."""

import os

import tensorflow as tf

from albert_tf.checkpoints import load_pretrained
from albert_tf.checkpoints.hf import is_hf_directory
from albert_tf.checkpoints.hf_tokenizer import find_hf_spm_model

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

    Any checkpoint format (`albert_tf.checkpoints.load_pretrained`): an official or
    Trainer checkpoint, a transformers folder, a keras-hub preset or a `.keras`
    file. `bert/*` always loads; the head when the checkpoint holds a classifier of
    `num_labels` outputs, else it is new (the fine-tuning head policy).

    Args:
      num_labels: classes; 1 for regression.
      dropout_prob: the head's dropout (official 0.1).
      dtype: Keras dtype policy of the model (None: the global policy).
    """
    return load_pretrained(str(path), task="classifier", num_labels=num_labels,
                           new_heads=True, dropout_prob=dropout_prob, dtype=dtype)
