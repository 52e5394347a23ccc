"""Model outputs -> SQuAD answers, as the official `write_predictions_v1/_v2`.

Inputs: the examples, the `SquadFeatureMeta` of every window, and `results`
mapping each window's unique_id to numpy arrays:
  v1.1: `start_logits` [T], `end_logits` [T].
  v2.0 (official ALBERT v2 head): `start_top_log_probs`, `start_top_index`
    [start_n_top]; `end_top_log_probs`, `end_top_index` [start_n_top *
    end_n_top] (end j of start i at i * end_n_top + j); `cls_logits` [].

For each question, candidate spans come from every window: the top
`n_best_size` starts x ends (v1.1) or the model's top starts x ends (v2.0),
kept only if both ends lie in the window's paragraph part, the start token has
its max context in this window, end >= start and the span has at most
`max_answer_length` tokens. Candidates are ranked by start + end score, mapped
to the original context characters, stripped; equal texts are merged (the
first, best-scoring one is kept) until `n_best_size` remain.

v2.0 decision (official `write_predictions_v2` / `evaluate_v2`): the null
odds of a question are the minimum `cls_logits` over its windows (higher =
more likely unanswerable). The answer is the best non-null text when no
threshold is given, else "" when null odds >= `null_score_diff_threshold`.
With gold answers, `write_predictions` follows the official run: first score
the best non-null answers with the null odds, take `best_f1_thresh` as the
threshold, rewrite the predictions with it, and score the written files with
the evaluation script's default no-answer threshold 1.0 on null_odds.json.
Because the official keeps a text only if null odds < threshold while the tuned
threshold is the null odds of an answered question, that question (and any tie)
is answered "" — kept as official; pass `null_score_diff_threshold` to choose.
"""

import collections
import math
import os

import numpy as np
import tensorflow as tf

from albert_tf.tasks.squad import metrics as squad_metrics

PREDICTIONS_FILE = "predictions.json"
NBEST_FILE = "nbest_predictions.json"
NULL_ODDS_FILE = "null_odds.json"
EVAL_RESULTS_FILE = "eval_results.json"
_NULL_SCORE_INIT = 1000000.0  # Official initial "minimum" of the null score.

_Prelim = collections.namedtuple(
    "_Prelim", ["feature_index", "start_index", "end_index", "start_log_prob", "end_log_prob"])


def results_from_batches(batches):
    """Per-window results from batched model outputs.

    Args:
      batches: iterable of dicts holding `unique_ids` [B] and output arrays
        [B, ...] (numpy or tensors).

    Returns:
      dict unique_id (int) -> dict name -> numpy array of one window.
    """
    results = {}
    for batch in batches:
        batch = {k: np.asarray(v) for k, v in batch.items()}
        for row, unique_id in enumerate(batch["unique_ids"].reshape(-1)):
            results[int(unique_id)] = {k: v[row] for k, v in batch.items() if k != "unique_ids"}
    return results


def _features_by_example(examples, features):
    by_example = collections.defaultdict(list)
    for meta in features:
        if not 0 <= meta.example_index < len(examples) or (
                examples[meta.example_index].qas_id != meta.qas_id):
            raise ValueError(
                f"window {meta.unique_id} belongs to question {meta.qas_id!r} at index "
                f"{meta.example_index}, which is not in the given examples; were the "
                f"features made from another file?")
        by_example[meta.example_index].append(meta)
    return by_example


def _result(results, meta):
    if meta.unique_id not in results:
        raise ValueError(f"no model output for window {meta.unique_id} of question "
                         f"{meta.qas_id!r}")
    return results[meta.unique_id]


def _best_indexes(scores, n_best_size):
    """Indexes of the n largest scores (ties: lower index first)."""
    return sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)[:n_best_size]


def _softmax(scores):
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _is_valid_span(meta, start_index, end_index, max_answer_length):
    """Official filter; indexes are input positions of the window."""
    start, end = start_index - meta.doc_offset, end_index - meta.doc_offset
    num_doc = len(meta.tok_start_to_orig_index)
    if start < 0 or start >= num_doc or end >= num_doc:
        return False
    if not meta.token_is_max_context[start]:
        return False
    return start_index <= end_index and end_index - start_index + 1 <= max_answer_length


