"""Own-data processor on real text: CSV/TSV/JSONL files and a TFDS dataset."""

import csv

import numpy as np
import pytest

from albert_tf.tasks.custom import predictions as custom_predictions
from albert_tf.tasks.glue import processors as glue
from albert_tf.tasks.custom.reader import (CustomDataParams, CustomTextProcessor, read_label_list,
                                        write_label_list)
from albert_tf.tasks.custom.metrics import custom_metrics
from albert_tf.tokenization import preprocess_text

from custom_test_helpers import (SENTIMENT, sst2_rows, stsb_rows, write_jsonl,
                                        write_reviews_csv)


def _csv_params(train, **overrides):
    return CustomDataParams(**dict(dict(train_file=train, text_a_column="review",
                                        label_column="sentiment"), **overrides))


def test_csv_of_sst2_rows(shared_data_dir, tmp_path):
    rows = sst2_rows(shared_data_dir, count=300)
    train = write_reviews_csv(tmp_path / "reviews.csv", rows)
    dev_rows = sst2_rows(shared_data_dir, "dev", count=50)
    dev = write_reviews_csv(tmp_path / "dev.csv", dev_rows)
    processor = CustomTextProcessor(_csv_params(train, eval_file=dev))
    labels = processor.resolve_label_list(str(tmp_path / "out"))
    assert labels == ["negative", "positive"]
    assert (tmp_path / "out" / "label_list.txt").read_text() == "negative\npositive\n"
    examples = processor.get_train_examples(None)
    assert len(examples) == 300
    for index, (example, (sentence, label)) in enumerate(zip(examples, rows)):
        assert example.guid == str(index)
        assert example.text_a == preprocess_text(sentence, lower=True)
        assert example.text_b is None
        assert example.label == SENTIMENT[label]
    # Same texts as the official SST-2 processor reads from the tsv.
    official = glue.Sst2Processor().get_train_examples(str(shared_data_dir / "glue_data"))
    assert [e.text_a for e in examples] == [e.text_a for e in official[:300]]
    dev_examples = processor.get_dev_examples(None)
    assert [e.label for e in dev_examples] == [SENTIMENT[l] for _, l in dev_rows]
    assert not processor.is_regression and processor.num_labels == 2


def test_label_list_flag_and_file_reused_for_prediction(shared_data_dir, tmp_path):
    rows = sst2_rows(shared_data_dir, count=40)
    train = write_reviews_csv(tmp_path / "reviews.csv", rows)
    out = str(tmp_path / "out")
    processor = CustomTextProcessor(_csv_params(train, label_list="positive, negative"))
    assert processor.resolve_label_list(out) == ["positive", "negative"]
    # Prediction alone: a file without the label column, labels from label_list.txt.
    predict = tmp_path / "predict.csv"
    with open(predict, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["key", "review"])
        for i, (sentence, _) in enumerate(sst2_rows(shared_data_dir, "test", 5)):
            writer.writerow([f"r{i}", sentence])
    predictor = CustomTextProcessor(CustomDataParams(predict_file=str(predict),
                                                     text_a_column="review", id_column="key"))
    assert predictor.resolve_label_list(out) == ["positive", "negative"]
    tests = predictor.get_test_examples(None)
    assert [e.guid for e in tests] == [f"r{i}" for i in range(5)]
    assert all(e.label == "positive" for e in tests)  # The placeholder, as GLUE test sets.
    # Another label list in the same output_dir is refused.
    other = CustomTextProcessor(_csv_params(train))
    with pytest.raises(ValueError, match="label_list.txt holds labels"):
        other.resolve_label_list(out)
    with pytest.raises(ValueError, match="no label list"):
        CustomTextProcessor(CustomDataParams(predict_file=str(predict),
                                             text_a_column="review")).get_labels()


