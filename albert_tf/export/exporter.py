"""Builds an export module from a checkpoint and writes the SavedModel atomically.

`export_savedmodel(ExportParams(...))` is what `export_savedmodel.py` runs:
  1-2. build the Keras model of `model_kind` and load the checkpoint, any format
     (`albert_tf.checkpoints.load_pretrained`: official TF1, our Trainer's
     `ckpt-N`, a transformers folder, a keras-hub preset, a `.keras` file);
     the config is `--albert_config_file`, else the checkpoint's own;
  3. wrap it in its module (`*_module.py`) with the in-graph tokenizer;
  4. save into a temporary directory beside `export_dir`, then rename it into
     place, so `export_dir` is either absent or a complete SavedModel (on
     POSIX file systems; object stores such as GCS copy instead of renaming).
     With `overwrite`, an existing export is moved aside first and deleted
     once the new one is in place.
"""

import dataclasses
import json
import os
import shutil
from typing import Optional, Sequence

from absl import logging
import tensorflow as tf

import albert_tf
from albert_tf.checkpoints import (CheckpointMismatchError, load_pretrained,
                                   read_pretrained, resolve_checkpoint)
from albert_tf.checkpoints.labels import checkpoint_directory, read_label_list
from albert_tf.checkpoints.named_weights import PRETRAINING_HEADS
from albert_tf.export import base_module
from albert_tf.export.classifier_module import AlbertClassifierModule
from albert_tf.export.encoder_module import AlbertEncoderModule
from albert_tf.export.preprocess_module import AlbertPreprocessModule
from albert_tf.export.race_module import NUM_CHOICES, AlbertRaceModule
from albert_tf.export.squad_module import AlbertSquadModule
from albert_tf.settings import (ModelFiles, SettingError, Vocabulary, check_ranges,
                                setting, setting_of)
from albert_tf.tokenization import TFTokenizer

FORMATS = ("savedmodel", "tflite")
QUANTIZATIONS = ("none", "float16", "dynamic_int8", "int8")  # litert.QUANTIZATIONS
MODEL_KINDS = ("encoder", "preprocess", "squad", "classifier", "race")
# Official defaults of run_classifier.py / run_squad_v*.py / run_race.py.
# preprocess: 128, TF Hub's preprocessors' default.
DEFAULT_MAX_SEQ_LENGTH = {"encoder": 512, "preprocess": 128, "classifier": 512,
                          "squad": 384, "race": 512}


