"""Maps SentencePiece pieces of a context back to characters of the ORIGINAL text.

The pieces come from preprocessed text (whitespace collapsed, NFKD, accents
dropped, maybe lower-cased) and SentencePiece's own normalisation, so their
characters are not those of the context. The official code aligns the two with
a banded LCS. Here each original character is preprocessed on its own (as the
official LCS compares them), remembering which original character every
normalised character came from; the concatenated pieces are then aligned to
that normalised text by a two-pointer walk that skips spaces and resynchronises
after the rare substitutions (e.g. a dropped U+FEFF), falling back to difflib
for anything stranger. Every piece gets the inclusive span of original
characters it covers, without the space its "▁" stands for.
"""

import difflib
import functools

from albert_tf.tokenization import preprocess_text

SPIECE_UNDERLINE = "\u2581"
_RESYNC_WINDOW = 32  # Largest skip tried by the two-pointer walk.
_RESYNC_MATCH = 3  # Characters that must agree after a skip.


@functools.lru_cache(maxsize=65536)
def _normalize_char(char, lower):
    if char.isspace():
        return " "
    return preprocess_text(char, remove_space=False, lower=lower)


def normalize_with_offsets(text, lower):
    """Per-character preprocessing of `text`.

    Returns:
      (normalized, norm_to_orig): the normalised text and, for each of its
      characters, the index of the original character it came from.
    """
    pieces, norm_to_orig = [], []
    for i, char in enumerate(text):
        normalized = _normalize_char(char, lower)
        pieces.append(normalized)
        norm_to_orig.extend([i] * len(normalized))
    return "".join(pieces), norm_to_orig


def _resync(a, b, i, j):
    """Smallest (di, dj) after which a and b agree again, or None."""
    for total in range(1, 2 * _RESYNC_WINDOW + 1):
        for di in range(max(0, total - _RESYNC_WINDOW), min(total, _RESYNC_WINDOW) + 1):
            dj = total - di
            ii, jj = i + di, j + dj
            if ii > len(a) or jj > len(b):
                continue
            n = min(_RESYNC_MATCH, len(a) - ii, len(b) - jj)
            if n == 0:
                if ii == len(a) and jj == len(b):
                    return di, dj
                continue
            if a[ii:ii + n] == b[jj:jj + n] and (n == _RESYNC_MATCH or (
                    ii + n == len(a) and jj + n == len(b))):
                return di, dj
    return None


def align(a, b):
    """Aligns string `b` to string `a`.

    Returns:
      list over positions of `b` of (first, last) positions of `a` (inclusive)
      that the character stands for, or None where it has no counterpart.
    """
    b_to_a = [None] * len(b)
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            b_to_a[j] = (i, i)
            i += 1
            j += 1
        elif b[j] == " ":
            j += 1
        elif a[i] == " ":
            i += 1
        else:
            step = _resync(a, b, i, j)
            if step is None:
                matcher = difflib.SequenceMatcher(None, a[i:], b[j:], autojunk=False)
                for block in matcher.get_matching_blocks():
                    for k in range(block.size):
                        b_to_a[j + block.b + k] = (i + block.a + k, i + block.a + k)
                break
            di, dj = step
            if di and dj:  # A substitution: each replaced char stands for the whole range.
                for k in range(j, j + dj):
                    b_to_a[k] = (i, i + di - 1)
            i += di
            j += dj
    return b_to_a


def piece_char_spans(pieces, context_text, lower):
    """Original-character span of every piece.

    Args:
      pieces: SentencePiece pieces of `preprocess_text(context_text, lower=lower)`.
      context_text: the original context.
      lower: whether preprocessing lower-cased.

    Returns:
      (tok_start_to_orig_index, tok_end_to_orig_index): lists of inclusive
      character indices into `context_text`, non-decreasing. A piece that
      matches no character (very rare) gets an empty-looking span at the start
      of the next piece.
    """
    normalized, norm_to_orig = normalize_with_offsets(context_text, lower)
    piece_texts = [p.replace(SPIECE_UNDERLINE, " ") for p in pieces]
    cat_text = "".join(piece_texts)
    cat_to_norm = align(normalized, cat_text)

    starts, ends = [], []
    pos = 0
    for text in piece_texts:
        spans = [cat_to_norm[k] for k in range(pos, pos + len(text))
                 if cat_to_norm[k] is not None and cat_text[k] != " "]
        if not spans:  # A lone "▁" (or other space-only piece): use the space itself.
            spans = [cat_to_norm[k] for k in range(pos, pos + len(text))
                     if cat_to_norm[k] is not None]
        pos += len(text)
        if spans:
            starts.append(norm_to_orig[min(s for s, _ in spans)])
            ends.append(norm_to_orig[max(e for _, e in spans)])
        else:
            starts.append(None)
            ends.append(None)

    # Fill unmatched pieces from their neighbours, keeping spans ordered.
    next_start = len(context_text) - 1 if context_text else 0
    for t in reversed(range(len(starts))):
        if starts[t] is None:
            starts[t] = ends[t] = next_start
        next_start = starts[t]
    for t in range(1, len(starts)):
        if starts[t] < starts[t - 1]:
            starts[t] = starts[t - 1]
        if ends[t] < ends[t - 1]:
            ends[t] = ends[t - 1]
        if ends[t] < starts[t]:
            ends[t] = starts[t]
    return starts, ends


def char_span_to_token_span(tok_start_to_orig_index, tok_end_to_orig_index,
                            char_start, char_end):
    """Tokens covering original characters [char_start, char_end] (inclusive).

    Returns:
      (start_token, end_token), or None when no token covers any of them.
    """
    start_token = end_token = None
    for t, end in enumerate(tok_end_to_orig_index):
        if end >= char_start:
            start_token = t
            break
    for t in reversed(range(len(tok_start_to_orig_index))):
        if tok_start_to_orig_index[t] <= char_end:
            end_token = t
            break
    if start_token is None or end_token is None or start_token > end_token:
        return None
    return start_token, end_token
