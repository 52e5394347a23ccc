"""The one loader: a checkpoint of any format -> `NamedWeights` -> the asked model.

keras-hub's preset-loader idea: one detection (`detect_format`), one reader per
format into the common form (`read_pretrained`), one policy putting it into a
model (`load_weights`), one builder of the asked model (`load_pretrained`). What
every command and `TextClassifier.from_pretrained` use.

Formats:
  official   TF1 name-based checkpoint (the released tars, our runners'
             `model.ckpt-*`), `albert_config.json` beside it;
  trainer    our Trainer's object-based `training_checkpoints/ckpt-N`
             (`albert_config.json` beside it or in the run's output_dir);
  hf         transformers folder (`config.json` + `model.safetensors`, sharded
             safetensors, or `pytorch_model.bin` with torch installed);
  keras_hub  keras-hub preset folder (`config.json` + `model.weights.h5`);
  keras      a `.keras` file of an albert_tf model.
A directory that is neither an HF nor a keras-hub folder means its
`model.ckpt-best`, else the checkpoint its `checkpoint` file names, else its
highest step (`resolve_checkpoint`).

The head policy (`load_weights`): every `bert/*` variable must be in the
checkpoint with the model's shape. With `new_heads` (fine-tuning's initial
weights, `TextClassifier`), a head the checkpoint lacks, or holds with another
shape (MNLI's 3 labels into RTE's 2, as the paper fine-tunes RTE; a RACE head
into GLUE), is left freshly initialised, with a warning naming both shapes.
Without (`load_pretrained`, export), every head variable must fit, except a
pretraining head the checkpoint has none of (keras-hub keeps no sentence-order
head, HF's `AlbertModel` neither) and the pooler of a SQuAD model (the official
SQuAD models never use it). Whatever does not fit is reported once, by
`VariableMatch`: missing, unexpected, shape mismatches.
"""

import collections.abc
import json
import os

from absl import logging
import numpy as np
import tensorflow as tf

from albert_tf.checkpoints import hf as hf_format
from albert_tf.checkpoints import keras_hub as keras_hub_format
from albert_tf.checkpoints import labels
from albert_tf.checkpoints.hub import resolve_pretrained
from albert_tf.checkpoints.named_weights import (PRETRAINING_HEADS, TASKS, NamedWeights,
                                                 check_declared_shapes, check_declared_sizes,
                                                 check_float_array, from_model, held_sizes,
                                                 task_of_model, task_of_weights)
from albert_tf.checkpoints.official import (CONFIG_NAME, first_intact, is_trainer_checkpoint,
                                            list_official_variables, load_reader,
                                            read_tensor, resolve_checkpoint,
                                            restore_training_checkpoint)
from albert_tf.checkpoints.variable_names import VariableMatch, official_variable_map
from albert_tf.config import AlbertConfig

OFFICIAL_SPM = "30k-clean.model"
# The status of a model's heads after `load_weights`.
LOADED, NEW, PARTIAL, REINITIALISED = "loaded", "new", "partial", "reinitialised"
# The head of each model our Trainer saves, under the checkpoint's `model/`.
TRAINER_HEADS = (("model/masked_lm/", "pretraining"), ("model/span_head/", "squad_v1"),
                 ("model/squad_head/", "squad_v2"), ("model/classifier/", "classifier"))


def detect_format(path):
    """"keras", "hf", "keras_hub", "trainer" or "official" (see the module docstring).

    Raises:
        FileNotFoundError when `path` is none of them.
    """
    kind = _file_format(path)
    if kind is not None:
        return kind
    return "trainer" if is_trainer_checkpoint(resolve_checkpoint(path)[0]) else "official"


def _file_format(path):
    """"keras", "hf" or "keras_hub" by the path alone; None for a TF checkpoint (or
    a folder of them)."""
    path = str(path)
    if path.endswith(".keras"):
        return "keras"
    if os.path.isdir(path):
        if keras_hub_format.is_keras_hub_directory(path):
            return "keras_hub"
        if hf_format.is_hf_directory(path):
            return "hf"
    return None


