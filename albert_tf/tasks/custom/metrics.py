"""Metrics of `--task_name=custom`: accuracy (+ F1 and MCC with two labels), or Pearson
and Spearman for a float target, from the GLUE metric functions."""

import numpy as np

from albert_tf.tasks.classification.metrics import (accuracy, f1_score, matthews_corrcoef,
                                                         pearson_corrcoef, spearman_corrcoef)


def custom_metrics(predictions, labels, num_labels, is_regression=False):
    """Metrics as a dict of floats plus `num_examples`.

    Args:
      predictions: class ids `[n]` or logits/probabilities `[n, num_labels]` (argmax
        is taken); regression: values `[n]` or `[n, 1]`.
      labels: label ids `[n]` (floats for regression).
      num_labels: size of the label list; with 2, F1 is that of label id 1 (the
        second label of the list) and MCC is added, as for MRPC/CoLA.
      is_regression: Pearson and Spearman instead.
    """
    predictions = np.asarray(predictions)
    labels = np.asarray(labels).reshape(-1)
    if is_regression:
        values = predictions.reshape(-1)
        results = {"pearson": pearson_corrcoef(values, labels),
                   "spearman": spearman_corrcoef(values, labels)}
    else:
        if predictions.ndim == 2:
            predictions = np.argmax(predictions, axis=-1)
        results = {"accuracy": accuracy(predictions, labels)}
        if num_labels == 2:
            results["f1"] = f1_score(predictions, labels)
            results["matthews_corrcoef"] = matthews_corrcoef(predictions, labels)
    results["num_examples"] = int(labels.size)
    return results


def primary_metric(is_regression):
    """The metric that picks the best checkpoint (as GLUE: Pearson for STS-B)."""
    return "pearson" if is_regression else "accuracy"
