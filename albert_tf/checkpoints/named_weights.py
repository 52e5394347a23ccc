"""`NamedWeights`: a checkpoint of any format as official names -> NumPy arrays.

Every reader (official TF1, Hugging Face, keras-hub) produces one and every
writer consumes one, so converting between formats never goes through a model
and copies each array exactly.
"""

import dataclasses
from typing import Dict, List, Optional

from absl import logging
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
        weights: official TF1 name -> array in the official layout
            (`bert/encoder/transformer/group_0/inner_group_0/...`, `cls/...`,
            `output_weights` [num_labels, hidden_size], ...).
        task: one of `TASKS`.
        dropout_prob: the task head's dropout (classifier, multiple choice), if known.
        spm_model_file: the SentencePiece model that came with the checkpoint, if any.
        source: where it was read from, for messages.
        label_list: a classifier's label names (position = label id), if known.
    """

    config: AlbertConfig
    weights: Dict[str, np.ndarray]
    task: str = "pretraining"
    dropout_prob: Optional[float] = None
    spm_model_file: Optional[str] = None
    source: str = ""
    label_list: Optional[List[str]] = None

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
    if hasattr(model, "preprocessor"):  # A TextClassifier: its AlbertClassifier.
        model = model.classifier
    encoder = model if task_of_model(model) == "encoder" else model.encoder
    weights = {name: np.asarray(keras.ops.convert_to_numpy(variable))
               for name, variable in official_variable_map(model).items()}
    return NamedWeights(encoder.albert_config, weights, task=task_of_model(model),
                        dropout_prob=getattr(model, "dropout_prob", None),
                        spm_model_file=spm_model_file, source=source,
                        label_list=getattr(model, "label_list", None))


def build_model(named, num_choices=4):
    """An albert_tf model of `named.task` holding exactly `named.weights`.

    A pretraining checkpoint without one of its heads (keras-hub keeps no
    sentence-order head, an HF `AlbertModel` neither) gets that head freshly
    initialised, with a warning naming it. Raises ValueError listing missing,
    unexpected and mis-shaped variables otherwise.
    """
    from albert_tf.checkpoints.variable_names import official_variable_map
    from albert_tf.modeling.models import (AlbertClassifier, AlbertMultipleChoice,
                                           AlbertPretrainer, AlbertSquadV1, AlbertSquadV2)

    config, task = named.config, named.task
    head_kwargs = {} if named.dropout_prob is None else {"dropout_prob": named.dropout_prob}
    if task in ("pretraining", "encoder"):
        model = AlbertPretrainer(config)
    elif task == "classifier":
        model = AlbertClassifier(config, num_labels=named.num_labels,
                                 label_list=named.label_list, **head_kwargs)
    elif task == "multiple_choice":
        model = AlbertMultipleChoice(config, num_choices=num_choices, **head_kwargs)
    elif task == "squad_v1":
        model = AlbertSquadV1(config)
    elif task == "squad_v2":
        model = AlbertSquadV2(config)
    else:
        raise ValueError(f"{named.source}: unknown task {task!r}; expected one of {TASKS}")

    targets = official_variable_map(model)
    allowed_missing = set()
    if task in ("pretraining", "encoder"):
        for head, names in PRETRAINING_HEADS.items():
            if not any(n in named.weights for n in names):
                allowed_missing.update(names)
                logging.warning("%s has no %s head (%s); it is freshly initialised",
                               named.source, head, ", ".join(names))
    pooler = [n for n in targets if n.startswith("bert/pooler/")]
    if task in ("squad_v1", "squad_v2", "pretraining", "encoder") and \
            not any(n in named.weights for n in pooler):
        # The official SQuAD models never use the pooler (transformers' QA model has
        # none); a checkpoint without it loads with the pooler as initialised.
        # transformers' AlbertForMaskedLM has none either: said, as the SOP head uses it.
        allowed_missing.update(pooler)
        if task not in ("squad_v1", "squad_v2"):
            logging.warning("%s has no pooler (bert/pooler/dense, e.g. transformers' "
                            "AlbertForMaskedLM); it is freshly initialised", named.source)
    missing = [n for n in targets if n not in named.weights and n not in allowed_missing]
    unexpected = sorted(n for n in named.weights if n not in targets)
    mismatched = [f"{n}: checkpoint {list(named.weights[n].shape)} vs model "
                  f"{list(v.shape)}" for n, v in targets.items()
                  if n in named.weights and tuple(named.weights[n].shape) != tuple(v.shape)]
    if missing or unexpected or mismatched:
        lines = [f"{named.source} does not match {type(model).__name__}:"]
        for title, items in (("missing", missing), ("unexpected", unexpected),
                             ("shape mismatches", mismatched)):
            if items:
                lines.append(f"  {title} ({len(items)}):")
                lines.extend(f"    {item}" for item in items)
        raise ValueError("\n".join(lines))
    for name, variable in targets.items():
        if name in named.weights:
            variable.assign(np.asarray(named.weights[name]).astype(variable.dtype))
    return model


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
