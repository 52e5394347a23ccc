"""LiteRT (TFLite) export: any task model's signatures as one `.tflite`.

`export_litert(ExportParams(..., format="tflite"))` writes into `export_dir`:

  model.tflite         the ids-in signatures of the SavedModel of the same kind
                       (`tokens`, `serving_default` = tokens; encoder: `mlm`, `sop`
                       too), named as there, with dynamic batch and sequence length
                       (`resize_tensor_input`); builtin ops only, so it runs in
                       `ai_edge_litert`'s interpreter, `tf.lite.Interpreter` and the
                       Android/iOS runtimes with no custom or flex op.
                       With `--text_in_graph` (preprocess always; classifier,
                       encoder): also the raw-text signatures (`serving_default` =
                       text, `serving_pair`; preprocess: `tokenize`), as in the
                       SavedModel, through one TF Text op (`litert_text`): run it
                       with TF Text's LiteRT kernel registered.
  spm.model            the SentencePiece model, for the app's tokenizer.
  albert_config.json   the model's config.
  export_config.json   as the SavedModel's, plus `format`, `quantization` and
                       `custom_ops`.

Quantization (`--quantization`):
  none          float32.
  float16       float16 weights, computed in float32 (half the file).
  dynamic_int8  int8 weights, activations quantized on the fly per op (a quarter
                of the file; XNNPACK runs the matmuls in int8).
  int8          int8 weights and activations calibrated on a representative set
                (`--representative_data`, one text per line, else random ids),
                float where an op has no int8 kernel. Ids-in files only: the
                calibrator cannot run the TF Text op.

The file is made as `model.tflite` in a SavedModel version folder is by hand:
the module of `model_kind` with `text_in_graph=False` is saved (wrapped in
`LiteRTTextModule` for raw text), then `TFLiteConverter.from_saved_model`
converts its signatures.
"""

import dataclasses
import json
import os
import shutil

from absl import logging
import numpy as np
import tensorflow as tf

from albert_tf.export import base_module, exporter, litert_text
from albert_tf.export.exporter import QUANTIZATIONS
from albert_tf.settings import SettingError
from albert_tf.tokenization import TFTokenizer

TFLITE_FILE = "model.tflite"
# Signatures of the ids-in SavedModel that stay out of the .tflite: a string
# asset path, and tf.Example parsing (no LiteRT builtin for ParseExample).
SKIPPED_SIGNATURES = ("tokenization_info", "serving_examples")
# Why the raw-text signatures do not reuse the SavedModel's `TFTokenizer`
# (measured: `TFLiteConverter` on `TFTokenizer.tokenize`, builtins only): its
# in-graph `preprocess_text` and ragged packing need StaticRegexReplace,
# StaticRegexFullMatch, StringLower, UnicodeDecode/Encode/Transcode,
# RaggedGather, DynamicStitch, Lower/UpperBound: TF (flex) ops, which
# `ai_edge_litert` and the builtin mobile runtimes do not have. `litert_text`
# folds the preprocessing into the SentencePiece model instead.
CALIBRATION_EXAMPLES = 64
# Calibration rows are padded to at least this many tokens: SQuAD v2's top-k
# (start_n_top, end_n_top) needs k <= seq_len.
MIN_CALIBRATION_LENGTH = 16


