"""`MultipleChoicePreprocessor`: article, question and options -> RACE features, as a layer."""

import string

import keras
import numpy as np
import tensorflow as tf

from albert_tf.export.race_module import pack_choices
from albert_tf.text.preprocessor import AlbertTextPreprocessor, TEXT_SPEC, as_string_tensor, \
    text_rows

INPUT_NAMES = ("article", "question", "options")


def choice_letters(num_choices):
    """"A", "B", ... one per choice (RACE: A-D)."""
    return tuple(string.ascii_uppercase[:num_choices])


def split_choices(inputs, num_choices):
    """(articles, questions, options) of `inputs`, checked row by row.

    Accepted: a TUPLE `(articles, questions, options)` or a dict with the keys
    `article`, `question`, `options` (the RACE SavedModel's inputs): articles and
    questions `[batch]` sequences of str/bytes (one str: a batch of one), options
    `[batch, num_choices]` (a list of `num_choices` option texts per question;
    with one str article, one such list). tf.string tensors pass as they are.

    Returns:
      (articles, questions, options): numpy object arrays of UTF-8 bytes ([batch],
      [batch], [batch, num_choices]), or the tensors given.

    Raises:
      TypeError / ValueError naming the row: a row that is not a str, an option list
      of another length, unequal counts.
    """
    if isinstance(inputs, dict):
        unknown = sorted(set(inputs) - set(INPUT_NAMES))
        missing = [name for name in INPUT_NAMES if name not in inputs]
        if unknown or missing:
            raise ValueError(f"multiple-choice inputs as a dict take the keys "
                             f"{list(INPUT_NAMES)}; missing {missing}, unknown {unknown}")
        articles, questions, options = (inputs[name] for name in INPUT_NAMES)
    elif isinstance(inputs, tuple) and len(inputs) == 3:
        articles, questions, options = inputs
    else:
        # A list is refused, not guessed at: three articles are not (article, question,
        # options).
        raise ValueError(f"multiple-choice inputs are a tuple (articles, questions, "
                         f"options) or a dict of {list(INPUT_NAMES)}, got "
                         f"{type(inputs).__name__}")
    if isinstance(articles, (str, bytes)):  # One question.
        questions, options = [questions], [options]
    articles = text_rows(articles, "articles")
    questions = text_rows(questions, "questions")
    options = option_rows(options, num_choices)
    counts = [_length(articles), _length(questions), _length(options)]
    if None not in counts and len(set(counts)) > 1:
        raise ValueError(f"{counts[0]} articles, {counts[1]} questions and {counts[2]} "
                         f"option lists: give one question and one list of {num_choices} "
                         f"options per article")
    return articles, questions, options


def _length(rows):
    if isinstance(rows, (tf.Tensor, keras.KerasTensor)):
        return None if rows.shape.rank is None else rows.shape[0]
    return len(rows)


def option_rows(options, num_choices):
    """`options` as a numpy object array [batch, num_choices] of UTF-8 bytes (a
    tensor stays as is, its shape checked); errors name the row and option."""
    if isinstance(options, (tf.Tensor, keras.KerasTensor)):
        if options.shape.rank is not None and (
                options.shape.rank != 2 or options.shape[1] not in (None, num_choices)):
            raise ValueError(f"options must be [batch, {num_choices}] strings, got a tensor "
                             f"of shape {options.shape}")
        return options
    if hasattr(options, "to_numpy"):  # pandas Series of lists.
        options = options.to_numpy()
    if isinstance(options, (str, bytes)) or not isinstance(options, (list, tuple, np.ndarray)):
        raise TypeError(f"options must be a list of {num_choices} option texts per question, "
                        f"got {type(options).__name__}")
    rows = np.empty((len(options), num_choices), dtype=object)
    for row, choices in enumerate(options):
        if isinstance(choices, (str, bytes)) or not isinstance(
                choices, (list, tuple, np.ndarray)):
            raise TypeError(f"options[{row}] is a {type(choices).__name__}, not a list of "
                            f"{num_choices} option texts")
        if len(choices) != num_choices:
            raise ValueError(f"options[{row}] has {len(choices)} options, expected "
                             f"{num_choices}")
        rows[row] = text_rows(list(choices), f"options[{row}]")
    return rows