@dataclasses.dataclass(kw_only=True)
class ExportParams(Vocabulary):
    """What to export; field names are the `albert-export` flags."""

    model_kind: str = setting(help="What to export.", required=True, choices=list(MODEL_KINDS))
    export_dir: str = setting(help="Where the SavedModel goes (e.g. .../model/1).",
                              required=True)
    init_checkpoint: Optional[str] = setting_of(
        ModelFiles, "init_checkpoint",
        help="Checkpoint prefix or directory: official TF1 format (ours or "
             "google-research/albert), a Trainer checkpoint, or a .keras file. Not needed "
             "for preprocess.")
    albert_config_file: Optional[str] = setting_of(
        ModelFiles, "albert_config_file", None,
        help="albert_config.json (default: the one beside the checkpoint).")
    max_seq_length: Optional[int] = setting(
        None, "Tokens per sequence, [CLS]/[SEP] included (default: 384 for squad, 128 for "
              "preprocess (TF Hub's), 512 otherwise, as the official scripts; at most the "
              "model's max_position_embeddings, which a default is cut to).", min=3)
    overwrite: bool = setting(False, "Replace an existing export_dir.")
    text_in_graph: Optional[bool] = setting(
        None, "Put the tokenizer in the graph (raw-text signatures; serving needs the TF "
              "Text ops). False: ids-in signatures only, serving_default = tokens, no TF "
              "Text op in the SavedModel (stock TF Serving); tokenize with the preprocess "
              "export. Default: true, but false for --format=tflite but preprocess (a "
              "builtin-ops-only file); true there adds the raw-text signatures, which need "
              "TF Text's LiteRT kernel (albert_tf/export/litert_text.py).")
    # SQuAD.
    version_2_with_negative: bool = setting(False, "SQuAD v2.0 model (can say no answer).")
    doc_stride: int = setting(128, "SQuAD: tokens between window starts.", min=1)
    max_query_length: int = setting(64, "SQuAD: question tokens kept.", min=1)
    max_answer_length: int = setting(30, "SQuAD: longest answer, in tokens.", min=1)
    n_best_size: int = setting(20, "SQuAD v1.1: start/end logits tried per window.", min=1)
    start_n_top: int = setting(5, "SQuAD v2.0: starts searched by the model.", min=1)
    end_n_top: int = setting(5, "SQuAD v2.0: ends searched per start.", min=1)
    null_score_diff_threshold: float = setting(
        0.0, "SQuAD v2.0: is_answerable when the null score is below this.")
    # Classifier.
    task_name: Optional[str] = setting(
        None, "Classifier: GLUE task whose labels to use (e.g. mnli).")
    label_list: Optional[Sequence[str]] = setting(
        None, "Classifier: label strings in label-id order.")
    num_labels: Optional[int] = setting(
        None, "Classifier: number of labels (default: from the checkpoint; 1 means "
              "regression).", min=1)
    # RACE.
    max_qa_length: int = setting(128, "RACE: question+option tokens kept (the last ones).",
                                 min=1)
    # LiteRT.
    format: str = setting(
        "savedmodel", "savedmodel, or tflite: export_dir/model.tflite, the ids-in signatures "
                      "for LiteRT (albert_tf/export/litert.py).", choices=list(FORMATS))
    quantization: str = setting(
        "none", "tflite: none, float16 (weights), dynamic_int8 (weights; activations at run "
                "time) or int8 (calibrated on --representative_data).",
        choices=list(QUANTIZATIONS))
    representative_data: Optional[str] = setting(
        None, "tflite int8: a text file, one text of the task per line, to calibrate "
              "activations on (default: random ids).")

    def __post_init__(self):
        if self.text_in_graph is None:
            self.text_in_graph = self.format != "tflite" or self.model_kind == "preprocess"

    def validate(self):
        check_ranges(self)
        if self.model_kind != "preprocess" and not self.init_checkpoint:
            raise SettingError(f"--model_kind={self.model_kind} needs --init_checkpoint")
        if not self.export_dir:
            raise SettingError("--export_dir is required")
        if self.model_kind == "preprocess" and not self.text_in_graph:
            raise SettingError("--text_in_graph=false: the preprocess export is the text "
                               "half, it always holds the tokenizer")
        if self.quantization != "none" and self.format != "tflite":
            raise SettingError(f"--quantization={self.quantization} needs --format=tflite")
        if self.max_seq_length is None and self.model_kind == "preprocess":
            self.max_seq_length = DEFAULT_MAX_SEQ_LENGTH[self.model_kind]


# ------------------------------------------------------------------- model
def _classifier_labels(params, default_num_labels, model_labels=None):
    """(label_list or None, is_regression) for the classifier export.

    From --label_list, else --task_name's official labels, else the labels the
    model carries (a `.keras` AlbertClassifier) or `label_list.txt` beside the
    checkpoint (what `--task_name=custom` training writes), else --num_labels,
    else `default_num_labels` (the checkpoint's or model's head width) with
    labels "0", "1", ...; one label means regression.
    """
    if params.label_list:
        return [str(label) for label in params.label_list], False
    if params.task_name and params.task_name.lower() != "custom":
        from albert_tf.tasks.glue import processors as glue  # Only the label lists are needed.

        labels = glue.get_processor(params.task_name).get_labels()
        if labels == [None]:
            return None, True
        return list(labels), False
    saved = model_labels
    if saved is None and params.init_checkpoint and \
            not str(params.init_checkpoint).endswith(".keras"):
        saved = read_label_list(checkpoint_directory(params.init_checkpoint),
                                params.num_labels or default_num_labels)
    if saved:
        return list(saved), False
    num_labels = params.num_labels or default_num_labels
    if num_labels is None:
        raise ValueError(f"{params.init_checkpoint}: cannot tell the number of labels "
                         f"(no top-level output_weights); pass --num_labels, "
                         f"--label_list or --task_name")
    if num_labels == 1:
        return None, True
    return [str(i) for i in range(num_labels)], False


def _check_length(params, config, where):
    """Sets the default `max_seq_length` of `model_kind`, cut to the model's positions;
    refuses a given one longer than them, naming the flag and the model (`where`)."""
    positions = config.max_position_embeddings
    if params.max_seq_length is None:
        default = DEFAULT_MAX_SEQ_LENGTH[params.model_kind]
        params.max_seq_length = min(default, positions)
        if default > positions:
            logging.info("--max_seq_length: %d (the model's max_position_embeddings; "
                         "%s's default is %d)", positions, params.model_kind, default)
    elif params.max_seq_length > positions:
        raise SettingError(f"--max_seq_length={params.max_seq_length} exceeds "
                           f"max_position_embeddings {positions} of the model ({where}); "
                           f"give at most {positions}, or leave it out to use {positions}")


