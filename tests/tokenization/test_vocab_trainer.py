"""train_vocab / the vocab_trainer CLI on the real corpus."""

import subprocess
import sys

import pytest
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2
import tensorflow as tf

from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization import TFTokenizer
from albert_tf.tokenization import preprocess_text
from albert_tf.tokenization.vocab_trainer import train_vocab

OFFICIAL_FIRST_PIECES = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]",
                         "(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac"]


@pytest.fixture(scope="module")
def corpus_file(shared_data_dir):
    path = shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def trained_model(corpus_file, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("vocab") / "wiki2k"
    path = train_vocab(str(corpus_file), str(prefix), vocab_size=2000, seed=1)
    return path


def test_layout_matches_the_released_model(trained_model, spm_model_file):
    sp = spm.SentencePieceProcessor(model_file=trained_model)
    official = spm.SentencePieceProcessor(model_file=spm_model_file)
    assert sp.get_piece_size() == 2000
    assert [sp.id_to_piece(i) for i in range(13)] == OFFICIAL_FIRST_PIECES
    assert [official.id_to_piece(i) for i in range(13)] == OFFICIAL_FIRST_PIECES
    assert [sp.is_control(i) for i in (0, 2, 3, 4)] == [True] * 4
    assert sp.is_unknown(1)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(sp.serialized_model_proto())
    user_defined = sentencepiece_model_pb2.ModelProto.SentencePiece.USER_DEFINED
    assert [proto.pieces[i].type for i in range(5, 13)] == [user_defined] * 8
    assert proto.trainer_spec.model_type == proto.trainer_spec.UNIGRAM
    assert proto.trainer_spec.character_coverage == pytest.approx(0.99995)
    # The vocabulary depends on the thread count: the official 16 on every machine.
    assert proto.trainer_spec.num_threads == 16
    official_proto = sentencepiece_model_pb2.ModelProto()
    official_proto.ParseFromString(official.serialized_model_proto())
    assert official_proto.trainer_spec.num_threads == 16
    assert sp.bos_id() == -1 and sp.eos_id() == -1
    # Lower-cased training text: no upper-case pieces.
    pieces = [sp.id_to_piece(i) for i in range(13, 2000)]
    assert all(p == p.lower() for p in pieces)


def test_tokenizers_work_on_trained_model(trained_model, corpus_file):
    full = FullTokenizer(trained_model)
    assert (full.pad_id, full.unk_id, full.cls_id, full.sep_id, full.mask_id) == (
        0, 1, 2, 3, 4)
    lines = corpus_file.read_text(encoding="utf-8").split("\n")[::20]
    for line in lines[:50]:
        pieces = full.tokenize(line)
        decoded = full.sp_model.decode(full.convert_tokens_to_ids(pieces))
        # Lossless apart from characters dropped by character_coverage.
        if full.unk_id not in full.convert_tokens_to_ids(pieces):
            assert decoded == preprocess_text(line, lower=True)
    got = TFTokenizer(trained_model)(tf.constant(lines)).to_list()
    assert got == [full.encode(line) for line in lines]


def test_too_small_corpus_raises(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("a tiny corpus.\n\nwith two documents.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tiny\.txt.*too small for vocab_size=2000"):
        train_vocab(str(corpus), str(tmp_path / "m"), vocab_size=2000)


def test_bad_inputs_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_corpus"):
        train_vocab(str(tmp_path / "missing_corpus*.txt"), str(tmp_path / "m"))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="contain no text"):
        train_vocab(str(empty), str(tmp_path / "m"), vocab_size=100)
    with pytest.raises(ValueError, match="vocab_size"):
        train_vocab(str(empty), str(tmp_path / "m"), vocab_size=13)
    with pytest.raises(ValueError, match=r"character_coverage must be in \[0.98, 1\], got 1.5"):
        train_vocab(str(empty), str(tmp_path / "m"), vocab_size=100, character_coverage=1.5)
    with pytest.raises(IsADirectoryError, match="is a directory; give text files"):
        train_vocab(str(tmp_path), str(tmp_path / "m"), vocab_size=100)


def test_cli(corpus_file, tmp_path):
    lines = corpus_file.read_text(encoding="utf-8").split("\n")[:3000]
    small = tmp_path / "small.txt"
    small.write_text("\n".join(lines), encoding="utf-8")
    prefix = tmp_path / "out" / "cli"
    result = subprocess.run(
        [sys.executable, "-m", "albert_tf.tokenization.vocab_trainer",
         f"--input={small}", f"--model_prefix={prefix}", "--vocab_size=500",
         "--nodo_lower_case"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    assert sp.get_piece_size() == 500
    assert (tmp_path / "out" / "cli.vocab").read_text(encoding="utf-8").count("\n") == 500
    # Cased training text keeps upper-case pieces.
    assert any(sp.id_to_piece(i) != sp.id_to_piece(i).lower() for i in range(13, 500))