def _nbest(example, metas, prelim, n_best_size, empty_entry):
    """Ranks candidates, maps them to text and merges equal texts."""
    prelim = sorted(prelim, key=lambda p: p.start_log_prob + p.end_log_prob, reverse=True)
    seen, nbest = set(), []
    for pred in prelim:
        if len(nbest) >= n_best_size:
            break
        meta = metas[pred.feature_index]
        start_char = meta.tok_start_to_orig_index[pred.start_index]
        end_char = meta.tok_end_to_orig_index[pred.end_index]
        text = example.context_text[start_char:end_char + 1].strip()
        if text in seen:
            continue
        seen.add(text)
        nbest.append((text, pred.start_log_prob, pred.end_log_prob))
    if not nbest:  # Official nonce entry when no span is valid.
        nbest.append(empty_entry)
    probs = _softmax([s + e for _, s, e in nbest])
    return [collections.OrderedDict([("text", text), ("probability", prob),
                                     ("start_log_prob", s), ("end_log_prob", e)])
            for (text, s, e), prob in zip(nbest, probs)]


def compute_predictions_v1(examples, features, results, n_best_size=20, max_answer_length=30):
    """SQuAD v1.1 answers.

    Returns:
      (predictions, nbest): OrderedDicts keyed by question id, in example order;
      predictions hold the best text ("empty" when nothing valid was found, as
      official), nbest the ranked entries {text, probability, start_log_prob,
      end_log_prob} (official key names; the values are logits).
    """
    by_example = _features_by_example(examples, features)
    predictions, all_nbest = collections.OrderedDict(), collections.OrderedDict()
    for example_index, example in enumerate(examples):
        metas = by_example.get(example_index, [])
        prelim = []
        for feature_index, meta in enumerate(metas):
            result = _result(results, meta)
            start_logits = np.asarray(result["start_logits"], np.float32).tolist()
            end_logits = np.asarray(result["end_logits"], np.float32).tolist()
            for start_index in _best_indexes(start_logits, n_best_size):
                for end_index in _best_indexes(end_logits, n_best_size):
                    if _is_valid_span(meta, start_index, end_index, max_answer_length):
                        prelim.append(_Prelim(
                            feature_index, start_index - meta.doc_offset,
                            end_index - meta.doc_offset,
                            start_logits[start_index], end_logits[end_index]))
        nbest = _nbest(example, metas, prelim, n_best_size, ("empty", 0.0, 0.0))
        predictions[example.qas_id] = nbest[0]["text"]
        all_nbest[example.qas_id] = nbest
    return predictions, all_nbest


def compute_predictions_v2(examples, features, results, n_best_size=20, max_answer_length=30,
                           start_n_top=5, end_n_top=5, null_score_diff_threshold=None):
    """SQuAD v2.0 answers from the official v2 head's outputs.

    Returns:
      (predictions, nbest, null_odds): OrderedDicts keyed by question id;
      predictions as described in the module docstring, null_odds the minimum
      `cls_logits` over the question's windows.
    """
    by_example = _features_by_example(examples, features)
    predictions = collections.OrderedDict()
    all_nbest = collections.OrderedDict()
    null_odds = collections.OrderedDict()
    for example_index, example in enumerate(examples):
        metas = by_example.get(example_index, [])
        prelim = []
        score_null = _NULL_SCORE_INIT
        for feature_index, meta in enumerate(metas):
            result = _result(results, meta)
            score_null = min(score_null, float(np.asarray(result["cls_logits"]).reshape(())))
            start_log_probs = np.asarray(result["start_top_log_probs"], np.float32).tolist()
            start_index = np.asarray(result["start_top_index"]).astype(int).tolist()
            end_log_probs = np.asarray(result["end_top_log_probs"], np.float32).tolist()
            end_index = np.asarray(result["end_top_index"]).astype(int).tolist()
            if len(start_index) < start_n_top or len(end_index) < start_n_top * end_n_top:
                raise ValueError(
                    f"window {meta.unique_id}: expected start_top_index of length "
                    f"start_n_top={start_n_top} and end_top_index of length "
                    f"start_n_top*end_n_top={start_n_top * end_n_top}, got "
                    f"{len(start_index)} and {len(end_index)}")
            for i in range(start_n_top):
                for j in range(end_n_top):
                    k = i * end_n_top + j
                    if _is_valid_span(meta, start_index[i], end_index[k], max_answer_length):
                        prelim.append(_Prelim(
                            feature_index, start_index[i] - meta.doc_offset,
                            end_index[k] - meta.doc_offset,
                            start_log_probs[i], end_log_probs[k]))
        nbest = _nbest(example, metas, prelim, n_best_size, ("", -1e6, -1e6))
        all_nbest[example.qas_id] = nbest
        null_odds[example.qas_id] = score_null
        predictions[example.qas_id] = nbest[0]["text"]
    if null_score_diff_threshold is not None:
        predictions = apply_null_threshold(predictions, null_odds, null_score_diff_threshold)
    return predictions, all_nbest, null_odds


