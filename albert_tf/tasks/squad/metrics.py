"""The official SQuAD v1.1 and v2.0 evaluation metrics.

Written to give exactly the numbers of the official `evaluate-v1.1.py` and
`evaluate-v2.0.py` scripts (also copied into google-research/albert
squad_utils.py): the same answer normalisation, exact match and token F1, the
max over gold answers, the no-answer threshold and the best-threshold search.

`dataset` arguments are the SQuAD JSON as loaded: either the whole file
(`{"data": [...], "version": ...}`) or its `data` list of articles.
Predictions map question id -> answer text ("" means "no answer" in v2.0).
No-answer scores (`na_probs`) map question id -> float; ALBERT's v2 runs pass
`null_odds.json` (the answerability logit, higher = more likely unanswerable)
with the scripts' default threshold 1.0.
"""

import collections
import json
import re
import string

from absl import logging
import tensorflow as tf

from albert_tf.atomic_write import write_text_atomically

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text):
    """Lower-cases and removes punctuation, English articles and extra whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _articles(dataset):
    if isinstance(dataset, dict):
        if "data" not in dataset:
            raise ValueError("SQuAD dataset dict has no 'data' field")
        return dataset["data"]
    return dataset


def _questions(dataset):
    """Yields every qa dict of `dataset` in file order."""
    for article in _articles(dataset):
        for paragraph in article["paragraphs"]:
            yield from paragraph["qas"]


# ----------------------------------------------------------------- SQuAD v1.1

def exact_match_score(prediction, ground_truth):
    """v1.1 exact match: True iff the normalised strings are equal."""
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def f1_score(prediction, ground_truth):
    """v1.1 token F1 in [0, 1] (0 when either side normalises to nothing)."""
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return 2 * precision * recall / (precision + recall)


def evaluate_v1(dataset, predictions):
    """Official v1.1 scores.

    A question without a prediction scores 0 and still counts in the total.

    Returns:
      dict {"exact_match": float, "f1": float}, both in percent.
    """
    exact_match = f1 = total = 0
    for qa in _questions(dataset):
        total += 1
        if qa["id"] not in predictions:
            logging.warning("Unanswered question %s will receive score 0.", qa["id"])
            continue
        ground_truths = [answer["text"] for answer in qa["answers"]]
        prediction = predictions[qa["id"]]
        exact_match += max(exact_match_score(prediction, g) for g in ground_truths)
        f1 += max(f1_score(prediction, g) for g in ground_truths)
    if total == 0:
        raise ValueError("SQuAD dataset has no questions")
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


# ----------------------------------------------------------------- SQuAD v2.0

def _get_tokens(text):
    return normalize_answer(text).split() if text else []


def compute_exact(a_gold, a_pred):
    """v2.0 exact match: 1 iff the normalised strings are equal."""
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    """v2.0 token F1 in [0, 1]; an empty side scores 1 only if both are empty."""
    gold_toks = _get_tokens(a_gold)
    pred_toks = _get_tokens(a_pred)
    if not gold_toks or not pred_toks:
        return int(gold_toks == pred_toks)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = num_same / len(pred_toks)
    recall = num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def make_qid_to_has_ans(dataset):
    """Question id -> whether it has at least one gold answer."""
    return {qa["id"]: bool(qa["answers"]) for qa in _questions(dataset)}


def get_raw_scores(dataset, predictions):
    """Per-question exact and F1 before any no-answer threshold.

    Gold answers that normalise to "" are dropped; a question left with none is
    unanswerable and its only correct answer is "". Questions without a
    prediction are left out (as the official script does).
    """
    exact_scores, f1_scores = {}, {}
    for qa in _questions(dataset):
        qid = qa["id"]
        gold_answers = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])]
        if not gold_answers:
            gold_answers = [""]
        if qid not in predictions:
            logging.warning("Missing prediction for %s", qid)
            continue
        a_pred = predictions[qid]
        exact_scores[qid] = max(compute_exact(a, a_pred) for a in gold_answers)
        f1_scores[qid] = max(compute_f1(a, a_pred) for a in gold_answers)
    return exact_scores, f1_scores


def apply_no_ans_threshold(scores, na_probs, qid_to_has_ans, na_prob_thresh):
    """Questions with na_prob > threshold are answered "no answer"."""
    new_scores = {}
    for qid, score in scores.items():
        if qid not in na_probs:
            raise ValueError(f"no-answer scores have no entry for question id {qid!r}")
        if na_probs[qid] > na_prob_thresh:
            new_scores[qid] = float(not qid_to_has_ans[qid])
        else:
            new_scores[qid] = score
    return new_scores


def make_eval_dict(exact_scores, f1_scores, qid_list=None):
    """{"exact", "f1", "total"} over `qid_list` (default: all scored ids)."""
    if not qid_list:
        qid_list = list(exact_scores)
    total = len(qid_list)
    if total == 0:
        raise ValueError("no question has a prediction")
    return collections.OrderedDict([
        ("exact", 100.0 * sum(exact_scores[k] for k in qid_list) / total),
        ("f1", 100.0 * sum(f1_scores[k] for k in qid_list) / total),
        ("total", total),
    ])


def find_best_thresh(predictions, scores, na_probs, qid_to_has_ans):
    """Best score (percent) over no-answer thresholds, and that threshold.

    Starting from "answer nothing" (every unanswerable question right), the
    questions are visited in increasing na_prob and switched to their predicted
    answer one at a time; ties keep `na_probs` order, as the official sort does.
    """
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score = best_score = num_no_ans
    best_thresh = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        if qid_to_has_ans[qid]:
            diff = scores[qid]
        else:
            diff = -1 if predictions[qid] else 0
        cur_score += diff
        if cur_score > best_score:
            best_score = cur_score
            best_thresh = na_probs[qid]
    return 100.0 * best_score / len(scores), best_thresh


def evaluate_v2(dataset, predictions, na_probs=None, na_prob_thresh=1.0):
    """Official v2.0 scores.

    Args:
      dataset: SQuAD v2.0 JSON (or v1.1: then there are no NoAns_* keys).
      predictions: question id -> text ("" = no answer).
      na_probs: question id -> no-answer score, or None (all 0.0 and no
        best_* keys, as the official script without `--na-prob-file`).
      na_prob_thresh: a question whose score is above it counts as answered
        "no answer" (official default 1.0).

    Returns:
      OrderedDict with exact, f1, total, HasAns_{exact,f1,total},
      NoAns_{exact,f1,total} (each group only when it has questions) and, given
      `na_probs`, best_exact, best_exact_thresh, best_f1, best_f1_thresh. Scores
      are percent. Questions without a prediction are left out of every total
      (the official script skips them too; it would then crash on HasAns).
    """
    has_na_probs = na_probs is not None
    if not has_na_probs:
        na_probs = {k: 0.0 for k in predictions}
    qid_to_has_ans = make_qid_to_has_ans(dataset)
    exact_raw, f1_raw = get_raw_scores(dataset, predictions)
    exact_thresh = apply_no_ans_threshold(exact_raw, na_probs, qid_to_has_ans, na_prob_thresh)
    f1_thresh = apply_no_ans_threshold(f1_raw, na_probs, qid_to_has_ans, na_prob_thresh)
    out_eval = make_eval_dict(exact_thresh, f1_thresh)
    has_ans_qids = [k for k, v in qid_to_has_ans.items() if v and k in exact_raw]
    no_ans_qids = [k for k, v in qid_to_has_ans.items() if not v and k in exact_raw]
    for prefix, qids in (("HasAns", has_ans_qids), ("NoAns", no_ans_qids)):
        if qids:
            for key, value in make_eval_dict(exact_thresh, f1_thresh, qids).items():
                out_eval[f"{prefix}_{key}"] = value
    if has_na_probs:
        out_eval["best_exact"], out_eval["best_exact_thresh"] = find_best_thresh(
            predictions, exact_raw, na_probs, qid_to_has_ans)
        out_eval["best_f1"], out_eval["best_f1_thresh"] = find_best_thresh(
            predictions, f1_raw, na_probs, qid_to_has_ans)
    return out_eval


# ----------------------------------------------------------------- files

def read_json(path, what="JSON"):
    """Loads a JSON file from any tf.io.gfile path; errors name the file."""
    path = str(path)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"{what} file not found: {path}")
    with tf.io.gfile.GFile(path, "r") as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}:{e.colno}: malformed {what}: {e.msg}") from e


def write_json(path, obj):
    """Writes `obj` as indented JSON (official prediction-file layout)."""
    write_text_atomically(path, json.dumps(obj, indent=4) + "\n")


def evaluate_prediction_files(dataset, prediction_file, na_prob_file=None,
                              version_2_with_negative=False, na_prob_thresh=1.0,
                              output_file=None):
    """Evaluates written prediction files like the official scripts.

    Args:
      dataset: path of the SQuAD JSON with gold answers, or that JSON loaded.
      prediction_file: `predictions.json` (question id -> text).
      na_prob_file: v2.0 only, e.g. `null_odds.json`.
      version_2_with_negative: use the v2.0 metric (else v1.1).
      na_prob_thresh: v2.0 no-answer threshold (official default 1.0).
      output_file: if given, the scores are also written there as JSON
        (e.g. `output_dir/eval_results.json`).

    Returns:
      the dict of `evaluate_v1` or `evaluate_v2`.
    """
    if not isinstance(dataset, (dict, list)):
        dataset = read_json(dataset, "SQuAD dataset")
    predictions = read_json(prediction_file, "predictions")
    if version_2_with_negative:
        na_probs = read_json(na_prob_file, "no-answer scores") if na_prob_file else None
        result = evaluate_v2(dataset, predictions, na_probs, na_prob_thresh)
    else:
        result = evaluate_v1(dataset, predictions)
    if output_file:
        write_json(output_file, result)
    return result
