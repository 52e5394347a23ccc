"""In-graph tokenization that also gives each piece its span of ORIGINAL characters.

The SQuAD export must cut its answer out of the context the user sent, but
`TFTokenizer` tokenizes preprocessed text (whitespace collapsed, NFKD, accents
dropped, maybe lower-cased) and its SentencePiece kernel returns ids only. The
spans are rebuilt with TensorFlow ops in four steps:

1. Normalised -> original characters. Every original character is
   preprocessed on its own (a whitespace character becomes one space), as the
   Python alignment (`albert_tf.tasks.squad.alignment`) does, and the spaces
   that `preprocess_text` collapses are dropped. This gives, for each
   character of `preprocess_text(context)`, the original character it came
   from. (Per-character NFKD equals whole-text NFKD once combining marks are
   gone; the one per-character difference, final sigma, keeps the length.)
2. Words. The preprocessed text is cut at spaces and at the characters
   SentencePiece's normaliser turns into spaces (e.g. U+200B, U+FEFF); the
   characters it deletes (control characters) are left out of each word. Each
   word is tokenized on its own: ALBERT's model never puts "▁" inside a piece,
   so the ids are those of the whole text (checked on every SQuAD dev
   context, tests/export), and each piece belongs to one word.
3. Characters per piece. A known piece covers as many characters as its
   vocabulary string, its leading "▁" standing for the space before the word.
   SentencePiece merges each run of characters that have no piece of their
   own into one unknown piece, so the k-th unknown piece of a word covers the
   k-th such run. If a word's pieces do not add up to its length (its
   characters were changed by SentencePiece's NFKC, e.g. Hangul jamo
   recomposed), EVERY piece of that word gets the whole word: an answer then
   grows to whole words there, never to wrong text.
4. Spans exclude the space a leading "▁" stands for. A lone "▁" covers the
   space before its word; when that is not a plain space it takes the start
   of the next piece, and at the start of a text, the text's first character
   if that is whitespace. This is what `squad_alignment.piece_char_spans`
   gives; the tests compare the two on every SQuAD dev context (they differ
   on one, where the Python alignment's resynchronisation around U+FEFF
   gives a piece a wider span).

Input bytes that are not UTF-8 are dropped first (like
`bytes.decode("utf-8", "ignore")`); offsets count Unicode code points of that
cleaned text.
"""

import functools
import sys

import numpy as np
import tensorflow as tf

from albert_tf.tokenization import SPIECE_UNDERLINE
from albert_tf.tokenization import spm_model

_SPACE = 32


def _all_code_points():
    return [c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]


@functools.lru_cache(maxsize=None)
def whitespace_code_points():
    """int32 [n], sorted: the characters Python's `str.isspace()` accepts."""
    return np.array([c for c in _all_code_points() if chr(c).isspace()], np.int32)


@functools.lru_cache(maxsize=None)
def sentencepiece_tables(spm_model_file):
    """What the in-graph span rebuild needs to know about a SentencePiece model.

    Returns:
      dict of numpy arrays:
        piece_lengths int32 [vocab_size]: code points of each piece, "▁"
          counted as one; -1 for the unknown piece.
        starts_with_space bool [vocab_size]: the piece starts with "▁".
        known_chars int32 [n] sorted: characters that are a piece on their own
          (any other character becomes part of an unknown piece).
        space_chars, deleted_chars int32 [n] sorted: characters the model's
          normaliser turns into a space, or deletes, between two letters.
    """
    sp_model = spm_model.load_sp_model(spm_model.read_model_proto(spm_model_file),
                                       spm_model_file)
    size = sp_model.get_piece_size()
    lengths = np.zeros([size], np.int32)
    starts_with_space = np.zeros([size], bool)
    known = set()
    for i in range(size):
        piece = sp_model.id_to_piece(i)
        lengths[i] = -1 if sp_model.is_unknown(i) else len(piece)
        starts_with_space[i] = piece.startswith(SPIECE_UNDERLINE)
        if len(piece) == 1 and not (sp_model.is_control(i) or sp_model.is_unknown(i)):
            known.add(ord(piece))
    code_points = _all_code_points()
    normalized = sp_model.normalize([f"a{chr(c)}b" for c in code_points])
    spaced = f"{SPIECE_UNDERLINE}a{SPIECE_UNDERLINE}b"
    deleted = f"{SPIECE_UNDERLINE}ab"
    return {
        "piece_lengths": lengths,
        "starts_with_space": starts_with_space,
        "known_chars": np.array(sorted(known), np.int32),
        "space_chars": np.array([c for c, n in zip(code_points, normalized) if n == spaced],
                                np.int32),
        "deleted_chars": np.array([c for c, n in zip(code_points, normalized)
                                   if n == deleted], np.int32),
    }


