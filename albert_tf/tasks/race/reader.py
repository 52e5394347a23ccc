"""RACE reader: passages -> one `RaceExample` per question.

Reads `<data_dir>/RACE/{train,dev,test}/{middle,high}/` in either layout:
the official download (one JSON passage per `*.txt` file) or the official
script's `all.txt` (one JSON passage per line; google-research/albert HEAD reads
only this). A passage has `article`, `questions`, `options` (4 per question),
`answers` (letters A-D) and `id` (e.g. "middle1234.txt").

As in the official `RaceProcessor`, texts go through
`preprocess_text(text, lower=do_lower_case)`, and a question containing "_" is a
cloze whose every "_" is replaced by the option; other questions become
`question + " " + option`.
"""

import dataclasses
import json
import os
import re
from typing import List

import tensorflow as tf

from albert_tf.data.tfds_source import load_prepared
from albert_tf.tokenization import preprocess_text

LABELS = ("A", "B", "C", "D")
LEVELS = ("middle", "high")
NUM_CHOICES = 4
ALL_TXT = "all.txt"


@dataclasses.dataclass
class RaceExample:
    """One question with its 4 options.

    Attributes:
      example_id: "<passage id>-<question index>", e.g. "middle1234.txt-0".
      level: "middle" or "high".
      context: the preprocessed article.
      qa_texts: 4 question+option texts (cloze filled in).
      label: answer index 0-3.
    """
    example_id: str
    level: str
    context: str
    qa_texts: List[str]
    label: int


def _natural_key(name):
    """"9.txt" < "10.txt".

    The official reader takes `os.listdir` order; sorting makes runs repeatable.
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def race_split_dir(data_dir, split):
    """`<data_dir>/RACE/<split>`, or `<data_dir>/<split>` when data_dir is the RACE folder."""
    for candidate in (os.path.join(data_dir, "RACE", split), os.path.join(data_dir, split)):
        if tf.io.gfile.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        f"no RACE {split} set under {data_dir}: expected {data_dir}/RACE/{split}/"
        f"{{middle,high}}/ (the official download layout)")


class RaceProcessor:
    """Reads RACE examples as the official `RaceProcessor`.

    Args:
      do_lower_case: lower-case in `preprocess_text` (official `--do_lower_case`).
      high_only, middle_only: keep one level only.
    """

    def __init__(self, do_lower_case=True, high_only=False, middle_only=False):
        if high_only and middle_only:
            raise ValueError("high_only and middle_only cannot both be set")
        self.do_lower_case = do_lower_case
        self.high_only = high_only
        self.middle_only = middle_only

    def get_labels(self):
        return list(LABELS)

    @property
    def levels(self):
        return [level for level in LEVELS
                if not (level == "middle" and self.high_only)
                and not (level == "high" and self.middle_only)]

    def get_train_examples(self, data_dir):
        return self.get_examples(data_dir, "train")

    def get_dev_examples(self, data_dir):
        return self.get_examples(data_dir, "dev")

    def get_test_examples(self, data_dir):
        return self.get_examples(data_dir, "test")

    def get_examples(self, data_dir, split):
        """Examples of `split` ("train", "dev", "test"), middle before high as official."""
        split_dir = race_split_dir(data_dir, split)
        examples = []
        for level in self.levels:
            level_dir = os.path.join(split_dir, level)
            if not tf.io.gfile.isdir(level_dir):
                raise FileNotFoundError(f"{level_dir} not found (RACE {split}/{level})")
            for where, passage in self._read_level(level_dir):
                examples.extend(self.passage_examples(passage, level, where))
        return examples

    def _read_level(self, level_dir):
        """Yields (where, passage dict) from all.txt if present, else every *.txt."""
        all_txt = os.path.join(level_dir, ALL_TXT)
        if tf.io.gfile.exists(all_txt):
            with tf.io.gfile.GFile(all_txt, "r") as f:
                for lineno, line in enumerate(f, start=1):
                    if line.strip():
                        where = f"{all_txt}:{lineno}"
                        yield where, _parse_json(line, where)
            return
        names = sorted((n for n in tf.io.gfile.listdir(level_dir) if n.endswith(".txt")),
                       key=_natural_key)
        for name in names:
            path = os.path.join(level_dir, name)
            with tf.io.gfile.GFile(path, "r") as f:
                yield path, _parse_json(f.read(), path)

    def process_text(self, text):
        return preprocess_text(text, lower=self.do_lower_case)

    def passage_examples(self, passage, level, where=""):
        """One passage dict -> its `RaceExample`s; errors name `where` and the question."""
        for key in ("article", "questions", "options", "answers", "id"):
            if key not in passage:
                raise ValueError(f"{where}: RACE passage has no {key!r} field")
        questions, options, answers = (passage["questions"], passage["options"],
                                       passage["answers"])
        if not len(questions) == len(options) == len(answers):
            raise ValueError(
                f"{where}: {len(questions)} questions, {len(options)} option lists and "
                f"{len(answers)} answers; expected equal counts")
        context = self.process_text(passage["article"])
        examples = []
        for i, (question, choices, answer) in enumerate(zip(questions, options, answers)):
            if len(choices) != NUM_CHOICES:
                raise ValueError(f"{where}: question {i}: expected {NUM_CHOICES} options, "
                                 f"got {len(choices)}")
            if answer not in LABELS:
                raise ValueError(f"{where}: question {i}: answer {answer!r} is not one "
                                 f"of A, B, C, D")
            question = self.process_text(question)
            qa_texts = []
            for option in choices:
                option = self.process_text(option)
                if "_" in question:
                    qa_texts.append(question.replace("_", option))
                else:
                    qa_texts.append(question + " " + option)
            examples.append(RaceExample(
                example_id=f"{passage['id']}-{i}", level=level, context=context,
                qa_texts=qa_texts, label=LABELS.index(answer)))
        return examples

    def get_tfds_examples(self, split, data_dir=None, download=False):
        """Examples from the tfds `race/middle` and `race/high` builders.

        Args:
          split: "train", "dev" or "test" (the builders' own split names).
          data_dir: tfds data dir, None for the tfds default.
          download: let tfds download and prepare the data if it is not there.
        """
        import tensorflow_datasets as tfds  # Heavy; only this source needs it.

        examples = []
        for level in self.levels:
            dataset = load_prepared(f"race/{level}", split, data_dir, download)
            for record in tfds.as_numpy(dataset):
                # The builder's options are a sequence of sequences: tfds gives them
                # as a tf.RaggedTensor, whose items are tensors, not bytes.
                options = record["options"]
                if hasattr(options, "to_list"):
                    options = options.to_list()
                passage = {
                    "id": _text(record["example_id"]),
                    "article": _text(record["article"]),
                    "questions": [_text(q) for q in record["questions"]],
                    "options": [[_text(o) for o in opts] for opts in options],
                    "answers": [_text(a) for a in record["answers"]],
                }
                examples.extend(self.passage_examples(
                    passage, level, f"race/{level}/{split} {passage['id']}"))
        return examples


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string from tfds, got {type(value).__name__}: {value!r}")


def _parse_json(text, where):
    try:
        passage = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid RACE JSON ({e})") from None
    if not isinstance(passage, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(passage).__name__}")
    return passage

