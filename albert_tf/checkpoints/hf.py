"""Hugging Face transformers ALBERT checkpoints (`config.json` + safetensors), as data.

Reads and writes the files of `AlbertModel`, `AlbertForPreTraining`,
`AlbertForMaskedLM`, `AlbertForSequenceClassification`, `AlbertForMultipleChoice`
and `AlbertForQuestionAnswering` with `safetensors.numpy`; neither torch nor
transformers is needed (a legacy `pytorch_model.bin` is the one exception).

Names follow transformers' `modeling_albert.py`: `albert.embeddings.*`,
`albert.encoder.embedding_hidden_mapping_in`,
`albert.encoder.albert_layer_groups.{g}.albert_layers.{k}.{attention.query, ...,
ffn, ffn_output, full_layer_layer_norm}`, `albert.pooler`, `predictions.*`,
`sop_classifier.classifier`. A torch `Linear.weight` is [out, in], the
transpose of the official kernel [in, out]; the official `output_weights`
[units, in] are already in that layout.
"""

import json
import os

from absl import logging
import numpy as np

from albert_tf.checkpoints.hf_tokenizer import find_hf_spm_model
from albert_tf.checkpoints.labels import check_label_list
from albert_tf.checkpoints.named_weights import (NamedWeights, check_declared_sizes,
                                                 check_identity_projection, held_sizes,
                                                 identity_projection)
from albert_tf.config import AlbertConfig, layer_group, layer_list

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"

ARCHITECTURES = {
    "encoder": "AlbertModel",
    "pretraining": "AlbertForPreTraining",
    "classifier": "AlbertForSequenceClassification",
    "multiple_choice": "AlbertForMultipleChoice",
    "squad_v1": "AlbertForQuestionAnswering",
}
TASK_OF_ARCHITECTURE = dict((v, k) for k, v in ARCHITECTURES.items())
TASK_OF_ARCHITECTURE["AlbertForMaskedLM"] = "pretraining"
# transformers builds these without the pooler (`add_pooling_layer=False`); the
# official SQuAD model has `bert/pooler` but never uses it.
NO_POOLER = ("squad_v1",)

# Official suffix under inner_group_k -> transformers suffix under albert_layers.k.
_INNER_NAMES = (
    ("attention_1/self/query", "attention.query"),
    ("attention_1/self/key", "attention.key"),
    ("attention_1/self/value", "attention.value"),
    ("attention_1/output/dense", "attention.dense"),
    ("LayerNorm", "attention.LayerNorm"),
    ("ffn_1/intermediate/dense", "ffn"),
    ("ffn_1/intermediate/output/dense", "ffn_output"),
    ("LayerNorm_1", "full_layer_layer_norm"),
)
# Official -> transformers for everything outside the layer groups. `albert.`
# is the base model prefix of every model with heads.
_OUTER_NAMES = (
    ("bert/embeddings/LayerNorm", "albert.embeddings.LayerNorm"),
    ("bert/encoder/embedding_hidden_mapping_in", "albert.encoder.embedding_hidden_mapping_in"),
    ("bert/pooler/dense", "albert.pooler"),
    ("cls/predictions/transform/dense", "predictions.dense"),
    ("cls/predictions/transform/LayerNorm", "predictions.LayerNorm"),
)
_EMBEDDINGS = ("word_embeddings", "token_type_embeddings", "position_embeddings")
# Official output projections ([units, in], like a torch Linear.weight).
_PROJECTIONS = {
    "pretraining": {"cls/seq_relationship": "sop_classifier.classifier"},
    "classifier": {"": "classifier"},
    "multiple_choice": {"": "classifier"},
    "squad_v1": {"cls/squad": "qa_outputs"},
}


# ------------------------------------------------------------------- config
def hf_group(layer_idx, num_hidden_layers, num_hidden_groups):
    """transformers' layer -> group rule (`int(i / (L / G))`), which is not always the
    official `layer_group` in floating point."""
    return int(layer_idx / (num_hidden_layers / num_hidden_groups))