def clean_utf8(texts):
    """Drops bytes that are not UTF-8; tf.string [batch] -> tf.string [batch]."""
    return tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="ignore")


# ---------------------------------------------------------------- small helpers
def _shift_right(values, fill):
    """Each element's predecessor: [fill, values[0], ..., values[-2]]."""
    return tf.concat([tf.fill([1], fill), values], 0)[:tf.size(values)]


def _shift_left(values, fill):
    """Each element's successor: [values[1], ..., values[-1], fill]."""
    return tf.concat([values, tf.fill([1], fill)], 0)[1:]


def _local_positions(ragged):
    """Position of each flat value inside its row, int64 [N]."""
    return tf.range(tf.size(ragged.flat_values, out_type=tf.int64)) - tf.gather(
        ragged.row_starts(), ragged.value_rowids())


def _exclusive_cumsum_by_segment(values, segments):
    """Exclusive cumulative sum of int64 `values`, restarting where sorted `segments` change."""
    total = tf.cumsum(values, exclusive=True)
    first = tf.not_equal(segments, _shift_right(segments, tf.constant(-1, segments.dtype)))
    # The running total at each segment's first element, carried forward.
    base = tf.gather(tf.boolean_mask(total, first),
                     tf.cumsum(tf.cast(first, tf.int64)) - 1)
    return total - base


def _is_member(code_points, table):
    if len(table) == 0:
        return tf.zeros_like(code_points, tf.bool)
    table = tf.constant(table)
    index = tf.searchsorted(table, code_points, side="left", out_type=tf.int32)
    index = tf.minimum(index, tf.size(table) - 1)
    return tf.equal(tf.gather(table, index), code_points)


def _segment_sum(values, segments, num_segments):
    return tf.math.unsorted_segment_sum(values, segments, num_segments)


# ------------------------------------------------------------------- step 1
@tf.autograph.experimental.do_not_convert
def normalized_to_original(texts, preprocess):
    """For every character of `preprocess_text(text)`, its original character.

    Args:
      texts: tf.string [batch], valid UTF-8.
      preprocess: in-graph `preprocess_text` (e.g. `TFTokenizer.preprocess`).

    Returns:
      int64 RaggedTensor [batch, (normalized chars)] of code point indices into
      each text.
    """
    code_points = tf.strings.unicode_decode(texts, "UTF-8")
    flat = code_points.flat_values
    rows = code_points.value_rowids()
    nrows = code_points.nrows(out_type=tf.int64)
    is_space = _is_member(flat, whitespace_code_points())
    singles = tf.strings.unicode_encode(
        tf.RaggedTensor.from_row_lengths(flat, tf.ones_like(rows)), "UTF-8")
    lengths = tf.strings.length(preprocess(singles), unit="UTF8_CHAR")
    # `" ".join(text.split())`: one space per run of whitespace, none at the ends.
    not_space = tf.cast(~is_space, tf.int64)
    before = _exclusive_cumsum_by_segment(not_space, rows)
    after = tf.gather(_segment_sum(not_space, rows, nrows), rows) - before - not_space
    kept_space = is_space & ~_shift_right(is_space, True) & (before > 0) & (after > 0)
    lengths = tf.where(is_space, tf.cast(kept_space, tf.int32), lengths)
    return tf.RaggedTensor.from_value_rowids(
        tf.repeat(_local_positions(code_points), lengths), tf.repeat(rows, lengths),
        nrows=nrows, validate=False)


