"""Classifier and RACE SavedModels, served from a fresh process.

References: inputs from the Python feature code (`classifier_features`,
`race_features`) on real GLUE / RACE data, numbers from the in-process Keras
models.
"""

import json

import numpy as np
import tensorflow as tf

from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.glue import processors as glue
from albert_tf.tasks.race import features as race_features
from albert_tf.tasks.race.reader import RaceExample, RaceProcessor
from . import export_test_helpers as helpers
from .export_test_helpers import MAX_SEQ_LENGTH, reference_inputs, serving_requests, strings

RACE_PASSAGES = ("1011.txt", "1030.txt")  # RACE dev/middle; 1011 has cloze questions.


def _mrpc_pairs(shared_data_dir, count=5):
    rows = glue.read_tsv(str(shared_data_dir / "glue_data" / "MRPC" / "dev.tsv"))[1:count + 1]
    return [fields[3] for _, fields in rows], [fields[4] for _, fields in rows]


def _single_texts(shared_data_dir):
    rows = glue.read_tsv(str(shared_data_dir / "glue_data" / "SST-2" / "dev.tsv"))[1:4]
    return [fields[0] for _, fields in rows] + ["", b"caf\xc3\xa9 \xff bad bytes",
                                                "word " * 200]


def _race_passages(shared_data_dir):
    passages = []
    for name in RACE_PASSAGES:
        with open(shared_data_dir / "race" / "RACE" / "dev" / "middle" / name) as f:
            passages.append(json.load(f))
    return passages


def _race_requests(shared_data_dir):
    articles, questions, options = [], [], []
    for passage in _race_passages(shared_data_dir):
        for question, choices in zip(passage["questions"][:3], passage["options"][:3]):
            articles.append(passage["article"])
            questions.append(question)
            options.append(choices)
    # Edge case: everything empty.
    articles.append("")
    questions.append("")
    options.append(["", "", "", ""])
    return articles, questions, options


def _serialized_examples(features):
    return np.array([classifier_features.features_to_tf_example(
        classifier_features.InputFeatures(
            list(features["input_ids"][i]), list(features["input_mask"][i]),
            list(features["segment_ids"][i]), 0)).SerializeToString()
        for i in range(len(features["input_ids"]))], dtype=object)


@serving_requests
def _requests(ctx):
    texts_a, texts_b = _mrpc_pairs(ctx.shared_data_dir)
    singles = _single_texts(ctx.shared_data_dir)
    pair_inputs = reference_inputs(ctx.tokenizer, texts_a, texts_b)
    articles, questions, options = _race_requests(ctx.shared_data_dir)
    return [
        {"key": "classifier/pair", "export": "classifier", "signature": "serving_pair",
         "inputs": {"text_a": strings(texts_a), "text_b": strings(texts_b)}},
        {"key": "classifier/text", "export": "classifier", "signature": "serving_default",
         "inputs": {"text": strings(singles)}},
        {"key": "classifier/examples", "export": "classifier", "signature": "serving_examples",
         "inputs": {"examples": _serialized_examples(pair_inputs)}},
        {"key": "classifier/tokens", "export": "classifier", "signature": "tokens",
         "inputs": pair_inputs},
        {"key": "race/text", "export": "race", "signature": "serving_default",
         "inputs": {"article": strings(articles), "question": strings(questions),
                    "options": np.array([[o.encode() for o in row] for row in options],
                                        dtype=object)}},
    ]


def _ok(served, key):
    assert key not in served.errors, served.errors[key]
    return served.outputs[key]


def _classifier_reference(model, inputs):
    logits = np.asarray(model(inputs, training=False)["logits"], np.float64)
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    return logits, probabilities


def _check_classifier(out, model, inputs):
    logits, probabilities = _classifier_reference(model, inputs)
    np.testing.assert_allclose(out["logits"], logits, atol=1e-5)
    np.testing.assert_allclose(out["probabilities"], probabilities, atol=1e-5)
    np.testing.assert_array_equal(out["label_id"], logits.argmax(-1))
    assert [label.decode() for label in out["label"]] == [
        helpers.CLASSIFIER_LABELS[i] for i in logits.argmax(-1)]


