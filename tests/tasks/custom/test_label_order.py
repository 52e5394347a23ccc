"""Label ids when the first training row's label is not the first label.

The README's promise for `--task_name=custom`: labels are mapped to ids by
`--label_list` (its order) or else by the sorted distinct training labels, and that list
is saved as `label_list.txt` and used for the names in `predictions.tsv`. GLUE tasks
use their processor's fixed list. A mapping taken from the first rows seen (or names
taken from another order than the ids) would name predictions wrongly; these rows start
with the label that is not first in the list.
"""

import csv
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.classification.features import convert_single_example
from albert_tf.tasks.custom.reader import CustomDataParams, CustomTextProcessor
from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from albert_tf.tokenization import FullTokenizer
from custom_test_helpers import write_jsonl
from finetune_test_helpers import write_config

# Three classes told apart by their words alone. The rows cycle pos, neg, mixed, so in
# the order first seen the labels are [pos, neg, mixed]; sorted, [mixed, neg, pos].
WORDS = {"pos": ["wonderful", "lovely", "great", "superb"],
         "neg": ["awful", "terrible", "dreadful", "horrid"],
         "mixed": ["table", "window", "chair", "door"]}
ROW_LABELS = ["pos", "neg", "mixed"] * 6


def toy_rows():
    """[(text, label)]: each text its label's four words (rotated), labels as ROW_LABELS."""
    rows = []
    for i, label in enumerate(ROW_LABELS):
        words = WORDS[label]
        rows.append((" ".join(words[(i + k) % 4] for k in range(4)), label))
    return rows


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return str(path)


def write_tsv(path, rows):
    pathlib.Path(path).write_text("text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows),
                                  encoding="utf-8")
    return str(path)


def write_toy_jsonl(path, rows):
    return write_jsonl(path, [{"text": t, "label": l} for t, l in rows])


def read_predictions(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter="\t"))


@pytest.mark.parametrize("label_list, expected_order", [
    (None, ["mixed", "neg", "pos"]),              # sorted, not first seen
    ("neg,mixed,pos", ["neg", "mixed", "pos"]),   # the given order
])
@pytest.mark.parametrize("write", [write_csv, write_tsv, write_toy_jsonl],
                         ids=["csv", "tsv", "jsonl"])
def test_custom_label_ids_follow_the_promised_order(write, label_list, expected_order,
                                                    spm_model_file, tmp_path):
    rows = toy_rows()
    assert rows[0][1] != expected_order[0]
    path = write(tmp_path / f"train.{write.__name__.rsplit('_', 1)[-1]}", rows)
    processor = CustomTextProcessor(CustomDataParams(
        train_file=path, text_a_column="text", label_column="label", label_list=label_list))
    out = tmp_path / "out"
    assert processor.resolve_label_list(str(out)) == expected_order
    assert (out / "label_list.txt").read_text(encoding="utf-8").split("\n") == \
        expected_order + [""]
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    ids = [convert_single_example(e, processor.get_labels(), 16, tokenizer).label_id
           for e in processor.get_train_examples(None)]
    # By hand: sorted [mixed, neg, pos] -> pos 2, neg 1, mixed 0; given [neg, mixed, pos]
    # -> pos 2, neg 0, mixed 1.
    by_hand = {None: [2, 1, 0], "neg,mixed,pos": [2, 0, 1]}[label_list]
    assert ids == by_hand * 6


def train_label_ids(path):
    """`label_ids` of a cached train TFRecord, in file order, read with tf.train.Example."""
    return [tf.train.Example.FromString(r.numpy()).features.feature["label_ids"]
            .int64_list.value[0] for r in tf.data.TFRecordDataset(str(path))]


# The given order and the jsonl reader through a run are slow (CI skips them): their ids
# and label_list.txt are test_custom_label_ids_follow_the_promised_order's, and the
# run's use of label_list.txt is the sorted-csv run's.
@pytest.mark.parametrize("label_list, write", [
    pytest.param(None, write_csv, id="sorted-csv"),
    pytest.param("neg,mixed,pos", write_toy_jsonl, id="given-jsonl", marks=pytest.mark.slow)])
def test_custom_run_trains_on_the_ids_its_predictions_are_named_by(label_list, write,
                                                                   spm_model_file, tmp_path):
    """Through run_classifier (first row pos): the train records hold the hand-worked ids,
    and predictions.tsv names each row by label_list.txt at its most probable id, in the
    run and in a later predict-only run that has no training data."""
    rows = toy_rows()
    suffix = "csv" if write is write_csv else "jsonl"
    data = write(tmp_path / f"train.{suffix}", rows)
    out = tmp_path / "out"
    common = dict(task_name="custom", albert_config_file=write_config(tmp_path / "c.json"),
                  spm_model_file=spm_model_file, output_dir=str(out), max_seq_length=16,
                  predict_batch_size=8)
    run_classifier(ClassifierParams(
        do_train=True, do_predict=True, train_batch_size=9, learning_rate=1e-3, train_step=4,
        warmup_step=1, save_checkpoints_steps=4, iterations_per_loop=4, **common,
        custom=CustomDataParams(train_file=data, predict_file=data, text_a_column="text",
                                label_column="label", label_list=label_list)))
    order = {None: ["mixed", "neg", "pos"], "neg,mixed,pos": ["neg", "mixed", "pos"]}[
        label_list]
    assert (out / "label_list.txt").read_text(encoding="utf-8").split() == order
    ids = train_label_ids(out / "custom_train.tf_record")
    assert ids == {None: [2, 1, 0], "neg,mixed,pos": [2, 0, 1]}[label_list] * 6

    def check_predictions(count):
        table = read_predictions(out / "predictions.tsv")
        assert table[0] == ["id", "label"] + [f"p({name})" for name in order]
        probabilities = np.array([[float(p) for p in r[2:]] for r in table[1:]])
        assert len(table) == count + 1
        assert [r[1] for r in table[1:]] == [order[i] for i in probabilities.argmax(axis=1)]

    check_predictions(len(rows))
    new = tmp_path / "new.csv"
    with open(new, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["text"]] + [[text] for text, _ in rows[:6]])
    run_classifier(ClassifierParams(
        do_predict=True, **common,
        custom=CustomDataParams(predict_file=str(new), text_a_column="text")))
    check_predictions(6)
