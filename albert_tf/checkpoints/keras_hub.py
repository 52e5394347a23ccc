"""keras-hub ALBERT presets (`config.json` + `model.weights.h5`), read and written as data.

A preset directory holds the serialized `AlbertBackbone` config, its weights in
the Keras 3 `.weights.h5` layout (`layers/<snake_case class name>[_n]/vars/<i>`,
sub-layers under their attribute names), optionally a task (`task.json` +
`task.weights.h5`: `AlbertMaskedLM` or `AlbertTextClassifier`) and the
SentencePiece model `assets/tokenizer/vocabulary.spm`. Only h5py and NumPy are
used: nothing in the preset is deserialized as a Keras object (the config's
fields are read and checked, as Keras' `safe_mode` would want).

Layout differences handled here: the attention kernels are `EinsumDense`
per-head shapes (query/key/value [H, heads, head_size], output [heads,
head_size, H]); the E -> H projection always exists; there is one dropout rate;
the sentence-order head does not exist; the MLM head's LayerNorm uses
epsilon 1e-5 in keras-hub (official 1e-12), so its logits differ slightly.
"""

import json
import os
import re
import shutil

from absl import logging
import numpy as np

from albert_tf.checkpoints import labels
from albert_tf.checkpoints.named_weights import (NamedWeights, check_declared_sizes,
                                                 check_identity_projection, held_sizes,
                                                 identity_projection)
from albert_tf.config import AlbertConfig, layer_group, layer_list

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
TASK_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
METADATA_FILE = "metadata.json"
TOKENIZER_FILE = "tokenizer.json"
PREPROCESSOR_FILE = "preprocessor.json"
# keras-hub's preprocessors pack to 512 tokens unless told; a model with fewer
# positions would fail on the first long text.
DEFAULT_SEQUENCE_LENGTH = 512
SPM_ASSET = os.path.join("assets", "tokenizer", "vocabulary.spm")

BACKBONE_CLASS = "AlbertBackbone"
BACKBONE_FIELDS = ("vocabulary_size", "num_layers", "num_heads", "num_groups",
                   "num_inner_repetitions", "embedding_dim", "hidden_dim", "intermediate_dim",
                   "dropout", "max_sequence_length", "num_segments")


# ------------------------------------------------------------------- config
def keras_hub_group(layer_idx, num_layers, num_groups):
    """keras-hub runs each group num_layers // num_groups times in a row."""
    return layer_idx // (num_layers // num_groups)


def check_representable(config, source):
    """Raises ValueError when keras-hub's AlbertBackbone cannot hold `config`."""
    layers, groups = config.num_hidden_layers, config.num_hidden_groups
    if layers % groups:
        raise ValueError(f"{source}: keras-hub's AlbertBackbone needs num_hidden_layers "
                         f"({layers}) divisible by num_hidden_groups ({groups})")
    differ = [i for i in range(layers)
              if keras_hub_group(i, layers, groups) != layer_group(i, layers, groups)]
    if differ:
        raise ValueError(f"{source}: keras-hub runs layers {layer_list(differ)} from other "
                         "groups than the official int(i / L * G) rule")
    if (config.hidden_act or "linear").lower() not in ("gelu", "gelu_new"):
        raise ValueError(f"{source}: keras-hub's AlbertBackbone always uses the tanh GELU; "
                         f"hidden_act {config.hidden_act!r} cannot be held")


def backbone_config(config):
    """keras-hub `AlbertBackbone` constructor arguments for an `AlbertConfig`."""
    if config.attention_probs_dropout_prob != config.hidden_dropout_prob:
        logging.warning("keras-hub has one dropout rate: attention_probs_dropout_prob %s is "
                        "written as hidden_dropout_prob %s", config.attention_probs_dropout_prob,
                        config.hidden_dropout_prob)
    return {
        "vocabulary_size": config.vocab_size,
        "num_layers": config.num_hidden_layers,
        "num_heads": config.num_attention_heads,
        "num_groups": config.num_hidden_groups,
        "num_inner_repetitions": config.inner_group_num,
        "embedding_dim": config.embedding_size,
        "hidden_dim": config.hidden_size,
        "intermediate_dim": config.intermediate_size,
        "dropout": config.hidden_dropout_prob,
        "max_sequence_length": config.max_position_embeddings,
        "num_segments": config.type_vocab_size,
    }