def load_model(params):
    """The model of `params.model_kind` with the weights of `params.init_checkpoint`, a
    checkpoint of any format (`albert_tf.checkpoints.load_pretrained`); every variable
    of the model must come from it.

    Returns:
      (model, config_path); config_path is None when no albert_config.json is given
      or beside the checkpoint (the model's config is written instead).
    """
    path = params.init_checkpoint
    named = read_pretrained(path, params.albert_config_file,
                            "multiple_choice" if params.model_kind == "race" else None)
    _check_length(params, named.config, params.albert_config_file or path)
    kind, kwargs = params.model_kind, {}
    if kind == "encoder":
        names = named.variable_shapes()
        # The mlm/sop signatures when the checkpoint has both pretraining heads.
        task = "pretraining" if all(n in names for head in PRETRAINING_HEADS.values()
                                    for n in head) else "encoder"
    elif kind == "squad":
        task = "squad_v2" if params.version_2_with_negative else "squad_v1"
        if params.version_2_with_negative:
            kwargs = dict(start_n_top=params.start_n_top, end_n_top=params.end_n_top)
    elif kind == "classifier":
        task = "classifier"
        labels, is_regression = _classifier_labels(params, named.num_labels,
                                                   named.label_list)
        kwargs = dict(num_labels=1 if is_regression else len(labels))
    else:
        task = "multiple_choice"
        kwargs = dict(num_choices=NUM_CHOICES)
    try:
        model = load_pretrained(named, task=task, **kwargs)
    except CheckpointMismatchError as e:
        hint = _squad_version_hint(params, named.task)
        if hint is None:
            raise
        raise CheckpointMismatchError(f"{e}\n{hint}") from None
    config_path = params.albert_config_file
    if not config_path and tf.io.gfile.exists(named.source + ".index"):
        # An official or Trainer checkpoint (of a folder: the one read).
        config_path = resolve_checkpoint(named.source)[1]
    return model, config_path


def _squad_version_hint(params, checkpoint_task):
    """What to change when a SQuAD checkpoint of the other version is exported."""
    if params.model_kind != "squad":
        return None
    if checkpoint_task == "squad_v2" and not params.version_2_with_negative:
        return "this is a SQuAD 2.0 checkpoint (answer_class/*): add --version_2_with_negative"
    if checkpoint_task == "squad_v1" and params.version_2_with_negative:
        return "this is a SQuAD 1.1 checkpoint (cls/squad/*): drop --version_2_with_negative"
    return None


# ------------------------------------------------------------------ module
def build_module(params, model, tokenizer, assets, use_encoder_graph=True):
    """Wraps `model` (None for "preprocess") in the module of its kind
    (`use_encoder_graph`: `ExportModule`'s; LiteRT passes False)."""
    kind = params.model_kind
    common = dict(tokenizer=tokenizer, max_seq_length=params.max_seq_length, assets=assets,
                  text_in_graph=params.text_in_graph)
    if kind == "preprocess":
        return AlbertPreprocessModule(**common)
    common["use_encoder_graph"] = use_encoder_graph
    if kind == "encoder":
        return AlbertEncoderModule(model, **common)
    if kind == "squad":
        return AlbertSquadModule(
            model, version_2_with_negative=params.version_2_with_negative,
            doc_stride=params.doc_stride, max_query_length=params.max_query_length,
            max_answer_length=params.max_answer_length, n_best_size=params.n_best_size,
            null_score_diff_threshold=params.null_score_diff_threshold, **common)
    if kind == "classifier":
        labels, is_regression = _classifier_labels(params, model.num_labels,
                                                   getattr(model, "label_list", None))
        return AlbertClassifierModule(model, label_list=labels, is_regression=is_regression,
                                      **common)
    if kind == "race":
        return AlbertRaceModule(model, max_qa_length=params.max_qa_length, **common)
    raise ValueError(f"unknown model_kind {kind!r}")


