"""Official SQuAD metrics against hand-worked cases (numbers worked out below)."""

import json

import pytest

from albert_tf.tasks.squad import metrics as squad_metrics


def _dataset(qas, version="1.1"):
    return {"version": version,
            "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]}


def _qa(qid, *golds):
    return {"id": qid, "question": "q?",
            "answers": [{"text": g, "answer_start": 0} for g in golds]}


@pytest.mark.parametrize("text, expected", [
    ("  The  Quick, brown-fox!  ", "quick brownfox"),  # case, punctuation, articles, spaces
    ("A theater, an anthem and THE end.", "theater anthem and end"),  # articles only as words
    ("\tNew\nYork\u00a0City ", "new york city"),  # every whitespace kind collapses
    ("Levi's", "levis"),
    ("", ""),
])
def test_normalize_answer(text, expected):
    assert squad_metrics.normalize_answer(text) == expected


def test_v1_token_f1_by_hand():
    # pred "levis stadium in santa clara" (5 tokens) vs gold "santa clara california"
    # (3): 2 common -> P 2/5, R 2/3 -> F1 = 2PR/(P+R) = 0.5.
    assert squad_metrics.f1_score("Levi's Stadium in Santa Clara",
                                  "Santa Clara, California") == pytest.approx(0.5)
    # Tokens are a multiset and "a" is an article: pred "a b b" -> [b, b], gold
    # [b, c] -> 1 common -> P 1/2, R 1/2 -> 0.5.
    assert squad_metrics.f1_score("a b b", "b c") == pytest.approx(0.5)
    assert squad_metrics.f1_score("", "anything") == 0


def test_evaluate_v1_by_hand():
    dataset = _dataset([
        _qa("q1", "The Denver Broncos", "Denver Broncos"),
        _qa("q2", "Santa Clara, California", "Levi's Stadium"),
        _qa("q3", "an apple a day"),
        _qa("q4", "unanswered"),
    ])
    predictions = {"q1": "denver broncos!", "q2": "Levi's Stadium in Santa Clara", "q3": ""}
    # q1: EM 1, F1 1.  q2: EM 0; F1 = max(0.5, F1("levis stadium in santa clara",
    # "levis stadium") = 2*(2/5*1)/(2/5+1) = 4/7) = 4/7.  q3: 0, 0.  q4: missing -> 0.
    result = squad_metrics.evaluate_v1(dataset, predictions)
    assert result["exact_match"] == pytest.approx(100 * 1 / 4)
    assert result["f1"] == pytest.approx(100 * (1 + 4 / 7) / 4)
    # Accepts the `data` list as well as the whole file.
    assert squad_metrics.evaluate_v1(dataset["data"], predictions) == result


V2_QAS = [
    _qa("a1", "Paris", "the city of Paris"),
    _qa("a2", "1990"),
    _qa("a3", "blue whale"),
    _qa("n1"),
    _qa("n2"),
    _qa("n3"),
]
V2_PREDS = {"a1": "city of Paris", "a2": "in 1990", "a3": "", "n1": "something",
            "n2": "", "n3": "foo"}
V2_NA = {"a1": 0.2, "a2": 0.5, "a3": 1.5, "n1": 0.9, "n2": 0.1, "n3": 2.0}


def test_evaluate_v2_by_hand():
    result = squad_metrics.evaluate_v2(_dataset(V2_QAS, "v2.0"), V2_PREDS, V2_NA)
    # Raw (EM, F1): a1 (1, 1) via the 2nd gold; a2 (0, 2/3): P 1/2, R 1;
    # a3 (0, 0); n1 (0, 0); n2 (1, 1): "" == ""; n3 (0, 0).
    # na > 1.0 -> "no answer": a3 -> 0 (it has an answer), n3 -> 1.
    assert result["exact"] == pytest.approx(100 * 3 / 6)
    assert result["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1 + 1) / 6)
    assert result["total"] == 6
    assert result["HasAns_exact"] == pytest.approx(100 * 1 / 3)
    assert result["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 3)
    assert result["HasAns_total"] == 3
    assert result["NoAns_exact"] == pytest.approx(100 * 2 / 3)
    assert result["NoAns_f1"] == pytest.approx(100 * 2 / 3)
    assert result["NoAns_total"] == 3
    # Best threshold: start at 3 (all no-answer right), visit by na:
    # n2 (0.1) +0 -> 3; a1 (0.2) +1 -> 4 (best, 0.2); a2 (0.5) +0 EM / +2/3 F1;
    # n1 (0.9) -1; a3 (1.5) +0; n3 (2.0) -1.
    # EM: best 4 at 0.2.  F1: 4 + 2/3 at 0.5.
    assert result["best_exact"] == pytest.approx(100 * 4 / 6)
    assert result["best_exact_thresh"] == pytest.approx(0.2)
    assert result["best_f1"] == pytest.approx(100 * (4 + 2 / 3) / 6)
    assert result["best_f1_thresh"] == pytest.approx(0.5)
    assert list(result) == [
        "exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total",
        "NoAns_exact", "NoAns_f1", "NoAns_total", "best_exact", "best_exact_thresh",
        "best_f1", "best_f1_thresh"]


def test_evaluate_v2_without_na_probs_and_threshold():
    dataset = _dataset(V2_QAS, "v2.0")
    result = squad_metrics.evaluate_v2(dataset, V2_PREDS)
    # No na scores: raw scores only; no best_* keys (official without --na-prob-file).
    assert result["exact"] == pytest.approx(100 * 2 / 6)
    assert result["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 6)
    assert "best_f1" not in result
    # Threshold 0.3: a2, a3, n1, n3 become "no answer": a1 1, a2 0, a3 0, n1 1, n2 1, n3 1.
    result = squad_metrics.evaluate_v2(dataset, V2_PREDS, V2_NA, na_prob_thresh=0.3)
    assert result["exact"] == pytest.approx(100 * 4 / 6)


EDGE_QAS = [_qa("h1", "cat"), _qa("h2", "the big dog"), _qa("u1"), _qa("u2")]
# h1 right; h2 half right (tokens big/dog vs big/cat: P = R = 1/2, F1 1/2); u1 abstains
# (right); u2 answers an unanswerable question (wrong).
EDGE_PREDS = {"h1": "cat", "h2": "big cat", "u1": "", "u2": "fish"}


def test_v2_na_prob_exactly_at_the_threshold_keeps_the_answer():
    """Official evaluate-v2.0: "no answer" only where na_prob > threshold (strictly)."""
    na = {"h1": 0.5, "h2": 0.7, "u1": 0.9, "u2": 0.5}
    result = squad_metrics.evaluate_v2(_dataset(EDGE_QAS, "v2.0"), EDGE_PREDS, na,
                                       na_prob_thresh=0.5)
    # h1 (0.5, at the threshold) keeps "cat": 1; h2 (0.7) -> no answer: 0;
    # u1 (0.9) -> no answer: 1; u2 (0.5, at the threshold) keeps "fish": 0.
    # (With na_prob >= threshold h1 would be 0 and u2 1.)
    assert result["HasAns_exact"] == pytest.approx(50.0)
    assert result["HasAns_f1"] == pytest.approx(50.0)
    assert result["NoAns_exact"] == pytest.approx(50.0)
    assert result["exact"] == pytest.approx(50.0)
    # Just below the threshold both flip to "no answer".
    below = squad_metrics.evaluate_v2(_dataset(EDGE_QAS, "v2.0"), EDGE_PREDS, na,
                                      na_prob_thresh=0.4999)
    assert below["HasAns_exact"] == pytest.approx(0.0)
    assert below["NoAns_exact"] == pytest.approx(100.0)


@pytest.mark.parametrize("order, best_exact, best_exact_thresh, best_f1, best_f1_thresh", [
    # Sorted by na_prob, ties in na_probs order (the official stable sort): h1, u2, h2, u1.
    # Start at 2 (u1, u2 right as "no answer"). EM: h1 +1 -> 3 (best, at 0.5);
    # u2 -1 -> 2; h2 +0 -> 2; u1 +0 -> 2. F1: 3 (best, 0.5); 2; 2.5; 2.5.
    (("h1", "u2", "h2", "u1"), 75.0, 0.5, 75.0, 0.5),
    # u2 before h1 in the tie: 2 - 1 = 1, then 2: never above the start, so the
    # threshold stays at the official initial 0.0. F1: 1; 2; 2.5 (best, at 0.7); 2.5.
    (("u2", "h1", "h2", "u1"), 50.0, 0.0, 62.5, 0.7),
])
def test_v2_best_threshold_on_tied_na_probs(order, best_exact, best_exact_thresh, best_f1,
                                            best_f1_thresh):
    values = {"h1": 0.5, "u2": 0.5, "h2": 0.7, "u1": 0.9}
    na = {qid: values[qid] for qid in order}
    result = squad_metrics.evaluate_v2(_dataset(EDGE_QAS, "v2.0"), EDGE_PREDS, na)
    assert result["best_exact"] == pytest.approx(best_exact)
    assert result["best_exact_thresh"] == best_exact_thresh
    assert result["best_f1"] == pytest.approx(best_f1)
    assert result["best_f1_thresh"] == best_f1_thresh


def test_v2_best_threshold_moves_only_on_a_strictly_better_score():
    preds = dict(EDGE_PREDS, h2="dog")  # now right
    na = {"h1": 0.2, "u2": 0.4, "h2": 0.6, "u1": 0.9}
    result = squad_metrics.evaluate_v2(_dataset(EDGE_QAS, "v2.0"), preds, na)
    # 2; h1 +1 -> 3 (best, 0.2); u2 -1 -> 2; h2 +1 -> 3 (equal: stays 0.2); u1 +0 -> 3.
    assert result["best_exact"] == pytest.approx(75.0)
    assert result["best_exact_thresh"] == 0.2


def test_v2_gold_that_normalizes_to_nothing_counts_as_no_answer():
    # compute_f1: an empty side scores 1 only if both are empty.
    assert squad_metrics.compute_f1("", "") == 1
    assert squad_metrics.compute_f1("", "x") == 0
    dataset = _dataset([_qa("q", "The ...")], "v2.0")
    assert squad_metrics.evaluate_v2(dataset, {"q": ""})["exact"] == 100.0


def test_evaluate_prediction_files_writes_eval_results(tmp_path):
    dataset_file = tmp_path / "dev.json"
    dataset_file.write_text(json.dumps(_dataset(V2_QAS, "v2.0")))
    (tmp_path / "predictions.json").write_text(json.dumps(V2_PREDS))
    (tmp_path / "null_odds.json").write_text(json.dumps(V2_NA))
    out = tmp_path / "eval_results.json"
    result = squad_metrics.evaluate_prediction_files(
        str(dataset_file), str(tmp_path / "predictions.json"),
        str(tmp_path / "null_odds.json"), version_2_with_negative=True, output_file=str(out))
    assert json.loads(out.read_text()) == pytest.approx(dict(result))
    assert result["best_f1_thresh"] == pytest.approx(0.5)


def test_malformed_json_names_the_file(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"data": [\n  {"title": }\n]}')
    with pytest.raises(ValueError, match=r"broken\.json:2:"):
        squad_metrics.read_json(str(bad))
    with pytest.raises(FileNotFoundError, match="missing.json"):
        squad_metrics.read_json(str(tmp_path / "missing.json"))