def test_jsonl_pairs_regression_from_stsb(shared_data_dir, tmp_path):
    rows = stsb_rows(shared_data_dir, 60)
    path = write_jsonl(tmp_path / "sts.jsonl", [
        {"first": a, "second": b, "similarity": float(s), "n": i}
        for i, (a, b, s) in enumerate(rows)])
    params = CustomDataParams(train_file=path, text_a_column="first", text_b_column="second",
                              label_column="similarity", regression=True)
    processor = CustomTextProcessor(params)
    assert processor.resolve_label_list(str(tmp_path / "out")) == [None]
    assert not (tmp_path / "out" / "label_list.txt").exists()
    examples = processor.get_train_examples(None)
    official = glue.StsbProcessor().get_train_examples(str(shared_data_dir / "glue_data"))[:60]
    assert [(e.text_a, e.text_b, e.label) for e in examples] == [
        (o.text_a, o.text_b, o.label) for o in official]


def test_tsv_and_jsonl_classification(shared_data_dir, tmp_path):
    rows = sst2_rows(shared_data_dir, count=30)
    tsv = tmp_path / "train.tsv"
    tsv.write_text("id\ttext\tlabel\n" + "".join(
        f"s{i}\t{s}\t{l}\n" for i, (s, l) in enumerate(rows)), encoding="utf-8")
    jsonl = write_jsonl(tmp_path / "train.jsonl",
                        [{"id": f"s{i}", "text": s, "label": int(l)}
                         for i, (s, l) in enumerate(rows)])
    read = []
    for path in (str(tsv), jsonl):
        processor = CustomTextProcessor(CustomDataParams(
            train_file=path, text_a_column="text", label_column="label", id_column="id"))
        assert processor.get_labels() == ["0", "1"]
        read.append([(e.guid, e.text_a, e.label) for e in processor.get_train_examples(None)])
    expected = [(f"s{i}", preprocess_text(s, lower=True), l) for i, (s, l) in enumerate(rows)]
    assert read[0] == expected and read[1] == expected


@pytest.mark.parametrize("line, expected", [
    ("only one field", r"bad\.csv:3: expected 2 fields as in the header, got 1"),
    ('"   ",positive', r"bad\.csv:3: column 'review' is empty, expected a non-empty text"),
    ("fine text,neutral", r"bad\.csv:3: label 'neutral' is not one of the label list"),
    ("fine text,", r"bad\.csv:3: column 'sentiment' is empty, expected a label"),
])
def test_bad_csv_rows_name_file_and_line(tmp_path, line, expected):
    path = tmp_path / "bad.csv"
    path.write_text(f"review,sentiment\ngood film,positive\n{line}\nbad film,negative\n")
    params = _csv_params(str(path), label_list="negative,positive")
    with pytest.raises(ValueError, match=expected):
        CustomTextProcessor(params).get_train_examples(None)
    params.skip_bad_rows = True
    processor = CustomTextProcessor(params)
    examples = processor.get_train_examples(None)
    assert [e.guid for e in examples] == ["0", "2"]   # Row ids keep the file's numbering.
    assert processor.num_skipped == 1 and processor.skipped == {"train": 1}


def test_bad_jsonl_rows_and_header(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"t": "a fine film", "y": 0.5}\n\n{"t": "no score"}\n'
                    '{"t": "text", "y": "high"}\n[1, 2]\n{"t": 3, "y": 1}\n')
    params = CustomDataParams(train_file=str(path), text_a_column="t", label_column="y",
                              regression=True)
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: missing column 'y', expected a "
                                         r"float target"):
        CustomTextProcessor(params).get_train_examples(None)
    params.skip_bad_rows = True
    processor = CustomTextProcessor(params)
    assert [e.label for e in processor.get_train_examples(None)] == [0.5]
    assert processor.num_skipped == 4
    for row, message in ((4, r"expected a float target, got 'high'"),
                         (5, r"expected a JSON object, got list"),
                         (6, r"column 't': expected a text, got int")):
        lines = path.read_text().splitlines()
        single = tmp_path / f"row{row}.jsonl"
        single.write_text("\n".join(lines[:1] + [""] * (row - 2) + [lines[row - 1]]) + "\n")
        with pytest.raises(ValueError, match=rf"row{row}\.jsonl:{row}: .*{message}"):
            CustomTextProcessor(CustomDataParams(
                train_file=str(single), text_a_column="t", label_column="y",
                regression=True)).get_train_examples(None)
    csv_path = tmp_path / "cols.csv"
    csv_path.write_text("text,label\nx,1\n")
    with pytest.raises(ValueError, match=r"cols\.csv:1: --text_a_column=review is not a "
                                         r"column of the header; expected one of"):
        CustomTextProcessor(_csv_params(str(csv_path))).get_train_examples(None)
    with pytest.raises(ValueError, match=r"expected a \.csv, \.tsv, \.jsonl"):
        CustomTextProcessor(_csv_params(str(tmp_path / "data.json")))


