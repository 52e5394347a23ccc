"""SQuAD v1.1 / v2.0 questions as `SquadExample`s, from JSON files or TFDS.

A JSON file is `{"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
"question", "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}`;
v2.0 adds `is_impossible` (and `plausible_answers`, unused). Structural
problems (not JSON, missing fields, an answerable training question without
answers) raise `ValueError` naming the file and question id. Problems of single
answers (an `answer_start` that does not point at the answer text, an empty
context) are left to `squad_features`, which skips and counts them.
"""

import dataclasses
from typing import List, Optional, Tuple

from albert_tf.data.tfds_source import load_prepared
from albert_tf.tasks.squad import metrics as squad_metrics


@dataclasses.dataclass
class SquadExample:
    """One question about one context.

    Attributes:
      qas_id: the question id.
      question_text: the question.
      context_text: the paragraph, exactly as in the source (the official
        `paragraph_text`; predictions are slices of it).
      answers: all gold answers as (text, answer_start) pairs; answer_start is
        in characters of `context_text`. Empty for unanswerable questions.
      is_impossible: v2.0 unanswerable question.
      title: the article title.
    """
    qas_id: str
    question_text: str
    context_text: str
    answers: List[Tuple[str, int]] = dataclasses.field(default_factory=list)
    is_impossible: bool = False
    title: str = ""

    @property
    def orig_answer_text(self) -> Optional[str]:
        """The training answer (the first gold answer), None if impossible/none."""
        if self.is_impossible or not self.answers:
            return None
        return self.answers[0][0]

    @property
    def start_char(self) -> Optional[int]:
        """Character offset of the training answer, None if impossible/none."""
        if self.is_impossible or not self.answers:
            return None
        return self.answers[0][1]


def _field(obj, key, where, types):
    if not isinstance(obj, dict) or key not in obj:
        raise ValueError(f"{where}: missing field {key!r}")
    value = obj[key]
    if not isinstance(value, types):
        raise ValueError(f"{where}: field {key!r} has type {type(value).__name__}")
    return value


def examples_from_json(dataset, is_training, source="<json>"):
    """Converts a loaded SQuAD JSON dict into `SquadExample`s, in file order.

    Args:
      dataset: the parsed file (`{"data": [...]}`).
      is_training: require an answer for every question that is not
        `is_impossible` (the official reader requires exactly one; here extra
        gold answers are allowed and the first is the training target, so dev
        files can be trained on).
      source: file name used in error messages.
    """
    articles = _field(dataset, "data", source, list)
    examples, seen = [], {}
    for a, article in enumerate(articles):
        where = f"{source}: data[{a}]"
        title = article.get("title", "") if isinstance(article, dict) else ""
        for p, paragraph in enumerate(_field(article, "paragraphs", where, list)):
            context = _field(paragraph, "context", f"{where}.paragraphs[{p}]", str)
            for q, qa in enumerate(_field(paragraph, "qas", f"{where}.paragraphs[{p}]", list)):
                qas_id = str(_field(qa, "id", f"{where}.paragraphs[{p}].qas[{q}]", (str, int)))
                qwhere = f"{source}: question {qas_id}"
                question = _field(qa, "question", qwhere, str)
                is_impossible = bool(qa.get("is_impossible", False))
                answers = []
                for answer in qa.get("answers", []) or []:
                    answers.append((_field(answer, "text", qwhere, str),
                                    int(_field(answer, "answer_start", qwhere, (int, float)))))
                if is_training and not is_impossible and not answers:
                    raise ValueError(
                        f"{qwhere}: a training question needs an answer (or "
                        f"\"is_impossible\": true for SQuAD v2.0); it has none")
                if qas_id in seen:
                    # Predictions are keyed by id: the second answer would replace
                    # the first, and the metrics would score one question.
                    raise ValueError(f"{qwhere} (data[{a}].paragraphs[{p}].qas[{q}]): the id "
                                     f"is used already by {seen[qas_id]}; question ids must "
                                     f"be unique")
                seen[qas_id] = f"data[{a}].paragraphs[{p}].qas[{q}]"
                examples.append(SquadExample(
                    qas_id=qas_id, question_text=question, context_text=context,
                    answers=[] if is_impossible else answers,
                    is_impossible=is_impossible, title=title))
    return examples


def read_squad_examples(input_file, is_training):
    """Reads a SQuAD v1.1/v2.0 JSON file (any tf.io.gfile path) into examples."""
    dataset = squad_metrics.read_json(input_file, "SQuAD JSON")
    return examples_from_json(dataset, is_training, source=str(input_file))


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_squad_examples_from_tfds(name, split, is_training, data_dir=None, download=False):
    """Reads the tensorflow-datasets builder `squad/v1.1` or `squad/v2.0`.

    Args:
      name: "squad/v1.1" or "squad/v2.0".
      split: e.g. "train", "validation", "validation[:100]".
      is_training: as for `examples_from_json`.
      data_dir: TFDS data directory (`--tfds_data_dir`).
      download: let TFDS download and prepare the data if it is missing.
    """
    import tensorflow_datasets as tfds  # Optional dependency; only this source needs it.

    if not name.startswith("squad"):
        raise ValueError(f"expected a SQuAD TFDS name like 'squad/v2.0', got {name!r}")
    dataset = load_prepared(name, split, data_dir, download)
    examples = []
    for record in tfds.as_numpy(dataset):
        qas_id = _text(record["id"])
        is_impossible = bool(record.get("is_impossible", False))
        texts = [_text(t) for t in record["answers"]["text"]]
        starts = [int(s) for s in record["answers"]["answer_start"]]
        if is_training and not is_impossible and not texts:
            raise ValueError(f"TFDS {name} {split}: question {qas_id}: a training "
                             f"question needs an answer; it has none")
        examples.append(SquadExample(
            qas_id=qas_id, question_text=_text(record["question"]),
            context_text=_text(record["context"]),
            answers=[] if is_impossible else list(zip(texts, starts)),
            is_impossible=is_impossible, title=_text(record.get("title", b""))))
    return examples


def examples_to_json(examples, version="v2.0"):
    """Gold SQuAD JSON for `examples` (for the metrics when reading from TFDS).

    Consecutive examples with the same title and context share a paragraph.
    """
    articles = []
    for example in examples:
        if not articles or articles[-1]["title"] != example.title:
            articles.append({"title": example.title, "paragraphs": []})
        paragraphs = articles[-1]["paragraphs"]
        if not paragraphs or paragraphs[-1]["context"] != example.context_text:
            paragraphs.append({"context": example.context_text, "qas": []})
        qa = {"id": example.qas_id, "question": example.question_text,
              "answers": [{"text": t, "answer_start": s} for t, s in example.answers]}
        if version == "v2.0":
            qa["is_impossible"] = example.is_impossible
        paragraphs[-1]["qas"].append(qa)
    return {"version": version, "data": articles}
