"""Own data that used to pass silently or end in a traceback (issue 24): long cells,
other encodings, JSON label types, one class, repeated ids, an id column only in
the predict file."""

import json

import pytest

from albert_tf.tasks.custom.reader import CustomDataParams, CustomTextProcessor
from albert_tf.tokenization import preprocess_text


def _params(train, **overrides):
    return CustomDataParams(**dict(dict(train_file=str(train), text_a_column="text",
                                        label_column="label"), **overrides))


def _write_csv(path, lines, encoding="utf-8"):
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_5mb_cell_is_read(tmp_path):
    long_text = "word " * 1_000_000
    train = _write_csv(tmp_path / "t.csv", ["text,label", f'"{long_text}",pos', "short,neg"])
    examples = CustomTextProcessor(_params(train)).get_train_examples(None)
    assert len(examples) == 2 and len(examples[0].text_a) == len(long_text.strip())


def test_latin1_names_file_and_line_and_the_encoding_setting_reads_it(tmp_path):
    train = _write_csv(tmp_path / "t.csv", ["text,label", "fine,pos", "caf\u00e9 noir,neg"],
                       encoding="latin-1")
    with pytest.raises(ValueError, match=rf"^{train}:3: not valid utf-8 \(byte 0xe9 at offset "
                                         rf"\d+\); give the file's encoding with "
                                         rf"--file_encoding"):
        CustomTextProcessor(_params(train)).get_train_examples(None)
    examples = CustomTextProcessor(_params(train, file_encoding="latin-1")).get_train_examples(
        None)
    assert examples[1].text_a == preprocess_text("caf\u00e9 noir", lower=True)
    assert examples[1].text_a != preprocess_text("caf\u00c3\u00a9 noir", lower=True)


def test_utf16_with_its_encoding(tmp_path):
    train = _write_csv(tmp_path / "t.tsv", ["text\tlabel", "fine\tpos", "bad\tneg"],
                       encoding="utf-16")
    with pytest.raises(ValueError, match=rf"^{train}:1: not valid utf-8"):
        CustomTextProcessor(_params(train)).get_train_examples(None)
    processor = CustomTextProcessor(_params(train, file_encoding="utf-16"))
    assert [e.label for e in processor.get_train_examples(None)] == ["pos", "neg"]
    assert processor.get_labels() == ["neg", "pos"]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_jsonl_labels_1_and_1_0_are_one_class_and_booleans_do_not_mix(tmp_path):
    train = _write_jsonl(tmp_path / "t.jsonl", [{"text": "a", "label": 1},
                                                {"text": "b", "label": 1.0},
                                                {"text": "c", "label": 0}])
    assert CustomTextProcessor(_params(train)).get_labels() == ["0", "1"]
    mixed = _write_jsonl(tmp_path / "m.jsonl", [{"text": "a", "label": 1},
                                                {"text": "b", "label": True},
                                                {"text": "c", "label": 0}])
    with pytest.raises(ValueError, match=r"labels \['0', '1', 'true'\] mix JSON booleans"):
        CustomTextProcessor(_params(mixed)).get_labels()


def test_one_distinct_training_label_is_refused(tmp_path):
    train = _write_csv(tmp_path / "t.csv", ["text,label", "a,pos", "b,pos"])
    with pytest.raises(ValueError, match=r"every training row has the label 'pos': a "
                                         r"classifier needs at least 2 classes"):
        CustomTextProcessor(_params(train)).get_labels()
    # Named with --label_list, the second class simply has no training rows.
    processor = CustomTextProcessor(_params(train, label_list="pos,neg"))
    assert processor.get_labels() == ["pos", "neg"]


def test_repeated_ids_are_refused_naming_them(tmp_path):
    predict = _write_csv(tmp_path / "p.csv", ["key,text", "r1,a", "r2,b", "r1,c", "r3,d"])
    processor = CustomTextProcessor(CustomDataParams(
        predict_file=str(predict), text_a_column="text", id_column="key", label_list="x,y"))
    with pytest.raises(ValueError, match=rf"^{predict}: --id_column repeats 1 id\(s\): 'r1' "
                                         rf"\(2 rows\)"):
        processor.get_test_examples(None)


def test_an_id_column_only_in_the_predict_file(tmp_path):
    train = _write_csv(tmp_path / "t.csv", ["text,label", "a,pos", "b,neg"])
    predict = _write_csv(tmp_path / "p.csv", ["key,text", "r1,a", "r2,b"])
    processor = CustomTextProcessor(_params(train, predict_file=str(predict), id_column="key"))
    assert [e.guid for e in processor.get_train_examples(None)] == ["0", "1"]
    assert [e.guid for e in processor.get_test_examples(None)] == ["r1", "r2"]
    missing = _write_csv(tmp_path / "q.csv", ["text", "a"])
    processor = CustomTextProcessor(_params(train, predict_file=str(missing), id_column="key"))
    with pytest.raises(ValueError, match=rf"{missing}:1: --id_column=key is not a column"):
        processor.get_test_examples(None)