def read_config(path):
    """The `AlbertConfig` of an `albert_config.json`, or of the `config.json` of a
    transformers folder or a keras-hub preset (the file, or the folder holding it)."""
    path = str(path)
    if os.path.isdir(path):
        for name in (CONFIG_NAME, hf_format.CONFIG_FILE):
            if os.path.isfile(os.path.join(path, name)):
                path = os.path.join(path, name)
                break
        else:
            raise FileNotFoundError(f"{path}: holds neither {CONFIG_NAME} nor "
                                    f"{hf_format.CONFIG_FILE}")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            try:
                values = json.load(f)
            except ValueError as e:
                raise ValueError(f"{path}: not valid JSON ({e})") from e
        if isinstance(values, dict) and "model_type" in values:
            return hf_format.albert_config_from_hf(values, path)[0]
        if isinstance(values, dict) and values.get("class_name") == \
                keras_hub_format.BACKBONE_CLASS:
            _, backbone = keras_hub_format.read_serialized_backbone(path)
            return keras_hub_format.albert_config_from_backbone(backbone, path)
    return AlbertConfig.from_json_file(path)


def _as_config(config):
    if config is None or isinstance(config, AlbertConfig):
        return config
    if isinstance(config, dict):
        return AlbertConfig.from_dict(config)
    return read_config(config)


class CheckpointArrays(collections.abc.Mapping):
    """{official name: array} of an official checkpoint, each tensor read when used
    (a damaged file fails naming the tensor); `shapes` is known without reading."""

    def __init__(self, prefix, shapes):
        self.prefix, self.shapes, self._reader = prefix, shapes, None

    def __getitem__(self, name):
        if name not in self.shapes:
            raise KeyError(name)
        if self._reader is None:
            self._reader = load_reader(self.prefix)
        return np.asarray(read_tensor(self._reader, self.prefix, name))

    def __iter__(self):
        return iter(self.shapes)

    def __len__(self):
        return len(self.shapes)


def _new_model(config, task, num_labels=None, num_choices=4, **model_kwargs):
    """An albert_tf model of `task` (one of `TASKS`), freshly initialised."""
    from albert_tf.modeling import AlbertEncoder
    from albert_tf.modeling.models import (AlbertClassifier, AlbertMultipleChoice,
                                           AlbertPretrainer, AlbertSquadV1, AlbertSquadV2)

    if task == "encoder":
        return AlbertEncoder(config, **model_kwargs)
    if task == "pretraining":
        return AlbertPretrainer(config, **model_kwargs)
    if task == "classifier":
        if num_labels is None:
            raise ValueError("a classifier needs num_labels (the checkpoint has no "
                             "output_weights to count them from)")
        return AlbertClassifier(config, num_labels=num_labels, **model_kwargs)
    if task == "multiple_choice":
        return AlbertMultipleChoice(config, num_choices=num_choices, **model_kwargs)
    if task == "squad_v1":
        return AlbertSquadV1(config, **model_kwargs)
    if task == "squad_v2":
        return AlbertSquadV2(config, **model_kwargs)
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")


def _read_official(prefix, config):
    shapes = list_official_variables(prefix)
    spm = os.path.join(os.path.dirname(prefix), OFFICIAL_SPM)
    task = task_of_weights(shapes, prefix)
    label_list = None
    if task == "classifier":  # run_classifier.py --task_name=custom writes them beside.
        label_list = labels.read_label_list(os.path.dirname(prefix),
                                            int(shapes["output_weights"][0]))
    return NamedWeights(config, CheckpointArrays(prefix, shapes), task=task,
                        spm_model_file=spm if os.path.isfile(spm) else None, source=prefix,
                        label_list=label_list)


# Field -> (name in a Trainer checkpoint, less `model/[encoder/]` and the attribute
# suffix; axis), for `held_sizes`.
_TRAINER_LAYER_0 = "transformer/group_0_inner_group_0"
TRAINER_SIZE_TENSORS = {
    "vocab_size": ("embeddings/word_embeddings", 0),
    "embedding_size": ("embeddings/word_embeddings", 1),
    "max_position_embeddings": ("embeddings/position_embeddings", 0),
    "type_vocab_size": ("embeddings/token_type_embeddings", 0),
    "hidden_size": (f"{_TRAINER_LAYER_0}/attention/query/_kernel", 1),
    "intermediate_size": (f"{_TRAINER_LAYER_0}/intermediate_dense/_kernel", 1),
}
_ATTRIBUTE = "/.ATTRIBUTES/VARIABLE_VALUE"


