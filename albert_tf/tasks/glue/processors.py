"""GLUE processors: the official task files (or tfds `glue/*`) -> `InputExample`s.

File layout, columns, labels and guids follow google-research/albert
`classifier_utils.py`: `data_dir/<TASK>/{train,dev,test}.tsv` as written by
`download_glue_data.py` (MNLI: `dev_matched.tsv` / `test_matched.tsv`, mismatched
for `mismnli`; AX: `data_dir/diagnostic/diagnostic.tsv`). Texts are run through
`preprocess_text(text, lower=do_lower_case)` as the official processors do.

Test-set examples carry a placeholder label (the first label, 0.0 for STS-B) and
their guid is the file's `index` column, which the GLUE submission needs.
"""

import csv
import dataclasses
import io
import math
import os
from typing import Optional, Union

from absl import logging
import tensorflow as tf

from albert_tf.data.tfds_source import load_prepared
from albert_tf.tokenization import preprocess_text


@dataclasses.dataclass
class InputExample:
    """One sentence (pair) example.

    Attributes:
      guid: unique id; for test sets the GLUE `index` used in submissions.
      text_a: first (preprocessed) text.
      text_b: second text, or None for single-sentence tasks.
      label: label string, a float for STS-B.
    """
    guid: str
    text_a: str
    text_b: Optional[str] = None
    label: Union[str, float, None] = None


@dataclasses.dataclass(frozen=True)
class _Columns:
    """Where one split's fields sit in a tsv row (`None`: not present)."""
    text_a: int
    text_b: Optional[int] = None
    label: Optional[int] = None    # -1 for the last column.
    guid: Optional[int] = None     # None: guid is f"{set_type}-{row_index}".
    header: bool = True


def read_text_file(path, encoding="utf-8"):
    """The text of `path`; a leading BOM is removed (MRPC's `\\ufeffQuality` header).

    Raises:
      ValueError naming the file, the line and the byte that `encoding` cannot
      decode, and how to give another encoding.
    """
    with tf.io.gfile.GFile(path, "rb") as f:
        data = f.read()
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ValueError(
            f"{path}:{line}: not valid {encoding} (byte 0x{data[e.start]:02x} at offset "
            f"{e.start}); give the file's encoding with --file_encoding (e.g. latin-1, "
            f"cp1252, utf-16)") from None
    except LookupError:
        raise ValueError(f"--file_encoding={encoding}: not an encoding Python knows "
                         f"(e.g. utf-8, latin-1, utf-16)") from None


def read_tsv(path, encoding="utf-8"):
    """Reads a tab-separated file without quote handling (official `quotechar=None`).

    Returns:
      A list of (line_number, fields) with 1-based line numbers (see `read_text_file`).
    """
    text = read_text_file(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quotechar=None)
    return [(reader.line_num, row) for row in reader]


