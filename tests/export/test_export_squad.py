"""SQuAD SavedModels answer real questions as the Python pipeline does.

Python side: `squad_features.convert_examples_to_features` (FullTokenizer,
doc_stride windows, max context), the in-process Keras model on those
windows, and `squad_postprocess.compute_predictions_v1/_v2`. Served side: raw
question and context strings into the SavedModel in a fresh process. The tiny
max_seq_length (64) and doc_stride (16) give most contexts a dozen or more
windows, so the in-graph windowing and max-context logic decide the answers.
"""

import numpy as np

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import features as squad_features
from albert_tf.tasks.squad import postprocess as squad_postprocess
from .export_test_helpers import MAX_SEQ_LENGTH, SQUAD_SETTINGS, serving_requests, strings

LONG_REPEATS = 6


def _v1_examples(shared_data_dir):
    examples = squad_examples.read_squad_examples(
        str(shared_data_dir / "squad" / "v1.1" / "dev-v1.1.part-a.json"), is_training=False)
    accented = [e for e in examples if not e.context_text.isascii()][::40][:12]
    plain = [e for e in examples if e.context_text.isascii()][::300][:8]
    return accented + plain


def _v2_examples(shared_data_dir):
    examples = squad_examples.read_squad_examples(
        str(shared_data_dir / "squad" / "v2.0" / "dev-v2.0.3articles.json"), is_training=False)
    return examples[::12][:16]


def _edge_cases(examples):
    """(question, context) pairs that serving must survive."""
    context = examples[0].context_text
    return [
        ("What is it?", ""),                                  # no context: no answer
        ("", context),                                        # empty question
        (examples[0].question_text, context * LONG_REPEATS),  # dozens of windows
        ("Where?", b"Caf\xc3\xa9 \xff\xfe in Z\xc3\xbcrich."),  # not UTF-8
        ("Who?", "   \n\t  "),                                # whitespace only
    ]


@serving_requests
def _requests(ctx):
    calls = []
    for version, examples in (("squad_v1", _v1_examples(ctx.shared_data_dir)),
                              ("squad_v2", _v2_examples(ctx.shared_data_dir))):
        edges = _edge_cases(examples)
        calls.append({"key": f"{version}/questions", "export": version,
                      "signature": "serving_default",
                      "inputs": {"question": strings([e.question_text for e in examples]),
                                 "context": strings([e.context_text for e in examples])}})
        calls.append({"key": f"{version}/edge_cases", "export": version,
                      "signature": "serving_default",
                      "inputs": {"question": strings([q for q, _ in edges]),
                                 "context": strings([c for _, c in edges])}})
        calls.append({"key": f"{version}/mismatch_expected_error", "export": version,
                      "signature": "serving_default",
                      "inputs": {"question": strings(["a", "b"]), "context": strings(["c"])}})
        features = _features(examples[:4], ctx.tokenizer)
        calls.append({"key": f"{version}/tokens", "export": version, "signature": "tokens",
                      "inputs": _model_inputs(features, version == "squad_v2")})
    return calls


def _features(examples, tokenizer):
    return list(squad_features.convert_examples_to_features(
        examples, tokenizer, is_training=False, max_seq_length=MAX_SEQ_LENGTH,
        doc_stride=SQUAD_SETTINGS["doc_stride"],
        max_query_length=SQUAD_SETTINGS["max_query_length"]))


def _model_inputs(features, with_p_mask):
    names = ("input_ids", "input_mask", "segment_ids") + (("p_mask",) if with_p_mask else ())
    return {name: np.array([getattr(f, name) for f in features], np.int32) for name in names}


def _python_predictions(examples, model, tokenizer, version_2):
    features = _features(examples, tokenizer)
    outputs = model(_model_inputs(features, version_2), training=False)
    batch = {k: np.asarray(v) for k, v in outputs.items()}
    batch["unique_ids"] = np.array([f.unique_id for f in features])
    results = squad_postprocess.results_from_batches([batch])
    metas = [f.meta for f in features]
    max_answer_length = SQUAD_SETTINGS["max_answer_length"]
    if version_2:
        return squad_postprocess.compute_predictions_v2(
            examples, metas, results, max_answer_length=max_answer_length), len(features)
    return squad_postprocess.compute_predictions_v1(
        examples, metas, results, max_answer_length=max_answer_length) + (None,), len(features)


def _ok(served, key):
    assert key not in served.errors, served.errors[key]
    return served.outputs[key]