def _trainer_held_sizes(shapes):
    """`held_sizes` of a Trainer checkpoint's variable-to-shape map (its index file)."""
    names = {}
    for name in shapes:
        if not name.endswith(_ATTRIBUTE):
            continue
        for head in ("model/encoder/", "model/"):  # A task model's encoder; an encoder.
            if name.startswith(head):
                names.setdefault(name[len(head):-len(_ATTRIBUTE)], name)
                break
    return held_sizes({short: shapes[name] for short, name in names.items()},
                      TRAINER_SIZE_TENSORS, r"^transformer/group_(\d+)_inner_group_\d+/",
                      r"^transformer/group_0_inner_group_(\d+)/", name_of=names.get)


def _read_trainer(prefix, config, task_hint=None, config_source="the given config"):
    """Our Trainer's checkpoint, restored into the model its head names."""
    shapes = load_reader(prefix).get_variable_to_shape_map()
    check_declared_sizes(config, _trainer_held_sizes(shapes), config_source, prefix)
    task = next((t for head, t in TRAINER_HEADS if any(n.startswith(head) for n in shapes)),
                "encoder")
    if (task, task_hint) == ("classifier", "multiple_choice"):
        task = task_hint  # Both heads are one `classifier` of [1 or num_labels, H].
    head = shapes.get("model/classifier/output_weights/.ATTRIBUTES/VARIABLE_VALUE")
    model = _new_model(config, task, num_labels=head[0] if head else None)
    # TF's matching only checks the objects it reaches, so count too: a model whose
    # layers TF tracking misses would restore in part, silently.
    saved = _saved_model_variables(prefix)
    if saved < len(model.trainable_weights):
        raise ValueError(
            f"{prefix}: this training checkpoint holds only {saved} variables under "
            f"'model/', but {type(model).__name__} has {len(model.trainable_weights)} "
            f"trainable weights (tf.train.Checkpoint did not reach all layers); use the "
            f"official-format checkpoint (model.ckpt-*) the runner writes instead")
    try:
        restore_training_checkpoint(model, prefix)
    except AssertionError as e:
        raise ValueError(f"{prefix}: a training checkpoint that does not fit a "
                         f"{type(model).__name__} of its config ({e})") from None
    named = from_model(model)
    named.source = prefix
    return named


def _saved_model_variables(prefix):
    """How many variables the object graph of a Trainer checkpoint reaches from
    `model` (a variable is saved once, often under the optimizer's path)."""
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(read_tensor(load_reader(prefix), prefix,
                                      "_CHECKPOINTABLE_OBJECT_GRAPH"))
    todo = [c.node_id for c in graph.nodes[0].children if c.local_name == "model"]
    seen = set()
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(c.node_id for c in graph.nodes[node].children)
    return sum(any(a.name == "VARIABLE_VALUE" for a in graph.nodes[n].attributes)
               for n in seen)


def _architecture(config):
    return {k: v for k, v in config.to_dict().items()
            if k not in ("hidden_dropout_prob", "attention_probs_dropout_prob",
                         "initializer_range") and k not in config.extra}


def read_pretrained(path, config=None, task=None):
    """`NamedWeights` of a checkpoint in any format (see the module docstring).

    Args:
        config: `AlbertConfig`, dict or config path; needed for an official or
            Trainer checkpoint without `albert_config.json` beside it (or, for a
            Trainer checkpoint, in the run's output_dir); an HF or keras-hub folder
            must agree with it.
        task: the task a caller wants, to read a Trainer checkpoint's [1, H] head
            as "multiple_choice" (its names alone say "classifier").
    """
    if isinstance(path, NamedWeights):
        return path
    path = resolve_pretrained(path)  # A hub id -> its local folder (checkpoints/hub.py).
    config = _as_config(config)
    kind = _file_format(path)
    if kind == "keras":
        return from_model(_load_keras_file(path))
    if kind in ("hf", "keras_hub"):
        reader = hf_format.read_hf if kind == "hf" else keras_hub_format.read_keras_hub
        named = reader(path)
        if config is not None and _architecture(config) != _architecture(named.config):
            raise ValueError(f"{path}: its config {named.config} differs from the given "
                             f"config {config}")
        check_declared_shapes(named, os.path.join(str(path), hf_format.CONFIG_FILE))
        return named
    if os.path.isdir(path):
        # Each candidate read in full, once; a damaged one gives way to the next.
        return first_intact(str(path), lambda prefix: _in_memory(
            _read_checkpoint(prefix, config, task)))[1]
    return _read_checkpoint(resolve_checkpoint(path)[0], config, task)


