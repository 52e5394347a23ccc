"""`predictions.tsv` of `--task_name=custom`: per input row its id, label and scores.

Classification: header `id  label  p(<label 0>)  p(<label 1>) ...`, one line per row
with the predicted label string and the softmax probabilities. Regression: header
`id  value`. Tab-separated; written under a temporary name and renamed when complete.
"""

import os

import numpy as np
import tensorflow as tf

PREDICTIONS_FILE = "predictions.tsv"


def softmax(logits):
    """Row-wise softmax of float logits `[n, k]` in float64."""
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _cell(text):
    text = str(text)
    if "\t" in text or "\n" in text or "\r" in text:
        raise ValueError(f"id or label {text!r} contains a tab or a line break; it cannot "
                         f"be written as one TSV field")
    return text


def write_custom_predictions(path, guids, logits, label_list, is_regression=False):
    """Writes the predictions TSV at `path` (see the module docstring); returns `path`.

    Args:
      guids: the examples' ids, in the order of `logits` (padding rows dropped).
      logits: float `[n, num_labels]` (`[n, 1]` or `[n]` for regression).
      label_list: label strings, position = label id (ignored for regression).
    """
    logits = np.asarray(logits, np.float64)
    if logits.ndim == 1:
        logits = logits[:, None]
    if len(guids) != logits.shape[0]:
        raise ValueError(f"{len(guids)} ids but {logits.shape[0]} predictions; drop "
                         f"padding examples (is_real_example == 0) first")
    if is_regression:
        header = ["id", "value"]
        lines = [[_cell(g), str(np.float32(row[0]))] for g, row in zip(guids, logits)]
    else:
        labels = [str(label) for label in label_list]
        if len(labels) != logits.shape[1]:
            raise ValueError(f"{logits.shape[1]} scores per row but {len(labels)} labels "
                             f"{labels}")
        probabilities = softmax(logits).astype(np.float32)
        header = ["id", "label"] + [f"p({_cell(label)})" for label in labels]
        lines = [[_cell(g), labels[int(np.argmax(row))]] + [str(p) for p in probs]
                 for g, row, probs in zip(guids, logits, probabilities)]
    directory = os.path.dirname(path)
    if directory:
        tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(path + ".tmp", "w") as f:
        for line in [header] + lines:
            f.write("\t".join(line) + "\n")
    tf.io.gfile.rename(path + ".tmp", path, overwrite=True)
    return path
