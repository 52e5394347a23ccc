"""Fixtures for the tokenization tests: variants of the official SentencePiece model."""

import pytest
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2

# Pieces added to the official model so the digit-comma rule meets pieces that
# do not start with "▁" (the released vocabulary has none): "90," re-encodes
# as "▁90" and "\u0663," (ARABIC-INDIC DIGIT THREE) as "▁" + unknown.
EXTRA_DIGIT_COMMA_PIECES = ("90,", "\u0663,")


def _load_proto(path):
    proto = sentencepiece_model_pb2.ModelProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return proto


@pytest.fixture(scope="session")
def official_sp(spm_model_file):
    return spm.SentencePieceProcessor(model_file=spm_model_file)


@pytest.fixture(scope="session")
def digit_comma_model_file(spm_model_file, tmp_path_factory):
    proto = _load_proto(spm_model_file)
    for piece in EXTRA_DIGIT_COMMA_PIECES:
        new = proto.pieces.add()
        new.piece = piece
        new.score = 0.0  # higher than every real piece, so always chosen
        new.type = sentencepiece_model_pb2.ModelProto.SentencePiece.NORMAL
    path = tmp_path_factory.mktemp("spm") / "digit_comma.model"
    path.write_bytes(proto.SerializeToString())
    return str(path)


@pytest.fixture(scope="session")
def no_cls_model_file(spm_model_file, tmp_path_factory):
    proto = _load_proto(spm_model_file)
    for piece in proto.pieces:
        if piece.piece == "[CLS]":
            piece.piece = "[CLX]"
    path = tmp_path_factory.mktemp("spm") / "no_cls.model"
    path.write_bytes(proto.SerializeToString())
    return str(path)
