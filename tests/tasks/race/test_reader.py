"""RACE reader: real dev/train counts, both layouts, bad input, tfds source."""

import collections
import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.race import reader as race


@pytest.fixture(scope="module")
def race_dir(shared_data_dir):
    return str(shared_data_dir / "race")


def _passages(examples):
    return {e.example_id.rsplit("-", 1)[0] for e in examples}


def test_real_dev_counts(race_dir):
    # shared/data/PROVENANCE.md: the official dev set, 1389 passages / 4887 questions.
    examples = race.RaceProcessor().get_dev_examples(race_dir)
    assert len(examples) == 4887
    assert len(_passages(examples)) == 1389
    by_level = collections.Counter(e.level for e in examples)
    assert by_level == {"high": 3451, "middle": 1436}
    assert len({e.example_id for e in examples}) == 4887
    # Official order: all middle passages, then high.
    assert [e.level for e in examples] == ["middle"] * 1436 + ["high"] * 3451
    assert all(len(e.qa_texts) == 4 and 0 <= e.label <= 3 for e in examples)
    high = race.RaceProcessor(high_only=True).get_dev_examples(race_dir)
    middle = race.RaceProcessor(middle_only=True).get_dev_examples(race_dir)
    assert (len(high), len(_passages(high))) == (3451, 1021)
    assert (len(middle), len(_passages(middle))) == (1436, 368)
    with pytest.raises(ValueError, match="cannot both be set"):
        race.RaceProcessor(high_only=True, middle_only=True)


def test_real_train_and_test_counts(race_dir, shared_data_dir):
    train = race.RaceProcessor().get_train_examples(race_dir)
    assert (len(train), len(_passages(train))) == (773, 203)
    # data_dir may also be the RACE folder itself.
    test = race.RaceProcessor().get_test_examples(str(shared_data_dir / "race" / "RACE"))
    assert (len(test), len(_passages(test))) == (22, 5)


def test_real_example_cloze_and_plain_questions(race_dir):
    examples = {e.example_id: e for e in race.RaceProcessor(middle_only=True).get_dev_examples(
        race_dir)}
    # dev/middle/13.txt, question 0: "When something reflects light, we can   _  ." (answer A).
    cloze = examples["middle13.txt-0"]
    assert cloze.level == "middle" and cloze.label == 0
    assert cloze.qa_texts == [
        "when something reflects light, we can see its color .",
        "when something reflects light, we can see its heat .",
        "when something reflects light, we can not see its color .",
        "when something reflects light, we can see nothing .",
    ]
    # Question 4 has no "_": question + " " + option (answer B).
    plain = examples["middle13.txt-4"]
    assert plain.label == 1
    assert plain.qa_texts[1] == "what's the best title of this passage( )? color"
    assert plain.context.startswith("what is color? why do some of the things around us")
    assert examples["middle13.txt-3"].qa_texts[3] == \
        "in summer light-colored clothes make people feel cool."
    cased = race.RaceProcessor(do_lower_case=False, middle_only=True).get_dev_examples(race_dir)
    assert cased[0].context[0].isupper()


def _write_passage(path, passage):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passage), encoding="utf-8")


def _passage(pid, questions=("Who _ ?",), options=(("A1", "B1", "C1", "D1"),),
             answers=("B",)):
    return {"id": pid, "article": "An  article.", "questions": list(questions),
            "options": [list(o) for o in options], "answers": list(answers)}


def test_all_txt_layout_matches_file_layout(tmp_path, shared_data_dir):
    src = shared_data_dir / "race" / "RACE" / "dev"
    files = {"middle": ["13.txt", "34.txt"], "high": ["10024.txt"]}
    for level, names in files.items():
        lines = []
        for name in names:
            text = (src / level / name).read_text(encoding="utf-8")
            lines.append(json.dumps(json.loads(text)))
            _write_passage(tmp_path / "files" / "RACE" / "dev" / level / name, json.loads(text))
        (tmp_path / "lines" / "RACE" / "dev" / level).mkdir(parents=True)
        (tmp_path / "lines" / "RACE" / "dev" / level / "all.txt").write_text(
            "\n".join(lines) + "\n", encoding="utf-8")
    from_files = race.RaceProcessor().get_dev_examples(str(tmp_path / "files"))
    from_lines = race.RaceProcessor().get_dev_examples(str(tmp_path / "lines"))
    assert from_files == from_lines
    assert [e.example_id for e in from_files][:6] == [
        "middle13.txt-0", "middle13.txt-1", "middle13.txt-2", "middle13.txt-3",
        "middle13.txt-4", "middle34.txt-0"]


