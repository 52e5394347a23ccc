"""RACE example -> 4 `[CLS] context [SEP] qa [SEP]` sequences, and their TFRecords.

Matches google-research/albert `race_utils.convert_single_example`: the qa text
keeps its LAST `max_qa_length` tokens (the option sits at the end), then the
context is cut to fit `max_seq_length - 3 - len(qa)`. Records hold the 4
choices flattened (`4 * max_seq_length` ids); `classifier_features.classifier_dataset`
with `num_choices=4` reads them back as `[batch, 4, max_seq_length]`.
"""

from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.race.reader import NUM_CHOICES


def _check_lengths(max_seq_length, max_qa_length):
    # Official code assumes these; max_qa_length=0 would keep every token
    # (`tokens[-0:]`) and a qa longer than the sequence would cut the context
    # with a negative index.
    if max_qa_length < 1 or max_qa_length > max_seq_length - 3:
        raise ValueError(f"max_qa_length ({max_qa_length}) must be in "
                         f"[1, max_seq_length - 3 = {max_seq_length - 3}]")


def convert_race_example(example, max_seq_length, tokenizer, max_qa_length=128,
                         context_tokens=None):
    """`RaceExample` (or `PaddingInputExample`) -> `InputFeatures` with `[4][max_seq_length]` ids.

    Args:
      example: `race.RaceExample` with preprocessed texts.
      max_seq_length: tokens per choice, including [CLS] and 2 [SEP] (official 512).
      tokenizer: has `tokenize`, `convert_tokens_to_ids`, `cls_id`, `sep_id`.
      max_qa_length: qa tokens kept, from the end (official 128).
      context_tokens: the tokenized context, if the caller already has it.
    """
    _check_lengths(max_seq_length, max_qa_length)
    if isinstance(example, classifier_features.PaddingInputExample):
        zeros = [[0] * max_seq_length for _ in range(NUM_CHOICES)]
        return classifier_features.InputFeatures(
            [list(z) for z in zeros], [list(z) for z in zeros], [list(z) for z in zeros],
            0, is_real_example=False)
    if context_tokens is None:
        context_tokens = tokenizer.tokenize(example.context)
    all_ids, all_mask, all_segments = [], [], []
    for qa_text in example.qa_texts:
        qa_tokens = tokenizer.tokenize(qa_text)[-max_qa_length:]
        context_choice = context_tokens[:max_seq_length - 3 - len(qa_tokens)]
        ids, mask, segments = classifier_features.build_inputs(
            context_choice, qa_tokens, max_seq_length, tokenizer, pair=True)
        all_ids.append(ids)
        all_mask.append(mask)
        all_segments.append(segments)
    return classifier_features.InputFeatures(all_ids, all_mask, all_segments, example.label)


class _RaceConverter:
    """Tokenizes each passage once for all its questions (examples come in passage order)."""

    def __init__(self, max_seq_length, tokenizer, max_qa_length):
        self.max_seq_length = max_seq_length
        self.tokenizer = tokenizer
        self.max_qa_length = max_qa_length
        self._context = None
        self._context_tokens = None

    def __call__(self, example):
        context_tokens = None
        if not isinstance(example, classifier_features.PaddingInputExample):
            if example.context != self._context:
                self._context = example.context
                self._context_tokens = self.tokenizer.tokenize(example.context)
            # A copy: convert_race_example slices, but keep the cache safe anyway.
            context_tokens = list(self._context_tokens)
        return convert_race_example(example, self.max_seq_length, self.tokenizer,
                                    self.max_qa_length, context_tokens)


def convert_race_examples(examples, max_seq_length, tokenizer, max_qa_length=128):
    """In-memory list version of `convert_race_example`."""
    converter = _RaceConverter(max_seq_length, tokenizer, max_qa_length)
    return [converter(example) for example in examples]


def ensure_race_tfrecord(examples, max_seq_length, tokenizer, output_file,
                         max_qa_length=128):
    """RACE examples -> cached TFRecord (see `classifier_features.ensure_tfrecord`).

    Returns:
      The metadata dict (`num_records`, `num_real_examples`, ...).
    """
    _check_lengths(max_seq_length, max_qa_length)
    settings = dict(classifier_features.tokenizer_description(tokenizer),
                    max_seq_length=max_seq_length, max_qa_length=max_qa_length,
                    num_choices=NUM_CHOICES)
    return classifier_features.ensure_tfrecord(
        examples, output_file, _RaceConverter(max_seq_length, tokenizer, max_qa_length),
        is_regression=False, settings=settings)


def race_dataset(input_file, max_seq_length, batch_size, is_training, **kwargs):
    """`classifier_features.classifier_dataset` with `num_choices=4` (same keyword args)."""
    return classifier_features.classifier_dataset(
        input_file, max_seq_length, batch_size, is_training, num_choices=NUM_CHOICES,
        **kwargs)
