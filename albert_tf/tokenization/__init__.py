"""ALBERT tokenization: preprocessing, SentencePiece with the digit-comma rule,
a Python `FullTokenizer`, an in-graph `TFTokenizer` and a vocabulary trainer."""

from albert_tf.tokenization.encoding import SPIECE_UNDERLINE
from albert_tf.tokenization.encoding import encode_ids
from albert_tf.tokenization.encoding import encode_pieces
from albert_tf.tokenization.full_tokenizer import FullTokenizer
from albert_tf.tokenization.preprocess import preprocess_text
from albert_tf.tokenization.tf_tokenizer import TFTokenizer

__all__ = [
    "SPIECE_UNDERLINE",
    "FullTokenizer",
    "TFTokenizer",
    "encode_ids",
    "encode_pieces",
    "preprocess_text",
]