@keras.saving.register_keras_serializable(package="albert_tf")
class MultipleChoicePreprocessor(AlbertTextPreprocessor):
    """In-graph RACE packing: `[CLS] article [SEP] question+option [SEP]` per option.

    Exactly the features of `tasks/race/features.py` (official `race_utils`) and of
    the RACE SavedModel (`export.race_module.pack_choices`, one shared function):
    the question and each option preprocessed, a cloze question's every "_"
    replaced by the option (else "question option"), that qa text keeps its LAST
    `max_qa_length` tokens and the article its first `max_seq_length - 3 - len(qa)`.

    Inputs: see `split_choices`. Outputs: dict of int32
    `[batch, num_choices, max_seq_length]` `input_ids`, `input_mask`, `segment_ids`.

    Args:
      spm_model_file, max_seq_length, do_lower_case: see `AlbertTextPreprocessor`.
      max_qa_length: question+option tokens kept, from the end (official 128).
      num_choices: options per question (RACE: 4).
    """

    def __init__(self, spm_model_file=None, max_seq_length=512, do_lower_case=True,
                 max_qa_length=128, num_choices=4, **kwargs):
        super().__init__(None, max_seq_length=max_seq_length, do_lower_case=do_lower_case,
                         **kwargs)
        if isinstance(max_qa_length, bool) or not isinstance(max_qa_length, int) or \
                not 1 <= max_qa_length <= max_seq_length - 3:
            raise ValueError(f"max_qa_length ({max_qa_length!r}) must be an integer in "
                             f"[1, max_seq_length - 3 = {max_seq_length - 3}]")
        if isinstance(num_choices, bool) or not isinstance(num_choices, int) or \
                num_choices < 2:
            raise ValueError(f"num_choices must be an integer >= 2, got {num_choices!r}")
        self.max_qa_length = max_qa_length
        self.num_choices = num_choices
        if spm_model_file is not None:
            self.set_spm_model(spm_model_file)

    def set_spm_model(self, spm_model_file):
        super().set_spm_model(spm_model_file)
        # Traced once, reused by every call and tf.data pipeline (see the parent).
        self._functions.choices = tf.function(
            self._pack_choices, autograph=False, input_signature=[
                TEXT_SPEC, TEXT_SPEC, tf.TensorSpec([None, self.num_choices], tf.string)])

    def _pack_choices(self, articles, questions, options):
        tf.debugging.assert_equal(
            tf.shape(questions)[0], tf.shape(articles)[0],
            message="articles and questions must have the same batch size")
        tf.debugging.assert_equal(
            tf.shape(options)[0], tf.shape(articles)[0],
            message="articles and options must have the same batch size")
        tokenizer = self.tokenizer
        return pack_choices(tokenizer, tokenizer.preprocess, tokenizer.tokenize, articles,
                            questions, options, self.max_seq_length, self.max_qa_length)

    def preprocess(self, inputs):
        """(articles, questions, options) (see `split_choices`) -> features; usable in
        `tf.data.Dataset.map`."""
        if self.tokenizer is None:
            raise ValueError("MultipleChoicePreprocessor has no SentencePiece model: pass "
                             "spm_model_file")
        articles, questions, options = as_choice_tensors(inputs, self.num_choices)
        return self._functions.choices(articles, questions, options)

    def __call__(self, inputs, *args, **kwargs):
        return keras.layers.Layer.__call__(
            self, dict(zip(INPUT_NAMES, as_choice_tensors(inputs, self.num_choices))),
            *args, **kwargs)

    def compute_output_spec(self, inputs):
        spec = keras.KerasTensor((None, self.num_choices, self.max_seq_length), dtype="int32")
        return {"input_ids": spec, "input_mask": spec, "segment_ids": spec}

    def get_config(self):
        config = super().get_config()
        config.update(max_qa_length=self.max_qa_length, num_choices=self.num_choices)
        return config


def as_choice_tensors(inputs, num_choices):
    """`split_choices(inputs)` as tf.string tensors [batch], [batch], [batch, num_choices]."""
    articles, questions, options = split_choices(inputs, num_choices)
    if not isinstance(options, (tf.Tensor, keras.KerasTensor)):
        options = tf.zeros([0, num_choices], tf.string) if options.size == 0 else \
            tf.constant(options, tf.string)
    return as_string_tensor(articles), as_string_tensor(questions), options
