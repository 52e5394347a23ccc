"""Your own labelled text (`--task_name=custom`): CSV, TSV, JSON Lines or a TFDS dataset.

`CustomTextProcessor` has the interface of the GLUE processors (`glue.DataProcessor`):
`get_examples(data_dir, split)` with split "train", "dev" or "test", `get_labels()`,
`is_regression`, `num_skipped`, and `InputExample`s whose texts went through
`preprocess_text` like GLUE's. Where the rows come from is set by `CustomDataParams`:

  files     train_file / eval_file / predict_file, the format from the extension:
            .csv (RFC 4180 quoting), .tsv (tab-separated, no quoting, as the GLUE
            files), .jsonl / .ndjson (one JSON object a line). UTF-8; CSV and TSV
            start with a header row naming the columns.
  tfds      tfds_name with the feature keys tfds_text_a / tfds_text_b / tfds_label
            and the splits tfds_train_split / tfds_eval_split / tfds_predict_split.

Labels are strings mapped to ids through the label list: `--label_list`, else the
sorted distinct training labels (a ClassLabel feature's names, in its order, for
TFDS). `resolve_label_list(output_dir)` writes the list to `output_dir/label_list.txt`
and reads it back when there is no training data (prediction with a fine-tuned model).
With `regression` the label is a float (metrics as STS-B).

A predict file may lack the label column. Every example's guid is the `id_column`
value, else the row's 0-based position among the data rows (header not counted;
skipped rows keep their numbers), so predictions can be joined back to the input.
"""

import collections
import csv
import dataclasses
import io
import json
import math
import os
from typing import Optional

from absl import logging
import tensorflow as tf

from albert_tf.tasks.glue.processors import (DataProcessor, InputExample, read_text_file,
                                             read_tsv)
from albert_tf.data.tfds_source import load_prepared
from albert_tf.settings import setting

TASK_NAME = "custom"
LABEL_LIST_FILE = "label_list.txt"
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SPLITS = ("train", "dev", "test")


@dataclasses.dataclass
class CustomDataParams:
    """Where the rows of `--task_name=custom` come from; names are the flags."""

    train_file: Optional[str] = setting(
        None, "Training data: a .csv, .tsv (UTF-8, header row) or .jsonl file.")
    eval_file: Optional[str] = setting(None, "Evaluation data, same format as train_file.")
    predict_file: Optional[str] = setting(
        None, "Data to predict; the label column may be absent.")
    text_a_column: Optional[str] = setting(None, "Column (JSON key) of the first text.")
    text_b_column: Optional[str] = setting(
        None, "Column of the second text, for sentence-pair tasks.")
    label_column: Optional[str] = setting(None, "Column of the label (or float target).")
    id_column: Optional[str] = setting(
        None, "Column written as the row id in the predictions; default: the row's "
              "0-based position in the file.")
    file_encoding: str = setting(
        "utf-8", "Text encoding of train_file, eval_file and predict_file (e.g. latin-1, "
                 "cp1252, utf-16); a UTF-8 or UTF-16 byte-order mark is removed.")
    label_list: Optional[str] = setting(
        None, "Comma-separated labels; position = label id. Default: the sorted distinct "
              "training labels (saved to output_dir/label_list.txt for prediction).")
    regression: bool = setting(False, "The label is a float target (squared-error loss, "
                                    "Pearson/Spearman metrics, as STS-B).")
    skip_bad_rows: bool = setting(
        False, "Count and skip rows with a missing column, empty text, unknown label or "
               "unparsable float instead of failing on the first.")
    tfds_name: Optional[str] = setting(
        None, "A tensorflow-datasets text dataset (e.g. imdb_reviews), instead of files.")
    tfds_text_a: Optional[str] = setting(None, "Feature key of the first text.")
    tfds_text_b: Optional[str] = setting(None, "Feature key of the second text.")
    tfds_label: Optional[str] = setting(None, "Feature key of the label.")
    tfds_train_split: str = setting("train", "TFDS split to train on.")
    tfds_eval_split: str = setting("validation", "TFDS split to evaluate on.")
    tfds_predict_split: Optional[str] = setting(None, "TFDS split to predict.")

    def parsed_label_list(self):
        """`label_list` as a list of strings (None when not given)."""
        if self.label_list is None:
            return None
        if isinstance(self.label_list, (list, tuple)):
            labels = [str(label).strip() for label in self.label_list]
        else:
            labels = [label.strip() for label in str(self.label_list).split(",")]
        check_label_list(labels, "--label_list")
        return labels

    def validate(self):
        """Errors a run can detect before reading any row."""
        if self.tfds_name:
            files = [n for n in ("train_file", "eval_file", "predict_file") if getattr(self, n)]
            if files:
                raise ValueError(f"--tfds_name and --{files[0]} exclude each other: read "
                                 f"either a TFDS dataset or files")
            for name in ("tfds_text_a", "tfds_label"):
                if not getattr(self, name):
                    raise ValueError(f"--{name} is required with --tfds_name")
        else:
            if not (self.train_file or self.eval_file or self.predict_file):
                raise ValueError("task custom needs --train_file, --eval_file or "
                                 "--predict_file (or --tfds_name)")
            if not self.text_a_column:
                raise ValueError("--text_a_column is required with task custom")
            if (self.train_file or self.eval_file) and not self.label_column:
                raise ValueError("--label_column is required to train or evaluate")
            for name in ("train_file", "eval_file", "predict_file"):
                path = getattr(self, name)
                if path:
                    file_format(path, f"--{name}")
        if self.regression and self.label_list:
            raise ValueError("--label_list and --regression exclude each other")
        self.parsed_label_list()


