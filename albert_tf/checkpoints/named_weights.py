"""`NamedWeights`: a checkpoint of any format as official names -> NumPy arrays.

Every reader (official TF1, Hugging Face, keras-hub) produces one and every
writer consumes one, so converting between formats never goes through a model
and copies each array exactly.
"""

import dataclasses
from typing import List, Mapping, Optional

import numpy as np

from albert_tf.config import AlbertConfig

# What a checkpoint holds on top of `bert/*`.
TASKS = ("encoder", "pretraining", "classifier", "multiple_choice", "squad_v1", "squad_v2")

PRETRAINING_HEADS = {
    "masked_lm": ("cls/predictions/transform/dense/kernel",
                  "cls/predictions/transform/dense/bias",
                  "cls/predictions/transform/LayerNorm/gamma",
                  "cls/predictions/transform/LayerNorm/beta",
                  "cls/predictions/output_bias"),
    "sentence_order": ("cls/seq_relationship/output_weights",
                       "cls/seq_relationship/output_bias"),
}


@dataclasses.dataclass
class NamedWeights:
    """A checkpoint read into memory.

    Attributes:
        config: the encoder's `AlbertConfig`.
        weights: official TF1 name -> array in the official layout (a mapping; an
            official checkpoint's arrays are read when used)
            (`bert/encoder/transformer/group_0/inner_group_0/...`, `cls/...`,
            `output_weights` [num_labels, hidden_size], ...).
        task: one of `TASKS`.
        dropout_prob: the task head's dropout (classifier, multiple choice), if known.
        spm_model_file: the SentencePiece model that came with the checkpoint, if any.
        source: where it was read from, for messages.
        label_list: a classifier's label names (position = label id), if known.
    """

    config: AlbertConfig
    weights: Mapping[str, np.ndarray]
    task: str = "pretraining"
    dropout_prob: Optional[float] = None
    spm_model_file: Optional[str] = None
    source: str = ""
    label_list: Optional[List[str]] = None

    def variable_shapes(self):
        """{official name: shape}, without reading lazily held arrays."""
        shapes = getattr(self.weights, "shapes", None)
        if shapes is not None:
            return dict(shapes)
        return {name: tuple(np.shape(value)) for name, value in self.weights.items()}

    @property
    def num_labels(self):
        """Rows of the classifier's `output_weights` (None without that head)."""
        value = self.weights.get("output_weights")
        return None if value is None else int(value.shape[0])


def task_of_weights(names, source=""):
    """The `TASKS` entry a set of official names holds (ambiguous `output_weights` [1, H]
    of a regression classifier or a multiple-choice head: "classifier")."""
    names = set(names)
    if "cls/squad/output_weights" in names:
        return "squad_v1"
    if any(n.startswith("answer_class/") for n in names):
        return "squad_v2"
    if "output_weights" in names:
        return "classifier"
    if any(n.startswith("cls/predictions/") for n in names):
        return "pretraining"
    if any(n.startswith("bert/") for n in names):
        return "encoder"
    raise ValueError(f"{source}: no ALBERT variables (bert/*) found")


def task_of_model(model):
    """The `TASKS` entry of an albert_tf model."""
    from albert_tf.modeling import AlbertEncoder
    from albert_tf.modeling.models import (AlbertClassifier, AlbertMultipleChoice,
                                           AlbertPretrainer, AlbertSquadV1, AlbertSquadV2)

    for cls, task in ((AlbertEncoder, "encoder"), (AlbertPretrainer, "pretraining"),
                      (AlbertClassifier, "classifier"),
                      (AlbertMultipleChoice, "multiple_choice"), (AlbertSquadV1, "squad_v1"),
                      (AlbertSquadV2, "squad_v2")):
        if isinstance(model, cls):
            return task
    raise TypeError(f"{type(model).__name__} is not an albert_tf model")


def from_model(model, spm_model_file=None):
    """The `NamedWeights` of an albert_tf model (its variables, copied to NumPy)."""
    import keras

    from albert_tf.checkpoints.variable_names import official_variable_map

    source = type(model).__name__
    if hasattr(model, "preprocessor"):  # A raw-text model: the task model inside.
        model = model.classifier if hasattr(model, "classifier") else model.model
    encoder = model if task_of_model(model) == "encoder" else model.encoder
    weights = {name: np.asarray(keras.ops.convert_to_numpy(variable))
               for name, variable in official_variable_map(model).items()}
    return NamedWeights(encoder.albert_config, weights, task=task_of_model(model),
                        dropout_prob=getattr(model, "dropout_prob", None),
                        spm_model_file=spm_model_file, source=source,
                        label_list=getattr(model, "label_list", None))


def identity_projection(size, dtype=np.float32):
    """(kernel, bias) of an E -> H projection that changes nothing, for formats that
    always have one (HF, keras-hub) when the official graph has none (E == H)."""
    return np.eye(size, dtype=dtype), np.zeros(size, dtype)


def check_identity_projection(kernel, bias, source, name):
    """An E == H checkpoint from HF/keras-hub must hold the do-nothing projection."""
    size = kernel.shape[0]
    if kernel.shape != (size, size) or not (np.array_equal(kernel, np.eye(size))
                                            and not np.any(bias)):
        raise ValueError(
            f"{source}: embedding_size == hidden_size ({size}) but {name} is not the "
            "identity; the official ALBERT graph has no embedding->hidden projection then "
            "(embedding_hidden_mapping_in exists only when the widths differ), so these "
            "weights cannot be represented")