def albert_config_from_backbone(values, source):
    """`AlbertConfig` from the `config` object of a serialized `AlbertBackbone`."""
    missing = [f for f in BACKBONE_FIELDS if f not in values]
    if missing:
        raise ValueError(f"{source}: AlbertBackbone config lacks {', '.join(missing)}")
    dropout = values["dropout"]
    config = AlbertConfig.from_dict({
        "vocab_size": values["vocabulary_size"],
        "embedding_size": values["embedding_dim"],
        "hidden_size": values["hidden_dim"],
        "num_hidden_layers": values["num_layers"],
        "num_hidden_groups": values["num_groups"],
        "num_attention_heads": values["num_heads"],
        "intermediate_size": values["intermediate_dim"],
        "inner_group_num": values["num_inner_repetitions"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": dropout,
        "attention_probs_dropout_prob": dropout,
        "max_position_embeddings": values["max_sequence_length"],
        "type_vocab_size": values["num_segments"],
    }, source=source)
    check_representable(config, source)
    return config


def _serialized(class_name, module, config):
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": f"keras_hub>{class_name}"}


def _read_serialized(path, class_names):
    """The `config` of a serialized keras-hub object whose class is one of `class_names`."""
    with open(path, encoding="utf-8") as f:
        values = json.load(f)
    if not isinstance(values, dict) or values.get("class_name") not in class_names:
        raise ValueError(f"{path}: expected a serialized {' or '.join(class_names)}, got "
                         f"class_name {values.get('class_name') if isinstance(values, dict) else values!r}")
    registered = values.get("registered_name")
    if registered not in (None, f"keras_hub>{values['class_name']}"):
        raise ValueError(f"{path}: registered_name {registered!r} is not keras-hub's "
                         f"{values['class_name']}")
    if not isinstance(values.get("config"), dict):
        raise ValueError(f"{path}: 'config' must be an object")
    return values["class_name"], values["config"]


def read_serialized_backbone(path):
    """`(class_name, config)` of a preset's serialized `AlbertBackbone` (checked)."""
    return _read_serialized(path, (BACKBONE_CLASS,))


# --------------------------------------------------------------- h5 layout
def _layer_keys(config):
    """Official prefix -> (h5 path of the layer, kind) for the backbone.

    The path names are Keras' saving names: a functional model's layers in
    order, each under its snake_case class name, `_1`, `_2`, ... for repeats.
    """
    keys = {
        "bert/embeddings/word_embeddings": ("layers/reversible_embedding", "embedding"),
        "bert/embeddings/position_embeddings": ("layers/position_embedding", "embedding"),
        "bert/embeddings/token_type_embeddings": ("layers/embedding", "embedding"),
        "bert/embeddings/LayerNorm": ("layers/layer_normalization", "norm"),
        "bert/encoder/embedding_hidden_mapping_in": ("layers/dense", "dense"),
        "bert/pooler/dense": ("layers/dense_1", "dense"),
    }
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            j = g * config.inner_group_num + k
            layer = "layers/transformer_encoder" + (f"_{j}" if j else "")
            official = f"bert/encoder/transformer/group_{g}/inner_group_{k}"
            attention = f"{layer}/_self_attention_layer"
            keys.update({
                f"{official}/attention_1/self/query": (f"{attention}/query_dense", "heads_in"),
                f"{official}/attention_1/self/key": (f"{attention}/key_dense", "heads_in"),
                f"{official}/attention_1/self/value": (f"{attention}/value_dense", "heads_in"),
                f"{official}/attention_1/output/dense": (f"{attention}/output_dense",
                                                         "heads_out"),
                f"{official}/LayerNorm": (f"{layer}/_self_attention_layer_norm", "norm"),
                f"{official}/ffn_1/intermediate/dense": (
                    f"{layer}/_feedforward_intermediate_dense", "dense"),
                f"{official}/ffn_1/intermediate/output/dense": (
                    f"{layer}/_feedforward_output_dense", "dense"),
                f"{official}/LayerNorm_1": (f"{layer}/_feedforward_layer_norm", "norm"),
            })
    return keys


def _layer_names(config):
    """h5 path -> the keras-hub layer name Keras records in its `vars` attributes."""
    names = {"layers/reversible_embedding": "token_embedding",
             "layers/position_embedding": "position_embedding",
             "layers/embedding": "segment_embedding",
             "layers/layer_normalization": "embeddings_layer_norm",
             "layers/dense": "embedding_projection", "layers/dense_1": "pooled_dense"}
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            j = g * config.inner_group_num + k
            names["layers/transformer_encoder" + (f"_{j}" if j else "")] = \
                f"group_{g}_inner_layer_{k}"
    return names


# Field -> (h5 dataset of the backbone, axis); the query kernel is [H, heads, head_size].
_LAYER_0 = "layers/transformer_encoder"
SIZE_TENSORS = {
    "vocab_size": ("layers/reversible_embedding/vars/0", 0),
    "embedding_size": ("layers/reversible_embedding/vars/0", 1),
    "max_position_embeddings": ("layers/position_embedding/vars/0", 0),
    "type_vocab_size": ("layers/embedding/vars/0", 0),
    "hidden_size": (f"{_LAYER_0}/_self_attention_layer/query_dense/vars/0", 0),
    "intermediate_size": (f"{_LAYER_0}/_feedforward_intermediate_dense/vars/0", 1),
}


def _held_sizes(h5, config):
    """`held_sizes` of a backbone's weights file: dataset shapes, no array read. Its
    transformer layers (`transformer_encoder`, `_1`, ...) are the groups' inner layers."""
    shapes = {}
    for name, _ in SIZE_TENSORS.values():
        dataset = h5.get(name)
        if hasattr(dataset, "shape"):
            shapes[name] = dataset.shape
    held = held_sizes(shapes, SIZE_TENSORS, None, None)
    layers = h5.get("layers")
    count = 0 if layers is None or not hasattr(layers, "keys") else sum(
        re.fullmatch(r"transformer_encoder(_\d+)?", name) is not None for name in layers)
    if count:
        held.append(("num_hidden_groups", count / config.inner_group_num,
                     f"{count} transformer_encoder layers (inner_group_num "
                     f"{config.inner_group_num} per group)"))
    return held


def _check_layer_names(h5, config, source):
    """The positional Keras paths must hold the layers we take them for."""
    for path, expected in _layer_names(config).items():
        group = h5.get(f"{path}/vars")
        found = None if group is None else group.attrs.get("name")
        if isinstance(found, bytes):
            found = found.decode()
        if found is not None and found != expected:
            raise ValueError(f"{source}: {path} holds layer {found!r}, expected {expected!r} "
                             "(an AlbertBackbone saved by another layout?)")


def _empty_layer_groups(config):
    """Layers without variables that Keras still writes (kept for a faithful file)."""
    groups = ["layers/input_layer", "layers/input_layer_1", "layers/input_layer_2",
              "layers/add", "layers/dropout"]
    for j in range(config.num_hidden_groups * config.inner_group_num):
        layer = "layers/transformer_encoder" + (f"_{j}" if j else "")
        groups += [f"{layer}", f"{layer}/_self_attention_layer",
                   f"{layer}/_self_attention_layer/_dropout_layer",
                   f"{layer}/_self_attention_layer/_softmax",
                   f"{layer}/_self_attention_dropout", f"{layer}/_feedforward_dropout"]
    return groups


def _to_h5_arrays(name, kind, weights, config):
    """Official arrays of one layer -> its list of h5 `vars` arrays."""
    heads, size = config.num_attention_heads, config.head_size
    if kind == "embedding":
        return [weights[name]]
    if kind == "norm":
        return [weights[f"{name}/gamma"], weights[f"{name}/beta"]]
    kernel, bias = weights[f"{name}/kernel"], weights[f"{name}/bias"]
    if kind == "heads_in":
        return [kernel.reshape(kernel.shape[0], heads, size), bias.reshape(heads, size)]
    if kind == "heads_out":
        return [kernel.reshape(heads, size, kernel.shape[1]), bias]
    return [kernel, bias]


def _from_h5_arrays(name, kind, arrays, config):
    if kind == "embedding":
        return {name: arrays[0]}
    if kind == "norm":
        return {f"{name}/gamma": arrays[0], f"{name}/beta": arrays[1]}
    kernel, bias = arrays
    if kind == "heads_in":
        kernel, bias = kernel.reshape(kernel.shape[0], -1), bias.reshape(-1)
    elif kind == "heads_out":
        kernel = kernel.reshape(-1, kernel.shape[-1])
    return {f"{name}/kernel": kernel, f"{name}/bias": bias}


def _read_vars(h5, path, source, count):
    group = h5.get(f"{path}/vars")
    if group is None:
        raise ValueError(f"{source}: no {path}/vars (not an AlbertBackbone weights file?)")
    if len(group) != count:
        raise ValueError(f"{source}: {path}/vars holds {len(group)} arrays, expected {count}")
    arrays = []
    for i in range(count):
        dataset = group.get(str(i))
        if not hasattr(dataset, "shape"):  # Absent, or a group where an array belongs.
            raise ValueError(f"{source}: {path}/vars/{i} is not an array (dataset)")
        arrays.append(np.asarray(dataset))
    return arrays


def _write_vars(h5, path, arrays, layer_name=None):
    group = h5.require_group(f"{path}/vars")
    if layer_name:
        group.attrs["name"] = layer_name
    for i, array in enumerate(arrays):
        group.create_dataset(str(i), data=np.asarray(array))


# ------------------------------------------------------------------ reading
def is_keras_hub_directory(path):
    config = os.path.join(str(path), CONFIG_FILE)
    if not (os.path.isfile(config) and os.path.isfile(os.path.join(str(path), WEIGHTS_FILE))):
        return False
    # Any serialized class: `read_keras_hub` then refuses one that is not an
    # AlbertBackbone naming it, where a BertBackbone preset would otherwise be
    # looked for as an official checkpoint ("no checkpoint found").
    try:
        with open(config, encoding="utf-8") as f:
            return "class_name" in json.load(f)
    except (OSError, ValueError, TypeError):
        return False


def read_keras_hub(directory):
    """`NamedWeights` from a keras-hub ALBERT preset directory."""
    directory = str(directory)
    source = os.path.join(directory, CONFIG_FILE)
    _, values = _read_serialized(source, (BACKBONE_CLASS,))
    config = albert_config_from_backbone(values, source)
    weights_path = os.path.join(directory, WEIGHTS_FILE)
    weights = {}
    with _open_h5(weights_path) as h5:
        check_declared_sizes(config, _held_sizes(h5, config), source, weights_path)
        _check_layer_names(h5, config, weights_path)
        for name, (path, kind) in _layer_keys(config).items():
            count = 1 if kind == "embedding" else 2
            weights.update(_from_h5_arrays(name, kind, _read_vars(h5, path, weights_path,
                                                                  count), config))
    if config.embedding_size == config.hidden_size:
        mapping = "bert/encoder/embedding_hidden_mapping_in"
        check_identity_projection(weights.pop(f"{mapping}/kernel"),
                                  weights.pop(f"{mapping}/bias"), weights_path,
                                  "embedding_projection")
    task, dropout = "pretraining", None
    task_path = os.path.join(directory, TASK_FILE)
    if os.path.isfile(task_path):
        task_class, task_values = _read_serialized(
            task_path, ("AlbertMaskedLM", "AlbertTextClassifier"))
        task_weights = os.path.join(directory, TASK_WEIGHTS_FILE)
        if not os.path.isfile(task_weights):
            raise FileNotFoundError(f"{task_path} names a {task_class} but {task_weights} "
                                    "does not exist")
        head = _read_task_head(task_weights, task_class, task_values, config)
        weights.update(head)
        if task_class == "AlbertTextClassifier":
            task, dropout = "classifier", task_values.get("dropout")
    spm = os.path.join(directory, SPM_ASSET)
    # keras-hub's AlbertTextClassifier has no label names; ours travel beside it.
    label_list = (labels.read_label_list(directory, int(weights["output_weights"].shape[0]))
                  if task == "classifier" else None)
    return NamedWeights(config, weights, task=task, dropout_prob=dropout,
                        spm_model_file=spm if os.path.isfile(spm) else None, source=directory,
                        label_list=label_list)


def _open_h5(path):
    """An h5py file, or an error naming it (h5py's "file signature not found" does not)."""
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not a readable .weights.h5 (HDF5) file ({e})") from None


def _read_task_head(path, task_class, task_values, config):
    with _open_h5(path) as h5:
        if task_class == "AlbertTextClassifier":
            if task_values.get("activation") not in (None, "linear"):
                logging.warning("%s: the classifier applies %r to its logits; the official "
                                "head returns logits", path, task_values.get("activation"))
            kernel, bias = _read_vars(h5, "layers/dense", path, 2)
            return {"output_weights": kernel.T, "output_bias": bias}
        head = "layers/masked_lm_head"
        kernel, bias = _read_vars(h5, f"{head}/_intermediate_dense", path, 2)
        gamma, beta = _read_vars(h5, f"{head}/_intermediate_layer_norm", path, 2)
        (output_bias,) = _read_vars(h5, head, path, 1)
    logging.warning("%s: keras-hub's MLM head normalises with epsilon 1e-5; the official "
                    "head (and albert_tf) with 1e-12", path)
    return {"cls/predictions/transform/dense/kernel": kernel,
            "cls/predictions/transform/dense/bias": bias,
            "cls/predictions/transform/LayerNorm/gamma": gamma,
            "cls/predictions/transform/LayerNorm/beta": beta,
            "cls/predictions/output_bias": output_bias}


# ------------------------------------------------------------------ writing
def write_keras_hub(named, directory):
    """Writes the backbone preset (and the tokenizer with an spm model) into `directory`.

    Heads: the MLM head becomes an `AlbertMaskedLM` task, a classifier an
    `AlbertTextClassifier`; the sentence-order head and the SQuAD and
    multiple-choice heads have no keras-hub form and are left out with a
    warning naming them (the returned list).
    """
    import h5py
    import keras

    config = named.config
    check_representable(config, named.source)
    weights = dict(named.weights)
    if config.embedding_size == config.hidden_size:
        kernel, bias = identity_projection(config.hidden_size)
        weights["bert/encoder/embedding_hidden_mapping_in/kernel"] = kernel
        weights["bert/encoder/embedding_hidden_mapping_in/bias"] = bias
    layer_names = _layer_names(config)
    count = 0
    with h5py.File(os.path.join(directory, WEIGHTS_FILE), "w") as h5:
        for path in _empty_layer_groups(config):
            h5.require_group(f"{path}/vars")
        for path, layer_name in layer_names.items():
            h5.require_group(f"{path}/vars").attrs["name"] = layer_name
        for name, (path, kind) in _layer_keys(config).items():
            first = {"embedding": name, "norm": f"{name}/gamma"}.get(kind, f"{name}/kernel")
            if first not in weights:
                raise ValueError(f"{named.source}: variable {name} is missing (keras-hub "
                                 "creates and runs every group)")
            arrays = _to_h5_arrays(name, kind, weights, config)
            count += sum(int(np.prod(a.shape)) for a in arrays)
            _write_vars(h5, path, arrays, layer_names.get(path))
        h5.require_group("vars").attrs["name"] = "albert_backbone"
    backbone = dict({"name": "albert_backbone", "trainable": True,
                     "dtype": {"module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": "float32"}, "registered_name": None}},
                    **backbone_config(config))
    _write_json(os.path.join(directory, CONFIG_FILE),
                _serialized(BACKBONE_CLASS, "keras_hub.src.models.albert.albert_backbone",
                            backbone))
    _write_json(os.path.join(directory, METADATA_FILE),
                {"keras_version": keras.__version__, "parameter_count": count})
    sequence_length = min(DEFAULT_SEQUENCE_LENGTH, config.max_position_embeddings)
    if named.task == "classifier":
        _write_classifier(named, directory, backbone, sequence_length)
        if named.label_list:
            labels.write_label_list(directory, named.label_list)
    elif named.task == "pretraining" and "cls/predictions/output_bias" in named.weights:
        _write_masked_lm(named, directory, backbone, sequence_length)
    kept = set(TASK_HEAD_NAMES.get(named.task, ())) if named.task == "classifier" or \
        "cls/predictions/output_bias" in named.weights else set()
    dropped = sorted(n for n in named.weights if not n.startswith("bert/") and n not in kept)
    if dropped:
        logging.warning("keras-hub has no place for these %s variables; left out: %s",
                        named.task, ", ".join(dropped))
    if named.spm_model_file:
        write_keras_hub_tokenizer(named.spm_model_file, directory)
        # What `AlbertTextClassifier.from_preset(dir)` takes raw text with.
        _write_json(os.path.join(directory, PREPROCESSOR_FILE),
                    _preprocessor("AlbertTextClassifierPreprocessor", sequence_length))
    return dropped