def _check_answers(served, version, examples, model, tokenizer):
    (predictions, nbest, null_odds), num_windows = _python_predictions(
        examples, model, tokenizer, version == "squad_v2")
    assert num_windows > 4 * len(examples)  # The windowing is really exercised.
    out = _ok(served, f"{version}/questions")
    for i, example in enumerate(examples):
        text = out["answer_text"][i].decode("utf-8")
        assert text == predictions[example.qas_id], example.qas_id
        start, end = int(out["start_char"][i]), int(out["end_char"][i])
        assert example.context_text[start:end] == text
        best = nbest[example.qas_id][0]
        np.testing.assert_allclose(out["score"][i],
                                   best["start_log_prob"] + best["end_log_prob"], atol=1e-4)
        if null_odds is not None:
            np.testing.assert_allclose(out["null_score"][i], null_odds[example.qas_id],
                                       atol=1e-5)
            # Official scoring counts an empty answer as no answer.
            assert bool(out["is_answerable"][i]) == (null_odds[example.qas_id] < 0.0
                                                     and text != "")
    return out


def test_squad_v1_answers_like_python_postprocessing(served, tiny_models, full_tokenizer,
                                                     shared_data_dir):
    examples = _v1_examples(shared_data_dir)
    out = _check_answers(served, "squad_v1", examples, tiny_models["squad_v1"][0],
                         full_tokenizer)
    # Some answers come from accented contexts and are non-empty.
    assert any(t and not t.decode().isascii() for t in out["answer_text"])


def test_squad_v2_answers_and_null_scores_like_python(served, tiny_models, full_tokenizer,
                                                      shared_data_dir):
    _check_answers(served, "squad_v2", _v2_examples(shared_data_dir),
                   tiny_models["squad_v2"][0], full_tokenizer)


def test_squad_tokens_signature_matches_keras(served, tiny_models, full_tokenizer,
                                              shared_data_dir):
    for version, examples in (("squad_v1", _v1_examples(shared_data_dir)),
                              ("squad_v2", _v2_examples(shared_data_dir))):
        inputs = _model_inputs(_features(examples[:4], full_tokenizer), version == "squad_v2")
        reference = tiny_models[version][0](inputs, training=False)
        out = _ok(served, f"{version}/tokens")
        assert set(out) == set(reference)
        for name, value in reference.items():
            np.testing.assert_allclose(out[name], np.asarray(value), atol=1e-5, err_msg=name)


def test_squad_serving_edge_cases(served, tiny_models, full_tokenizer, shared_data_dir):
    for version, examples in (("squad_v1", _v1_examples(shared_data_dir)),
                              ("squad_v2", _v2_examples(shared_data_dir))):
        edges = _edge_cases(examples)
        out = _ok(served, f"{version}/edge_cases")
        texts = [t.decode("utf-8") for t in out["answer_text"]]
        # No context (empty or whitespace only): no answer.
        for row in (0, 4):
            assert texts[row] == "" and out["start_char"][row] == out["end_char"][row] == -1
            assert out["score"][row] == -np.inf
        if version == "squad_v2":
            assert not out["is_answerable"][0] and not out["is_answerable"][4]
            # No token, no window: the official null odds keep their start, 1e6.
            assert out["null_score"][0] == out["null_score"][4] == 1e6
        # Empty question, long context and undecodable bytes: the Python
        # pipeline's answers on the context with the bad bytes dropped, and
        # offsets into that context.
        contexts = [c if isinstance(c, str) else c.decode("utf-8", "ignore")
                    for _, c in edges]
        rows = (1, 2, 3)
        examples = [squad_examples.SquadExample(qas_id=str(row), question_text=edges[row][0],
                                                context_text=contexts[row]) for row in rows]
        (predictions, nbest, _), _ = _python_predictions(
            examples, tiny_models[version][0], full_tokenizer, version == "squad_v2")
        for row in rows:
            start, end = int(out["start_char"][row]), int(out["end_char"][row])
            if nbest[str(row)][0]["start_log_prob"] == -1e6 or (
                    version == "squad_v1" and predictions[str(row)] == "empty"):
                # No valid span (the official placeholder in Python).
                assert texts[row] == "" and start == end == -1
                continue
            assert texts[row] == predictions[str(row)]
            assert 0 <= start <= end <= len(contexts[row])
            assert contexts[row][start:end] == texts[row]
        assert texts[2]  # The long context has an answer.


def test_mismatched_batches_are_refused_with_a_clear_error(served):
    for version in ("squad_v1", "squad_v2"):
        error = served.errors[f"{version}/mismatch_expected_error"]
        assert "question and context must have the same batch size" in error
