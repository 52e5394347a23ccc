"""`NamedWeights`: a checkpoint of any format as official names -> NumPy arrays.

Every reader (official TF1, Hugging Face, keras-hub) produces one and every
writer consumes one, so converting between formats never goes through a model
and copies each array exactly.
"""

import dataclasses
import re
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


def declared_shapes(config):
    """Official name -> the shape `config` declares for it, for every encoder variable
    and the pretraining heads (task heads' rows are not in the config)."""
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    i, p, t = config.intermediate_size, config.max_position_embeddings, config.type_vocab_size
    shapes = {"bert/embeddings/word_embeddings": (v, e),
              "bert/embeddings/token_type_embeddings": (t, e),
              "bert/embeddings/position_embeddings": (p, e),
              "bert/embeddings/LayerNorm/gamma": (e,), "bert/embeddings/LayerNorm/beta": (e,),
              "bert/encoder/embedding_hidden_mapping_in/kernel": (e, h),
              "bert/encoder/embedding_hidden_mapping_in/bias": (h,),
              "bert/pooler/dense/kernel": (h, h), "bert/pooler/dense/bias": (h,),
              # The MLM transform maps hidden -> embedding width (tied to the embedding).
              "cls/predictions/transform/dense/kernel": (h, e),
              "cls/predictions/transform/dense/bias": (e,),
              "cls/predictions/transform/LayerNorm/gamma": (e,),
              "cls/predictions/transform/LayerNorm/beta": (e,),
              "cls/predictions/output_bias": (v,),
              "cls/seq_relationship/output_weights": (2, h),
              "cls/seq_relationship/output_bias": (2,)}
    layer = {"attention_1/self/query": (h, h), "attention_1/self/key": (h, h),
             "attention_1/self/value": (h, h), "attention_1/output/dense": (h, h),
             "ffn_1/intermediate/dense": (h, i), "ffn_1/intermediate/output/dense": (i, h)}
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            scope = f"bert/encoder/transformer/group_{g}/inner_group_{k}"
            for name, kernel in layer.items():
                shapes[f"{scope}/{name}/kernel"] = kernel
                shapes[f"{scope}/{name}/bias"] = kernel[1:]
            for norm in ("LayerNorm", "LayerNorm_1"):
                shapes[f"{scope}/{norm}/gamma"] = (h,)
                shapes[f"{scope}/{norm}/beta"] = (h,)
    return shapes


# Field -> (official name of the tensor whose shape holds it, axis), and the names
# that count the groups and the inner layers of group 0.
SIZE_TENSORS = {
    "vocab_size": ("bert/embeddings/word_embeddings", 0),
    "embedding_size": ("bert/embeddings/word_embeddings", 1),
    "max_position_embeddings": ("bert/embeddings/position_embeddings", 0),
    "type_vocab_size": ("bert/embeddings/token_type_embeddings", 0),
    "hidden_size": ("bert/encoder/transformer/group_0/inner_group_0/attention_1/self/query/"
                    "kernel", 1),
    "intermediate_size": ("bert/encoder/transformer/group_0/inner_group_0/ffn_1/"
                          "intermediate/dense/kernel", 1),
}
GROUP_NAMES = r"^bert/encoder/transformer/group_(\d+)/"
INNER_GROUP_NAMES = r"^bert/encoder/transformer/group_0/inner_group_(\d+)/"


def held_sizes(shapes, tensors=SIZE_TENSORS, groups=GROUP_NAMES, inner_groups=INNER_GROUP_NAMES,
               name_of=lambda name: name):
    """What a weights file's header says of the config's sizes, no array read.

    Args:
        shapes: {tensor name in the file: shape}, from the file's header or index.
        tensors: field -> (tensor name, axis) in the file's own names (`SIZE_TENSORS`).
        groups, inner_groups: patterns whose first group is a group's / an inner
            layer's index: the highest index + 1 is `num_hidden_groups` /
            `inner_group_num` (the last group always runs, `config.layer_group`);
            None where the names do not tell.
        name_of: how a tensor of the file is named in messages.

    Returns:
        [(field, size held, where)], where e.g. "albert.embeddings.word_embeddings.weight
        of shape [30000, 128]"; a field whose tensor is absent is left out.
    """
    held = []
    for field, (name, axis) in tensors.items():
        shape = shapes.get(name)
        if shape is not None and len(shape) > axis:
            held.append((field, int(shape[axis]),
                         f"{name_of(name)} of shape {[int(d) for d in shape]}"))
    for field, pattern in (("num_hidden_groups", groups), ("inner_group_num", inner_groups)):
        if pattern is None:
            continue
        indices = {int(m.group(1)) for m in map(re.compile(pattern).match, shapes) if m}
        if indices:
            held.append((field, max(indices) + 1,
                         f"tensors of {max(indices) + 1} {field.replace('num_', '')}"))
    return held


def check_declared_sizes(config, held, config_source, weights_source):
    """Refuses a config whose sizes are not the ones a weights file holds, from the file's
    header alone: before any array is read and any model built (a `config.json` saying
    vocab_size 10**12 against a small file would otherwise be allocated first).

    Args:
        config: the `AlbertConfig` read from `config_source`.
        held: `held_sizes(...)` of the weights file `weights_source`.

    Raises:
        ValueError naming each field, its declared value, the file and the tensor.
    """
    wrong = [f"{field} is {getattr(config, field)}, but {weights_source} holds {where}"
             for field, size, where in held if getattr(config, field) != size]
    if wrong:
        raise ValueError(f"{config_source}: the config does not fit the weights (nothing "
                         f"was read or built): " + "; ".join(wrong))


def check_declared_shapes(named, config_source):
    """Refuses a checkpoint whose config declares other sizes than its tensors hold,
    before any model of that config is built: a `config.json` saying vocab_size
    10**12 would otherwise be allocated first (and checked never)."""
    held = named.variable_shapes()
    layers = named.config.num_hidden_groups * named.config.inner_group_num
    if layers * 16 > len(held):  # 16 variables per layer: a bound before listing them.
        raise ValueError(
            f"{config_source}: declares {named.config.num_hidden_groups} groups of "
            f"{named.config.inner_group_num} layers ({layers * 16} variables), but "
            f"{named.source} holds {len(held)} variables")
    wrong = [f"{name}: {config_source} declares {list(shape)}, {named.source} holds "
             f"{list(held[name])}"
             for name, shape in declared_shapes(named.config).items()
             if name in held and tuple(held[name]) != tuple(shape)]
    if wrong:
        raise ValueError("the config does not fit the weights (no model was built): "
                         + "; ".join(wrong[:5])
                         + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else ""))


def check_float_array(name, value, source):
    """A weight must be a finite float array: an int32 tensor would be cast silently, a
    NaN or Inf would run without error and predict nothing useful."""
    value = np.asarray(value)
    # bfloat16 (ml_dtypes, what TF and safetensors give) is no np.floating subtype.
    if not (np.issubdtype(value.dtype, np.floating) or value.dtype.name == "bfloat16"):
        raise ValueError(f"{source}: tensor {name} has dtype {value.dtype}, expected "
                         "floating point weights")
    if not np.isfinite(value).all():
        bad = int(value.size - np.count_nonzero(np.isfinite(value)))
        raise ValueError(f"{source}: tensor {name} holds {bad} NaN or Inf values of "
                         f"{value.size}; refusing to load non-finite weights")
    return value
