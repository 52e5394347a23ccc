"""Post-processing: synthetic model outputs built from the gold spans must give the
gold answers back, through overlapping windows, and score 100 end to end."""

import json
import os

import numpy as np
import pytest

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import features as squad_features
from albert_tf.tasks.squad import postprocess as squad_postprocess
from albert_tf.tasks.squad.examples import SquadExample
from albert_tf.tasks.squad import metrics as squad_metrics
from albert_tf.tokenization import FullTokenizer

SETTINGS = dict(max_seq_length=128, doc_stride=32, max_query_length=32)


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


def _load(shared_data_dir, relative, num_articles, tokenizer):
    dataset = squad_metrics.read_json(str(shared_data_dir / relative))
    dataset["data"] = dataset["data"][:num_articles]
    examples = squad_examples.examples_from_json(dataset, is_training=False)
    metas = [f.meta for f in squad_features.convert_examples_to_features(
        examples, tokenizer, False, **SETTINGS)]
    return dataset, examples, metas


def _gold_span(meta, example):
    """Window-relative tokens starting/ending exactly at the first gold answer, if the
    start token has its max context in this window (found by direct search)."""
    text, start = example.answers[0]
    end = start + len(text.rstrip()) - 1
    try:
        k_start = meta.tok_start_to_orig_index.index(start)
        k_end = meta.tok_end_to_orig_index.index(end)
    except ValueError:
        return None
    if k_end < k_start or not meta.token_is_max_context[k_start]:
        return None
    return k_start, k_end


def _subset(dataset, qids):
    out = {"version": dataset.get("version"), "data": []}
    for article in dataset["data"]:
        paragraphs = []
        for p in article["paragraphs"]:
            qas = [qa for qa in p["qas"] if qa["id"] in qids]
            if qas:
                paragraphs.append({"context": p["context"], "qas": qas})
        out["data"].append({"title": article["title"], "paragraphs": paragraphs})
    return out


def _v1_results(examples, metas, seed=0):
    """Noise logits; +10 at the gold span in windows where it is valid; decoys the
    filters must reject: +14 on question tokens and [CLS], +12 as the start of a
    non-max-context token, and +11 on the final [SEP] and the first padding. (Few decoys: the
    official search only looks at the top n_best_size starts and ends.)"""
    rng = np.random.default_rng(seed)
    results, selected, multi = {}, set(), set()
    windows = {}
    for meta in metas:
        example = examples[meta.example_index]
        start = rng.normal(0, 0.5, SETTINGS["max_seq_length"]).astype(np.float32)
        end = rng.normal(0, 0.5, SETTINGS["max_seq_length"]).astype(np.float32)
        start[0:4] = end[0:4] = 14.0  # [CLS] and the first question tokens
        n_doc = len(meta.tok_start_to_orig_index)
        after = slice(meta.doc_offset + n_doc, meta.doc_offset + n_doc + 3)
        start[after] = end[after] = 11.0
        not_max = [k for k, m in enumerate(meta.token_is_max_context) if not m]
        if not_max:
            start[meta.doc_offset + not_max[0]] = 12.0
        span = _gold_span(meta, example)
        if span is not None:
            start[meta.doc_offset + span[0]] = end[meta.doc_offset + span[1]] = 10.0
            selected.add(example.qas_id)
        text, answer_start = example.answers[0]
        if (meta.tok_start_to_orig_index[0] <= answer_start
                and answer_start + len(text) - 1 <= meta.tok_end_to_orig_index[-1]):
            windows[example.qas_id] = windows.get(example.qas_id, 0) + 1
        results[meta.unique_id] = {"start_logits": start, "end_logits": end}
    multi = {q for q, n in windows.items() if n > 1}
    return results, selected, multi


def test_v1_gold_logits_recover_the_gold_text(shared_data_dir, tokenizer):
    _, examples, metas = _load(shared_data_dir, "squad/v1.1/dev-v1.1.part-b.json", 1, tokenizer)
    results, selected, multi = _v1_results(examples, metas)
    assert len(selected) >= 0.95 * len(examples)
    assert len(multi & selected) >= 20  # answers seen by several overlapping windows
    predictions, nbest = squad_postprocess.compute_predictions_v1(examples, metas, results)
    for example in examples:
        if example.qas_id in selected:
            text, start = example.answers[0]
            assert predictions[example.qas_id] == text.strip()
        entries = nbest[example.qas_id]
        assert 1 <= len(entries) <= 20
        assert entries[0]["text"] == predictions[example.qas_id]
        assert len({e["text"] for e in entries}) == len(entries)  # duplicates merged
        assert sum(e["probability"] for e in entries) == pytest.approx(1.0)
        scores = [e["start_log_prob"] + e["end_log_prob"] for e in entries]
        assert scores == sorted(scores, reverse=True)


