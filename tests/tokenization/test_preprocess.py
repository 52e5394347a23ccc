"""preprocess_text on hand-worked cases (official ALBERT semantics)."""

import pytest

from albert_tf.tokenization import preprocess_text


@pytest.mark.parametrize("text, expected", [
    ("  Hello \t world \n\n again  ", "Hello world again"),
    # Python's str.split() whitespace: NBSP, ideographic space, file separator.
    ("a\u00a0b\u3000c\x1cd", "a b c d"),
    # Zero-width space is not whitespace for str.split(); kept as is.
    ("a\u200bb", "a\u200bb"),
    ("", ""),
    (" \t\n ", ""),
])
def test_whitespace_is_collapsed_and_stripped(text, expected):
    assert preprocess_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Café", "Cafe"),
    ("naïve Ångström", "naive Angstrom"),
    ("Cafe\u0301", "Cafe"),                 # already decomposed accent
    ("\ufb01nance \ufb02ow", "finance flow"),  # fi / fl ligatures
    ("\u00bd", "1\u20442"),                   # VULGAR FRACTION ONE HALF -> 1⁄2
    ("x\u00b2 \u2460", "x2 1"),              # superscript two, circled one
    ("\uff28\uff45\uff4c\uff4c\uff4f", "Hello"),  # full-width letters
    ("\ud55c", "\u1112\u1161\u11ab"),        # Hangul syllable -> jamo
])
def test_nfkd_and_combining_marks_removed(text, expected):
    assert preprocess_text(text) == expected


def test_lower_case_is_applied_after_accent_removal():
    assert preprocess_text("ÉCOLE Straße", lower=True) == "ecole straße"
    assert preprocess_text("ÉCOLE", lower=False) == "ECOLE"
    # U+0130 decomposes to I + combining dot, which is dropped before lower().
    assert preprocess_text("\u0130stanbul", lower=True) == "istanbul"
    # Python's lower() gives final sigma (U+03C2) at the end of a word only.
    expected = "\u03bf\u03b4\u03bf\u03c2 \u03c3\u03b1\u03c2."
    assert preprocess_text("ΟΔΟΣ ΣΑΣ.", lower=True) == expected


def test_no_quote_replacement_unlike_xlnet():
    assert preprocess_text("``quoted''", lower=True) == "``quoted''"


def test_bytes_are_decoded_as_utf8():
    assert preprocess_text("Café  au lait".encode("utf-8"), lower=True) == "cafe au lait"
    # Undecodable bytes are dropped like the official convert_to_unicode.
    assert preprocess_text(b"a\xffb") == "ab"


def test_remove_space_false_keeps_spacing():
    assert preprocess_text("  a  b ", remove_space=False) == "  a  b "


def test_rejects_non_text():
    with pytest.raises(TypeError, match="str or bytes"):
        preprocess_text(12)