def converter_for(saved_model_dir, signature_keys, quantization, representative_dataset=None,
                  custom_ops=False):
    """A `TFLiteConverter` for `signature_keys` of `saved_model_dir`: builtins only, or
    with `custom_ops` also TF Text's ops that have LiteRT kernels (`litert_text`)."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, got "
                         f"{quantization!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir,
                                                         signature_keys=list(signature_keys))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = bool(custom_ops)
    if quantization != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantization == "int8":
        if representative_dataset is None:
            raise ValueError("quantization 'int8' needs a representative dataset")
        converter.representative_dataset = representative_dataset
    return converter


def tflite_signatures(module):
    """The signature names of `module` (a text-free export module) that go into the file."""
    return [name for name in module.signature_names() if name not in SKIPPED_SIGNATURES]


def calibration_rows(tokenizer, max_seq_length, texts=None, seed=0):
    """[(input_ids, input_mask, segment_ids)] int32 [1, n] rows to calibrate int8 on.

    From `texts` (tokenized and packed as the SavedModel's `serving_default`),
    else random ids of the vocabulary with random lengths. Right-padded to at
    least `MIN_CALIBRATION_LENGTH` (or max_seq_length).
    """
    min_length = min(MIN_CALIBRATION_LENGTH, max_seq_length)
    rows = []
    if texts:
        packed = base_module.pack_texts(tokenizer, tokenizer.tokenize,
                                        tf.constant(texts), None, max_seq_length)
        lengths = np.sum(packed["input_mask"].numpy(), axis=1)
        for i, length in enumerate(lengths):
            length = max(int(length), min_length)
            rows.append(tuple(packed[name].numpy()[i:i + 1, :length]
                              for name in base_module.ENCODER_INPUTS))
        return rows
    rng = np.random.default_rng(seed)
    for _ in range(CALIBRATION_EXAMPLES):
        length = int(rng.integers(3, max_seq_length + 1))
        ids = np.full((1, max(length, min_length)), tokenizer.pad_id, np.int32)
        ids[0, :length] = rng.integers(5, tokenizer.vocab_size, size=length)
        ids[0, 0], ids[0, length - 1] = tokenizer.cls_id, tokenizer.sep_id
        rows.append((ids, (np.arange(ids.shape[1]) < length).astype(np.int32)[None, :],
                     np.zeros_like(ids)))
    return rows


def signature_inputs(input_specs, row):
    """Inputs for a signature whose `input_specs` ({name: TensorSpec}) from one row."""
    input_ids, input_mask, segment_ids = row
    base = {"input_ids": input_ids, "input_mask": input_mask, "segment_ids": segment_ids,
            # SQuAD v2: padding cannot be an answer.
            "p_mask": 1 - input_mask,
            "mlm_positions": np.arange(1, min(3, input_ids.shape[1]),
                                       dtype=np.int32)[None, :]}
    out = {}
    for name, spec in input_specs.items():
        value = base[name]
        if spec.shape.rank == 3:  # RACE: [batch, choices, seq_len].
            value = np.repeat(value[:, None, :], spec.shape[1], axis=1)
        out[name] = value.astype(spec.dtype.as_numpy_dtype)
    return out


def representative_dataset(saved_model_dir, signature_keys, rows):
    """The converter's calibration generator: (signature key, inputs) per row and key."""
    loaded = tf.saved_model.load(saved_model_dir)
    specs = {key: loaded.signatures[key].structured_input_signature[1]
             for key in signature_keys}

    def generate():
        for row in rows:
            for key in signature_keys:
                yield key, signature_inputs(specs[key], row)
    return generate


def _read_texts(path):
    with tf.io.gfile.GFile(path) as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    if not texts:
        raise ValueError(f"representative_data {path}: no non-empty line (expected one "
                         f"text per line)")
    return texts[:CALIBRATION_EXAMPLES * 4]


def export_litert(params):
    """Writes `params.export_dir`/model.tflite and its assets; returns the file's path."""
    params.validate()
    text = params.text_in_graph
    if text and params.model_kind not in litert_text.TEXT_KINDS:
        raise SettingError(f"--text_in_graph with --format=tflite: {params.model_kind} has no "
                           f"raw-text LiteRT signatures (only "
                           f"{', '.join(litert_text.TEXT_KINDS)}); drop it for the ids-in "
                           f"file" + (" and use export.squad_client for the text half"
                                      if params.model_kind == "squad" else ""))
    if text and params.quantization == "int8":
        raise SettingError("--quantization=int8 needs --text_in_graph=false: the int8 "
                           "calibrator cannot run the TF Text op; dynamic_int8 quantizes "
                           "the raw-text file's weights")
    export_dir = str(params.export_dir).rstrip("/")
    target = os.path.join(export_dir, TFLITE_FILE)
    if tf.io.gfile.exists(export_dir):
        if not params.overwrite:
            raise FileExistsError(f"export_dir {export_dir} already exists; pass "
                                  f"--overwrite to replace it")
        if not tf.io.gfile.exists(target):
            raise FileExistsError(f"export_dir {export_dir} exists and is not a LiteRT "
                                  f"export (no {TFLITE_FILE}); --overwrite only replaces "
                                  f"an export")
    ids_params = dataclasses.replace(params, text_in_graph=False)
    model = module = None
    config_path = params.albert_config_file
    if params.model_kind != "preprocess":
        model, config_path = exporter.load_model(ids_params)
    tokenizer = TFTokenizer(params.spm_model_file, do_lower_case=params.do_lower_case)
    work_dir = f"{export_dir}.tmp-{os.getpid()}"
    shutil.rmtree(work_dir, ignore_errors=True)
    try:
        out_dir = os.path.join(work_dir, "out")
        assets = exporter.write_assets(out_dir, ids_params, config_path, model)
        if model is not None:
            module = exporter.build_module(ids_params, model, tokenizer, assets,
                                           use_encoder_graph=False)
        root, signatures = module, module.signatures() if module is not None else {}
        if text:
            root = litert_text.LiteRTTextModule(
                params.model_kind,
                litert_text.LiteRTTextTokenizer(params.spm_model_file, params.do_lower_case),
                ids_params.max_seq_length, module)
            signatures = root.signatures(tflite_signatures(module) if module else ())
        keys = sorted(name for name in signatures if name not in SKIPPED_SIGNATURES)
        saved_dir = os.path.join(work_dir, "saved_model")
        tf.saved_model.save(root, saved_dir, signatures=signatures)
        dataset = None
        if params.quantization == "int8":
            texts = _read_texts(params.representative_data) \
                if params.representative_data else None
            if texts is None:
                logging.warning("int8 calibrated on random ids: pass --representative_data "
                                "(texts of the task) for the accuracy of real inputs")
            dataset = representative_dataset(
                saved_dir, keys, calibration_rows(tokenizer, ids_params.max_seq_length, texts))
        data = converter_for(saved_dir, keys, params.quantization, dataset,
                             custom_ops=text).convert()
        with open(os.path.join(out_dir, TFLITE_FILE), "wb") as f:
            f.write(data)
        config = exporter.export_config(ids_params, module or root)
        config.update(format="tflite", quantization=params.quantization, signatures=keys,
                      text_in_graph=bool(text),
                      custom_ops=list(litert_text.CUSTOM_OPS) if text else [])
        with open(assets[base_module.EXPORT_CONFIG_ASSET], "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
            f.write("\n")
        if tf.io.gfile.exists(export_dir):
            old_dir = f"{export_dir}.old-{os.getpid()}"
            os.rename(export_dir, old_dir)
            os.rename(out_dir, export_dir)
            shutil.rmtree(old_dir)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(export_dir)), exist_ok=True)
            os.rename(out_dir, export_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    logging.info("Exported %s LiteRT model (%s, %.1f MB) to %s (signatures: %s)%s",
                 params.model_kind, params.quantization, len(data) / 1e6, target,
                 ", ".join(keys),
                 "; its custom op (the converter's 'Custom ops' note above) is TF Text's "
                 "FastSentencepieceTokenize: register tflite_registrar."
                 "AddFastSentencepieceTokenize with the interpreter" if text else "")
    return target