def test_v1_pipeline_scores_100_on_gold_logits(shared_data_dir, tokenizer, tmp_path):
    dataset, examples, metas = _load(shared_data_dir, "squad/v1.1/dev-v1.1.part-b.json", 1,
                                     tokenizer)
    results, selected, _ = _v1_results(examples, metas, seed=1)
    gold = _subset(dataset, selected)
    result = squad_postprocess.write_predictions(
        str(tmp_path), examples, metas, results, version_2_with_negative=False,
        gold_dataset=gold)
    assert result == {"exact_match": 100.0, "f1": 100.0}
    assert json.loads((tmp_path / "eval_results.json").read_text()) == result
    written = json.loads((tmp_path / "predictions.json").read_text())
    assert list(written) == [e.qas_id for e in examples]
    assert os.path.exists(tmp_path / "nbest_predictions.json")
    assert not os.path.exists(tmp_path / "null_odds.json")


def _v2_results(examples, metas, start_n_top=5, end_n_top=5, seed=0):
    """Top-k outputs; gold span first where valid, and cls_logits from which the
    expected null odds (min over windows) are computed here."""
    rng = np.random.default_rng(seed)
    results, expected_null = {}, {}
    selected = set()
    for meta in metas:
        example = examples[meta.example_index]
        n_doc = len(meta.tok_start_to_orig_index)
        starts = meta.doc_offset + rng.integers(0, n_doc, start_n_top)
        ends = np.repeat(starts, end_n_top) + rng.integers(0, 3, start_n_top * end_n_top)
        start_lp = -np.arange(5, 5 + start_n_top, dtype=np.float32)
        end_lp = -np.arange(5, 5 + start_n_top * end_n_top, dtype=np.float32)
        cls = float(rng.uniform(2.0, 5.0))
        span = None if example.is_impossible else _gold_span(meta, example)
        if span is not None:
            starts[0] = meta.doc_offset + span[0]
            ends[0] = meta.doc_offset + span[1]
            start_lp[0] = end_lp[0] = -0.01
            cls = float(rng.uniform(-8.0, -4.0))
            selected.add(example.qas_id)
        expected_null[example.qas_id] = min(expected_null.get(example.qas_id, 1e6), cls)
        results[meta.unique_id] = {
            "start_top_log_probs": start_lp, "start_top_index": starts.astype(np.int32),
            "end_top_log_probs": end_lp, "end_top_index": ends.astype(np.int32),
            "cls_logits": np.float32(cls)}
    return results, expected_null, selected


def test_v2_null_odds_and_gold_spans(shared_data_dir, tokenizer):
    _, examples, metas = _load(shared_data_dir, "squad/v2.0/dev-v2.0.3articles.json", 1,
                               tokenizer)
    results, expected_null, selected = _v2_results(examples, metas)
    impossible = {e.qas_id for e in examples if e.is_impossible}
    assert len(selected) >= 0.9 * (len(examples) - len(impossible)) and impossible
    predictions, nbest, null_odds = squad_postprocess.compute_predictions_v2(
        examples, metas, results)
    assert list(null_odds) == [e.qas_id for e in examples]
    for qid, value in expected_null.items():
        assert null_odds[qid] == pytest.approx(value, abs=1e-6)
    for example in examples:
        if example.qas_id in selected:
            assert predictions[example.qas_id] == example.answers[0][0].strip()
        else:  # Without a threshold the official writes the best non-null text.
            assert predictions[example.qas_id] == nbest[example.qas_id][0]["text"]
    # With a threshold: "" exactly where null odds >= threshold.
    thresholded, _, _ = squad_postprocess.compute_predictions_v2(
        examples, metas, results, null_score_diff_threshold=0.0)
    for qid in predictions:
        assert thresholded[qid] == ("" if expected_null[qid] >= 0.0 else predictions[qid])


