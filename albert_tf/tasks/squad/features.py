"""SQuAD examples -> fixed-length ALBERT input windows, as the official
`convert_examples_to_features` (google-research/albert squad_utils.py).

Each example becomes one or more windows `[CLS] question [SEP] paragraph-part
[SEP] <pad>...`: the question is cut to `max_query_length` pieces, and the
paragraph is covered by windows of up to `max_seq_length - len(question) - 3`
pieces that start `doc_stride` pieces apart. Official details kept:
  * `p_mask` is 1 where a token cannot be an answer: the question, both [SEP]s
    and the padding; it is 0 for [CLS] (the v2.0 "no answer" position) and the
    paragraph.
  * Training labels: an impossible question, or an answer not wholly inside a
    window, gives start = end = 0 and `is_impossible = 1` for that window.
  * `unique_id`s count up from 1000000000.
  * A token's "max context" window is the one where min(left, right) context
    + 0.01 * window length is largest (first such window on ties).
Different from the official: the paragraph pieces are aligned exactly to the
original characters (`squad_alignment`), and a training example whose answer
text is not at its `answer_start`, cannot be aligned to tokens, or whose
context is empty is skipped, counted in `SquadConversionStats` and logged with
its question id (the official trains on whatever its LCS gives). In prediction
mode an empty context is also skipped; its question then gets the official
"no valid prediction" answer in post-processing.
"""

import collections
import dataclasses
from typing import Dict, List

from absl import logging

from albert_tf.tasks.squad import alignment as squad_alignment

FIRST_UNIQUE_ID = 1000000000
_MAX_SKIPS_LOGGED = 20


@dataclasses.dataclass
class SquadFeatureMeta:
    """What post-processing needs to know about one window.

    Attributes:
      unique_id: id of the window (the `unique_ids` record feature).
      example_index: index of its example in the example list.
      qas_id: the example's question id (to detect stale caches).
      doc_span_index: index of the window within its example.
      doc_offset: position of the first paragraph token in `input_ids`
        (= number of question pieces + 2).
      tok_start_to_orig_index, tok_end_to_orig_index: for each paragraph token
        of the window (input position doc_offset + k), the first and last
        character (inclusive) of the original context it covers.
      token_is_max_context: for each paragraph token of the window, whether this
        window is its max-context window.
    """
    unique_id: int
    example_index: int
    qas_id: str
    doc_span_index: int
    doc_offset: int
    tok_start_to_orig_index: List[int]
    tok_end_to_orig_index: List[int]
    token_is_max_context: List[bool]


@dataclasses.dataclass
class SquadFeature:
    """One window: model inputs (length `max_seq_length`) and training labels."""
    meta: SquadFeatureMeta
    doc_start: int  # First paragraph token (index into the example's tokens).
    input_ids: List[int]
    input_mask: List[int]
    segment_ids: List[int]
    p_mask: List[int]
    start_position: int = 0
    end_position: int = 0
    is_impossible: bool = False

    @property
    def unique_id(self):
        return self.meta.unique_id


@dataclasses.dataclass
class ExampleTokens:
    """The paragraph tokens of one example, mapped to original characters."""
    qas_id: str
    tok_start_to_orig_index: List[int]
    tok_end_to_orig_index: List[int]


@dataclasses.dataclass
class SquadConversionStats:
    """Counts of a conversion; `skipped` maps question id -> reason."""
    num_examples: int = 0
    num_features: int = 0
    num_positive_features: int = 0
    num_negative_features: int = 0
    skipped: Dict[str, str] = dataclasses.field(default_factory=dict)

    def skip(self, qas_id, reason):
        if len(self.skipped) < _MAX_SKIPS_LOGGED:
            logging.warning("Skipping SQuAD question %s: %s", qas_id, reason)
        self.skipped[qas_id] = reason

    def to_dict(self):
        return dataclasses.asdict(self)


def doc_spans_for(num_doc_tokens, max_tokens_for_doc, doc_stride):
    """Sliding windows over the paragraph as (start, length) token pairs."""
    spans = []
    start = 0
    while start < num_doc_tokens:
        length = min(num_doc_tokens - start, max_tokens_for_doc)
        spans.append((start, length))
        if start + length == num_doc_tokens:
            break
        start += min(length, doc_stride)
    return spans


def max_context_spans(doc_spans, num_doc_tokens):
    """For each paragraph token, the index of its max-context window."""
    best = [None] * num_doc_tokens
    best_score = [None] * num_doc_tokens
    for span_index, (start, length) in enumerate(doc_spans):
        end = start + length - 1
        for position in range(start, end + 1):
            score = min(position - start, end - position) + 0.01 * length
            if best_score[position] is None or score > best_score[position]:
                best_score[position] = score
                best[position] = span_index
    return best


def window_metas(unique_ids, example_index, example_tokens, doc_spans, doc_offset):
    """`SquadFeatureMeta`s of one example's windows (also used to rebuild caches)."""
    num_doc_tokens = len(example_tokens.tok_start_to_orig_index)
    best = max_context_spans(doc_spans, num_doc_tokens)
    metas = []
    for span_index, ((start, length), unique_id) in enumerate(zip(doc_spans, unique_ids)):
        metas.append(SquadFeatureMeta(
            unique_id=unique_id, example_index=example_index,
            qas_id=example_tokens.qas_id, doc_span_index=span_index,
            doc_offset=doc_offset,
            tok_start_to_orig_index=example_tokens.tok_start_to_orig_index[start:start + length],
            tok_end_to_orig_index=example_tokens.tok_end_to_orig_index[start:start + length],
            token_is_max_context=[best[p] == span_index for p in range(start, start + length)]))
    return metas