def test_tfds_dataset_by_name_and_feature_keys(shared_data_dir, tmp_path):
    """imdb_reviews' features (text, ClassLabel neg/pos) served with real SST-2 rows."""
    tfds = pytest.importorskip("tensorflow_datasets")
    import tensorflow as tf

    rows = {"train": sst2_rows(shared_data_dir, count=20),
            "test": sst2_rows(shared_data_dir, "dev", count=10)}

    def as_dataset(self, split, **kwargs):
        del self, kwargs
        texts, labels = zip(*rows[str(split)])
        return tf.data.Dataset.from_tensor_slices(
            {"text": list(texts), "label": np.array([int(l) for l in labels], np.int64)})

    params = CustomDataParams(tfds_name="imdb_reviews", tfds_text_a="text",
                              tfds_label="label", tfds_eval_split="test")
    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        processor = CustomTextProcessor(params)
        assert processor.resolve_label_list(str(tmp_path)) == ["neg", "pos"]
        train = processor.get_examples(None, "train")
        dev = processor.get_tfds_examples("dev")
        with pytest.raises(ValueError, match="--tfds_label=stars is not a feature of "
                                             "imdb_reviews"):
            CustomTextProcessor(CustomDataParams(
                tfds_name="imdb_reviews", tfds_text_a="text",
                tfds_label="stars")).get_labels()

    def unlabelled(self, split, **kwargs):
        del self, split, kwargs
        return tf.data.Dataset.from_tensor_slices(
            {"text": ["a film"], "label": np.array([-1], np.int64)})

    with tfds.testing.mock_data(as_dataset_fn=unlabelled):
        with pytest.raises(ValueError, match=r"imdb_reviews/train row 0: label id -1 is not "
                                             r"a class of label \['neg', 'pos'\]"):
            CustomTextProcessor(params).get_examples(None, "train")
    names = {"0": "neg", "1": "pos"}
    assert [(e.guid, e.text_a, e.label) for e in train] == [
        (str(i), preprocess_text(s, lower=True), names[l])
        for i, (s, l) in enumerate(rows["train"])]
    assert [e.label for e in dev] == [names[l] for _, l in rows["test"]]


def test_metrics_and_predictions_file(tmp_path):
    # 2 labels: predictions 1,1,0,0,1 vs labels 1,0,0,1,1 -> tp 2, tn 1, fp 1, fn 1.
    logits = np.array([[0., 2.], [1., 3.], [2., -1.], [0.5, 0.], [-1., 1.]])
    labels = [1, 0, 0, 1, 1]
    metrics = custom_metrics(logits, labels, num_labels=2)
    assert metrics["accuracy"] == pytest.approx(3 / 5)
    assert metrics["f1"] == pytest.approx(4 / 6)
    assert metrics["matthews_corrcoef"] == pytest.approx((2 * 1 - 1 * 1) / np.sqrt(3 * 3 * 2 * 2))
    assert set(custom_metrics(np.eye(3), [0, 1, 1], num_labels=3)) == {"accuracy",
                                                                         "num_examples"}
    regression = custom_metrics(np.array([[1.], [2.], [4.]]), [1., 3., 2.], 1, True)
    assert regression["spearman"] == pytest.approx(0.5)
    assert regression["pearson"] == pytest.approx(np.corrcoef([1, 2, 4], [1, 3, 2])[0, 1])

    path = custom_predictions.write_custom_predictions(
        str(tmp_path / "p" / "predictions.tsv"), ["a", "b", "c", "d", "e"], logits,
        ["neg", "pos"])
    lines = [line.split("\t") for line in open(path, encoding="utf-8").read().splitlines()]
    assert lines[0] == ["id", "label", "p(neg)", "p(pos)"]
    assert [l[:2] for l in lines[1:]] == [["a", "pos"], ["b", "pos"], ["c", "neg"],
                                          ["d", "neg"], ["e", "pos"]]
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose([[float(v) for v in l[2:]] for l in lines[1:]], expected,
                               rtol=1e-6)
    path = custom_predictions.write_custom_predictions(
        str(tmp_path / "r.tsv"), ["x", "y"], np.array([[0.25], [3.5]]), None, True)
    assert open(path).read() == "id\tvalue\nx\t0.25\ny\t3.5\n"