def file_format(path, what="file"):
    """"csv", "tsv" or "jsonl" from the extension of `path`."""
    extension = os.path.splitext(str(path))[1].lower()
    if extension not in FORMATS:
        raise ValueError(f"{what} {path}: expected a .csv, .tsv, .jsonl or .ndjson file, "
                         f"got {extension or 'no extension'!r}")
    return FORMATS[extension]


def check_label_list(labels, where):
    """Labels must be distinct, non-empty and on one line each (label_list.txt)."""
    if not labels:
        raise ValueError(f"{where}: the label list is empty")
    for label in labels:
        if not label or "\n" in label or "\r" in label or label != label.strip():
            raise ValueError(f"{where}: label {label!r} must be non-empty, on one line, "
                             f"without surrounding spaces")
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"{where}: labels {duplicates} appear more than once")


def write_label_list(output_dir, labels):
    """Writes `output_dir/label_list.txt` (one label a line, UTF-8) atomically."""
    check_label_list(list(labels), "label list")
    path = os.path.join(output_dir, LABEL_LIST_FILE)
    tf.io.gfile.makedirs(output_dir)
    with tf.io.gfile.GFile(path + ".tmp", "w") as f:
        f.write("".join(f"{label}\n" for label in labels))
    tf.io.gfile.rename(path + ".tmp", path, overwrite=True)
    return path


def read_label_list(output_dir):
    """The labels of `output_dir/label_list.txt`, or None if there is no such file."""
    path = os.path.join(output_dir, LABEL_LIST_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, "rb") as f:
        labels = f.read().decode("utf-8").splitlines()
    check_label_list(labels, path)
    return labels


class _BadRow(Exception):
    """One row that does not fit; the message says what was expected."""


def _allow_fields_of(text):
    """Raises the csv module's field limit (128 KiB) to the file's size: the file is
    in memory already, and a long cell (a whole document) is data, not an attack."""
    if len(text) >= csv.field_size_limit():
        csv.field_size_limit(len(text) + 1)


def _read_csv(path, encoding="utf-8"):
    """(line of the row's start, fields) for every row, header included."""
    text = read_text_file(path, encoding)
    _allow_fields_of(text)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, start = [], 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise ValueError(f"{path}:{start}: not a readable CSV row ({e})") from None
    return rows


def _table_records(path, rows):
    """Header + rows -> (columns, [(line, {column: value} or _BadRow)])."""
    rows = [(line, row) for line, row in rows if row]  # Blank lines hold no row.
    if not rows:
        raise ValueError(f"{path}: empty file, expected a header row naming the columns")
    header_line, header = rows[0]
    columns = [name.strip() for name in header]
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise ValueError(f"{path}:{header_line}: header names columns {duplicates} twice")
    records = []
    for line, row in rows[1:]:
        if len(row) != len(columns):
            records.append((line, _BadRow(
                f"expected {len(columns)} fields as in the header, got {len(row)}")))
        else:
            records.append((line, dict(zip(columns, row))))
    return columns, records


