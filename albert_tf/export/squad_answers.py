"""In-graph SQuAD answer selection, as `albert_tf.tasks.squad.postprocess`.

Candidates are the official ones: v1.1 pairs the `n_best_size` best start and
end logits of each window; v2.0 the model's own `start_n_top` starts and their
`end_n_top` ends. A candidate is kept if both ends are in the window's context
part, its start token has its max context in this window, end >= start and it
spans at most `max_answer_length` tokens. The best candidate of a question is
the one with the largest start + end score over all its windows, summed in
float64 like the Python floats, with ties going to the earlier window, then the
better start, then the better end: the order in which the Python code lists
candidates before its stable sort. Its text is the original context between
the start piece's first and the end piece's last character, stripped of
whitespace.

Only the top answer is computed (not the n-best list, whose merging of equal
texts is not needed for it).
"""

import tensorflow as tf

from albert_tf.tokenization import unicode_tables


@tf.autograph.experimental.do_not_convert
def best_spans(windows, start_index, end_index, score, max_answer_length, num_examples):
    """Picks each question's best valid (start, end) candidate.

    Args:
      windows: dict from `squad_windows.squad_windows`.
      start_index, end_index: int [W, K] input positions of K candidates per
        window, in the Python code's listing order.
      score: float64 [W, K].
      max_answer_length: Python int, in tokens.
      num_examples: int64 scalar, the number of questions.

    Returns:
      dict over questions: has_answer bool [B]; start_token, end_token int64 [B]
      (indices into the question's context pieces, 0 without an answer);
      score float64 [B] (-inf without an answer).
    """
    start_index = tf.cast(start_index, tf.int64)
    end_index = tf.cast(end_index, tf.int64)
    doc_offset = windows["doc_offset"][:, tf.newaxis]
    doc_length = windows["doc_length"][:, tf.newaxis]
    start_doc = start_index - doc_offset
    end_doc = end_index - doc_offset
    max_context = tf.gather(windows["token_is_max_context"],
                            tf.clip_by_value(start_doc, 0, tf.cast(
                                tf.shape(windows["token_is_max_context"])[1] - 1, tf.int64)),
                            batch_dims=1)
    valid = ((start_doc >= 0) & (start_doc < doc_length) & (end_doc < doc_length)
             & max_context & (start_index <= end_index)
             & (end_index - start_index + 1 <= max_answer_length))

    num_candidates = tf.shape(score, out_type=tf.int64)[1]
    flat_valid = tf.reshape(valid, [-1])
    flat_score = tf.where(flat_valid, tf.reshape(score, [-1]),
                          tf.constant(-float("inf"), tf.float64))
    example = tf.repeat(windows["example_index"], num_candidates)
    best = tf.math.unsorted_segment_max(flat_score, example, num_examples)
    is_best = flat_valid & tf.equal(flat_score, tf.gather(best, example))
    order = tf.range(tf.size(flat_score, out_type=tf.int64))
    no_candidate = tf.size(flat_score, out_type=tf.int64)
    first = tf.math.unsorted_segment_min(tf.where(is_best, order, no_candidate), example,
                                         num_examples)
    has_answer = first < no_candidate
    first = tf.where(has_answer, first, 0)
    window = first // tf.maximum(num_candidates, 1)
    window_start = tf.gather(windows["doc_start"], window)
    start_token = tf.gather(tf.reshape(start_doc, [-1]), first) + window_start
    end_token = tf.gather(tf.reshape(end_doc, [-1]), first) + window_start
    zero = tf.zeros_like(start_token)
    return {"has_answer": has_answer,
            "start_token": tf.where(has_answer, start_token, zero),
            "end_token": tf.where(has_answer, end_token, zero),
            "score": tf.where(has_answer, best, tf.constant(-float("inf"), tf.float64))}


def v1_candidates(start_logits, end_logits, n_best_size):
    """Official v1.1 candidates: every pair of the n best starts and n best ends.

    Args:
      start_logits, end_logits: float32 [W, T], T >= n_best_size.

    Returns:
      (start_index, end_index int32 [W, n*n], score float64 [W, n*n]); start i
      with end j at i * n + j (ties in the top-n: lower position first).
    """
    n = n_best_size
    start_values, start_index = tf.math.top_k(start_logits, k=n)
    end_values, end_index = tf.math.top_k(end_logits, k=n)
    start_index = tf.repeat(start_index, n, axis=1)
    start_values = tf.repeat(start_values, n, axis=1)
    end_index = tf.tile(end_index, [1, n])
    end_values = tf.tile(end_values, [1, n])
    score = tf.cast(start_values, tf.float64) + tf.cast(end_values, tf.float64)
    return start_index, end_index, score


def v2_candidates(outputs, end_n_top):
    """Official v2.0 candidates from `AlbertSquadV2` inference outputs.

    Args:
      outputs: dict with start_top_log_probs, start_top_index [W, start_n_top]
        and end_top_log_probs, end_top_index [W, start_n_top * end_n_top].
      end_n_top: Python int, ends per start.

    Returns:
      (start_index, end_index int32 [W, start_n_top * end_n_top], score float64).
    """
    start_index = tf.repeat(outputs["start_top_index"], end_n_top, axis=1)
    start_log_probs = tf.repeat(outputs["start_top_log_probs"], end_n_top, axis=1)
    score = (tf.cast(start_log_probs, tf.float64)
             + tf.cast(outputs["end_top_log_probs"], tf.float64))
    return start_index, outputs["end_top_index"], score


@tf.autograph.experimental.do_not_convert
def answer_text(contexts, start_char, end_char, has_answer):
    """Cuts answers out of the contexts, stripped of whitespace like `str.strip()`.

    Args:
      contexts: tf.string [B] (valid UTF-8).
      start_char, end_char: int [B], inclusive code point indices.
      has_answer: bool [B].

    Returns:
      (text tf.string [B], start int32 [B], end int32 [B]) with
      `context[start:end] == text` in Python code points; ("", -1, -1)
      without an answer.
    """
    start_char = tf.cast(start_char, tf.int32)
    length = tf.cast(end_char, tf.int32) - start_char + 1
    raw = tf.strings.substr(contexts, start_char, tf.maximum(length, 0), unit="UTF8_CHAR")
    space = unicode_tables.whitespace_class()
    left = tf.strings.regex_replace(raw, f"^{space}+", "")
    text = tf.strings.regex_replace(left, f"{space}+$", "")
    start = start_char + tf.strings.length(raw, unit="UTF8_CHAR") - tf.strings.length(
        left, unit="UTF8_CHAR")
    end = start + tf.strings.length(text, unit="UTF8_CHAR")
    minus_one = -tf.ones_like(start)
    return (tf.where(has_answer, text, ""), tf.where(has_answer, start, minus_one),
            tf.where(has_answer, end, minus_one))