TASK_HEAD_NAMES = {
    "classifier": ("output_weights", "output_bias"),
    "pretraining": ("cls/predictions/transform/dense/kernel",
                    "cls/predictions/transform/dense/bias",
                    "cls/predictions/transform/LayerNorm/gamma",
                    "cls/predictions/transform/LayerNorm/beta",
                    "cls/predictions/output_bias"),
}


def _tokenizer_config():
    return _serialized(
        "AlbertTokenizer", "keras_hub.src.models.albert.albert_tokenizer",
        {"name": "albert_tokenizer", "trainable": True,
         "dtype": {"module": "keras", "class_name": "DTypePolicy",
                   "config": {"name": "int32"}, "registered_name": None},
         "config_file": TOKENIZER_FILE, "proto": None, "sequence_length": None,
         "add_bos": False, "add_eos": False})


def _preprocessor(class_name, sequence_length):
    """A serialized keras-hub preprocessor packing to `sequence_length` tokens (the
    tokenizer's SentencePiece model comes from the preset's assets)."""
    name = {"AlbertTextClassifierPreprocessor": "albert_text_classifier_preprocessor",
            "AlbertMaskedLMPreprocessor": "albert_masked_lm_preprocessor"}[class_name]
    config = {"name": name, "trainable": True,
              "dtype": {"module": "keras", "class_name": "DTypePolicy",
                        "config": {"name": "float32"}, "registered_name": None},
              "tokenizer": _tokenizer_config(), "config_file": PREPROCESSOR_FILE,
              "sequence_length": sequence_length, "truncate": "round_robin"}
    if class_name == "AlbertMaskedLMPreprocessor":  # keras-hub's defaults.
        config.update(mask_selection_rate=0.15, mask_selection_length=96,
                      mask_token_rate=0.8, random_token_rate=0.1)
    return _serialized(class_name, f"keras_hub.src.models.albert.{name}", config)