class DataProcessor:
    """Base class: subclasses set the class attributes below.

    Attributes:
      task_name: official `--task_name` (e.g. "sts-b").
      task_dir: folder under `data_dir`.
      labels: official label list (order gives the label ids).
      train_file, dev_file, test_file: file names in `task_dir` (None: no split).
      train_columns, test_columns: `_Columns` of train/dev and of test rows.
      is_regression: STS-B only; labels are floats.
      skip_malformed: count and skip train/dev rows with missing columns (QQP,
        whose official processor skips them) instead of raising.
      tfds_name, tfds_splits, tfds_text_features: the `glue/*` builder, its split
        names for train/dev/test and its (text_a, text_b) feature names.
    """

    task_name = None
    task_dir = None
    labels = ("0", "1")
    train_file = "train.tsv"
    dev_file = "dev.tsv"
    test_file = "test.tsv"
    train_columns = None
    test_columns = None
    is_regression = False
    skip_malformed = False
    tfds_name = None
    tfds_splits = {"train": "train", "dev": "validation", "test": "test"}
    tfds_text_features = ("sentence1", "sentence2")

    def __init__(self, do_lower_case=True):
        self.do_lower_case = do_lower_case
        self.num_skipped = 0

    # Official API.
    def get_labels(self):
        """Label list; `[None]` for STS-B as official (so `len()` is the head width)."""
        return [None] if self.is_regression else list(self.labels)

    @property
    def num_labels(self):
        return len(self.get_labels())

    def get_train_examples(self, data_dir):
        return self._read_split(data_dir, "train")

    def get_dev_examples(self, data_dir):
        return self._read_split(data_dir, "dev")

    def get_test_examples(self, data_dir):
        return self._read_split(data_dir, "test")

    def get_examples(self, data_dir, split):
        """`split` is "train", "dev" or "test"."""
        return self._read_split(data_dir, split)

    def process_text(self, text):
        return preprocess_text(text, lower=self.do_lower_case)

    # Files.
    def split_file(self, data_dir, split):
        """Path of the tsv for `split`; ValueError if the task has no such split."""
        file_name = {"train": self.train_file, "dev": self.dev_file,
                     "test": self.test_file}.get(split, "?")
        if file_name == "?":
            raise ValueError(f"split must be train, dev or test, got {split!r}")
        if file_name is None:
            raise ValueError(f"GLUE task {self.task_name} has no {split} set")
        return os.path.join(data_dir, self.task_dir, file_name)

    def _read_split(self, data_dir, split):
        path = self.split_file(data_dir, split)
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(
                f"{path} not found: expected the download_glue_data.py layout "
                f"<data_dir>/{self.task_dir}/{os.path.basename(path)}")
        self.num_skipped = 0
        is_test = split == "test"
        columns = self.test_columns if is_test else self.train_columns
        examples = []
        for row_index, (lineno, row) in enumerate(read_tsv(path)):
            if columns.header and row_index == 0:
                continue
            example = self._create_example(path, lineno, row_index, row, split, columns)
            if example is not None:
                examples.append(example)
        if self.num_skipped:
            logging.warning("%s: skipped %d malformed rows (as the official %s "
                            "processor does)", path, self.num_skipped, self.task_name)
        return examples

    def _create_example(self, path, lineno, row_index, row, split, columns):
        is_test = split == "test"
        used = [c for c in (columns.text_a, columns.text_b, columns.guid) if c is not None]
        if not is_test and columns.label is not None:
            # A last-column label must come after the texts, or a row missing its
            # label would silently take a sentence as the label.
            used.append(max(used) + 1 if columns.label == -1 else columns.label)
        min_columns = max(used) + 1
        if len(row) < min_columns:
            if self.skip_malformed and not is_test:
                self.num_skipped += 1
                return None
            raise ValueError(
                f"{path}:{lineno}: expected at least {min_columns} tab-separated "
                f"columns for {self.task_name} {split}, got {len(row)}")
        if columns.guid is None:
            guid = f"{split}-{row_index}"
        else:
            guid = self.process_text(row[columns.guid])
        text_a = self.process_text(row[columns.text_a])
        text_b = None if columns.text_b is None else self.process_text(row[columns.text_b])
        if is_test:
            label = self._placeholder_label()
        else:
            label = self._parse_label(row[columns.label], f"{path}:{lineno}")
        return InputExample(guid=guid, text_a=text_a, text_b=text_b, label=label)

    def _placeholder_label(self):
        return 0.0 if self.is_regression else self.labels[0]

    def _parse_label(self, raw, where):
        if self.is_regression:
            try:
                score = float(raw)
            except ValueError:
                raise ValueError(f"{where}: expected a float score, got {raw!r}") from None
            if not math.isfinite(score):
                # A NaN target makes the loss NaN: training would end in a divergence
                # error naming no row.
                raise ValueError(f"{where}: expected a finite float score, got {raw!r}")
            return score
        label = self.process_text(raw)
        if label not in self.labels:
            raise ValueError(f"{where}: label {raw!r} is not one of {list(self.labels)}")
        return label

    # tensorflow-datasets source.
    def get_tfds_examples(self, split, data_dir=None, download=False):
        """Examples from the tfds `glue/*` builder.

        Args:
          split: "train", "dev" or "test" (mapped to the builder's split names).
          data_dir: tfds data dir, None for the tfds default.
          download: let tfds download and prepare the data if it is not there.
        """
        import tensorflow_datasets as tfds  # Heavy; only this source needs it.

        tfds_split = self.tfds_splits.get(split)
        if tfds_split is None:
            raise ValueError(f"GLUE task {self.task_name} has no {split} set in "
                             f"{self.tfds_name}")
        builder = tfds.builder(self.tfds_name, data_dir=data_dir)
        label_feature = builder.info.features["label"]
        names = None if self.is_regression else list(label_feature.names)
        dataset = load_prepared(self.tfds_name, tfds_split, data_dir, download)
        key_a, key_b = self.tfds_text_features
        # tfds stores the rows shuffled; `idx` is the row of the official file, whose
        # order the predictions (test_results.tsv has no index column) must keep.
        records = sorted(tfds.as_numpy(dataset), key=lambda record: int(record["idx"]))
        examples = []
        for record in records:
            idx = int(record["idx"])
            guid = str(idx) if split == "test" else f"{split}-{idx}"
            text_a = self.process_text(record[key_a].decode("utf-8"))
            text_b = None
            if key_b is not None:
                text_b = self.process_text(record[key_b].decode("utf-8"))
            label = self._tfds_label(record["label"], names, split,
                                     f"{self.tfds_name}/{tfds_split} idx {idx}")
            examples.append(InputExample(guid=guid, text_a=text_a, text_b=text_b,
                                         label=label))
        return examples

    def _tfds_label(self, value, names, split, where):
        if self.is_regression:
            value = float(value)
            return 0.0 if split == "test" else value
        value = int(value)
        if split == "test" or value < 0:
            if split != "test":
                raise ValueError(f"{where}: unlabelled example in the {split} split")
            return self._placeholder_label()
        if not 0 <= value < len(names):
            raise ValueError(f"{where}: label id {value} out of range for {names}")
        # tfds names are either the official label strings (MNLI, QNLI, RTE) or
        # words for the tsv's 0/1 (CoLA "unacceptable"/"acceptable" = "0"/"1").
        name = names[value]
        if name in self.labels:
            return name
        if str(value) in self.labels:
            return str(value)
        raise ValueError(f"{where}: cannot map tfds label {name!r} to {list(self.labels)}")


