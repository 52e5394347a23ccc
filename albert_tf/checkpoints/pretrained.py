"""`save_pretrained` and `convert_checkpoint`: ALBERT weights out to the three formats
users hold them in (reading any format is `loader.py`).

  official   TF1 checkpoint (`model.ckpt-best` + `albert_config.json`);
  hf         transformers directory (`config.json` + `model.safetensors`);
  keras_hub  keras-hub preset directory (`config.json` + `model.weights.h5`).

Conversions go through `NamedWeights` (official names -> arrays), never a model,
so every array a format can hold is copied bit for bit.
"""

import os
import shutil

from absl import logging

from albert_tf.checkpoints import hf as hf_format
from albert_tf.checkpoints import keras_hub as keras_hub_format
from albert_tf.checkpoints import labels
from albert_tf.checkpoints.loader import OFFICIAL_SPM, read_pretrained
from albert_tf.checkpoints.named_weights import check_float_array, from_model
from albert_tf.checkpoints.official import BEST_CHECKPOINT, CONFIG_NAME

FORMATS = ("official", "hf", "keras_hub")


def save_pretrained(model, path, format="official", spm_model_file=None, do_lower_case=True):
    """Writes an albert_tf model as a checkpoint directory of `format`.

    Args:
        model: `AlbertPretrainer`, `AlbertEncoder`, a task model, a `TextClassifier` or
            a `MultipleChoice` (its SentencePiece model and `do_lower_case` are written
            with it).
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
    preprocessor = getattr(model, "preprocessor", None)  # A raw-text model.
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

            write_official_variables(named.weights, os.path.join(staging, BEST_CHECKPOINT),
                                     write_state_file=True)
            named.config.to_json_file(os.path.join(staging, CONFIG_NAME))
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
    for name in named.weights:  # Once each, as `load_weights` checks what it assigns.
        check_float_array(name, named.weights[name], named.source)
    if spm_model_file:
        named.spm_model_file = spm_model_file
    dropped = write_named(named, output_path, output_format, do_lower_case=do_lower_case)
    logging.info("Converted %s (%s, %d variables) to %s (%s)", input_path, named.task,
                 len(named.weights), output_path, output_format)
    return dropped
