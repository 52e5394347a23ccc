"""GLUE and RACE metrics in numpy (no sklearn/scipy).

GLUE reports, as the official `run_classifier.py` and the GLUE leaderboard do:
accuracy for every classification task; F1 (positive class 1) for MRPC and
QQP; Matthews correlation for CoLA; Pearson and Spearman for STS-B.
"""

import math

import numpy as np


def _as_pair(predictions, labels, dtype=None):
    predictions = np.asarray(predictions, dtype=dtype).reshape(-1)
    labels = np.asarray(labels, dtype=dtype).reshape(-1)
    if predictions.shape != labels.shape:
        raise ValueError(f"{predictions.shape[0]} predictions but {labels.shape[0]} labels")
    if predictions.size == 0:
        raise ValueError("no examples to score")
    return predictions, labels


def accuracy(predictions, labels):
    """Fraction of predictions equal to their label."""
    predictions, labels = _as_pair(predictions, labels)
    return float(np.mean(predictions == labels))


def _binary_confusion(predictions, labels):
    predictions, labels = _as_pair(predictions, labels, dtype=np.int64)
    for name, values in (("predictions", predictions), ("labels", labels)):
        if np.any((values != 0) & (values != 1)):
            raise ValueError(f"binary metric needs 0/1 {name}, got {np.unique(values)}")
    tp = float(np.sum((predictions == 1) & (labels == 1)))
    tn = float(np.sum((predictions == 0) & (labels == 0)))
    fp = float(np.sum((predictions == 1) & (labels == 0)))
    fn = float(np.sum((predictions == 0) & (labels == 1)))
    return tp, tn, fp, fn


def f1_score(predictions, labels):
    """F1 of the positive class 1: 2tp / (2tp + fp + fn); 0.0 if there are no positives at all."""
    tp, _, fp, fn = _binary_confusion(predictions, labels)
    denominator = 2 * tp + fp + fn
    return 0.0 if denominator == 0 else 2 * tp / denominator


def matthews_corrcoef(predictions, labels):
    """(tp*tn - fp*fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)); 0.0 when a margin is empty.

    The zero matches the official `tf.div_no_nan` and sklearn.
    """
    tp, tn, fp, fn = _binary_confusion(predictions, labels)
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return 0.0 if denominator == 0 else (tp * tn - fp * fn) / denominator


def pearson_corrcoef(predictions, labels):
    """Pearson r; NaN when either input is constant."""
    x, y = _as_pair(predictions, labels, dtype=np.float64)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("correlation inputs must be finite")
    x = x - x.mean()
    y = y - y.mean()
    denominator = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
    return float("nan") if denominator == 0 else float(np.dot(x, y)) / denominator


def average_ranks(values):
    """1-based ranks; tied values share the mean of their positions (scipy `rankdata`)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts_group = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.concatenate([starts[1:], [values.size]])   # exclusive
    mean_rank = (starts + ends + 1) / 2.0                 # mean of start+1 .. end
    ranks = np.empty(values.size)
    ranks[order] = mean_rank[group]
    return ranks


def spearman_corrcoef(predictions, labels):
    """Spearman rho: Pearson r of the tie-averaged ranks."""
    x, y = _as_pair(predictions, labels, dtype=np.float64)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("correlation inputs must be finite")
    return pearson_corrcoef(average_ranks(x), average_ranks(y))


GLUE_TASKS = ("cola", "mnli", "mismnli", "mrpc", "rte", "sst-2", "sts-b", "qqp", "qnli",
              "wnli")
_F1_TASKS = ("mrpc", "qqp")


def _real_only(is_real_example, **arrays):
    """Flattens `arrays` (first axis = examples), checks their lengths, drops padding."""
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    if is_real_example is not None:
        arrays["is_real_example flags"] = np.asarray(is_real_example).reshape(-1)
    lengths = {name: a.shape[0] if a.ndim else 1 for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("length mismatch: " + ", ".join(
            f"{n} {name}" for name, n in lengths.items()))
    if is_real_example is None:
        return list(arrays.values())
    mask = arrays.pop("is_real_example flags").astype(bool)
    return [a[mask] for a in arrays.values()]


def glue_metrics(task_name, predictions, labels, is_real_example=None):
    """Metrics of one GLUE task as a dict of floats (plus `num_examples`).

    Args:
      task_name: official name ("cola", "mnli", "mismnli", "mrpc", "rte", "sst-2",
        "sts-b", "qqp", "qnli", "wnli"); case-insensitive.
      predictions: class ids `[n]`, or logits/probabilities `[n, num_labels]`
        (argmax is taken); STS-B: scores `[n]` or `[n, 1]`.
      labels: label ids `[n]` (floats for STS-B).
      is_real_example: optional `[n]` 0/1 mask; padding examples (0) are dropped.

    Returns:
      cola: matthews_corrcoef, accuracy; mrpc/qqp: accuracy, f1; sts-b: pearson,
      spearman; others: accuracy. Always num_examples.
    """
    task = task_name.lower()
    if task == "ax":
        raise ValueError("AX is a test-only diagnostic set without labels; "
                         "score it on the GLUE server")
    if task not in GLUE_TASKS:
        raise ValueError(f"unknown GLUE task {task_name!r}; expected one of {GLUE_TASKS}")
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        if task != "sts-b":
            predictions = np.argmax(predictions, axis=-1)
        elif predictions.shape[1] == 1:
            predictions = predictions[:, 0]
    if predictions.ndim != 1:
        raise ValueError(f"{task} predictions must be [n] or [n, num_labels], "
                         f"got shape {predictions.shape}")
    predictions, labels = _real_only(is_real_example, predictions=predictions,
                                     labels=np.asarray(labels).reshape(-1))
    if task == "sts-b":
        results = {"pearson": pearson_corrcoef(predictions, labels),
                   "spearman": spearman_corrcoef(predictions, labels)}
    else:
        results = {"accuracy": accuracy(predictions, labels)}
        if task == "cola":
            results["matthews_corrcoef"] = matthews_corrcoef(predictions, labels)
        elif task in _F1_TASKS:
            results["f1"] = f1_score(predictions, labels)
    results["num_examples"] = int(np.asarray(labels).size)
    return results


def race_metrics(predictions, labels, levels, is_real_example=None):
    """RACE accuracy overall and per level.

    Args:
      predictions: chosen option ids `[n]`, or logits `[n, 4]` (argmax is taken).
      labels: answer ids `[n]` (0-3).
      levels: `[n]` strings "middle"/"high" (`RaceExample.level`).
      is_real_example: optional `[n]` mask dropping padding examples.

    Returns:
      {"accuracy", "accuracy_middle", "accuracy_high", "num_examples",
       "num_examples_middle", "num_examples_high"}; a level with no examples
       (e.g. `--high_only`) has accuracy None.
    """
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        predictions = np.argmax(predictions, axis=-1)
    predictions, labels, levels = _real_only(
        is_real_example, predictions=predictions, labels=np.asarray(labels).reshape(-1),
        levels=np.asarray(levels).reshape(-1))
    unknown = set(levels.tolist()) - {"middle", "high"}
    if unknown:
        raise ValueError(f"unknown RACE levels {sorted(unknown)}; expected middle/high")
    results = {"accuracy": accuracy(predictions, labels),
               "num_examples": int(labels.size)}
    for level in ("middle", "high"):
        selected = levels == level
        count = int(np.sum(selected))
        results[f"accuracy_{level}"] = (
            accuracy(predictions[selected], labels[selected]) if count else None)
        results[f"num_examples_{level}"] = count
    return results