def check_group_rule(config, source):
    """Refuses a config whose layers transformers would run from other groups."""
    layers, groups = config.num_hidden_layers, config.num_hidden_groups
    differ = [i for i in range(layers)
              if hf_group(i, layers, groups) != layer_group(i, layers, groups)]
    if differ:
        raise ValueError(
            f"{source}: with num_hidden_layers={layers} and num_hidden_groups={groups} "
            f"transformers runs layers {layer_list(differ)} from other groups than the "
            f"official int(i / L * G) rule (its int(i / (L / G)) rounds differently), so the model "
            "would compute something else")


def albert_config_from_hf(values, source):
    """(AlbertConfig, classifier_dropout_prob) from a transformers `config.json` dict."""
    if values.get("model_type") != "albert":
        raise ValueError(f"{source}: model_type must be 'albert', got "
                         f"{values.get('model_type')!r}")
    eps = values.get("layer_norm_eps", 1e-12)
    if eps != 1e-12:
        raise ValueError(f"{source}: layer_norm_eps must be 1e-12 as in official ALBERT, "
                         f"got {eps!r}")
    position_type = values.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(f"{source}: position_embedding_type must be 'absolute', got "
                         f"{position_type!r}")
    act = values.get("hidden_act", "gelu_new")
    if act == "gelu_new":
        act = "gelu"  # transformers' name for the official tanh approximation.
    elif act == "gelu":
        # transformers' "gelu" is the exact erf form; the released v1 weights it labels
        # so were trained with the official tanh approximation, which is what runs here.
        logging.warning("%s: hidden_act 'gelu' is the exact erf GELU in transformers; "
                        "albert_tf computes the official tanh approximation (gelu_new)",
                        source)
    fields = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
              "num_hidden_groups", "num_attention_heads", "intermediate_size",
              "inner_group_num", "hidden_dropout_prob", "attention_probs_dropout_prob",
              "max_position_embeddings", "type_vocab_size", "initializer_range")
    defaults = dict(vocab_size=30000, embedding_size=128, hidden_size=4096,
                    num_hidden_layers=12, num_hidden_groups=1, num_attention_heads=64,
                    intermediate_size=16384, inner_group_num=1, hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0, max_position_embeddings=512,
                    type_vocab_size=2, initializer_range=0.02)
    config = AlbertConfig.from_dict(
        dict({f: values.get(f, defaults[f]) for f in fields}, hidden_act=act), source=source)
    check_group_rule(config, source)
    return config, values.get("classifier_dropout_prob")


def hf_config(named):
    """The transformers `config.json` dict for a `NamedWeights`."""
    config, task = named.config, _hf_task(named)
    if task not in ARCHITECTURES:
        raise ValueError(_no_architecture(task))
    act = config.hidden_act or "linear"
    values = {
        "architectures": [ARCHITECTURES[task]],
        "model_type": "albert",
        "vocab_size": config.vocab_size,
        "embedding_size": config.embedding_size,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_hidden_groups": config.num_hidden_groups,
        "num_attention_heads": config.num_attention_heads,
        "intermediate_size": config.intermediate_size,
        "inner_group_num": config.inner_group_num,
        "hidden_act": "gelu_new" if act.lower() in ("gelu", "gelu_new") else act.lower(),
        "hidden_dropout_prob": config.hidden_dropout_prob,
        "attention_probs_dropout_prob": config.attention_probs_dropout_prob,
        "max_position_embeddings": config.max_position_embeddings,
        "type_vocab_size": config.type_vocab_size,
        "initializer_range": config.initializer_range,
        "layer_norm_eps": 1e-12,
        "position_embedding_type": "absolute",
        "classifier_dropout_prob": 0.1 if named.dropout_prob is None else named.dropout_prob,
        "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3,
        "tie_word_embeddings": True,
        "dtype": "float32",
    }
    num_labels = {"classifier": named.num_labels, "squad_v1": 2}.get(task)
    if num_labels:
        names = (named.label_list if task == "classifier" and named.label_list
                 else [f"LABEL_{i}" for i in range(num_labels)])
        values["id2label"] = {str(i): name for i, name in enumerate(names)}
        values["label2id"] = {name: i for i, name in enumerate(names)}
    return values


