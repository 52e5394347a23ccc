"""Reading SQuAD JSON (real files, bad input) and the TFDS builders (mocked)."""

import json

import pytest

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import metrics as squad_metrics


def _write(tmp_path, obj, name="squad.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


def _file(qas, context="Some context."):
    return {"version": "1.1", "data": [{"title": "T", "paragraphs": [
        {"context": context, "qas": qas}]}]}


def test_real_v2_file_counts(shared_data_dir):
    # PROVENANCE.md: 3 articles, 1124 questions, 541 unanswerable.
    path = str(shared_data_dir / "squad/v2.0/dev-v2.0.3articles.json")
    examples = squad_examples.read_squad_examples(path, is_training=True)
    assert len(examples) == 1124
    assert sum(e.is_impossible for e in examples) == 541
    for e in examples:
        if e.is_impossible:
            assert e.answers == [] and e.orig_answer_text is None
        else:
            text, start = e.answers[0]
            assert e.context_text[start:start + len(text)] == text
            assert (e.orig_answer_text, e.start_char) == (text, start)


def test_real_v1_file_counts(shared_data_dir):
    path = str(shared_data_dir / "squad/v1.1/dev-v1.1.part-a.json")
    examples = squad_examples.read_squad_examples(path, is_training=False)
    assert len(examples) == 4961  # PROVENANCE.md
    assert examples[0].title == "Super_Bowl_50"
    assert not any(e.is_impossible for e in examples)
    # Dev questions keep all their gold answers.
    assert max(len(e.answers) for e in examples) >= 3


def test_malformed_json_names_the_file(tmp_path):
    path = _write(tmp_path, '{"data": [{"title": "x", "paragraphs": [}]}', "broken-dev.json")
    with pytest.raises(ValueError, match=r"broken-dev\.json:1:"):
        squad_examples.read_squad_examples(path, is_training=False)


def test_v1_training_question_without_answers_names_the_id(tmp_path):
    path = _write(tmp_path, _file([
        {"id": "good-1", "question": "Q?", "answers": [{"text": "Some", "answer_start": 0}]},
        {"id": "no-answer-7", "question": "Q?", "answers": []}]))
    with pytest.raises(ValueError, match=r"squad\.json: question no-answer-7: .*none"):
        squad_examples.read_squad_examples(path, is_training=True)
    # For prediction a question without answers is fine.
    examples = squad_examples.read_squad_examples(path, is_training=False)
    assert [e.qas_id for e in examples] == ["good-1", "no-answer-7"]


def test_missing_field_names_the_question(tmp_path):
    path = _write(tmp_path, _file([{"id": "q-no-question", "answers": []}]))
    with pytest.raises(ValueError, match=r"question q-no-question: missing field 'question'"):
        squad_examples.read_squad_examples(path, is_training=False)
    path = _write(tmp_path, {"version": "1.1"}, "nodata.json")
    with pytest.raises(ValueError, match=r"nodata\.json: missing field 'data'"):
        squad_examples.read_squad_examples(path, is_training=False)


def test_examples_to_json_round_trips_through_the_metric(shared_data_dir):
    path = str(shared_data_dir / "squad/v2.0/dev-v2.0.3articles.json")
    examples = squad_examples.read_squad_examples(path, is_training=False)
    gold = squad_examples.examples_to_json(examples)
    again = squad_examples.examples_from_json(gold, is_training=False)
    assert again == examples
    # Perfect predictions score 100 against the rebuilt gold and the original file.
    predictions = {e.qas_id: (e.answers[0][0] if e.answers else "") for e in examples}
    for dataset in (gold, squad_metrics.read_json(path)):
        result = squad_metrics.evaluate_v2(dataset, predictions)
        assert result["exact"] == 100.0 and result["total"] == 1124


@pytest.mark.parametrize("name, split, has_impossible", [
    ("squad/v1.1", "train", False), ("squad/v2.0", "validation", True)])
def test_tfds_source_with_mock_data(name, split, has_impossible):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4):
        examples = squad_examples.read_squad_examples_from_tfds(name, split, is_training=False)
    assert len(examples) == 4
    for e in examples:
        assert all(isinstance(x, str) for x in (e.qas_id, e.question_text, e.context_text))
        assert all(isinstance(t, str) and isinstance(s, int) for t, s in e.answers)
        if e.is_impossible:
            assert e.answers == []
    if not has_impossible:
        assert not any(e.is_impossible for e in examples)
    gold = squad_examples.examples_to_json(examples)
    assert [qa["id"] for a in gold["data"] for p in a["paragraphs"] for qa in p["qas"]] == [
        e.qas_id for e in examples]


def test_tfds_rejects_other_builders():
    with pytest.raises(ValueError, match="squad/v2.0"):
        squad_examples.read_squad_examples_from_tfds("glue/cola", "train", is_training=False)


def test_a_repeated_question_id_is_refused_naming_both_places():
    dataset = {"data": [{"title": "t", "paragraphs": [
        {"context": "The cat sat.", "qas": [
            {"id": "q1", "question": "Who sat?", "answers": [{"text": "cat",
                                                              "answer_start": 4}]}]},
        {"context": "A dog ran.", "qas": [
            {"id": "q1", "question": "Who ran?", "answers": [{"text": "dog",
                                                              "answer_start": 2}]}]}]}]}
    with pytest.raises(ValueError, match=r"^dev.json: question q1 \(data\[0\].paragraphs\[1\]"
                                         r".qas\[0\]\): the id is used already by data\[0\]"
                                         r".paragraphs\[0\].qas\[0\]"):
        squad_examples.examples_from_json(dataset, is_training=False, source="dev.json")