def test_classifier_pair_on_mrpc(served, tiny_models, full_tokenizer, shared_data_dir):
    texts_a, texts_b = _mrpc_pairs(shared_data_dir)
    inputs = reference_inputs(full_tokenizer, texts_a, texts_b)
    model = tiny_models["classifier"][0]
    _check_classifier(_ok(served, "classifier/pair"), model, inputs)
    _check_classifier(_ok(served, "classifier/tokens"), model, inputs)
    # The official record format gives the same answers.
    _check_classifier(_ok(served, "classifier/examples"), model, inputs)


def test_classifier_single_text_with_edge_cases(served, tiny_models, full_tokenizer,
                                                shared_data_dir):
    texts = _single_texts(shared_data_dir)
    inputs = reference_inputs(full_tokenizer, texts)
    assert inputs["input_mask"][-1].all()  # "word " * 200 was truncated.
    _check_classifier(_ok(served, "classifier/text"), tiny_models["classifier"][0], inputs)


def test_regression_module_outputs_the_score(tiny_models, spm_model_file, full_tokenizer,
                                             tmp_path):
    """STS-B style: one output unit, served as `value` (checked in process)."""
    from albert_tf.export.classifier_module import AlbertClassifierModule
    from albert_tf.modeling.models.classifier import AlbertClassifier
    from albert_tf.tokenization import TFTokenizer

    model = AlbertClassifier(helpers.tiny_config(), num_labels=1)
    helpers.randomize(model, seed=11)
    module = AlbertClassifierModule(
        model, TFTokenizer(spm_model_file), MAX_SEQ_LENGTH,
        {"spm.model": spm_model_file}, is_regression=True)
    texts_a, texts_b = ["A man is playing a guitar.", "x"], ["A man plays guitar.", ""]
    out = module.signature("serving_pair")(tf.constant(texts_a), tf.constant(texts_b))
    logits = model(reference_inputs(full_tokenizer, texts_a, texts_b), training=False)["logits"]
    np.testing.assert_allclose(out["value"], np.asarray(logits)[:, 0], atol=1e-5)
    assert "label" not in out


def test_race_matches_python_features_and_keras(served, tiny_models, full_tokenizer,
                                                shared_data_dir):
    processor = RaceProcessor(do_lower_case=True)
    features = []
    examples = []
    for passage in _race_passages(shared_data_dir):
        passage = dict(passage, questions=passage["questions"][:3],
                       options=passage["options"][:3], answers=passage["answers"][:3])
        examples += processor.passage_examples(passage, "middle")
    # The all-empty row: `[CLS] [SEP] [SEP]` four times, as official race_utils packs it.
    examples.append(RaceExample("empty-0", "middle", "", ["", "", "", ""], 0))
    for example in examples:
        features.append(race_features.convert_race_example(
            example, MAX_SEQ_LENGTH, full_tokenizer, max_qa_length=helpers.MAX_QA_LENGTH))
    inputs = {name: np.array([getattr(f, name) for f in features], np.int32)
              for name in ("input_ids", "input_mask", "segment_ids")}
    model = tiny_models["race"][0]
    logits = np.asarray(model(inputs, training=False)["logits"], np.float64)
    out = _ok(served, "race/text")
    np.testing.assert_allclose(out["logits"], logits, atol=1e-5)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(out["probabilities"], probabilities, atol=1e-5)
    assert [a.decode() for a in out["answer"]] == ["ABCD"[i] for i in logits.argmax(-1)]
    assert features[-1].input_ids[0][:4] == [full_tokenizer.cls_id, full_tokenizer.sep_id,
                                             full_tokenizer.sep_id, 0]
    np.testing.assert_allclose(out["probabilities"][-1], 0.25, atol=1e-6)
