"""Character alignment between SentencePiece pieces and the original context."""

import hypothesis
from hypothesis import strategies as st
import pytest

from albert_tf.tasks.squad import alignment as squad_alignment
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization import preprocess_text

LETTERS = st.text(alphabet="abcdefghij", min_size=3, max_size=40)


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


def test_identity_and_spaces():
    assert squad_alignment.align("abc d", "abc d") == [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
    # Spaces without a counterpart on either side are skipped.
    assert squad_alignment.align("a  b", " a b") == [None, (0, 0), (1, 1), (3, 3)]
    assert squad_alignment.align("ab", "a  b") == [(0, 0), None, None, (1, 1)]


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(prefix=LETTERS, suffix=LETTERS,
                  old=st.text(alphabet="01234", max_size=50),
                  new=st.text(alphabet="56789", max_size=50))
def test_substitutions_keep_the_rest_exact(prefix, suffix, old, new):
    # a = X S1 Y, b = X S2 Y with S1, S2 over disjoint alphabets: X and Y must map
    # exactly; S2 maps into S1's range (or nowhere), including > 32 chars (difflib).
    a, b = prefix + old + suffix, prefix + new + suffix
    b_to_a = squad_alignment.align(a, b)
    for j in range(len(prefix)):
        assert b_to_a[j] == (j, j)
    for k in range(len(suffix)):
        i = len(prefix) + len(old) + k
        assert b_to_a[len(prefix) + len(new) + k] == (i, i)
    for j in range(len(prefix), len(prefix) + len(new)):
        if b_to_a[j] is not None:
            first, last = b_to_a[j]
            assert len(prefix) <= first <= last < len(prefix) + len(old)


TEXT = st.text(alphabet=list("abcXYZ éüÅß东京Ωﬁ…½,.;'\"()-\t\n\u00a0\u200b\ufeff0123"),
               max_size=80)


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(context=TEXT)
def test_piece_spans_are_ordered_and_exact_for_plain_pieces(tokenizer, context):
    pieces = tokenizer.tokenize(context)
    starts, ends = squad_alignment.piece_char_spans(pieces, context, lower=True)
    assert len(starts) == len(ends) == len(pieces)
    for t, (piece, start, end) in enumerate(zip(pieces, starts, ends)):
        assert 0 <= start <= end < len(context)
        if t:
            assert starts[t - 1] <= start and ends[t - 1] <= end
        body = piece.lstrip("\u2581")
        if body and body.isascii() and body.isalnum():
            span = context[start:end + 1]
            if span.isascii():
                assert span.lower() == body
            else:  # e.g. "1" of "½" (NFKD "1⁄2") or "fi" of "ﬁ"
                assert body in preprocess_text(span, lower=True)


def test_char_span_to_token_span():
    # Tokens "ab" [0,1], "cd" [3,4], "e" [5,5] of "ab cde".
    starts, ends = [0, 3, 5], [1, 4, 5]
    assert squad_alignment.char_span_to_token_span(starts, ends, 3, 5) == (1, 2)
    assert squad_alignment.char_span_to_token_span(starts, ends, 1, 3) == (0, 1)
    assert squad_alignment.char_span_to_token_span(starts, ends, 2, 2) is None  # the space
