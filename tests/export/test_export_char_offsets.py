"""In-graph piece -> original character spans (`albert_tf.export.char_offsets`).

References: the Python tokenizer's ids, the Python alignment
(`squad_alignment.piece_char_spans`) and hand-worked spans.
"""

import glob
import json

import numpy as np
import pytest
import tensorflow as tf
from sentencepiece import sentencepiece_model_pb2

from albert_tf.tasks.squad import alignment as squad_alignment
from albert_tf.export.char_offsets import PieceOffsets
from albert_tf.tokenization import FullTokenizer, TFTokenizer, preprocess_text


@pytest.fixture(scope="module")
def offsets(spm_model_file):
    piece_offsets = PieceOffsets(TFTokenizer(spm_model_file, do_lower_case=True))
    return tf.function(piece_offsets, input_signature=[tf.TensorSpec([None], tf.string)],
                       autograph=False)


def _run(function, texts, batch_size=256):
    """-> list of (cleaned text, ids, starts, ends) per text."""
    rows = []
    for i in range(0, len(texts), batch_size):
        out = function(tf.constant(texts[i:i + batch_size]))
        rows += zip([t.decode("utf-8") for t in out["texts"].numpy()], out["ids"].to_list(),
                    out["start_chars"].to_list(), out["end_chars"].to_list())
    return rows


def _python_spans(tokenizer, text):
    pieces = tokenizer.tokenize(text)
    starts, ends = squad_alignment.piece_char_spans(pieces, text, tokenizer.do_lower_case)
    return tokenizer.convert_tokens_to_ids(pieces), starts, ends


def test_every_squad_context_matches_the_python_tokenizer_and_alignment(
        offsets, spm_model_file, shared_data_dir):
    contexts = set()
    for path in glob.glob(str(shared_data_dir / "squad" / "*" / "*.json")):
        with open(path) as f:
            for article in json.load(f)["data"]:
                contexts.update(p["context"] for p in article["paragraphs"])
    contexts = sorted(contexts)
    assert len(contexts) > 2000
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    different = []
    for context, (_, ids, starts, ends) in zip(contexts, _run(offsets, contexts)):
        python_ids, python_starts, python_ends = _python_spans(tokenizer, context)
        assert ids == python_ids, context[:80]  # Word-by-word tokenization = whole text.
        if (starts, ends) != (python_starts, python_ends):
            different.append(context)
    # One context differs: around "\ufeff / \ufeff" the Python alignment's
    # resynchronisation gives the piece "/" the span "\ufeff / \ufeff"; here it
    # gets "/" alone.
    assert len(different) == 1 and "\ufeff / \ufeff" in different[0]


TORTURE = [
    "Café  au\tlait",                # accents, collapsed whitespace
    "  (x) leading spaces",          # lone "▁" at the start, text starts with spaces
    "“Résumé” 東京abc京都",            # unknown pieces (curly quotes, kanji runs)
    "In 1990, 2,000 people came.",   # digit-comma rule
    "ΣΟΦΟΣ Σίσυφος",                 # final sigma, all-unknown words
    "ﬁnd … x ¨y",                    # NFKD expansions, a spacing diaeresis
    "a\u200bb c\u00a0d",             # characters SentencePiece reads as spaces
    "tab\x01bed control",            # a character SentencePiece deletes
    "한국어 텍스트",                     # Hangul: NFKD jamo, recomposed by SentencePiece
    "",
    "   ",
]


def test_torture_texts_match_the_python_alignment(offsets, spm_model_file):
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    for text, (cleaned, ids, starts, ends) in zip(TORTURE, _run(offsets, TORTURE)):
        assert cleaned == text
        python_ids, python_starts, python_ends = _python_spans(tokenizer, text)
        assert ids == python_ids, text
        if text == "한국어 텍스트":
            # The Python alignment loses track here (its last three spans are
            # all "한국어 텍스트"); here each unknown piece covers its own word.
            pieces = [text[s:e + 1] for s, e in zip(starts, ends)]
            assert pieces == ["한", "한국어", " ", "텍스트"]
            continue
        assert (starts, ends) == (python_starts, python_ends), text