def _in_memory(named):
    """`named` with every array read (an official checkpoint's are read when used)."""
    if isinstance(named.weights, CheckpointArrays):
        named.weights = {name: named.weights[name] for name in named.weights}
    return named


def _read_checkpoint(prefix, config, task):
    """`read_pretrained` of one official or Trainer checkpoint `prefix`."""
    prefix, config_path = resolve_checkpoint(prefix)
    kind = "trainer" if is_trainer_checkpoint(prefix) else "official"
    if config is None and config_path is None and kind == "trainer":
        run_config = os.path.join(os.path.dirname(os.path.dirname(prefix)), CONFIG_NAME)
        config_path = run_config if tf.io.gfile.exists(run_config) else None
    config_path = None if config is not None else config_path
    if config is None:
        if config_path is None:
            raise FileNotFoundError(f"no config given and no {CONFIG_NAME} beside "
                                    f"checkpoint {prefix}")
        config = AlbertConfig.from_json_file(config_path)
    if kind == "trainer":
        return _read_trainer(prefix, config, task, config_path or "the given config")
    named = _read_official(prefix, config)
    if config_path is not None:
        # A given config is a built model's: `load_weights` reports what does not fit.
        check_declared_sizes(config, held_sizes(named.variable_shapes()), config_path, prefix)
        check_declared_shapes(named, config_path)
    return named


# Field -> (name in a .keras file's weights, from the encoder's layer on; axis).
KERAS_FILE_SIZE_TENSORS = {
    "vocab_size": ("albert_embeddings/vars/0", 0),
    "embedding_size": ("albert_embeddings/vars/0", 1),
    "type_vocab_size": ("albert_embeddings/vars/1", 0),
    "max_position_embeddings": ("albert_embeddings/vars/2", 0),
    "hidden_size": ("albert_transformer/group_0_inner_group_0/attention/query/vars/0", 1),
    "intermediate_size": ("albert_transformer/group_0_inner_group_0/intermediate_dense/vars/0",
                          1),
}


def _keras_file_sizes(path):
    """(the AlbertConfig its `config.json` declares, `held_sizes` of its weights), from
    the zip's config and the h5 dataset shapes alone; None where the file is not one
    albert_tf saved (Keras' load then reports it)."""
    import zipfile

    import h5py

    def albert_config(values):
        if isinstance(values, dict):
            if values.get("class_name") == "AlbertEncoder" and isinstance(
                    values.get("config"), dict) and isinstance(values["config"].get("config"),
                                                               dict):
                return values["config"]["config"]
            values = list(values.values())
        if isinstance(values, list):
            for value in values:
                found = albert_config(value)
                if found is not None:
                    return found
        return None

    try:
        with zipfile.ZipFile(path) as archive:
            declared = albert_config(json.loads(archive.read("config.json")))
            if declared is None:
                return None
            shapes = {}
            with archive.open("model.weights.h5") as weights, h5py.File(weights, "r") as h5:
                def visit(name, item):
                    for layer in ("albert_embeddings/", "albert_transformer/"):
                        if layer in name and hasattr(item, "shape"):
                            shapes.setdefault(name[name.index(layer):], item.shape)
                h5.visititems(visit)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    config = AlbertConfig.from_dict(declared, source=f"{path}: config.json")
    return config, held_sizes(shapes, KERAS_FILE_SIZE_TENSORS,
                              r"^albert_transformer/group_(\d+)_inner_group_\d+/",
                              r"^albert_transformer/group_0_inner_group_(\d+)/")