class PieceOffsets(tf.Module):
    """`TFTokenizer` ids plus original-character spans; see the module docstring.

    Args:
      tokenizer: an `albert_tf.tokenization.TFTokenizer`.
      preprocess: optional in-graph preprocessing to use instead of
        `tokenizer.preprocess` (a shared tf.function keeps graphs small).
    """

    def __init__(self, tokenizer, preprocess=None, name=None):
        super().__init__(name=name)
        self.tokenizer = tokenizer
        self._preprocess = preprocess or tokenizer.preprocess
        self._tables = sentencepiece_tables(tokenizer.spm_model_file)

    @tf.autograph.experimental.do_not_convert
    def __call__(self, texts):
        """Tokenizes `texts` and maps every piece to original characters.

        Args:
          texts: tf.string [batch] (bytes that are not UTF-8 are dropped).

        Returns:
          dict with `texts` (tf.string [batch], the cleaned texts the offsets
          refer to) and int32 RaggedTensors [batch, (pieces)]: `ids`,
          `start_chars`, `end_chars` (inclusive code point indices).
        """
        texts = clean_utf8(texts)
        batch = tf.shape(texts, out_type=tf.int64)[0]
        norm_to_orig = normalized_to_original(texts, self._preprocess)
        normalized = tf.strings.unicode_decode(self._preprocess(texts), "UTF-8")
        words = self._words(normalized)
        pieces = self._pieces(words)

        # Normalised -> original characters; -1 (a lone "▁" with no space
        # before it) takes the start of the next piece of its text, or the
        # text's last character, as the Python alignment fills it.
        rows = pieces["rows"]
        start = self._to_original(norm_to_orig, rows, pieces["start"])
        end = self._to_original(norm_to_orig, rows, pieces["end"])
        next_in_row = tf.equal(rows, _shift_left(rows, tf.constant(-1, tf.int64)))
        last_char = tf.cast(tf.gather(tf.strings.length(texts, unit="UTF8_CHAR"), rows) - 1,
                            tf.int64)
        fill = tf.where(next_in_row, _shift_left(start, tf.constant(0, tf.int64)),
                        tf.maximum(last_char, 0))
        # ... except that the Python alignment keeps leading whitespace, so a
        # lone "▁" opening a text that starts with whitespace covers character 0.
        first_in_row = tf.not_equal(rows, _shift_right(rows, tf.constant(-1, tf.int64)))
        first_char = tf.strings.unicode_decode(
            tf.strings.substr(texts, 0, 1, unit="UTF8_CHAR"), "UTF-8").to_tensor(
                default_value=-1, shape=[None, 1])[:, 0]
        leading_space = tf.gather(_is_member(first_char, whitespace_code_points()), rows)
        fill = tf.where(first_in_row & leading_space, tf.zeros_like(fill), fill)
        unmatched = pieces["start"] < 0
        start = tf.where(unmatched, fill, start)
        end = tf.maximum(tf.where(unmatched, fill, end), start)

        def by_text(values):
            return tf.RaggedTensor.from_value_rowids(
                tf.cast(values, tf.int32), rows, nrows=batch, validate=False)

        return {"texts": texts, "ids": by_text(pieces["ids"]),
                "start_chars": by_text(start), "end_chars": by_text(end)}

    # --------------------------------------------------------------- step 2
    def _words(self, normalized):
        """Cuts preprocessed texts (ragged code points [batch, (n)]) into words."""
        tables = self._tables
        flat = normalized.flat_values
        rows = normalized.value_rowids()
        local = _local_positions(normalized)
        separator = tf.equal(flat, _SPACE) | _is_member(flat, tables["space_chars"])
        starts_word = ~separator & (_shift_right(separator, True) | tf.equal(local, 0))
        word_of_char = tf.cumsum(tf.cast(starts_word, tf.int64)) - 1
        num_words = tf.reduce_sum(tf.cast(starts_word, tf.int64))
        # Characters the normaliser deletes take no part in SentencePiece.
        visible = ~separator & ~_is_member(flat, tables["deleted_chars"])
        visible_index = tf.where(visible)[:, 0]
        chars = tf.RaggedTensor.from_value_rowids(
            tf.gather(flat, visible_index), tf.gather(word_of_char, visible_index),
            nrows=num_words, validate=False)
        in_word = tf.where(~separator)[:, 0]
        word_row = tf.boolean_mask(rows, starts_word)
        word_start = tf.boolean_mask(local, starts_word)
        word_end = tf.math.unsorted_segment_max(
            tf.gather(local, in_word), tf.gather(word_of_char, in_word), num_words)
        # A lone "▁" stands for the character after the previous word (or the
        # text's first one); only a plain space there matches it, as in the
        # Python alignment.
        first_in_row = tf.not_equal(word_row, _shift_right(word_row, tf.constant(-1, tf.int64)))
        before = tf.where(first_in_row, tf.zeros_like(word_start),
                          _shift_right(word_end + 1, tf.constant(0, tf.int64)))
        before_is_space = tf.equal(
            tf.gather(flat, tf.gather(normalized.row_starts(), word_row)
                      + tf.minimum(before, tf.maximum(word_start - 1, 0))), _SPACE)
        space_before = tf.where((before < word_start) & before_is_space, before,
                                -tf.ones_like(before))
        return {
            "num_words": num_words, "row": word_row, "start": word_start, "end": word_end,
            "space_before": space_before, "chars": chars,
            # Local position of each visible character, to map offsets back.
            "visible_positions": tf.gather(local, visible_index),
        }

    # --------------------------------------------------------------- step 3
    def _pieces(self, words):
        tables = self._tables
        num_words = words["num_words"]
        chars = words["chars"]
        length_in_chars = chars.row_lengths()
        ids = self.tokenizer.tokenize(
            tf.strings.unicode_encode(chars, "UTF-8"), preprocess=False)
        piece_ids = ids.flat_values
        piece_word = ids.value_rowids()
        length = tf.cast(tf.gather(tf.constant(tables["piece_lengths"]), piece_ids), tf.int64)
        starts_with_space = tf.gather(tf.constant(tables["starts_with_space"]), piece_ids)
        is_unknown = length < 0

        # Runs of characters without a piece of their own, in word order.
        char_word = chars.value_rowids()
        unknown_char = ~_is_member(chars.flat_values, tables["known_chars"])
        first_char = tf.equal(_local_positions(chars), 0)
        starts_run = unknown_char & (first_char | ~_shift_right(unknown_char, False))
        run_of_char = tf.cumsum(tf.cast(starts_run, tf.int64)) - 1
        unknown_index = tf.where(unknown_char)[:, 0]
        num_runs = tf.reduce_sum(tf.cast(starts_run, tf.int64))
        run_length = _segment_sum(tf.ones_like(unknown_index),
                                  tf.gather(run_of_char, unknown_index), num_runs)
        runs_in_word = _segment_sum(tf.cast(starts_run, tf.int64), char_word, num_words)
        first_run = tf.cumsum(runs_in_word, exclusive=True)
        unknown_rank = _exclusive_cumsum_by_segment(tf.cast(is_unknown, tf.int64), piece_word)
        unknown_in_word = _segment_sum(tf.cast(is_unknown, tf.int64), piece_word, num_words)
        runs_match = tf.gather(tf.equal(unknown_in_word, runs_in_word), piece_word)
        run = tf.gather(first_run, piece_word) + unknown_rank
        padded_runs = tf.concat([run_length, [0]], 0)
        length = tf.where(
            is_unknown,
            tf.where(runs_match, tf.gather(padded_runs, tf.minimum(run, num_runs)), 0),
            length)

        # The first piece's "▁" is the space before the word: offset -1.
        exact = tf.gather(
            tf.equal(_segment_sum(length, piece_word, num_words), length_in_chars + 1),
            piece_word) & runs_match
        offset = _exclusive_cumsum_by_segment(length, piece_word) - 1
        start = tf.where(starts_with_space & (length > 1), offset + 1, offset)
        end = offset + length - 1

        # Offsets among the word's visible characters -> positions in its text.
        visible_start = tf.gather(chars.row_starts(), piece_word)
        last_visible = tf.gather(chars.row_starts() + length_in_chars - 1, piece_word)
        padded_positions = tf.concat([words["visible_positions"], [0]], 0)

        def position(rel):
            index = tf.clip_by_value(visible_start + rel, 0, tf.maximum(last_visible, 0))
            return tf.gather(padded_positions, index)

        lone_space = tf.gather(words["space_before"], piece_word)
        start = tf.where(start < 0, lone_space, position(start))
        end = tf.where(end < 0, start, position(end))
        start = tf.where(exact, start, tf.gather(words["start"], piece_word))
        end = tf.where(exact, end, tf.gather(words["end"], piece_word))
        return {"ids": piece_ids, "rows": tf.gather(words["row"], piece_word),
                "start": start, "end": end}

    @staticmethod
    def _to_original(norm_to_orig, rows, positions):
        """Normalised positions (int64 [N], of texts `rows`) -> original; -1 stays -1."""
        row_starts = tf.gather(norm_to_orig.row_starts(), rows)
        row_lengths = tf.gather(norm_to_orig.row_lengths(), rows)
        clamped = tf.clip_by_value(positions, 0, tf.maximum(row_lengths - 1, 0))
        padded = tf.concat([norm_to_orig.flat_values, [0]], 0)
        index = tf.where(row_lengths > 0, row_starts + clamped,
                         tf.size(norm_to_orig.flat_values, out_type=tf.int64))
        return tf.where(positions < 0, tf.constant(-1, tf.int64), tf.gather(padded, index))