def label_list_from_hf(values, num_labels, source):
    """The label names of a transformers config's `id2label`, or None when it holds
    only transformers' defaults (`LABEL_0`, `LABEL_1`, ...) or nothing."""
    id2label = values.get("id2label")
    if not id2label:
        return None
    if not isinstance(id2label, dict):
        raise ValueError(f"{source}: id2label must be an object {{\"0\": name, ...}}, got "
                         f"{type(id2label).__name__}")
    try:
        by_id = {int(k): v for k, v in id2label.items()}
    except ValueError:
        raise ValueError(f"{source}: id2label keys must be label ids \"0\", \"1\", ...; got "
                         f"{sorted(id2label)}") from None
    if sorted(by_id) != list(range(num_labels)):
        raise ValueError(f"{source}: id2label has ids {sorted(by_id)}, expected 0 to "
                         f"{num_labels - 1} (the classifier has {num_labels} outputs)")
    names = [str(by_id[i]) for i in range(num_labels)]
    if names == [f"LABEL_{i}" for i in range(num_labels)]:
        return None
    return check_label_list(names, num_labels, f"{source}: id2label")


def _hf_task(named):
    """A pretraining checkpoint without any head (a keras-hub backbone) is an AlbertModel."""
    if named.task == "pretraining" and not any(n.startswith("cls/") for n in named.weights):
        return "encoder"
    return named.task


def _no_architecture(task):
    if task == "squad_v2":
        return ("the official SQuAD 2.0 head (start_logits/end_logits/answer_class with "
                "beam search over start and end) has no transformers counterpart: "
                "AlbertForQuestionAnswering is the SQuAD 1.1 span head")
    return f"no transformers ALBERT model holds the task {task!r}"


# ------------------------------------------------------------------ weights
def _official_to_hf_names(config, task):
    """[(official name, hf key, transpose)] for every variable of `task`."""
    table = []
    prefix = "" if task == "encoder" else "albert."
    for name in _EMBEDDINGS:
        table.append((f"bert/embeddings/{name}", f"{prefix}embeddings.{name}.weight", False))

    def dense_or_norm(official, hf, is_norm):
        if is_norm:
            table.append((f"{official}/gamma", f"{hf}.weight", False))
            table.append((f"{official}/beta", f"{hf}.bias", False))
        else:
            table.append((f"{official}/kernel", f"{hf}.weight", True))
            table.append((f"{official}/bias", f"{hf}.bias", False))

    for official, hf in _OUTER_NAMES:
        if official.startswith("cls/") and task != "pretraining":
            continue
        if official.startswith("bert/encoder/embedding") and \
                config.embedding_size == config.hidden_size:
            continue  # Written as the identity, see `to_hf_state_dict`.
        if official == "bert/pooler/dense" and task in NO_POOLER:
            continue
        dense_or_norm(official, prefix + hf[len("albert."):] if hf.startswith("albert.")
                      else hf, official.endswith("LayerNorm"))
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            for official, hf in _INNER_NAMES:
                dense_or_norm(
                    f"bert/encoder/transformer/group_{g}/inner_group_{k}/{official}",
                    f"{prefix}encoder.albert_layer_groups.{g}.albert_layers.{k}.{hf}",
                    official.startswith("LayerNorm"))
    if task == "pretraining":
        table.append(("cls/predictions/output_bias", "predictions.bias", False))
    for official, hf in _PROJECTIONS.get(task, {}).items():
        scope = f"{official}/" if official else ""
        table.append((f"{scope}output_weights", f"{hf}.weight", False))
        table.append((f"{scope}output_bias", f"{hf}.bias", False))
    return table