def _load_keras_file(path):
    """The model of a `.keras` file; Keras' errors for a damaged one ("File is not a zip
    file", "Unable to synchronously open object") name no file, these do. The sizes its
    config declares are checked against its weights' shapes first (`held_sizes`)."""
    import zipfile

    import keras

    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such .keras file")
    sizes = _keras_file_sizes(path)
    if sizes is not None:
        check_declared_sizes(sizes[0], sizes[1], f"{path}: config.json",
                             f"{path}: model.weights.h5")
    try:
        # safe_mode (the default) refuses lambdas and other code in the file.
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: cannot load this .keras file (a zip of config.json and "
                         f"model.weights.h5 saved by albert_tf): {type(e).__name__}: "
                         f"{e}") from None


def _optional_heads(model, match):
    """Head variables a checkpoint may lack even without `new_heads`: a pretraining
    head it holds none of, a SQuAD model's pooler."""
    optional = []
    groups = list(PRETRAINING_HEADS.items()) if task_of_model(model) == "pretraining" else []
    if task_of_model(model) in ("squad_v1", "squad_v2", "pretraining"):
        # Official SQuAD models never use the pooler (transformers' QA model has none);
        # transformers' AlbertForMaskedLM has none either (said: the SOP head uses it).
        # Optional only when the checkpoint holds none of it.
        groups.append(("pooler", [n for n in official_variable_map(model)
                                  if n.startswith("bert/pooler/")]))
    missing = set(match.missing)
    for head, names in groups:
        if names and all(n in missing for n in names):
            optional.extend(names)
            if head != "pooler" or task_of_model(model) == "pretraining":
                logging.warning("the checkpoint has no %s head (%s); it is freshly "
                                "initialised", head, ", ".join(names))
    return optional


def load_weights(model, checkpoint, init_from_group0=False, new_heads=True,
                 allow_unexpected=True):
    """Puts a checkpoint of any format into a built model, by the one head policy.

    Args:
        model: an `AlbertEncoder`, `AlbertPretrainer` or task model.
        checkpoint: a path (any format) or `NamedWeights`.
        init_from_group0: a layer group the checkpoint lacks is initialised from its
            `group_0` (official `--init_from_group0`).
        new_heads: a head missing or of another shape is left freshly initialised
            (else it is an error; see the module docstring).
        allow_unexpected: checkpoint variables the model has no use for (another
            task's head, the pretraining heads) are ignored (else an error).

    Returns:
        dict with `status` ("loaded": every head variable came from the checkpoint;
        "new": none did; "partial": some; "reinitialised": one had another shape, so
        the heads are new), the sorted `loaded`, `missing` and `unused` names, and the
        `source` read (of a folder of TF checkpoints: the prefix it took).

    Raises:
        CheckpointMismatchError listing missing, unexpected and mis-shaped variables,
        before anything is assigned.
    """
    encoder = model if task_of_model(model) == "encoder" else model.encoder
    named = read_pretrained(checkpoint, encoder.albert_config, task_of_model(model)) \
        if not isinstance(checkpoint, NamedWeights) else checkpoint
    targets = official_variable_map(model)
    match = VariableMatch(named.variable_shapes(), targets, init_from_group0)
    heads = [n for n in targets if not n.startswith("bert/")]
    misfits = [n for n in match.mismatched if n in heads]
    optional = _optional_heads(model, match)
    skip = set()
    if new_heads:
        errors = [n for n in match.missing if n.startswith("bert/") and n not in optional]
        mismatched = [n for n in match.mismatched if n not in heads]
        if misfits and not (errors or mismatched):
            logging.warning(
                "The head of %s does not fit %s (%s): re-initialising the head, loading "
                "only bert/*", named.source, type(model).__name__, "; ".join(
                    f"{n}: checkpoint {list(match.mismatched[n][1])}, this task "
                    f"{list(match.mismatched[n][2])}" for n in misfits))
            skip = set(heads)
    else:
        errors = [n for n in match.missing if n not in optional]
        mismatched = list(match.mismatched)
    unexpected = [] if allow_unexpected else match.unused
    if errors or unexpected or mismatched:
        raise match.error(named.source, model, errors, unexpected, mismatched)
    loaded = {n: s for n, s in match.plan.items() if n not in skip}
    # Every array read and checked before any is assigned: a bad file changes nothing.
    values = {name: check_float_array(source, named.weights[source], named.source)
              for name, source in loaded.items()}
    for name, value in values.items():
        targets[name].assign(value.astype(targets[name].dtype))
    present = sum(n in loaded for n in heads)
    status = REINITIALISED if skip else LOADED if present == len(heads) else \
        NEW if present == 0 else PARTIAL
    logging.info("Loaded %s from %s: %d variables; heads %s; %d checkpoint variables "
                 "unused", type(model).__name__, named.source, len(loaded), status,
                 len(match.unused))
    return {"status": status, "loaded": sorted(loaded),
            "missing": sorted(n for n in targets if n not in loaded),
            "unused": match.unused, "source": named.source}


