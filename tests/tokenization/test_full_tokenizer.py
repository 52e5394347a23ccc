"""FullTokenizer, encode_pieces / encode_ids against the official model."""

import json
import pickle

import pytest

from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization import SPIECE_UNDERLINE
from albert_tf.tokenization import encode_ids
from albert_tf.tokenization import encode_pieces
from albert_tf.tokenization import preprocess_text


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.fixture(scope="module")
def expected_cases(shared_data_dir):
    path = shared_data_dir / "albert_spm" / "albert_base_v2_tokenizer_expected.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return json.loads(path.read_text(encoding="utf-8"))


def test_special_ids_and_vocab(tokenizer):
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id,
            tokenizer.mask_id) == (0, 1, 2, 3, 4)
    assert tokenizer.vocab_size == 30000
    assert [tokenizer.inv_vocab[i] for i in range(5)] == [
        "<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert tokenizer.vocab["▁this"] == 48 and tokenizer.vocab["▁test"] == 1289
    assert len(tokenizer.vocab) == 30000


def test_transformers_albert_base_v2_integration_ids(tokenizer, expected_cases):
    assert expected_cases["preprocessing"]["do_lower_case"] is True
    cases = expected_cases["integration_cases"]
    assert len(cases) == 3
    for case in cases:
        pieces = tokenizer.tokenize(case["text"])
        assert pieces == case["expected_pieces"]
        ids = [tokenizer.cls_id] + tokenizer.encode(case["text"]) + [tokenizer.sep_id]
        assert ids == case["expected_input_ids_with_cls_sep"]
        assert tokenizer.convert_tokens_to_ids(pieces) == ids[1:-1]
        assert tokenizer.convert_ids_to_tokens(ids[1:-1]) == pieces


def test_transformers_keep_accents_cases(tokenizer, expected_cases):
    # keep_accents=True in transformers means: lower-case, no NFKD.
    for case in expected_cases["keep_accents_cases"]:
        text = case["text"].lower()
        assert encode_pieces(tokenizer.sp_model, text) == case["expected_pieces"]
        assert encode_ids(tokenizer.sp_model, text) == case["expected_ids"]
        assert tokenizer.encode(text, preprocess=False) == case["expected_ids"]


def test_tokenize_preprocesses_unless_told_not_to(tokenizer):
    # "é" is not in the vocabulary; preprocessing turns it into "e".
    assert tokenizer.tokenize("Café") == tokenizer.sp_model.encode("cafe", out_type=str)
    raw = tokenizer.tokenize("café", preprocess=False)
    assert tokenizer.unk_id in tokenizer.convert_tokens_to_ids(raw)
    assert tokenizer.tokenize("Hello", preprocess=False) != tokenizer.tokenize("Hello")


def test_digit_comma_rule_on_official_model(official_sp):
    sp = official_sp
    text = preprocess_text("In 1990, the pages 12,13, and 5, 6,", lower=True)
    raw = sp.encode(text, out_type=str)
    # The raw SentencePiece output glues numbers to their comma.
    assert raw == ["▁in", "▁1990,", "▁the", "▁pages", "▁12,", "13", ",", "▁and",
                   "▁5,", "▁6,"]
    expected = (["▁in"] + sp.encode("1990", out_type=str) + [","] + ["▁the", "▁pages"]
                + sp.encode("12", out_type=str) + [","] + ["13", ",", "▁and"]
                + sp.encode("5", out_type=str) + [","] + sp.encode("6", out_type=str)
                + [","])
    assert expected == ["▁in", "▁1990", ",", "▁the", "▁pages", "▁12", ",", "13", ",",
                        "▁and", "▁5", ",", "▁6", ","]
    assert encode_pieces(sp, text) == expected
    # The official signature: (sp_model, text, return_unicode=True, sample=False).
    assert encode_pieces(sp, text, False) == encode_pieces(sp, text, return_unicode=False) \
        == expected
    assert encode_ids(sp, text) == [sp.piece_to_id(p) for p in expected]


def test_digit_comma_rule_without_word_start(digit_comma_model_file):
    tokenizer = FullTokenizer(digit_comma_model_file)
    sp = tokenizer.sp_model
    assert sp.encode("x90, the", out_type=str) == ["▁x", "90,", "▁the"]
    # "90" re-encodes as "▁90"; the original had no "▁", so it is dropped.
    assert sp.encode("90", out_type=str) == ["▁90"]
    assert tokenizer.tokenize("x90, the") == ["▁x", "90", ",", "▁the"]
    # "\u0663" re-encodes as "▁" + unknown; the bare "▁" piece is dropped.
    assert sp.encode("x\u0663, the", out_type=str) == ["▁x", "\u0663,", "▁the"]
    assert sp.encode("\u0663", out_type=str) == [SPIECE_UNDERLINE, "\u0663"]
    assert tokenizer.tokenize("x\u0663, the") == ["▁x", "\u0663", ",", "▁the"]
    assert tokenizer.encode("x\u0663, the") == [
        sp.piece_to_id("▁x"), tokenizer.unk_id, sp.piece_to_id(","), sp.piece_to_id("▁the")]


def test_sampling_gives_valid_pieces(tokenizer):
    text = "the quick brown fox jumps over the lazy dog in 1990, twice"
    for _ in range(5):
        pieces = tokenizer.tokenize(text, sample=True)
        assert "".join(pieces).replace(SPIECE_UNDERLINE, " ").strip() == text


def test_pickle_round_trip(tokenizer):
    clone = pickle.loads(pickle.dumps(tokenizer))
    text = "Pickled tokenizers work in worker processes, since 2019."
    assert clone.encode(text) == tokenizer.encode(text)
    assert clone.do_lower_case and clone.mask_id == 4
    assert clone.spm_model_file == tokenizer.spm_model_file


def test_missing_model_file_names_path(tmp_path):
    missing = tmp_path / "nope" / "30k-clean.model"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        FullTokenizer(str(missing))


def test_garbage_model_file_names_path(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(ValueError, match="bad.model"):
        FullTokenizer(str(bad))


def test_model_without_cls(no_cls_model_file):
    with pytest.raises(ValueError, match=r"no_cls\.model.*\[CLS\]"):
        FullTokenizer(no_cls_model_file)
    tokenizer = FullTokenizer(no_cls_model_file, require_special_tokens=False)
    assert tokenizer.cls_id is None
    assert (tokenizer.sep_id, tokenizer.mask_id) == (3, 4)


def test_convert_ids_to_tokens_rejects_out_of_range(tokenizer):
    with pytest.raises(IndexError, match="30000"):
        tokenizer.convert_ids_to_tokens([30000])