def test_v2_pipeline_scores_100_on_gold_outputs(shared_data_dir, tokenizer, tmp_path):
    dataset, examples, metas = _load(shared_data_dir, "squad/v2.0/dev-v2.0.3articles.json", 1,
                                     tokenizer)
    results, expected_null, selected = _v2_results(examples, metas, seed=3)
    impossible = {e.qas_id for e in examples if e.is_impossible}
    gold = _subset(dataset, selected | impossible)
    result = squad_postprocess.write_predictions(
        str(tmp_path), examples, metas, results, version_2_with_negative=True,
        gold_dataset=gold, null_score_diff_threshold=0.0)
    for key in ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1",
                "best_exact", "best_f1"):
        assert result[key] == 100.0, key
    assert result["HasAns_total"] == len(selected)
    assert result["NoAns_total"] == len(impossible)
    written_odds = json.loads((tmp_path / "null_odds.json").read_text())
    assert written_odds == pytest.approx(expected_null)


def test_v2_official_tuned_threshold(shared_data_dir, tokenizer, tmp_path):
    """Without a threshold and with gold answers the official run tunes it
    (best_f1_thresh of the best non-null answers) and then keeps a text only if
    null odds < threshold, so the answerable question whose odds define the
    threshold is answered "" (an official quirk reproduced here on purpose)."""
    dataset, examples, metas = _load(shared_data_dir, "squad/v2.0/dev-v2.0.3articles.json", 1,
                                     tokenizer)
    results, expected_null, selected = _v2_results(examples, metas, seed=4)
    impossible = {e.qas_id for e in examples if e.is_impossible}
    gold = _subset(dataset, selected | impossible)
    result = squad_postprocess.write_predictions(
        str(tmp_path), examples, metas, results, version_2_with_negative=True,
        gold_dataset=gold)
    # Answerable odds are all below the unanswerable ones, so the best threshold is
    # the largest answerable null odds.
    boundary = max(selected, key=lambda q: expected_null[q])
    assert result["null_score_diff_threshold"] == pytest.approx(expected_null[boundary])
    total = len(selected) + len(impossible)
    assert result["exact"] == pytest.approx(100.0 * (total - 1) / total)
    written = json.loads((tmp_path / "predictions.json").read_text())
    assert written[boundary] == ""
    assert all(written[q] == "" for q in impossible)


def test_questions_without_windows_get_the_official_nonce(tokenizer):
    examples = [SquadExample("blank", "Q?", "  "),
                SquadExample("fine", "Where?", "In Paris.", [("Paris", 3)])]
    metas = [f.meta for f in squad_features.convert_examples_to_features(
        examples, tokenizer, False, **SETTINGS)]
    assert [m.qas_id for m in metas] == ["fine"]
    seq = SETTINGS["max_seq_length"]
    logits = np.zeros(seq, np.float32)
    logits[metas[0].doc_offset + 1] = 5.0  # "▁paris" after "▁in"
    results = squad_postprocess.results_from_batches([{
        "unique_ids": np.array([metas[0].unique_id]),
        "start_logits": logits[None], "end_logits": logits[None]}])
    predictions, nbest = squad_postprocess.compute_predictions_v1(examples, metas, results)
    assert predictions == {"blank": "empty", "fine": "Paris"}
    v2 = {metas[0].unique_id: {
        "start_top_log_probs": np.zeros(1), "start_top_index": np.array([metas[0].doc_offset]),
        "end_top_log_probs": np.zeros(1), "end_top_index": np.array([metas[0].doc_offset + 1]),
        "cls_logits": np.float32(-2.5)}}
    predictions, _, null_odds = squad_postprocess.compute_predictions_v2(
        examples, metas, v2, start_n_top=1, end_n_top=1)
    assert predictions == {"blank": "", "fine": "In Paris"}
    assert null_odds == {"blank": 1000000.0, "fine": -2.5}


def test_stale_features_are_rejected(tokenizer):
    examples = [SquadExample("a", "Q?", "Some text here.")]
    metas = [f.meta for f in squad_features.convert_examples_to_features(
        examples, tokenizer, False, **SETTINGS)]
    other = [SquadExample("b", "Q?", "Some text here.")]
    with pytest.raises(ValueError, match="question 'a'"):
        squad_postprocess.compute_predictions_v1(other, metas, {})
    with pytest.raises(ValueError, match=f"no model output for window {metas[0].unique_id}"):
        squad_postprocess.compute_predictions_v1(examples, metas, {})
