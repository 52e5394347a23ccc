"""Prediction files: GLUE submission TSVs, class probabilities, RACE predictions.json.

GLUE submission files are `index<TAB>prediction` with a header line and label
strings (floats for STS-B), named as the GLUE server expects (`CoLA.tsv`,
`MNLI-m.tsv`, ...). The probabilities file is the official `test_results.tsv`:
one line per example, the class probabilities tab-separated, no header.
"""

import json
import os

import numpy as np
import tensorflow as tf

from albert_tf.atomic_write import write_text_atomically
from albert_tf.tasks.race.reader import LABELS as RACE_LABELS

GLUE_SUBMISSION_FILE_NAMES = {
    "cola": "CoLA.tsv",
    "sst-2": "SST-2.tsv",
    "mrpc": "MRPC.tsv",
    "sts-b": "STS-B.tsv",
    "qqp": "QQP.tsv",
    "mnli": "MNLI-m.tsv",
    "mismnli": "MNLI-mm.tsv",
    "qnli": "QNLI.tsv",
    "rte": "RTE.tsv",
    "wnli": "WNLI.tsv",
    "ax": "AX.tsv",
}


def glue_submission_file_name(task_name):
    """"mnli" -> "MNLI-m.tsv" (case-insensitive official task names)."""
    key = task_name.lower()
    if key not in GLUE_SUBMISSION_FILE_NAMES:
        raise ValueError(f"unknown GLUE task {task_name!r}; expected one of "
                         f"{sorted(GLUE_SUBMISSION_FILE_NAMES)}")
    return GLUE_SUBMISSION_FILE_NAMES[key]


def _check_count(what, values, guids):
    if len(values) != len(guids):
        raise ValueError(f"{len(guids)} examples but {len(values)} {what}; drop padding "
                         f"examples (is_real_example == 0) first")


def format_glue_predictions(predictions, label_list, is_regression=False):
    """Prediction -> submission strings: `label_list[class id]`, or the float score.

    Args:
      predictions: class ids `[n]`, logits/probabilities `[n, num_labels]`
        (argmax), or STS-B scores `[n]` / `[n, 1]`.
    """
    predictions = np.asarray(predictions)
    if is_regression:
        # str(np.float32) is the shortest text that reads back as the same float32.
        return [str(np.float32(p)) for p in predictions.reshape(-1)]
    if predictions.ndim == 2:
        predictions = np.argmax(predictions, axis=-1)
    strings = []
    for p in predictions.reshape(-1):
        if not 0 <= int(p) < len(label_list):
            raise ValueError(f"class id {int(p)} out of range for labels {list(label_list)}")
        strings.append(str(label_list[int(p)]))
    return strings


def write_glue_submission(output_dir, task_name, guids, predictions, label_list,
                          is_regression=False):
    """Writes `<output_dir>/<GLUE file name>`; returns its path.

    Args:
      guids: the test examples' guids (the GLUE `index`), in prediction order.
      predictions, label_list, is_regression: see `format_glue_predictions`.
    """
    strings = format_glue_predictions(predictions, label_list, is_regression)
    _check_count("predictions", strings, guids)
    path = os.path.join(output_dir, glue_submission_file_name(task_name))
    tf.io.gfile.makedirs(output_dir)
    return write_text_atomically(path, "index\tprediction\n" + "".join(
        f"{guid}\t{prediction}\n" for guid, prediction in zip(guids, strings)))


def write_probabilities(path, probabilities):
    """Official `test_results.tsv`: per example, its class probabilities tab-separated.

    Args:
      probabilities: `[n, num_labels]` (STS-B: the `[n, 1]` scores).
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.ndim == 1:
        probabilities = probabilities[:, None]
    directory = os.path.dirname(path)
    if directory:
        tf.io.gfile.makedirs(directory)
    return write_text_atomically(path, "".join(
        "\t".join(str(p) for p in row) + "\n" for row in probabilities))


def race_prediction_letters(example_ids, predictions):
    """{example id: "A".."D"} from chosen option ids `[n]` or logits `[n, 4]`."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        predictions = np.argmax(predictions, axis=-1)
    predictions = predictions.reshape(-1)
    _check_count("predictions", predictions, example_ids)
    letters = {}
    for example_id, p in zip(example_ids, predictions):
        if example_id in letters:
            raise ValueError(f"duplicate RACE example id {example_id}")
        if not 0 <= int(p) < len(RACE_LABELS):
            raise ValueError(f"{example_id}: option id {int(p)} is not in 0-3")
        letters[example_id] = RACE_LABELS[int(p)]
    return letters


def write_race_predictions(path, example_ids, predictions):
    """Writes predictions.json mapping "<passage id>-<question index>" to a letter."""
    letters = race_prediction_letters(example_ids, predictions)
    directory = os.path.dirname(path)
    if directory:
        tf.io.gfile.makedirs(directory)
    return write_text_atomically(path, json.dumps(letters, indent=2) + "\n")