def _jsonl_records(path, encoding="utf-8"):
    """(None: keys vary, [(line, dict or _BadRow)]) of a JSON Lines file."""
    text = read_text_file(path, encoding)
    records = []
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except json.JSONDecodeError as e:
            records.append((line, _BadRow(f"expected a JSON object, got invalid JSON ({e.msg})")))
            continue
        if not isinstance(value, dict):
            records.append((line, _BadRow(f"expected a JSON object, got "
                                          f"{type(value).__name__}")))
            continue
        records.append((line, value))
    return None, records


def read_records(path, encoding="utf-8"):
    """The rows of a custom data file (`encoding`: --file_encoding).

    Returns:
      (columns or None, [(line, record)]): `columns` the header of a CSV/TSV (None
      for JSON Lines); `record` a dict of column -> value, or a `_BadRow` for a row
      that cannot be read as one (wrong field count, invalid JSON).
    """
    kind = file_format(path)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    if kind == "csv":
        return _table_records(path, _read_csv(path, encoding))
    if kind == "tsv":
        text = read_text_file(path, encoding)  # Decoded twice: only to size the limit.
        _allow_fields_of(text)
        return _table_records(path, read_tsv(path, encoding))
    return _jsonl_records(path, encoding)


def _as_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # JSON 1.0 is the label 1, not a class beside it.
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def _check_unique_ids(source, examples):
    """Refuses a file whose --id_column repeats an id: predictions are written and
    joined by id, so two rows of one id could not be told apart."""
    counts = collections.Counter(example.guid for example in examples)
    duplicates = [(guid, n) for guid, n in counts.items() if n > 1]
    if duplicates:
        shown = ", ".join(f"{guid!r} ({n} rows)" for guid, n in duplicates[:5])
        raise ValueError(f"{source}: --id_column repeats {len(duplicates)} id(s): {shown}; "
                         f"each row needs its own id")