def _write_masked_lm(named, directory, backbone, sequence_length):
    """The MLM head as an `AlbertMaskedLM` task (its decoder is the tied embedding)."""
    import h5py

    w = named.weights
    head = "layers/masked_lm_head"
    with h5py.File(os.path.join(directory, TASK_WEIGHTS_FILE), "w") as h5:
        h5.require_group("layers/input_layer_3/vars").attrs["name"] = "mask_positions"
        _write_vars(h5, f"{head}/_intermediate_dense",
                    [w["cls/predictions/transform/dense/kernel"],
                     w["cls/predictions/transform/dense/bias"]], "intermediate_dense")
        _write_vars(h5, f"{head}/_intermediate_layer_norm",
                    [w["cls/predictions/transform/LayerNorm/gamma"],
                     w["cls/predictions/transform/LayerNorm/beta"]], "intermediate_layer_norm")
        _write_vars(h5, head, [w["cls/predictions/output_bias"]], "mlm_head")
        h5.require_group("vars").attrs["name"] = "albert_masked_lm"
    _write_json(os.path.join(directory, TASK_FILE), _serialized(
        "AlbertMaskedLM", "keras_hub.src.models.albert.albert_masked_lm",
        {"backbone": _serialized(BACKBONE_CLASS, "keras_hub.src.models.albert.albert_backbone",
                                 backbone),
         "preprocessor": _preprocessor("AlbertMaskedLMPreprocessor", sequence_length)
         if named.spm_model_file else None, "name": "albert_masked_lm"}))