def apply_null_threshold(predictions, null_odds, null_score_diff_threshold):
    """Official v2 rule: "" where null odds >= threshold, else the text."""
    return collections.OrderedDict(
        (qid, text if null_odds[qid] < null_score_diff_threshold else "")
        for qid, text in predictions.items())


def write_prediction_files(output_dir, predictions, nbest, null_odds=None):
    """Writes predictions.json, nbest_predictions.json (and null_odds.json).

    Returns:
      dict "predictions" / "nbest" / "null_odds" -> path.
    """
    tf.io.gfile.makedirs(output_dir)
    paths = {"predictions": os.path.join(output_dir, PREDICTIONS_FILE),
             "nbest": os.path.join(output_dir, NBEST_FILE)}
    squad_metrics.write_json(paths["predictions"], predictions)
    squad_metrics.write_json(paths["nbest"], nbest)
    if null_odds is not None:
        paths["null_odds"] = os.path.join(output_dir, NULL_ODDS_FILE)
        squad_metrics.write_json(paths["null_odds"], null_odds)
    return paths


def write_predictions(output_dir, examples, features, results, version_2_with_negative,
                      n_best_size=20, max_answer_length=30, start_n_top=5, end_n_top=5,
                      gold_dataset=None, null_score_diff_threshold=None):
    """Post-processes, writes the prediction files and, given gold, evaluates.

    Args:
      output_dir: where predictions.json, nbest_predictions.json, (v2)
        null_odds.json and (with gold) eval_results.json are written.
      examples, features, results: see the module docstring.
      version_2_with_negative: v2.0 head outputs and metric.
      n_best_size, max_answer_length, start_n_top, end_n_top: official settings.
      gold_dataset: SQuAD JSON (path or loaded dict) with the gold answers, or
        None (new data: nothing is evaluated).
      null_score_diff_threshold: v2.0 only. None: tune it on the gold answers as
        the official run does (best_f1_thresh), or without gold answer every
        question with its best non-null text.

    Returns:
      the evaluation dict (also in eval_results.json), or None without gold.
      v2.0 adds "null_score_diff_threshold" (the one applied, or None).
    """
    if gold_dataset is not None and not isinstance(gold_dataset, (dict, list)):
        gold_dataset = squad_metrics.read_json(gold_dataset, "SQuAD dataset")
    null_odds = None
    if version_2_with_negative:
        predictions, nbest, null_odds = compute_predictions_v2(
            examples, features, results, n_best_size, max_answer_length,
            start_n_top, end_n_top)
        if null_score_diff_threshold is None and gold_dataset is not None:
            first_pass = squad_metrics.evaluate_v2(gold_dataset, predictions, null_odds)
            null_score_diff_threshold = first_pass["best_f1_thresh"]
        if null_score_diff_threshold is not None:
            predictions = apply_null_threshold(predictions, null_odds,
                                               null_score_diff_threshold)
    else:
        predictions, nbest = compute_predictions_v1(
            examples, features, results, n_best_size, max_answer_length)
    paths = write_prediction_files(output_dir, predictions, nbest, null_odds)
    if gold_dataset is None:
        return None
    result = squad_metrics.evaluate_prediction_files(
        gold_dataset, paths["predictions"], paths.get("null_odds"),
        version_2_with_negative=version_2_with_negative)
    if version_2_with_negative:
        result["null_score_diff_threshold"] = null_score_diff_threshold
    squad_metrics.write_json(os.path.join(output_dir, EVAL_RESULTS_FILE), result)
    return result