class CustomTextProcessor(DataProcessor):
    """GLUE-processor interface over `CustomDataParams` (see the module docstring).

    `data_dir` arguments are ignored (the files are named by the params); TFDS
    data comes from `tfds_data_dir` when given.
    """

    task_name = TASK_NAME
    task_dir = None
    tfds_name = None

    def __init__(self, params, do_lower_case=True, tfds_data_dir=None):
        super().__init__(do_lower_case=do_lower_case)
        params.validate()
        self.params = params
        self.is_regression = bool(params.regression)
        self.labels = params.parsed_label_list()
        self.tfds_data_dir = tfds_data_dir
        self._examples = {}
        self.skipped = {}   # split -> rows skipped (skip_bad_rows)

    # Labels.
    def get_labels(self):
        """The label list (`[None]` for regression, as STS-B); derived from the
        training data when neither --label_list nor label_list.txt gave it."""
        if self.is_regression:
            return [None]
        if self.labels is None:
            if not self.has_split("train"):
                raise ValueError(
                    "task custom: no label list; pass --label_list, training data "
                    "(--train_file / --tfds_name), or an output_dir holding the "
                    f"{LABEL_LIST_FILE} of the run that trained the model")
            self.labels = self._training_labels()
        return list(self.labels)

    def resolve_label_list(self, output_dir):
        """Settles the label list for a run in `output_dir`, saving it there.

        --label_list, else the training labels, else `output_dir/label_list.txt`. A
        label_list.txt already there from another label list is an error (the saved
        model's label ids would change meaning). Returns the labels ([None] for
        regression, which writes nothing).
        """
        if self.is_regression:
            return [None]
        saved = read_label_list(output_dir)
        if self.labels is None and not self.has_split("train") and saved is not None:
            self.labels = saved
        labels = self.get_labels()
        if saved is not None and saved != labels:
            raise ValueError(
                f"{os.path.join(output_dir, LABEL_LIST_FILE)} holds labels {saved}, this "
                f"run has {labels}: use another output_dir, or pass --label_list="
                f"{','.join(saved)}")
        if saved is None:
            write_label_list(output_dir, labels)
        return labels

    def _training_labels(self):
        if self.params.tfds_name:
            names = self._tfds_label_names()
            if names is not None:
                return names
        examples = self._read(None, "train", check_labels=False)
        labels = sorted({example.label for example in examples})
        if not labels:
            raise ValueError("task custom: the training data has no rows")
        if len(labels) == 1:
            # A one-class model scores accuracy 1.0 on anything: nothing was learnt.
            raise ValueError(
                f"task custom: every training row has the label {labels[0]!r}: a classifier "
                f"needs at least 2 classes; pass --label_list naming all of them (or "
                f"--regression for a float target)")
        booleans = {"true", "false"} & set(labels)
        if booleans and set(labels) - {"true", "false"}:
            raise ValueError(f"task custom: the training labels {labels} mix JSON booleans "
                             f"with other values; give one kind (e.g. 0/1 or true/false)")
        return labels

    # Examples.
    def has_split(self, split):
        p = self.params
        if p.tfds_name:
            return bool({"train": p.tfds_train_split, "dev": p.tfds_eval_split,
                         "test": p.tfds_predict_split}[split])
        return bool(self.split_file(None, split))

    def split_file(self, data_dir, split):
        if split not in SPLITS:
            raise ValueError(f"split must be train, dev or test, got {split!r}")
        return {"train": self.params.train_file, "dev": self.params.eval_file,
                "test": self.params.predict_file}[split]

    def _read_split(self, data_dir, split):
        return self._read(data_dir, split, check_labels=True)

    def get_tfds_examples(self, split, data_dir=None, download=False):
        """Examples of `split` from --tfds_name (the runners' --use_tfds path)."""
        if not self.params.tfds_name:
            raise ValueError("task custom reads TFDS data only with --tfds_name")
        return self._read(data_dir, split, check_labels=True, download=download)

    def _read(self, data_dir, split, check_labels, download=False):
        if split not in SPLITS:
            raise ValueError(f"split must be train, dev or test, got {split!r}")
        key = (split, check_labels)
        if key in self._examples:
            return self._examples[key]
        if not self.has_split(split):
            what = {"train": "--train_file", "dev": "--eval_file", "test": "--predict_file"}
            if self.params.tfds_name:
                what = {"train": "--tfds_train_split", "dev": "--tfds_eval_split",
                        "test": "--tfds_predict_split"}
            raise ValueError(f"task custom has no {split} data: set {what[split]}")
        labels = None
        if check_labels and split != "test" and not self.is_regression:
            labels = self.get_labels()
        if self.params.tfds_name:
            source, rows = self._tfds_rows(split, data_dir or self.tfds_data_dir, download)
        else:
            source = self.split_file(data_dir, split)
            rows = self._file_rows(source, split)
        examples, skipped = [], 0
        for row_index, (where, record) in enumerate(rows):
            try:
                if isinstance(record, _BadRow):
                    raise record
                examples.append(self._example(record, row_index, split, labels))
            except _BadRow as bad:
                if not self.params.skip_bad_rows:
                    raise ValueError(f"{where}: {bad}") from None
                skipped += 1
        self.skipped[split] = skipped
        self.num_skipped = skipped
        if self.params.id_column and not self.params.tfds_name:
            _check_unique_ids(source, examples)
        if skipped:
            logging.warning("%s: skipped %d bad rows of %d (--skip_bad_rows)", source,
                            skipped, len(rows))
        if not examples:
            raise ValueError(f"{source}: no usable rows for the {split} set")
        self._examples[key] = examples
        return examples

    def _file_rows(self, path, split):
        columns, records = read_records(path, self.params.file_encoding)
        p = self.params
        needed = {"text_a_column": p.text_a_column, "text_b_column": p.text_b_column}
        if split == "test":
            needed["id_column"] = p.id_column  # Only predictions are written by id.
        else:
            needed["label_column"] = p.label_column
        if columns is not None:
            for flag, column in needed.items():
                if column and column not in columns:
                    raise ValueError(f"{path}:1: --{flag}={column} is not a column of the "
                                     f"header; expected one of {columns}")
        return [(f"{path}:{line}", record) for line, record in records]

    def _example(self, record, row_index, split, labels):
        """One row (dict: column -> value) -> `InputExample`; raises `_BadRow`."""
        p = self.params
        keys = ((p.text_a_column, p.text_b_column, p.label_column, p.id_column)
                if not p.tfds_name else (p.tfds_text_a, p.tfds_text_b, p.tfds_label, None))
        text_a = self._text(record, keys[0])
        text_b = self._text(record, keys[1]) if keys[1] else None
        guid = str(row_index)
        if keys[3] and (split == "test" or keys[3] in record):
            guid = self._field(record, keys[3], "a row id")
        if split == "test":
            label = 0.0 if self.is_regression else self.get_labels()[0]
        else:
            label = self._label(record, keys[2], labels)
        return InputExample(guid=guid, text_a=text_a, text_b=text_b, label=label)

    def _field(self, record, key, what):
        if key not in record or record[key] is None:
            raise _BadRow(f"missing column {key!r}, expected {what}")
        value = _as_string(record[key])
        if value is None:
            raise _BadRow(f"column {key!r}: expected {what}, got "
                          f"{type(record[key]).__name__}")
        if not value.strip():
            raise _BadRow(f"column {key!r} is empty, expected {what}")
        return value

    def _text(self, record, key):
        value = record.get(key) if isinstance(record, dict) else None
        if isinstance(value, bytes):
            record = dict(record, **{key: value.decode("utf-8", "replace")})
        if key in record and record[key] is not None and not isinstance(record[key], str):
            raise _BadRow(f"column {key!r}: expected a text, got "
                          f"{type(record[key]).__name__}")
        text = self.process_text(self._field(record, key, "a non-empty text"))
        if not text:
            raise _BadRow(f"column {key!r} is empty after preprocessing, expected a text")
        return text

    def _label(self, record, key, labels):
        value = record.get(key)
        if isinstance(value, bytes):
            record = dict(record, **{key: value.decode("utf-8", "replace")})
        if self.is_regression:
            raw = record.get(key)
            if isinstance(raw, bool):
                raise _BadRow(f"column {key!r}: expected a float target, got {raw!r}")
            if isinstance(raw, (int, float)):
                score = float(raw)
            else:
                raw = self._field(record, key, "a float target")
                try:
                    score = float(raw)
                except ValueError:
                    raise _BadRow(f"column {key!r}: expected a float target, "
                                  f"got {raw!r}") from None
            if not math.isfinite(score):
                raise _BadRow(f"column {key!r}: expected a finite float target, got {score}")
            return score
        label = self._field(record, key, "a label").strip()
        if labels is not None and label not in labels:
            raise _BadRow(f"label {label!r} is not one of the label list {labels}")
        return label

    # TFDS.
    def _tfds_info(self, data_dir=None):
        import tensorflow_datasets as tfds  # Heavy; only this source needs it.

        return tfds.builder(self.params.tfds_name, data_dir=data_dir).info

    def _tfds_label_feature(self, info):
        import tensorflow_datasets as tfds

        p = self.params
        features = info.features
        for flag in ("tfds_text_a", "tfds_text_b", "tfds_label"):
            key = getattr(p, flag)
            if key and key not in features:
                raise ValueError(f"--{flag}={key} is not a feature of {p.tfds_name}; "
                                 f"expected one of {sorted(features.keys())}")
        feature = features[p.tfds_label]
        return feature if isinstance(feature, tfds.features.ClassLabel) else None

    def _tfds_label_names(self):
        feature = self._tfds_label_feature(self._tfds_info(self.tfds_data_dir))
        return None if feature is None or self.is_regression else list(feature.names)

    def _tfds_rows(self, split, data_dir, download):
        import tensorflow_datasets as tfds

        p = self.params
        tfds_split = {"train": p.tfds_train_split, "dev": p.tfds_eval_split,
                      "test": p.tfds_predict_split}[split]
        class_label = self._tfds_label_feature(self._tfds_info(data_dir))
        names = list(class_label.names) if class_label is not None else None
        source = f"{p.tfds_name}/{tfds_split}"
        dataset = load_prepared(p.tfds_name, tfds_split, data_dir, download)
        keys = [k for k in (p.tfds_text_a, p.tfds_text_b, p.tfds_label) if k]
        rows = []
        for index, record in enumerate(tfds.as_numpy(dataset)):
            row = {key: record[key] for key in keys if key in record}
            label = row.get(p.tfds_label)
            where = f"{source} row {index}"
            if label is not None and not isinstance(label, bytes):
                label = label.item() if hasattr(label, "item") else label
                if names is not None and not self.is_regression:
                    # A ClassLabel id -> its name; -1 marks unlabelled rows in tfds
                    # (test splits, whose labels are not read).
                    if not 0 <= label < len(names) and split != "test":
                        rows.append((where, _BadRow(
                            f"label id {label} is not a class of {p.tfds_label} {names}")))
                        continue
                    label = names[label] if 0 <= label < len(names) else None
                row[p.tfds_label] = label
            rows.append((where, row))
        return source, rows