def export_config(params, module):
    """The `export_config.json` asset: how the SavedModel was made and is used."""
    config = {
        "albert_tf_version": albert_tf.__version__,
        "model_kind": params.model_kind,
        "do_lower_case": params.do_lower_case,
        "max_seq_length": params.max_seq_length,
        "init_checkpoint": params.init_checkpoint,
        "text_in_graph": params.text_in_graph,
    }
    if params.model_kind == "squad":
        config.update(version_2_with_negative=params.version_2_with_negative,
                      doc_stride=params.doc_stride, max_query_length=params.max_query_length,
                      max_answer_length=params.max_answer_length,
                      n_best_size=params.n_best_size)
        if params.version_2_with_negative:
            config.update(start_n_top=params.start_n_top, end_n_top=params.end_n_top,
                          null_score_diff_threshold=params.null_score_diff_threshold)
    if params.model_kind == "classifier":
        config.update(task_name=params.task_name, label_list=module.label_list,
                      is_regression=module.is_regression)
    if params.model_kind == "race":
        config.update(max_qa_length=params.max_qa_length, labels=["A", "B", "C", "D"])
    config["signatures"] = module.signature_names()
    return config


# ------------------------------------------------------------------- write
def write_assets(staging_dir, params, config_path, model):
    tf.io.gfile.makedirs(staging_dir)
    assets = {base_module.SPM_ASSET: os.path.join(staging_dir, base_module.SPM_ASSET)}
    tf.io.gfile.copy(params.spm_model_file, assets[base_module.SPM_ASSET], overwrite=True)
    config_asset = os.path.join(staging_dir, base_module.CONFIG_ASSET)
    if config_path:
        tf.io.gfile.copy(config_path, config_asset, overwrite=True)
        assets[base_module.CONFIG_ASSET] = config_asset
    elif model is not None:  # A .keras file carries its config.
        model.albert_config.to_json_file(config_asset)
        assets[base_module.CONFIG_ASSET] = config_asset
    # Written once the module exists (it lists the signatures); the Asset only
    # needs the path now.
    assets[base_module.EXPORT_CONFIG_ASSET] = os.path.join(staging_dir,
                                                           base_module.EXPORT_CONFIG_ASSET)
    with tf.io.gfile.GFile(assets[base_module.EXPORT_CONFIG_ASSET], "w") as f:
        f.write("{}\n")
    return assets


def _remove(path):
    if tf.io.gfile.exists(path):
        tf.io.gfile.rmtree(path)


def export_savedmodel(params):
    """Exports `params.model_kind` to `params.export_dir`; returns the module.

    Raises:
      FileExistsError if export_dir exists and `overwrite` is False.
    """
    params.validate()
    export_dir = str(params.export_dir).rstrip("/")
    if tf.io.gfile.exists(export_dir) and not params.overwrite:
        raise FileExistsError(f"export_dir {export_dir} already exists; pass --overwrite "
                              f"to replace it")
    if tf.io.gfile.exists(export_dir) and not tf.io.gfile.exists(
            os.path.join(export_dir, "saved_model.pb")):
        # --overwrite replaces an export, never other files (e.g. a checkpoint folder).
        raise FileExistsError(f"export_dir {export_dir} exists and is not a SavedModel "
                              f"(no saved_model.pb); --overwrite only replaces an export")
    model = config_path = None
    if params.model_kind != "preprocess":
        model, config_path = load_model(params)
    elif params.albert_config_file:
        config_path = params.albert_config_file
    tokenizer = TFTokenizer(params.spm_model_file, do_lower_case=params.do_lower_case)

    work_dir = f"{export_dir}.tmp-{os.getpid()}"
    _remove(work_dir)
    try:
        assets = write_assets(os.path.join(work_dir, "assets_staging"), params, config_path,
                               model)
        module = build_module(params, model, tokenizer, assets)
        with tf.io.gfile.GFile(assets[base_module.EXPORT_CONFIG_ASSET], "w") as f:
            json.dump(export_config(params, module), f, indent=2, sort_keys=True)
            f.write("\n")
        saved_dir = os.path.join(work_dir, "saved_model")
        tf.saved_model.save(module, saved_dir, signatures=module.signatures())
        if tf.io.gfile.exists(export_dir):
            old_dir = f"{export_dir}.old-{os.getpid()}"
            tf.io.gfile.rename(export_dir, old_dir)
            try:
                tf.io.gfile.rename(saved_dir, export_dir)
            except Exception:
                tf.io.gfile.rename(old_dir, export_dir)  # Put the old export back.
                raise
            _remove(old_dir)
        else:
            parent = os.path.dirname(export_dir)
            if parent:
                tf.io.gfile.makedirs(parent)
            tf.io.gfile.rename(saved_dir, export_dir)
    finally:
        if os.path.isdir(work_dir):
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            _remove(work_dir)
    logging.info("Exported %s SavedModel to %s (signatures: %s)", params.model_kind,
                 export_dir, ", ".join(module.signature_names()))
    return module