def test_hand_worked_spans(offsets):
    (_, _, starts, ends), = _run(offsets, ["“Résumé” 東京abc京都"])
    # Pieces: ▁ “ re s ume ” ▁ 東京 abc 京都 ("“", "”" and the kanji are
    # unknown to the vocabulary; each run of them is one unknown piece).
    assert list(zip(starts, ends)) == [(0, 0), (0, 0), (1, 2), (3, 3), (4, 6), (7, 7),
                                       (8, 8), (9, 10), (11, 13), (14, 15)]
    (_, _, starts, ends), = _run(offsets, ["Café  au\tlait"])
    text = "Café  au\tlait"
    assert [text[s:e + 1] for s, e in zip(starts, ends)] == ["Café", "au", "la", "it"]


def test_bytes_that_are_not_utf8_are_dropped(offsets, spm_model_file):
    (cleaned, ids, starts, ends), = _run(offsets, [b"ab\xffcd \xc3 caf\xc3\xa9"])
    assert cleaned == "abcd  café"
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    assert ids == tokenizer.encode(cleaned)
    assert cleaned[starts[-1]:ends[-1] + 1].endswith("é")


def test_spans_reproduce_each_piece(offsets, spm_model_file, shared_data_dir):
    """Property: a piece's span, preprocessed, is the piece (known pieces, real text)."""
    with open(shared_data_dir / "squad" / "v2.0" / "dev-v2.0.3articles.json") as f:
        contexts = [p["context"] for a in json.load(f)["data"] for p in a["paragraphs"]]
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    checked = 0
    for text, ids, starts, ends in _run(offsets, contexts):
        for piece_id, start, end in zip(ids, starts, ends):
            piece = tokenizer.inv_vocab[piece_id].lstrip("\u2581")
            if piece_id == tokenizer.unk_id or not piece:
                continue
            assert preprocess_text(text[start:end + 1], lower=True) == piece
            checked += 1
    assert checked > 10000


def test_cased_model_offsets(spm_model_file, shared_data_dir):
    offsets = PieceOffsets(TFTokenizer(spm_model_file, do_lower_case=False))
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=False)
    with open(shared_data_dir / "squad" / "v2.0" / "dev-v2.0.3articles.json") as f:
        contexts = [p["context"] for a in json.load(f)["data"] for p in a["paragraphs"]]
    # Without the one context where the Python alignment is looser (see above).
    contexts = [c for c in contexts if "\ufeff" not in c] + [" Leading space", "Café Zürich"]
    out = offsets(tf.constant(contexts))
    for i, context in enumerate(contexts):
        ids, starts, ends = _python_spans(tokenizer, context)
        assert out["ids"][i].numpy().tolist() == ids
        assert out["start_chars"][i].numpy().tolist() == starts
        assert out["end_chars"][i].numpy().tolist() == ends


def test_words_whose_pieces_do_not_add_up_get_whole_word_spans(spm_model_file, tmp_path):
    """With a vocabulary where SentencePiece's NFKC builds a known piece ("가"
    from the two jamo preprocessing leaves), lengths cannot be matched: every
    piece of that word gets the whole word."""
    proto = sentencepiece_model_pb2.ModelProto()
    with open(spm_model_file, "rb") as f:
        proto.ParseFromString(f.read())
    piece = proto.pieces.add()
    piece.piece = "\uac00"  # 가
    piece.score = 0.0
    model_file = tmp_path / "with_hangul.model"
    model_file.write_bytes(proto.SerializeToString())
    tokenizer = FullTokenizer(str(model_file))
    text = "\uac00ab ok"
    assert tokenizer.tokenize(text)[:2] == ["\u2581", "\uac00"]
    out = PieceOffsets(TFTokenizer(str(model_file)))(tf.constant([text]))
    ids = out["ids"][0].numpy().tolist()
    assert ids == tokenizer.encode(text)
    spans = list(zip(out["start_chars"][0].numpy(), out["end_chars"][0].numpy()))
    assert spans[:-1] == [(0, 2)] * (len(ids) - 1)  # The word "가ab".
    assert spans[-1] == (4, 5)  # "ok"
    assert np.all(np.diff(out["start_chars"][0].numpy()) >= 0)
