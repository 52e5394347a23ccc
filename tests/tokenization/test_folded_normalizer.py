"""`fold_preprocessing`: SentencePiece alone, on raw text, gives `FullTokenizer` ids.

The reference is the official two-step pipeline (`preprocess_text`, then the
model's own `nmt_nfkc`); both sides run in the `sentencepiece` package, so a
difference is the folded map's, not a kernel's.
"""

import unicodedata

import hypothesis
import hypothesis.strategies as st
import pytest
import sentencepiece as spm

from albert_tf.tokenization import FullTokenizer, encode_ids, preprocess_text
from albert_tf.tokenization.folded_normalizer import fold_preprocessing

HAND_PICKED = ["In 1990, ΣΟΦΙΑ met Ångström at the Café (½ price), 23,000 €.",
               "  tabs\tand\u00a0nbsp\u3000and\u2028lines ", "", " ", "ﬁnance ① x²",
               "\u0130stanbul \u1e9e", "한국어 텍스트", "a\x00b", "e\u0301\u0301",
               "\u0301 starts with a mark", "a \u0301 b", "\u00a8x", "1,2,3, 4, 2019,",
               "Ｈｅｌｌｏ  Wörld", "a\u200bb\x1c c"]


@pytest.fixture(scope="module", params=[True, False], ids=["lower", "cased"])
def pipelines(request, spm_model_file):
    """(FullTokenizer, folded SentencePieceProcessor, original one, do_lower_case)."""
    with open(spm_model_file, "rb") as f:
        proto = f.read()
    folded = spm.SentencePieceProcessor(model_proto=fold_preprocessing(proto, request.param))
    return (FullTokenizer(spm_model_file, do_lower_case=request.param), folded,
            spm.SentencePieceProcessor(model_proto=proto), request.param)


def _assert_same_ids(full, folded, texts):
    bad = [t for t in texts if encode_ids(folded, t) != full.encode(t)]
    assert not bad, f"{len(bad)} of {len(texts)} texts differ, e.g. {bad[:3]!r}"


def test_every_corpus_line(pipelines, shared_data_dir):
    full, folded, _, _ = pipelines
    lines = (shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt").read_text(
        encoding="utf-8").split("\n")
    assert len(lines) > 16000 and sum(not line.isascii() for line in lines) > 1000
    _assert_same_ids(full, folded, lines)


def test_squad_contexts_and_questions(pipelines, squad_texts):
    full, folded, _, _ = pipelines
    texts = squad_texts
    assert len(texts) > 10000
    assert sum(preprocess_text(t) != t and not t.isascii() for t in texts) > 300
    _assert_same_ids(full, folded, texts)


def test_hand_picked_unicode(pipelines):
    full, folded, original, lower = pipelines
    _assert_same_ids(full, folded, HAND_PICKED)
    # Sequences that nmt_nfkc composes (the original map's longer keys): jamo
    # into a Hangul syllable, two Oriya vowel signs into one.
    for text in HAND_PICKED + ["\u1100\u1161\u11a8 x", "\u0b47\u0b3e", "Ḱ\u0301"]:
        assert folded.normalize(text) == original.normalize(preprocess_text(text, lower=lower))


# Code points whose result depends on a neighbour (the module docstring's known
# differences): capital sigma, and Hangul jamo and syllables.
_CONTEXT_DEPENDENT = ("\u03a3",) + tuple(chr(c) for c in range(0x1100, 0x1200)) + tuple(
    chr(c) for c in range(0xAC00, 0xD7A4))
_TEXT = st.text(alphabet=st.one_of(
    st.characters(exclude_categories=("Cs",), exclude_characters=_CONTEXT_DEPENDENT),
    st.sampled_from(list(" \t\n\u00a0\u3000,0123456789\u0391\u0301\u0345\u00e9\u0130"
                         "\u00bd\u00a8\u0663\u200b.-()"))), max_size=40)


@hypothesis.settings(max_examples=400, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(text=_TEXT)
def test_property_normalized_text_equals_the_two_step_pipeline(pipelines, text):
    """Stronger than equal ids: the very string SentencePiece segments is the same."""
    _, folded, original, lower = pipelines
    want = original.normalize(preprocess_text(text, lower=lower))
    assert folded.normalize(text) == want


def test_known_difference_final_sigma(pipelines):
    """Documented limit: one key at a time cannot see that a sigma ends a word."""
    full, folded, original, lower = pipelines
    if not lower:
        pytest.skip("final sigma is a lower-casing rule")
    assert preprocess_text("ΟΔΟΣ", lower=True) == "οδος"
    assert folded.normalize("ΟΔΟΣ") == original.normalize("οδοσ")
    # Neither sigma is a piece of the official vocabulary: the ids agree.
    assert encode_ids(folded, "ΟΔΟΣ") == full.encode("ΟΔΟΣ")
    assert unicodedata.name("ς") == "GREEK SMALL LETTER FINAL SIGMA"


def test_only_the_normalizer_changes(spm_model_file):
    from sentencepiece import sentencepiece_model_pb2
    with open(spm_model_file, "rb") as f:
        proto = f.read()
    before, after = (sentencepiece_model_pb2.ModelProto() for _ in range(2))
    before.ParseFromString(proto)
    after.ParseFromString(fold_preprocessing(proto))
    assert list(after.pieces) == list(before.pieces)
    assert after.trainer_spec == before.trainer_spec
    assert after.normalizer_spec.name == "albert_preprocess_text+nmt_nfkc"
    assert after.normalizer_spec.precompiled_charsmap != before.normalizer_spec.precompiled_charsmap
    for flag in ("add_dummy_prefix", "remove_extra_whitespaces", "escape_whitespaces"):
        assert getattr(after.normalizer_spec, flag) == getattr(before.normalizer_spec, flag)
