"""`load_pretrained`, `save_pretrained` and `convert_checkpoint`: ALBERT weights in and
out of the four formats users hold them in.

  official   TF1 checkpoint (`model.ckpt-best` + `albert_config.json`), the released
             tars, our runners' `model.ckpt-*`; also our Trainer's `ckpt-N` and
             `.keras` files (read only);
  hf         transformers directory (`config.json` + `model.safetensors`);
  keras_hub  keras-hub preset directory (`config.json` + `model.weights.h5`).

Conversions go through `NamedWeights` (official names -> arrays), never a model,
so every array a format can hold is copied bit for bit.
"""

import os
import shutil

from absl import logging
import numpy as np

from albert_tf.checkpoints import hf as hf_format
from albert_tf.checkpoints import keras_hub as keras_hub_format
from albert_tf.checkpoints import labels
from albert_tf.checkpoints.hub import resolve_pretrained
from albert_tf.checkpoints.named_weights import (NamedWeights, build_model, from_model,
                                                 task_of_weights)
from albert_tf.config import AlbertConfig

FORMATS = ("official", "hf", "keras_hub")
OFFICIAL_PREFIX = "model.ckpt-best"
OFFICIAL_CONFIG = "albert_config.json"
OFFICIAL_SPM = "30k-clean.model"


def detect_format(path):
    """"keras" (a .keras file), "hf", "keras_hub" or "official" (TF1 or Trainer)."""
    path = str(path)
    if path.endswith(".keras"):
        return "keras"
    if os.path.isdir(path):
        if keras_hub_format.is_keras_hub_directory(path):
            return "keras_hub"
        if hf_format.is_hf_directory(path):
            return "hf"
    return "official"