def _write_classifier(named, directory, backbone, sequence_length):
    import h5py

    with h5py.File(os.path.join(directory, TASK_WEIGHTS_FILE), "w") as h5:
        _write_vars(h5, "layers/dense", [named.weights["output_weights"].T,
                                         named.weights["output_bias"]], "logits")
        h5.require_group("layers/dropout/vars").attrs["name"] = "output_dropout"
        h5.require_group("vars").attrs["name"] = "albert_text_classifier"
    _write_json(os.path.join(directory, TASK_FILE), _serialized(
        "AlbertTextClassifier", "keras_hub.src.models.albert.albert_text_classifier",
        {"backbone": _serialized(BACKBONE_CLASS, "keras_hub.src.models.albert.albert_backbone",
                                 backbone),
         "preprocessor": _preprocessor("AlbertTextClassifierPreprocessor", sequence_length)
         if named.spm_model_file else None, "name": "albert_text_classifier",
         "num_classes": named.num_labels, "activation": "linear",
         "dropout": 0.1 if named.dropout_prob is None else named.dropout_prob}))


def write_keras_hub_tokenizer(spm_model_file, directory):
    """`tokenizer.json` (an `AlbertTokenizer`) and `assets/tokenizer/vocabulary.spm`."""
    os.makedirs(os.path.join(directory, os.path.dirname(SPM_ASSET)), exist_ok=True)
    shutil.copyfile(spm_model_file, os.path.join(directory, SPM_ASSET))
    _write_json(os.path.join(directory, TOKENIZER_FILE), _tokenizer_config())


def _write_json(path, values):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(values, f, indent=4)
        f.write("\n")