def test_files_are_read_in_numeric_order(tmp_path):
    for n in (10, 9, 100):
        _write_passage(tmp_path / "RACE" / "train" / "high" / f"{n}.txt", _passage(f"high{n}.txt"))
    (tmp_path / "RACE" / "train" / "middle").mkdir()
    examples = race.RaceProcessor().get_train_examples(str(tmp_path))
    assert [e.example_id for e in examples] == ["high9.txt-0", "high10.txt-0", "high100.txt-0"]
    assert examples[0].qa_texts == ["who a1 ?", "who b1 ?", "who c1 ?", "who d1 ?"]
    assert examples[0].context == "an article." and examples[0].label == 1


@pytest.mark.parametrize("passage,message", [
    (_passage("high1.txt", questions=("Q?", "R?"), options=(("a", "b", "c", "d"),
                                                             ("a", "b", "c")),
              answers=("A", "B")),
     r"high/1.txt: question 1: expected 4 options, got 3"),
    (_passage("high1.txt", answers=("E",)),
     r"high/1.txt: question 0: answer 'E' is not one of A, B, C, D"),
    (_passage("high1.txt", answers=("A", "B")),
     r"high/1.txt: 1 questions, 1 option lists and 2 answers"),
    ({"id": "high1.txt", "article": "x", "questions": [], "options": []},
     r"high/1.txt: RACE passage has no 'answers' field"),
])
def test_bad_passages_name_file_and_question(tmp_path, passage, message):
    _write_passage(tmp_path / "RACE" / "dev" / "high" / "1.txt", passage)
    with pytest.raises(ValueError, match=message):
        race.RaceProcessor(high_only=True).get_dev_examples(str(tmp_path))


def test_bad_json_and_missing_dirs(tmp_path):
    level_dir = tmp_path / "RACE" / "dev" / "middle"
    level_dir.mkdir(parents=True)
    (level_dir / "all.txt").write_text(json.dumps(_passage("middle1.txt")) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"middle/all.txt:2: not valid RACE JSON"):
        race.RaceProcessor(middle_only=True).get_dev_examples(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"dev/high not found"):
        race.RaceProcessor(high_only=True).get_dev_examples(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"no RACE train set"):
        race.RaceProcessor().get_train_examples(str(tmp_path))


def test_tfds_source_matches_file_reader(race_dir, shared_data_dir):
    tfds = pytest.importorskip("tensorflow_datasets")
    src = shared_data_dir / "race" / "RACE" / "test"
    passages = {level: [json.loads(p.read_text(encoding="utf-8"))
                        for p in sorted((src / level).glob("*.txt"),
                                        key=lambda p: int(p.stem))]
                for level in ("middle", "high")}

    def as_dataset(self, split, **kwargs):
        del kwargs
        assert split == "test"
        rows = passages[self.builder_config.name]
        # As the real builder: options are a sequence of sequences, which tfds
        # serves as a ragged tensor.
        signature = {
            "article": tf.TensorSpec([], tf.string),
            "questions": tf.TensorSpec([None], tf.string),
            "options": tf.RaggedTensorSpec([None, None], tf.string, ragged_rank=1),
            "answers": tf.TensorSpec([None], tf.string),
            "example_id": tf.TensorSpec([], tf.string),
        }
        return tf.data.Dataset.from_generator(lambda: ({
            "article": p["article"], "questions": np.array(p["questions"], dtype=object),
            "options": tf.ragged.constant(p["options"], dtype=tf.string),
            "answers": np.array(p["answers"], dtype=object), "example_id": p["id"],
        } for p in rows), output_signature=signature)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        from_tfds = race.RaceProcessor().get_tfds_examples("test")
    assert from_tfds == race.RaceProcessor().get_test_examples(race_dir)
    assert len(from_tfds) == 22
