"""ALBERT's `preprocess_text` folded into the SentencePiece model's own normalizer.

A SentencePiece model normalizes text with a character map (`precompiled_charsmap`,
longest match first; the official model's is `nmt_nfkc`). `fold_preprocessing`
returns a copy of the model whose map does, in the same single pass, what the
official pipeline does in two: `preprocess_text` (whitespace runs to one space,
NFKD with combining marks dropped, `str.lower()` when lower-casing) and then
`nmt_nfkc`. Every key of the new map (each code point, and each longer key of
the original map) goes to `nmt_nfkc(preprocess(key))`, computed with this
Python's `unicodedata` and the model's own normalizer; Python whitespace goes to
" ", whose runs and ends SentencePiece's `remove_extra_whitespaces` then
collapses and strips as `" ".join(text.split())` would.

So a tokenizer that knows only SentencePiece, such as TF Text's
`FastSentencepieceTokenize` LiteRT kernel, gives `FullTokenizer` ids from raw
text with no string op before it (`albert_tf.export.litert_text`).

Known differences, context only (a map sees one key at a time): Python's
final sigma (a capital sigma ending a word lowers to "ς" there, to "σ" here),
and a character whose NFKD ends in something the next character composes with
under NFKC (a precomposed Hangul LV syllable followed by a trailing jamo). The
official 30k-clean vocabulary has no piece with either sigma or any Hangul, so
its ids are the same; measured: all 194,275 distinct texts of the shared
WikiText-2, SQuAD, RACE and GLUE files, and 100,000 random Unicode strings.
"""

import functools
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2

from albert_tf.tokenization.preprocess import preprocess_text

FOLDED_NORMALIZER_NAME = "albert_preprocess_text+{name}"


def _keys(original_map):
    """Every code point (no surrogates), then the original map's longer keys."""
    for c in range(sys.maxunicode + 1):
        if not 0xD800 <= c <= 0xDFFF:
            yield chr(c)
    for key, _ in original_map:
        if len(key) > 1:
            yield key


@functools.lru_cache(maxsize=4)
def fold_preprocessing(model_proto, do_lower_case=True):
    """A copy of a SentencePiece model whose normalizer also does `preprocess_text`.

    Args:
      model_proto: serialized `ModelProto` bytes (an ALBERT spm.model).
      do_lower_case: fold `str.lower()` in too (uncased models).

    Returns:
      serialized `ModelProto` bytes: the same pieces, scores and trainer spec;
      the normalizer's `precompiled_charsmap` and `name` replaced.

    Raises:
      ValueError if the model's normalizer uses a rule TSV instead of a
      precompiled map (no ALBERT model does).
    """
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_proto)
    if proto.normalizer_spec.normalization_rule_tsv:
        raise ValueError("fold_preprocessing needs a model with a precompiled normalizer map, "
                         "not a normalization_rule_tsv")
    # Whitespace flags off: this normalizes keys, not texts.
    original = spm.SentencePieceNormalizer(model_proto=model_proto)
    entries = []
    for key in _keys(original.Decompile()):
        if len(key) == 1 and key.isspace():
            target = " "
        else:
            preprocessed = preprocess_text(key, remove_space=False, lower=do_lower_case)
            target = original.Normalize(preprocessed) if preprocessed else ""
        if target != key:
            entries.append((key, target))
    spec = sentencepiece_model_pb2.NormalizerSpec()
    spec.ParseFromString(spm.SentencePieceNormalizer(norm_map=entries)
                         .serialized_normalizer_spec())
    proto.normalizer_spec.precompiled_charsmap = spec.precompiled_charsmap
    proto.normalizer_spec.name = FOLDED_NORMALIZER_NAME.format(
        name=proto.normalizer_spec.name or "identity")
    return proto.SerializeToString()