def read_config(path):
    """The `AlbertConfig` of an `albert_config.json`, or of the `config.json` of a
    transformers folder or a keras-hub preset (the file, or the folder holding it)."""
    import json

    path = str(path)
    if os.path.isdir(path):
        for name in (OFFICIAL_CONFIG, hf_format.CONFIG_FILE):
            if os.path.isfile(os.path.join(path, name)):
                path = os.path.join(path, name)
                break
        else:
            raise FileNotFoundError(f"{path}: holds neither {OFFICIAL_CONFIG} nor "
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
    return AlbertConfig.from_json_file(config)


def _read_official(path, config):
    import tensorflow as tf

    from albert_tf.checkpoints.official import list_official_variables, resolve_checkpoint

    prefix, config_path = resolve_checkpoint(path)
    if config is None:
        if config_path is None:
            raise FileNotFoundError(f"no config given and no {OFFICIAL_CONFIG} beside "
                                    f"checkpoint {prefix}")
        config = AlbertConfig.from_json_file(config_path)
    shapes = list_official_variables(prefix)
    if any(name.startswith("model/") and ".ATTRIBUTES/" in name for name in shapes):
        return None, prefix, config  # Our Trainer's object-based checkpoint.
    reader = tf.train.load_checkpoint(prefix)
    weights = {name: np.asarray(reader.get_tensor(name)) for name in shapes}
    spm = os.path.join(os.path.dirname(prefix), OFFICIAL_SPM)
    task = task_of_weights(weights, prefix)
    label_list = None
    if task == "classifier":  # run_classifier.py --task_name=custom writes them beside.
        label_list = labels.read_label_list(os.path.dirname(prefix),
                                            int(weights["output_weights"].shape[0]))
    return NamedWeights(config, weights, task=task,
                        spm_model_file=spm if os.path.isfile(spm) else None,
                        source=prefix, label_list=label_list), prefix, config


def _load_trainer_checkpoint(prefix, config):
    from albert_tf.checkpoints.official import restore_training_checkpoint
    from albert_tf.modeling import AlbertPretrainer

    model = AlbertPretrainer(config)
    try:
        restore_training_checkpoint(model, prefix)
    except AssertionError as e:
        raise ValueError(f"{prefix}: a training checkpoint that does not hold an "
                         "AlbertPretrainer; load the official-format checkpoint "
                         f"(model.ckpt-*) its runner writes instead ({e})") from None
    return model


def read_pretrained(path, config=None):
    """`NamedWeights` of a checkpoint in any format (see module docstring), or of a hub
    id (`checkpoints.hub`)."""
    path = resolve_pretrained(path)
    config = _as_config(config)
    kind = detect_format(path)
    if kind == "keras":
        import keras

        # safe_mode (the default) refuses lambdas and other code in the file.
        return from_model(keras.saving.load_model(str(path), safe_mode=True))
    if kind in ("hf", "keras_hub"):
        reader = hf_format.read_hf if kind == "hf" else keras_hub_format.read_keras_hub
        named = reader(path)
        if config is not None and _architecture(config) != _architecture(named.config):
            raise ValueError(f"{path}: its config {named.config} differs from the given "
                             f"config {config}")
        return named
    named, prefix, config = _read_official(path, config)
    if named is None:
        return from_model(_load_trainer_checkpoint(prefix, config))
    return named


def _architecture(config):
    return {k: v for k, v in config.to_dict().items()
            if k not in ("hidden_dropout_prob", "attention_probs_dropout_prob",
                         "initializer_range") and k not in config.extra}


def load_pretrained(path, config=None, task=None, num_choices=4):
    """Builds the albert_tf model a checkpoint holds and loads it, in any format.

    Args:
        path: an official TF1 checkpoint (prefix, or directory with
            `albert_config.json`), our Trainer's `ckpt-N`, a `.keras` file, a
            transformers directory (`config.json` + `model.safetensors`, sharded
            safetensors, or `pytorch_model.bin` when torch is installed) or a
            keras-hub preset directory; or, when no such path exists, a hub id
            ("albert/albert-base-v2", "albert_base_en_uncased", "kaggle://...",
            see `checkpoints.hub`).
        config: `AlbertConfig`, dict or path; needed for an official checkpoint
            without `albert_config.json` beside it.
        task: "multiple_choice" to read an official `output_weights` [1, H] head
            as a multiple-choice head (the names alone say "classifier").
        num_choices: for a multiple-choice model.

    Returns:
        An `AlbertPretrainer` (pretraining checkpoints, encoders; a missing head
        is freshly initialised with a warning), `AlbertClassifier`,
        `AlbertMultipleChoice`, `AlbertSquadV1` or `AlbertSquadV2`. Its
        `spm_model_file` attribute is the SentencePiece model that came with the
        checkpoint (keras-hub `vocabulary.spm`, HF `spiece.model`, official
        `30k-clean.model`), or None.
    """
    path = resolve_pretrained(path)  # A hub id -> its local folder (checkpoints/hub.py).
    if detect_format(path) == "keras":
        import keras

        model = keras.saving.load_model(str(path), safe_mode=True)
        model.spm_model_file = None
        return model
    named = read_pretrained(path, config)
    if task is not None:
        if task != named.task and (task, named.task) != ("multiple_choice", "classifier"):
            raise ValueError(f"{path}: holds a {named.task} head, not {task}")
        named.task = task
    model = build_model(named, num_choices=num_choices)
    model.spm_model_file = named.spm_model_file
    return model


def save_pretrained(model, path, format="official", spm_model_file=None, do_lower_case=True):
    """Writes an albert_tf model as a checkpoint directory of `format`.

    Args:
        model: `AlbertPretrainer`, `AlbertEncoder`, a task model or a `TextClassifier`
            (its SentencePiece model and `do_lower_case` are written with it).
        path: the directory to create (must not exist, or be empty).
        format: "official" (`model.ckpt-best` + `albert_config.json`), "hf"
            (transformers: `AlbertForPreTraining`, `AlbertModel`,
            `AlbertForSequenceClassification`, `AlbertForMultipleChoice`,
            `AlbertForQuestionAnswering`) or "keras_hub" (`AlbertBackbone` preset).
        spm_model_file: the SentencePiece model, written as the format's tokenizer.
        do_lower_case: for the HF tokenizer config.

    Returns:
        The names of the variables the format cannot hold (left out, with a warning).
    """
    preprocessor = getattr(model, "preprocessor", None)  # A TextClassifier.
    if preprocessor is not None and spm_model_file is None:
        import tempfile

        # Its SentencePiece model may live only in memory (a reloaded .keras file).
        with tempfile.TemporaryDirectory() as tmp:
            spm_model_file = os.path.join(tmp, OFFICIAL_SPM)
            with open(spm_model_file, "wb") as f:
                f.write(preprocessor.spm_model_proto)
            return write_named(from_model(model, spm_model_file=spm_model_file), path,
                               format, do_lower_case=preprocessor.do_lower_case)
    named = from_model(model, spm_model_file=spm_model_file)
    return write_named(named, path, format, do_lower_case=do_lower_case)


def write_named(named, path, format, do_lower_case=True):
    """Writes `NamedWeights` into the new directory `path`; see `save_pretrained`."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    path = os.path.abspath(str(path))
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise FileExistsError(f"{path} exists and is not an empty directory; choose a new "
                              "output directory")
    staging = f"{path}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        dropped = []
        if format == "official":
            from albert_tf.checkpoints.official import write_official_variables

            write_official_variables(named.weights, os.path.join(staging, OFFICIAL_PREFIX),
                                     write_state_file=True)
            named.config.to_json_file(os.path.join(staging, OFFICIAL_CONFIG))
            if named.spm_model_file:
                shutil.copyfile(named.spm_model_file, os.path.join(staging, OFFICIAL_SPM))
            if named.label_list and named.task == "classifier":
                labels.write_label_list(staging, named.label_list)
        elif format == "hf":
            dropped = hf_format.write_hf(named, staging, do_lower_case=do_lower_case)
        else:
            dropped = keras_hub_format.write_keras_hub(named, staging)
        if os.path.isdir(path):
            os.rmdir(path)
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dropped


def convert_checkpoint(input_path, output_path, output_format, spm_model_file=None,
                       config=None, do_lower_case=True):
    """Converts a checkpoint of any detected format into `output_format` (see
    `read_pretrained` and `write_named`); what `convert_checkpoint.py` runs.

    Returns:
        The names of the input's variables the output format cannot hold.
    """
    if os.path.abspath(str(output_path)) == os.path.abspath(str(input_path)):
        raise ValueError(f"--output ({output_path}) must differ from --input")
    named = read_pretrained(input_path, config)
    if spm_model_file:
        named.spm_model_file = spm_model_file
    dropped = write_named(named, output_path, output_format, do_lower_case=do_lower_case)
    logging.info("Converted %s (%s, %d variables) to %s (%s)", input_path, named.task,
                 len(named.weights), output_path, output_format)
    return dropped