class ColaProcessor(DataProcessor):
    """CoLA: train/dev have no header; `source, label, original label, sentence`."""
    task_name = "cola"
    task_dir = "CoLA"
    train_columns = _Columns(text_a=3, label=1, header=False)
    test_columns = _Columns(text_a=1, guid=0)
    tfds_name = "glue/cola"
    tfds_text_features = ("sentence", None)


class Sst2Processor(DataProcessor):
    """SST-2: `sentence, label`; test `index, sentence`."""
    task_name = "sst-2"
    task_dir = "SST-2"
    train_columns = _Columns(text_a=0, label=1)
    test_columns = _Columns(text_a=1, guid=0)
    tfds_name = "glue/sst2"
    tfds_text_features = ("sentence", None)


class MrpcProcessor(DataProcessor):
    """MRPC: `Quality, #1 ID, #2 ID, #1 String, #2 String`; test `index, ...`."""
    task_name = "mrpc"
    task_dir = "MRPC"
    train_columns = _Columns(text_a=3, text_b=4, label=0)
    test_columns = _Columns(text_a=3, text_b=4, guid=0)
    tfds_name = "glue/mrpc"


class StsbProcessor(DataProcessor):
    """STS-B (regression): sentences in columns 7, 8; score last."""
    task_name = "sts-b"
    task_dir = "STS-B"
    labels = ()
    is_regression = True
    train_columns = _Columns(text_a=7, text_b=8, label=-1, guid=0)
    test_columns = _Columns(text_a=7, text_b=8, guid=0)
    tfds_name = "glue/stsb"