def to_hf_state_dict(named):
    """transformers key -> array (C-contiguous, as safetensors stores it)."""
    config, task = named.config, _hf_task(named)
    if task not in ARCHITECTURES:
        raise ValueError(_no_architecture(task))
    check_group_rule(config, named.source)
    missing_groups = [g for g in range(config.num_hidden_groups)
                      if f"bert/encoder/transformer/group_{g}/inner_group_0/LayerNorm/gamma"
                      not in named.weights]
    if missing_groups:
        raise ValueError(f"{named.source}: groups {missing_groups} have no weights, but "
                         "transformers creates and runs every group")
    state = {}
    if task in NO_POOLER:
        dropped = sorted(n for n in named.weights if n.startswith("bert/pooler/"))
        if dropped:
            logging.warning("%s: transformers' %s has no pooler; left out: %s",
                            named.source, ARCHITECTURES[task], ", ".join(dropped))
    for official, hf, transpose in _official_to_hf_names(config, task):
        if official not in named.weights:
            if official.startswith("cls/"):
                continue  # A head the source did not have (e.g. keras-hub: no SOP head).
            raise ValueError(f"{named.source}: variable {official} is missing")
        value = np.asarray(named.weights[official])
        state[hf] = np.ascontiguousarray(value.T if transpose else value)
    if config.embedding_size == config.hidden_size:
        prefix = "" if task == "encoder" else "albert."
        kernel, bias = identity_projection(config.hidden_size)
        state[f"{prefix}encoder.embedding_hidden_mapping_in.weight"] = kernel
        state[f"{prefix}encoder.embedding_hidden_mapping_in.bias"] = bias
    if task == "pretraining" and "cls/seq_relationship/output_weights" not in named.weights:
        logging.warning("%s has no sentence-order head; transformers will initialise "
                        "sop_classifier randomly", named.source)
    return state


def from_hf_state_dict(state, config, task, source):
    """Official name -> array from a transformers state dict (inverse of `to_hf_state_dict`)."""
    if not any(k.startswith("albert.") for k in state):
        if task != "encoder":
            state = {f"albert.{k}" if not k.startswith(("predictions.", "sop_classifier.",
                                                          "classifier.", "qa_outputs."))
                     else k: v for k, v in state.items()}
    elif task == "encoder":
        state = {k[len("albert."):]: v for k, v in state.items() if k.startswith("albert.")}
    prefix = "" if task == "encoder" else "albert."
    weights, used = {}, set()
    # AlbertForMaskedLM is built without the pooler (`add_pooling_layer=False`).
    no_pooler = task == "pretraining" and f"{prefix}pooler.weight" not in state
    for official, hf, transpose in _official_to_hf_names(config, task):
        if hf not in state:
            if official.startswith("cls/"):
                continue  # AlbertForMaskedLM has no sop_classifier.
            if no_pooler and official.startswith("bert/pooler/"):
                continue
            raise ValueError(f"{source}: tensor {hf} is missing")
        value = np.asarray(state[hf])
        weights[official] = value.T if transpose else value
        used.add(hf)
    mapping = f"{prefix}encoder.embedding_hidden_mapping_in"
    if config.embedding_size == config.hidden_size:
        check_identity_projection(np.asarray(state[f"{mapping}.weight"]).T,
                                  np.asarray(state[f"{mapping}.bias"]), source, mapping)
        used.update({f"{mapping}.weight", f"{mapping}.bias"})
    # Tied copies (older transformers write them): must equal what they are tied to.
    for tied, origin in (("predictions.decoder.weight", f"{prefix}embeddings.word_embeddings.weight"),
                         ("predictions.decoder.bias", "predictions.bias")):
        if tied in state:
            if origin in state and not np.array_equal(state[tied], state[origin]):
                raise ValueError(f"{source}: {tied} differs from {origin}; ALBERT ties them")
            used.add(tied)
    ignored = ("embeddings.position_ids", "embeddings.token_type_ids")
    unexpected = sorted(k for k in state if k not in used and not k.endswith(ignored))
    if unexpected:
        raise ValueError(f"{source}: tensors with no ALBERT {task} counterpart: "
                         f"{', '.join(unexpected)}")
    return weights