def _answer_token_span(example, starts, ends):
    """(first, last) paragraph token of the training answer, or a skip reason."""
    text, char_start = example.answers[0]
    if not text.strip():
        return "empty answer: the answer text is blank"
    if example.context_text[char_start:char_start + len(text)] != text:
        return (f"answer_start mismatch: {char_start} does not point at the answer text "
                f"{text!r} (context has "
                f"{example.context_text[char_start:char_start + len(text)]!r})")
    span = squad_alignment.char_span_to_token_span(
        starts, ends, char_start, char_start + len(text) - 1)
    if span is None:
        return f"unaligned answer: {text!r} at {char_start} is covered by no token"
    return span


def convert_examples_to_features(examples, tokenizer, is_training, max_seq_length=384,
                                 doc_stride=128, max_query_length=64, stats=None,
                                 example_tokens=None):
    """Yields the `SquadFeature`s of `examples` in order.

    Args:
      examples: list of `SquadExample`.
      tokenizer: `albert_tf.tokenization.FullTokenizer`.
      is_training: compute start/end/is_impossible labels (from the first answer).
      max_seq_length, doc_stride, max_query_length: official settings, in tokens.
      stats: optional `SquadConversionStats` to fill.
      example_tokens: optional dict to fill with example_index -> `ExampleTokens`.

    Raises:
      ValueError if max_seq_length <= max_query_length + 3.
    """
    if max_seq_length <= max_query_length + 3:
        raise ValueError(f"max_seq_length ({max_seq_length}) must be greater than "
                         f"max_query_length ({max_query_length}) + 3")
    stats = stats if stats is not None else SquadConversionStats()
    lower = tokenizer.do_lower_case
    unique_id = FIRST_UNIQUE_ID
    cached_context, cached = None, None
    for example_index, example in enumerate(examples):
        stats.num_examples += 1
        if example_index % 1000 == 0:
            logging.info("Converting SQuAD example %d/%d (%d features)",
                         example_index, len(examples), stats.num_features)
        if example.context_text != cached_context:
            pieces = tokenizer.tokenize(example.context_text)
            starts, ends = squad_alignment.piece_char_spans(pieces, example.context_text, lower)
            cached_context = example.context_text
            cached = (tokenizer.convert_tokens_to_ids(pieces), starts, ends)
        doc_ids, starts, ends = cached
        if not doc_ids:
            stats.skip(example.qas_id, "empty context: no paragraph tokens")
            continue

        tok_start = tok_end = None
        if is_training and not example.is_impossible:
            span = _answer_token_span(example, starts, ends)
            if isinstance(span, str):
                stats.skip(example.qas_id, span)
                continue
            tok_start, tok_end = span

        query_ids = tokenizer.convert_tokens_to_ids(
            tokenizer.tokenize(example.question_text))[:max_query_length]
        doc_offset = len(query_ids) + 2
        doc_spans = doc_spans_for(len(doc_ids), max_seq_length - len(query_ids) - 3, doc_stride)
        tokens = ExampleTokens(example.qas_id, starts, ends)
        if example_tokens is not None:
            example_tokens[example_index] = tokens
        unique_ids = list(range(unique_id, unique_id + len(doc_spans)))
        unique_id += len(doc_spans)
        metas = window_metas(unique_ids, example_index, tokens, doc_spans, doc_offset)

        for (doc_start, length), meta in zip(doc_spans, metas):
            input_ids = ([tokenizer.cls_id] + query_ids + [tokenizer.sep_id]
                         + doc_ids[doc_start:doc_start + length] + [tokenizer.sep_id])
            segment_ids = [0] * doc_offset + [1] * (length + 1)
            p_mask = [0] + [1] * (len(query_ids) + 1) + [0] * length + [1]
            input_mask = [1] * len(input_ids)
            padding = max_seq_length - len(input_ids)
            input_ids += [tokenizer.pad_id] * padding
            input_mask += [0] * padding
            segment_ids += [0] * padding
            p_mask += [1] * padding

            start_position = end_position = 0
            is_impossible = bool(example.is_impossible)
            if is_training and not is_impossible:
                if doc_start <= tok_start and tok_end < doc_start + length:
                    start_position = tok_start - doc_start + doc_offset
                    end_position = tok_end - doc_start + doc_offset
                else:
                    is_impossible = True
            stats.num_features += 1
            if is_impossible:
                stats.num_negative_features += 1
            else:
                stats.num_positive_features += 1
            yield SquadFeature(
                meta=meta, doc_start=doc_start, input_ids=input_ids,
                input_mask=input_mask, segment_ids=segment_ids, p_mask=p_mask,
                start_position=start_position, end_position=end_position,
                is_impossible=is_impossible)
    if stats.skipped:
        logging.warning("Skipped %d of %d SQuAD questions: %s", len(stats.skipped),
                        stats.num_examples,
                        dict(collections.Counter(r.split(":")[0] for r in stats.skipped.values())))
    logging.info("SQuAD features: %d (positive %d, negative %d) from %d examples",
                 stats.num_features, stats.num_positive_features,
                 stats.num_negative_features, stats.num_examples)