def load_pretrained(path, config=None, task=None, num_choices=4, num_labels=None,
                    new_heads=False, init_from_group0=False, **model_kwargs):
    """Builds an albert_tf model and loads a checkpoint of any format into it.

    Args:
        path: a checkpoint in any format (see the module docstring), or `NamedWeights`.
        config: `AlbertConfig`, dict or path; needed for an official checkpoint
            without `albert_config.json` beside it.
        task: the model to build (one of `TASKS`: "encoder" builds an
            `AlbertEncoder`); None: the model the checkpoint holds (an encoder-only
            checkpoint gives an `AlbertPretrainer` with fresh heads, with a warning).
        num_choices: for a multiple-choice model.
        num_labels: for a classifier; None: the checkpoint's.
        new_heads: a head the checkpoint lacks or holds with another shape is freshly
            initialised (see `load_weights`); else such a checkpoint is refused.
        init_from_group0: see `load_weights`.
        **model_kwargs: for the model's constructor (`dtype`, `dropout_prob`,
            `start_n_top`, ...).

    Returns:
        The model (a `.keras` file without `task`: the model it holds). Its
        `spm_model_file` attribute is the SentencePiece model that came with the
        checkpoint (keras-hub `vocabulary.spm`, HF `spiece.model`, official
        `30k-clean.model`), or None.
    """
    if not isinstance(path, NamedWeights):
        path = resolve_pretrained(path)  # A hub id -> its local folder.
    if task is None and not isinstance(path, NamedWeights) and str(path).endswith(".keras"):
        model = _load_keras_file(path)
        model.spm_model_file = None
        return model
    named = read_pretrained(path, config, task)
    asked = task
    if task is None:
        task = "pretraining" if named.task == "encoder" else named.task
    if task in ("classifier", "multiple_choice") and named.dropout_prob is not None:
        model_kwargs.setdefault("dropout_prob", named.dropout_prob)
    if task == "classifier" and num_labels is None:
        num_labels = named.num_labels
    if task == "classifier" and named.label_list and len(named.label_list) == num_labels:
        model_kwargs.setdefault("label_list", named.label_list)
    model = _new_model(named.config, task, num_labels=num_labels, num_choices=num_choices,
                       **model_kwargs)
    load_weights(model, named, init_from_group0=init_from_group0, new_heads=new_heads,
                 allow_unexpected=asked is not None)
    model.spm_model_file = named.spm_model_file
    return model


def load_official_checkpoint(path, config=None, init_from_group0=False, **model_kwargs):
    """An `AlbertPretrainer` holding every variable of a checkpoint (any format): the
    checkpoint may hold nothing the pretrainer does not use.

    Args:
        path: checkpoint prefix (e.g. `.../model.ckpt-best`) or a directory (see
            `resolve_checkpoint`); HF and keras-hub folders load too.
        config: `AlbertConfig`, dict or path to `albert_config.json`; defaults to the
            `albert_config.json` beside the checkpoint.
        init_from_group0: see `load_weights`.
        **model_kwargs: passed to `AlbertPretrainer` (e.g. `dtype`).
    """
    named = read_pretrained(path, config, "pretraining")
    model = _new_model(named.config, "pretraining", **model_kwargs)
    load_weights(model, named, init_from_group0=init_from_group0, new_heads=False,
                 allow_unexpected=False)
    model.spm_model_file = named.spm_model_file
    return model