# -------------------------------------------------------------------- files
def is_hf_directory(path):
    config = os.path.join(str(path), CONFIG_FILE)
    if not os.path.isfile(config):
        return False
    try:
        with open(config, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(values, dict) and "model_type" in values


# Field -> (transformers name without `albert.`, axis); a torch weight is [out, in].
_LAYER_0 = "encoder.albert_layer_groups.0.albert_layers.0"
SIZE_TENSORS = {
    "vocab_size": ("embeddings.word_embeddings.weight", 0),
    "embedding_size": ("embeddings.word_embeddings.weight", 1),
    "max_position_embeddings": ("embeddings.position_embeddings.weight", 0),
    "type_vocab_size": ("embeddings.token_type_embeddings.weight", 0),
    "hidden_size": (f"{_LAYER_0}.attention.query.weight", 0),
    "intermediate_size": (f"{_LAYER_0}.ffn.weight", 0),
}


def _safetensors_header(path):
    """The JSON header of one safetensors file ({name: {dtype, shape, data_offsets}});
    a damaged file is refused naming it.

    The header (8-byte little-endian length, then JSON) is checked here:
    safetensors' own errors ("HeaderTooLarge", "InvalidHeaderDeserialization")
    name no file.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else None
        if length is None or length > size - 8:
            raise ValueError(
                f"{path}: not a safetensors file: its header length "
                f"{'is missing' if length is None else f'({length} bytes) runs past the end'}"
                f" (the file has {size} bytes); truncated or not safetensors")
        try:
            header = json.loads(f.read(length))
        except ValueError as e:
            raise ValueError(f"{path}: the safetensors header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the safetensors header must be a JSON object")
    return header


def _safetensors_shapes(path):
    """{name: shape} of one safetensors file, from its header alone."""
    shapes = {}
    for name, entry in _safetensors_header(path).items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool)
                                                and d >= 0 for d in shape)):
            raise ValueError(f"{path}: the safetensors header gives tensor {name} the shape "
                             f"{shape!r}, expected a list of sizes")
        shapes[name] = shape
    return shapes


def _read_safetensors(path):
    """{name: array} of one safetensors file; a damaged file is refused naming it."""
    from safetensors.numpy import load_file

    _safetensors_header(path)
    try:
        return load_file(path)
    except Exception as e:  # safetensors raises its own SafetensorError; name the file.
        raise ValueError(f"{path}: cannot read safetensors tensors ({e}); truncated or "
                         "damaged file") from None


def _shard_path(directory, index, shard):
    """The file a `weight_map` entry names, which must be a file in `directory`."""
    path = os.path.join(directory, shard) if isinstance(shard, str) else None
    if (path is None or os.path.basename(shard) != shard or shard in ("", ".", "..")
            or os.path.dirname(os.path.realpath(path)) != os.path.realpath(directory)):
        raise ValueError(f"{index}: shard {shard!r} must be the name of a file in "
                         f"{directory}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{index}: shard {shard!r} does not exist in {directory}")
    return path


def _weight_files(directory):
    """(the weights file or index for messages, [safetensors files] or None for a
    pytorch_model.bin)."""
    single = os.path.join(directory, SAFETENSORS_FILE)
    index = os.path.join(directory, SAFETENSORS_INDEX_FILE)
    if os.path.isfile(single):
        return single, [single]
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            try:
                values = json.load(f)
            except ValueError as e:
                raise ValueError(f"{index}: not valid JSON ({e})") from None
        weight_map = values.get("weight_map") if isinstance(values, dict) else None
        if not isinstance(weight_map, dict):
            raise ValueError(f"{index}: expected an object with a 'weight_map' object "
                             "{tensor name: shard file name}")
        return index, [_shard_path(directory, index, shard)
                       for shard in sorted(set(map(str, weight_map.values())))]
    legacy = os.path.join(directory, PYTORCH_FILE)
    if os.path.isfile(legacy):
        return legacy, None
    raise FileNotFoundError(f"{directory}: no {SAFETENSORS_FILE}, {SAFETENSORS_INDEX_FILE} "
                            f"or {PYTORCH_FILE}")


def _read_state(directory, config, source):
    """The state dict of a transformers folder, once the sizes `config` (read from
    `source`) declares are the ones its weights hold (`held_sizes`): from the
    safetensors headers, or a pytorch_model.bin's mapped tensors."""
    where, files = _weight_files(directory)
    if files is None:
        # A pickle has no header, but memory-mapped (`torch.load(mmap=True)`) its
        # tensors give their shapes before any array is read.
        tensors = _open_pytorch_bin(where)
        shapes = {name: tuple(value.shape) for name, value in tensors.items()}
        check_declared_sizes(config, _held_sizes(shapes), source, where)
        return {name: np.array(value.detach().cpu().numpy())
                for name, value in tensors.items()}
    shapes = {}
    for path in files:
        shapes.update(_safetensors_shapes(path))
    check_declared_sizes(config, _held_sizes(shapes), source, where)
    state = {}
    for path in files:
        state.update(_read_safetensors(path))
    return state


def _held_sizes(shapes):
    """`held_sizes` of a state dict's shapes, with or without the `albert.` prefix."""
    names = {}
    for name in shapes:
        names.setdefault(name[len("albert."):] if name.startswith("albert.") else name, name)
    return held_sizes({short: shapes[name] for short, name in names.items()}, SIZE_TENSORS,
                      r"^encoder\.albert_layer_groups\.(\d+)\.",
                      r"^encoder\.albert_layer_groups\.0\.albert_layers\.(\d+)\.",
                      name_of=names.get)


def _open_pytorch_bin(path):
    """{name: torch.Tensor} of a pickled state dict, memory-mapped where the file is
    torch's zip format (every file since torch 1.6): no array is read yet."""
    convert = ("convert it to safetensors where torch is installed: `python -c \"import torch, "
               "safetensors.torch as st; state = torch.load('" + path + "', weights_only=True); "
               "st.save_file({k: v.clone().contiguous() for k, v in state.items()}, "
               "'model.safetensors', metadata={'format': 'pt'})\"` in that directory")
    try:
        import torch
    except ImportError:
        raise ImportError(f"{path} is a pickled PyTorch checkpoint, which needs torch to "
                          f"read; {convert}") from None
    # weights_only: a checkpoint is data; never run the pickled code it may carry.
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as e:
        if "zip" not in str(e):
            raise
    # The legacy (pre-1.6) format cannot be mapped: read it whole.
    return torch.load(path, map_location="cpu", weights_only=True)


def read_hf(directory):
    """`NamedWeights` from a transformers ALBERT directory."""
    directory = str(directory)
    source = os.path.join(directory, CONFIG_FILE)
    with open(source, encoding="utf-8") as f:
        values = json.load(f)
    config, dropout = albert_config_from_hf(values, source)
    state = _read_state(directory, config, source)
    architectures = values.get("architectures") or []
    task = None
    for architecture in architectures:
        if architecture in TASK_OF_ARCHITECTURE:
            task = TASK_OF_ARCHITECTURE[architecture]
        elif architecture.startswith("Albert"):
            raise ValueError(f"{source}: {architecture} has no official ALBERT counterpart")
    if task is None:  # No architectures: what the tensors hold.
        names = {"qa_outputs.weight": "squad_v1", "classifier.weight": "classifier",
                 "predictions.bias": "pretraining"}
        task = next((t for k, t in names.items() if k in state), "encoder")
    weights = from_hf_state_dict(state, config, task, directory)
    label_list = (label_list_from_hf(values, int(weights["output_weights"].shape[0]), source)
                  if task == "classifier" else None)
    return NamedWeights(config, weights, task=task,
                        dropout_prob=dropout if task in ("classifier", "multiple_choice")
                        else None,
                        spm_model_file=find_hf_spm_model(directory), source=directory,
                        label_list=label_list)


def write_hf(named, directory, do_lower_case=True):
    """Writes `config.json`, `model.safetensors` and, with an spm model, the tokenizer.

    Returns the names of the variables transformers' model cannot hold.
    """
    from safetensors.numpy import save_file

    state = to_hf_state_dict(named)
    values = hf_config(named)
    dropped = sorted(n for n in named.weights if n.startswith("bert/pooler/")) \
        if named.task in NO_POOLER else []
    if named.spm_model_file:
        values["model_max_length"] = named.config.max_position_embeddings
    with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(values, f, indent=2)
        f.write("\n")
    # format=pt: transformers refuses safetensors files without a known format tag.
    save_file(state, os.path.join(directory, SAFETENSORS_FILE), metadata={"format": "pt"})
    if named.spm_model_file:
        from albert_tf.checkpoints.hf_tokenizer import write_hf_tokenizer

        write_hf_tokenizer(named.spm_model_file, directory,
                           max_length=named.config.max_position_embeddings,
                           do_lower_case=do_lower_case)
    return dropped
