"""TFTokenizer == FullTokenizer: real corpus, SQuAD, hypothesis, tf.data, SavedModel."""

import json
import subprocess
import sys
import textwrap

import hypothesis
import hypothesis.strategies as st
import pytest
import tensorflow as tf

from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization import TFTokenizer
from albert_tf.tokenization import preprocess_text
from albert_tf.tokenization.tf_preprocess import preprocess_text_graph


@pytest.fixture(scope="module", params=[True, False], ids=["lower", "cased"])
def tokenizers(request, spm_model_file):
    return (FullTokenizer(spm_model_file, do_lower_case=request.param),
            TFTokenizer(spm_model_file, do_lower_case=request.param))


@pytest.fixture(scope="module")
def lower_tokenizers(spm_model_file):
    return FullTokenizer(spm_model_file), TFTokenizer(spm_model_file)


_COMPILED = {}


def _compiled(tf_tokenizer):
    """A traced `tf_tokenizer.tokenize` (graph mode, as in tf.data / SavedModels)."""
    if id(tf_tokenizer) not in _COMPILED:
        _COMPILED[id(tf_tokenizer)] = tf.function(
            tf_tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    return _COMPILED[id(tf_tokenizer)]


def _batched(tf_tokenizer, texts, batch_size=4096):
    out = []
    for i in range(0, len(texts), batch_size):
        out.extend(tf_tokenizer(tf.constant(texts[i:i + batch_size])).to_list())
    return out


def _assert_same_ids(full, tf_tokenizer, texts):
    got = _batched(tf_tokenizer, texts)
    mismatches = [(t, g, full.encode(t)) for t, g in zip(texts, got) if g != full.encode(t)]
    assert not mismatches, f"{len(mismatches)} of {len(texts)} differ, e.g. {mismatches[:3]}"


def test_every_corpus_line(tokenizers, shared_data_dir):
    path = shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert len(lines) > 16000
    assert sum(not line.isascii() for line in lines) > 1000
    _assert_same_ids(*tokenizers, lines)


def test_squad_contexts_and_questions(lower_tokenizers, squad_texts):
    texts = squad_texts
    accented = [t for t in texts if preprocess_text(t) != t and not t.isascii()]
    assert len(texts) > 10000 and len(accented) > 300
    _assert_same_ids(*lower_tokenizers, texts)


def test_hand_picked_unicode(tokenizers):
    texts = ["In 1990, ΣΟΦΙΑ ΟΔΟΣ met Ångström at the Café (½ price), 23,000 €.",
             "  tabs\tand\u00a0nbsp\u3000and\u2028lines ", "", " ", "ﬁnance ① x²",
             "\u0130stanbul \u1e9e", "한국어 텍스트", "a\x00b", "e\u0301\u0301",
             "ΑΣ\u0301 Σ\u0345Α Σ", "1,2,3, 4, 2019,"]
    _assert_same_ids(*tokenizers, texts)


def test_preprocess_graph_equals_python(tokenizers):
    full, tf_tokenizer = tokenizers
    texts = ["ΟΔΟΣ ΣΑΣ.", "Ｈｅｌｌｏ  Wörld", "a\u200bb\x1c c", "Straße İ"]
    got = [t.decode("utf-8") for t in tf_tokenizer.preprocess(tf.constant(texts)).numpy()]
    assert got == [full.preprocess(t) for t in texts]


def test_invalid_utf8_bytes_dropped_like_python():
    texts = [b"a\xffb", b"caf\xc3\xa9\xc3", b"\xe2\x82x"]
    got = preprocess_text_graph(tf.constant(texts), lower=True).numpy().tolist()
    assert got == [preprocess_text(t, lower=True).encode("utf-8") for t in texts]


_COMPILED_PREPROCESS = {
    lower: tf.function(lambda texts, lower=lower: preprocess_text_graph(texts, lower=lower),
                       input_signature=[tf.TensorSpec([None], tf.string)])
    for lower in (True, False)}

_SPECIAL_CHARS = list(" \t\n\u00a0\u3000,0123456789eE5\u03a3\u0391\u0301\u0345\u00e9"
                      "\u0130\u00bd\ud55c\u0663\u200b.-()")


def _is_score_tie(sp_model, text):
    """True when the two best segmentations score the same up to float rounding."""
    best = sp_model.nbest_encode(text, nbest_size=2, return_type="proto").nbests
    return len(best) == 2 and abs(best[0].score - best[1].score) <= 1e-4 * max(
        1.0, abs(best[0].score))


_UNICODE_TEXT = st.one_of(
    # Every code point but lone surrogates (which no UTF-8 string can hold):
    # the in-graph Unicode tables come from this Python, so no restriction to
    # code points assigned in some other Unicode version is needed.
    st.text(alphabet=st.one_of(st.characters(exclude_categories=("Cs",)),
                               st.sampled_from(_SPECIAL_CHARS)),
            max_size=40),
    # Final-sigma contexts: cased letters, case-ignorable ones (' . U+00AD
    # U+0301 U+0345) and capital sigma.
    st.text(alphabet="\u03a3\u0391\u03c3Aa1 '.\u00ad\u0301\u0345", max_size=12))


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(texts=st.lists(_UNICODE_TEXT, min_size=1, max_size=8),
                  lower=st.booleans())
def test_property_preprocess_graph_equals_python(texts, lower):
    got = _COMPILED_PREPROCESS[lower](tf.constant(texts)).numpy().tolist()
    assert [g.decode("utf-8") for g in got] == [preprocess_text(t, lower=lower)
                                                 for t in texts]


@hypothesis.settings(max_examples=200, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(texts=st.lists(_UNICODE_TEXT, min_size=1, max_size=8))
def test_property_arbitrary_unicode(tokenizers, texts):
    # The only documented difference is a SentencePiece score tie (see
    # TFTokenizer's docstring); such inputs are skipped. Ties are rare enough
    # not to trip Hypothesis' filter health check.
    full, tf_tokenizer = tokenizers
    hypothesis.assume(not any(_is_score_tie(full.sp_model, full.preprocess(t))
                              for t in texts))
    got = _compiled(tf_tokenizer)(tf.constant(texts)).to_list()
    assert got == [full.encode(t) for t in texts]


def test_digit_comma_rule_in_graph(digit_comma_model_file):
    full = FullTokenizer(digit_comma_model_file)
    tf_tokenizer = TFTokenizer(digit_comma_model_file)
    texts = ["x90, the", "x\u0663, the", "In 1990, 12,13, 5, 6,", "1990,"]
    _assert_same_ids(full, tf_tokenizer, texts)
    assert tf_tokenizer(["x\u0663, the"]).to_list()[0][1:3] == [1, full.vocab[","]]


def test_digit_comma_rule_in_the_litert_tokenizer(digit_comma_model_file):
    """The raw-text .tflite's tokenizer (`export.litert_text`) applies the same rule."""
    from albert_tf.export.litert_text import LiteRTTextTokenizer

    full = FullTokenizer(digit_comma_model_file)
    texts = ["x90, the", "x\u0663, the", "In 1990, 12,13, 5, 6,", "1990,", "", "90,90,"]
    flat, row_splits = LiteRTTextTokenizer(digit_comma_model_file).tokenize(tf.constant(texts))
    got = tf.RaggedTensor.from_row_splits(flat, row_splits).to_list()
    assert got == [full.encode(t) for t in texts]
    assert got[1][1:3] == [1, full.vocab[","]]


def test_inside_tf_data_map(lower_tokenizers, shared_data_dir):
    full, tf_tokenizer = lower_tokenizers
    path = shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt"
    lines = path.read_text(encoding="utf-8").split("\n")[:500]
    dataset = (tf.data.Dataset.from_tensor_slices(lines).batch(64)
               .map(lambda t: tf_tokenizer.pack([tf_tokenizer(t)], 32)))
    got = [row for batch in dataset for row in batch["input_ids"].numpy().tolist()]
    expected = []
    for line in lines:
        ids = [2] + full.encode(line)[:30] + [3]
        expected.append(ids + [0] * (32 - len(ids)))
    assert got == expected


def test_saved_model_loads_with_only_tensorflow_text(lower_tokenizers, tmp_path):
    full, tf_tokenizer = lower_tokenizers

    class Exported(tf.Module):

        def __init__(self, tokenizer):
            super().__init__()
            self.tokenizer = tokenizer

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string),
                                      tf.TensorSpec([None], tf.string)])
        def encode_pair(self, first, second):
            ids = self.tokenizer(first)
            features = self.tokenizer.pack([ids, self.tokenizer(second)], 24)
            features["first_ids"] = ids.flat_values
            features["first_row_splits"] = ids.row_splits
            return features

    module = Exported(tf_tokenizer)
    export_dir = tmp_path / "tokenizer_savedmodel"
    tf.saved_model.save(module, str(export_dir),
                        signatures={"serving_default": module.encode_pair})

    first = ["In 1990, ΣΟΦΙΑ met the Café owner.", "hello"]
    second = ["Ångström's ½ price.", "a b c d e f g h i j k l m n o p q r s t u v w x"]
    script = textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf
        import tensorflow_text  # registers the SentencePiece kernels
        assert not any(m.startswith("albert_tf") for m in sys.modules)
        loaded = tf.saved_model.load({str(export_dir)!r})
        packed = loaded.signatures["serving_default"](
            first=tf.constant({first!r}), second=tf.constant({second!r}))
        ids = tf.RaggedTensor.from_row_splits(
            packed.pop("first_ids"), packed.pop("first_row_splits")).to_list()
        print(json.dumps({{"ids": ids,
                          "packed": {{k: v.numpy().tolist() for k, v in packed.items()}},
                          "modules": [m for m in sys.modules if m.startswith("albert")]}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=300, cwd=str(tmp_path),
                            env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["modules"] == []
    assert out["ids"] == [full.encode(t) for t in first]
    expected_ids = []
    for a, b in zip(first, second):
        ids_a, ids_b = full.encode(a), full.encode(b)
        while len(ids_a) + len(ids_b) > 21:
            (ids_a if len(ids_a) > len(ids_b) else ids_b).pop()
        ids = [2] + ids_a + [3] + ids_b + [3]
        expected_ids.append(ids + [0] * (24 - len(ids)))
    assert out["packed"]["input_ids"] == expected_ids


def test_rejects_bad_input(lower_tokenizers):
    _, tf_tokenizer = lower_tokenizers
    with pytest.raises(TypeError, match="tf.string"):
        tf_tokenizer(tf.constant([1, 2]))
    with pytest.raises(ValueError, match=r"\[batch\]"):
        tf_tokenizer(tf.constant([["a"]]))


def test_bad_model_files(tmp_path, no_cls_model_file):
    missing = tmp_path / "missing.model"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        TFTokenizer(str(missing))
    with pytest.raises(ValueError, match=r"no_cls\.model.*\[CLS\]"):
        TFTokenizer(no_cls_model_file)