def test_label_list_file_round_trip(tmp_path):
    write_label_list(str(tmp_path), ["très bien", "bad", "42"])
    assert read_label_list(str(tmp_path)) == ["très bien", "bad", "42"]
    assert read_label_list(str(tmp_path / "none")) is None
    with pytest.raises(ValueError, match="appear more than once"):
        CustomDataParams(train_file="a.csv", text_a_column="t", label_column="l",
                         label_list="a,b,a").validate()


def test_tfds_regression_pairs(shared_data_dir):
    """glue/stsb's features (float label) named by the tfds_* keys, real STS-B rows."""
    tfds = pytest.importorskip("tensorflow_datasets")
    import tensorflow as tf

    rows = stsb_rows(shared_data_dir, 12)

    def as_dataset(self, split, **kwargs):
        del self, split, kwargs
        a, b, s = zip(*rows)
        return tf.data.Dataset.from_tensor_slices({
            "sentence1": list(a), "sentence2": list(b),
            "label": np.array([float(v) for v in s], np.float32),
            "idx": np.arange(len(rows), dtype=np.int32)})

    params = CustomDataParams(tfds_name="glue/stsb", tfds_text_a="sentence1",
                              tfds_text_b="sentence2", tfds_label="label", regression=True)
    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        processor = CustomTextProcessor(params)
        examples = processor.get_examples(None, "train")
    assert processor.get_labels() == [None]
    assert [(e.text_a, e.text_b) for e in examples] == [
        (preprocess_text(a, lower=True), preprocess_text(b, lower=True)) for a, b, _ in rows]
    np.testing.assert_allclose([e.label for e in examples],
                               [float(np.float32(s)) for _, _, s in rows])


def test_examples_fit_the_glue_feature_pipeline(shared_data_dir, spm_model_file, tmp_path):
    """What run_classifier does with a processor's examples: cached records, labels by id."""
    import tensorflow as tf
    from albert_tf.tasks.classification import features as classifier_features
    from albert_tf.tokenization import FullTokenizer

    rows = sst2_rows(shared_data_dir, count=10)
    train = write_reviews_csv(tmp_path / "reviews.csv", rows)
    processor = CustomTextProcessor(_csv_params(train))
    labels = processor.resolve_label_list(str(tmp_path))
    examples = classifier_features.pad_to_batch_multiple(
        processor.get_examples(None, "train"), 4)
    path = classifier_features.cached_tfrecord_path(str(tmp_path), processor.task_name,
                                                    "train")
    assert path.endswith("custom_train.tf_record")
    tokenizer = FullTokenizer(spm_model_file)
    classifier_features.ensure_classifier_tfrecord(examples, labels, 32, tokenizer, path)
    records = [classifier_features.decode_record(r, 32)
               for r in tf.data.TFRecordDataset(path)]
    assert len(records) == 12
    assert [int(r["label_ids"]) for r in records[:10]] == [int(l) for _, l in rows]
    assert [int(r["is_real_example"]) for r in records] == [1] * 10 + [0] * 2
    first = tokenizer.encode(rows[0][0])
    assert list(records[0]["input_ids"].numpy()[:len(first) + 2]) == (
        [tokenizer.cls_id] + list(first) + [tokenizer.sep_id])
