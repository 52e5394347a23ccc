"""RACE encoding (hand-worked: cloze rule, qa keeps its LAST tokens), records, tf.data."""

import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.race import reader as race
from albert_tf.tasks.race import features as rf
from albert_tf.tasks.classification.features import PaddingInputExample


class WordTokenizer:
    """Whitespace tokenizer: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3, letters a..z = 10..35."""
    cls_id, sep_id, pad_id, vocab_size = 2, 3, 0, 36

    def __init__(self):
        self.calls = 0

    def tokenize(self, text):
        self.calls += 1
        return text.split()

    def convert_tokens_to_ids(self, tokens):
        return [10 + ord(t) - ord("a") if len(t) == 1 and t.islower() else 1 for t in tokens]


def ids(letters):
    return [10 + ord(c) - ord("a") for c in letters.split()]


def _passage():
    return {"id": "middle7.txt", "article": "A b c d e f g",
            "questions": ["P q _ s", "P q"],
            "options": [["r", "x y", "t u v w", "z"], ["r", "s", "t", "u"]],
            "answers": ["C", "A"]}


def test_hand_worked_cloze_and_qa_truncation():
    examples = race.RaceProcessor().passage_examples(_passage(), "middle", "test")
    cloze, plain = examples
    assert cloze.example_id == "middle7.txt-0" and cloze.label == 2
    assert cloze.qa_texts == ["p q r s", "p q x y s", "p q t u v w s", "p q z s"]
    assert plain.example_id == "middle7.txt-1" and plain.label == 0
    assert plain.qa_texts == ["p q r", "p q s", "p q t", "p q u"]

    features = rf.convert_race_example(cloze, max_seq_length=10, tokenizer=WordTokenizer(),
                                       max_qa_length=3)
    # qa keeps its LAST 3 tokens; context gets 10 - 3 - 3 = 4 tokens.
    cls, sep = [2], [3]
    assert features.input_ids == [
        cls + ids("a b c d") + sep + ids("q r s") + sep,
        cls + ids("a b c d") + sep + ids("x y s") + sep,
        cls + ids("a b c d") + sep + ids("v w s") + sep,
        cls + ids("a b c d") + sep + ids("q z s") + sep,
    ]
    assert features.segment_ids == [[0] * 6 + [1] * 4] * 4
    assert features.input_mask == [[1] * 10] * 4
    assert features.label_id == 2 and features.is_real_example

    short = rf.convert_race_example(plain, max_seq_length=16, tokenizer=WordTokenizer(),
                                    max_qa_length=3)
    # Everything fits: 1 + 7 + 1 + 3 + 1 = 13 tokens, then 3 zeros of padding.
    assert short.input_ids[3] == cls + ids("a b c d e f g") + sep + ids("p q u") + sep + [0] * 3
    assert short.input_mask[3] == [1] * 13 + [0] * 3
    assert short.segment_ids[3] == [0] * 9 + [1] * 4 + [0] * 3


def test_context_shrinks_per_choice_for_short_qa():
    example = race.RaceExample("high1.txt-0", "high", "a b c d e f g",
                               ["x", "x y", "x y z", "u v w x y z"], 3)
    features = rf.convert_race_example(example, 10, WordTokenizer(), max_qa_length=4)
    # Context budget is 10 - 3 - len(qa): 6, 5, 4, then 3 (qa cut to its last 4).
    assert [row[:row.index(3)] for row in features.input_ids] == [
        [2] + ids("a b c d e f"), [2] + ids("a b c d e"), [2] + ids("a b c d"),
        [2] + ids("a b c")]
    assert features.input_ids[3][-5:] == ids("w x y z") + [3]


def test_empty_question_and_option_still_pack_the_second_segment():
    """Official race_utils always writes `[CLS] ctx [SEP] qa [SEP]`, qa empty or not
    (unlike classifier_utils' `if tokens_b:`)."""
    example = race.RaceExample("high2.txt-0", "high", "a b c", ["", "x", "", "y"], 0)
    features = rf.convert_race_example(example, 8, WordTokenizer(), max_qa_length=4)
    assert features.input_ids[0] == [2] + ids("a b c") + [3, 3, 0, 0]
    assert features.segment_ids[0] == [0] * 5 + [1] + [0, 0]
    assert features.input_mask[0] == [1] * 6 + [0, 0]
    assert features.input_ids[1] == [2] + ids("a b c") + [3] + ids("x") + [3, 0]


def test_padding_and_length_checks():
    padding = rf.convert_race_example(PaddingInputExample(), 5, WordTokenizer(), 2)
    assert padding.input_ids == [[0] * 5] * 4 and padding.label_id == 0
    assert not padding.is_real_example
    example = race.RaceExample("high1.txt-0", "high", "a", ["b"] * 4, 0)
    with pytest.raises(ValueError, match=r"max_qa_length \(0\) must be in \[1, "):
        rf.convert_race_example(example, 10, WordTokenizer(), max_qa_length=0)
    with pytest.raises(ValueError, match=r"max_qa_length \(8\) must be in \[1, "
                                         r"max_seq_length - 3 = 7\]"):
        rf.convert_race_example(example, 10, WordTokenizer(), max_qa_length=8)