class QqpProcessor(DataProcessor):
    """QQP: `id, qid1, qid2, question1, question2, is_duplicate`; test `id, q1, q2`."""
    task_name = "qqp"
    task_dir = "QQP"
    skip_malformed = True
    train_columns = _Columns(text_a=3, text_b=4, label=5, guid=0)
    test_columns = _Columns(text_a=1, text_b=2, guid=0)
    tfds_name = "glue/qqp"
    tfds_text_features = ("question1", "question2")


class MnliProcessor(DataProcessor):
    """MNLI matched: sentences in columns 8, 9; gold label last."""
    task_name = "mnli"
    task_dir = "MNLI"
    labels = ("contradiction", "entailment", "neutral")
    dev_file = "dev_matched.tsv"
    test_file = "test_matched.tsv"
    train_columns = _Columns(text_a=8, text_b=9, label=-1, guid=0)
    test_columns = _Columns(text_a=8, text_b=9, guid=0)
    tfds_name = "glue/mnli"
    tfds_splits = {"train": "train", "dev": "validation_matched",
                   "test": "test_matched"}
    tfds_text_features = ("premise", "hypothesis")


class MisMnliProcessor(MnliProcessor):
    """MNLI mismatched dev/test (train is MNLI's)."""
    task_name = "mismnli"
    dev_file = "dev_mismatched.tsv"
    test_file = "test_mismatched.tsv"
    tfds_splits = {"train": "train", "dev": "validation_mismatched",
                   "test": "test_mismatched"}


class QnliProcessor(DataProcessor):
    """QNLI: `index, question, sentence, label`."""
    task_name = "qnli"
    task_dir = "QNLI"
    labels = ("entailment", "not_entailment")
    train_columns = _Columns(text_a=1, text_b=2, label=-1, guid=0)
    test_columns = _Columns(text_a=1, text_b=2, guid=0)
    tfds_name = "glue/qnli"
    tfds_text_features = ("question", "sentence")


class RteProcessor(DataProcessor):
    """RTE: `index, sentence1, sentence2, label`."""
    task_name = "rte"
    task_dir = "RTE"
    labels = ("entailment", "not_entailment")
    train_columns = _Columns(text_a=1, text_b=2, label=-1, guid=0)
    test_columns = _Columns(text_a=1, text_b=2, guid=0)
    tfds_name = "glue/rte"


class WnliProcessor(DataProcessor):
    """WNLI: `index, sentence1, sentence2, label` with 0/1 labels."""
    task_name = "wnli"
    task_dir = "WNLI"
    train_columns = _Columns(text_a=1, text_b=2, label=-1, guid=0)
    test_columns = _Columns(text_a=1, text_b=2, guid=0)
    tfds_name = "glue/wnli"


class AxProcessor(DataProcessor):
    """AX diagnostic (test only, MNLI labels): `diagnostic/diagnostic.tsv`."""
    task_name = "ax"
    task_dir = "diagnostic"
    labels = ("contradiction", "entailment", "neutral")
    train_file = None
    dev_file = None
    test_file = "diagnostic.tsv"
    test_columns = _Columns(text_a=1, text_b=2, guid=0)
    tfds_name = "glue/ax"
    tfds_splits = {"test": "test"}
    tfds_text_features = ("premise", "hypothesis")


PROCESSORS = {cls.task_name: cls for cls in (
    ColaProcessor, MnliProcessor, MisMnliProcessor, MrpcProcessor, RteProcessor,
    Sst2Processor, StsbProcessor, QqpProcessor, QnliProcessor, WnliProcessor,
    AxProcessor)}


def get_processor(task_name, do_lower_case=True):
    """Processor for an official task name (case-insensitive, e.g. "SST-2", "mnli")."""
    key = task_name.lower()
    if key not in PROCESSORS:
        raise ValueError(f"unknown GLUE task {task_name!r}; expected one of "
                         f"{sorted(PROCESSORS)}")
    return PROCESSORS[key](do_lower_case=do_lower_case)