def test_passage_context_is_tokenized_once():
    examples = race.RaceProcessor().passage_examples(_passage(), "middle")
    tokenizer = WordTokenizer()
    batched = rf.convert_race_examples(examples, 12, tokenizer, 3)
    # 1 context + 2 questions x 4 options.
    assert tokenizer.calls == 9
    assert batched == [rf.convert_race_example(e, 12, WordTokenizer(), 3) for e in examples]


def test_real_example_with_sentencepiece(shared_data_dir, spm_model_file):
    from albert_tf.tokenization import FullTokenizer
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    path = shared_data_dir / "race" / "RACE" / "dev" / "middle" / "13.txt"
    passage = json.loads(path.read_text(encoding="utf-8"))
    example = race.RaceProcessor().passage_examples(passage, "middle", str(path))[0]
    features = rf.convert_race_example(example, 64, tokenizer, max_qa_length=8)
    context_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(example.context))
    assert len(context_ids) > 64
    for row, qa_text in zip(features.input_ids, example.qa_texts):
        qa_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(qa_text))[-8:]
        assert row == [2] + context_ids[:64 - 3 - 8] + [3] + qa_ids + [3]
    # "see its color ." is the end of choice A: its last 8 pieces end with it.
    tail = tokenizer.convert_ids_to_tokens(features.input_ids[0][-4:-1])
    assert "".join(tail).replace("\u2581", " ").strip() == "color ."


def test_records_and_dataset_roundtrip(tmp_path):
    examples = race.RaceProcessor().passage_examples(_passage(), "middle")
    examples = examples + [PaddingInputExample()]
    path = str(tmp_path / "race_eval.tf_record")
    meta = rf.ensure_race_tfrecord(examples, 10, WordTokenizer(), path, max_qa_length=3)
    assert (meta["num_records"], meta["num_real_examples"]) == (3, 2)
    assert meta["max_qa_length"] == 3 and meta["num_choices"] == 4
    raw = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(path))).numpy())
    flat = list(raw.features.feature["input_ids"].int64_list.value)
    assert len(flat) == 40 and flat[:10] == [2] + ids("a b c d") + [3] + ids("q r s") + [3]
    batches = list(rf.race_dataset(path, 10, batch_size=2, is_training=False))
    assert batches[0]["input_ids"].shape == (2, 4, 10)
    assert batches[1]["input_ids"].shape == (1, 4, 10)
    expected = rf.convert_race_examples(examples, 10, WordTokenizer(), 3)
    np.testing.assert_array_equal(np.concatenate([b["input_ids"] for b in batches]),
                                  [f.input_ids for f in expected])
    np.testing.assert_array_equal(np.concatenate([b["segment_ids"] for b in batches]),
                                  [f.segment_ids for f in expected])
    np.testing.assert_array_equal(np.concatenate([b["label_ids"] for b in batches]), [2, 0, 0])
    np.testing.assert_array_equal(np.concatenate([b["is_real_example"] for b in batches]),
                                  [1, 1, 0])
    from albert_tf.tasks.classification.features import features_dataset
    in_memory = next(iter(features_dataset(expected).batch(3)))
    for name in ("input_ids", "input_mask", "segment_ids", "label_ids", "is_real_example"):
        np.testing.assert_array_equal(
            in_memory[name], np.concatenate([b[name] for b in batches]))
    train = rf.race_dataset(path, 10, batch_size=2, is_training=True, seed=1)
    assert all(b["input_mask"].shape == (2, 4, 10) for b in train.take(4))


def test_real_train_sample_invariants(shared_data_dir, spm_model_file):
    from albert_tf.tokenization import FullTokenizer
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    examples = race.RaceProcessor().get_train_examples(str(shared_data_dir / "race"))[:40]
    features = rf.convert_race_examples(examples, 512, tokenizer, max_qa_length=128)
    input_ids = np.array([f.input_ids for f in features])
    mask = np.array([f.input_mask for f in features])
    segments = np.array([f.segment_ids for f in features])
    assert input_ids.shape == (40, 4, 512)
    assert np.all(input_ids[:, :, 0] == tokenizer.cls_id)
    assert np.all((input_ids == tokenizer.sep_id).sum(axis=-1) == 2)
    # Segment 1 is qa + its [SEP]: at most 128 + 1 tokens.
    assert segments.sum(axis=-1).max() <= 129
    assert np.all(input_ids[mask == 0] == 0) and np.all(segments[mask == 0] == 0)
    np.testing.assert_array_equal([f.label_id for f in features], [e.label for e in examples])
