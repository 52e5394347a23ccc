"""SentencePiece encoding with ALBERT's digit-comma rule.

SentencePiece learned pieces such as "▁1990," that glue a number to the comma
after it. The official `encode_pieces` re-encodes such a piece without its comma
and emits the comma as its own piece, so "In 1990, ..." gives [..., "▁1990", ","].

"Digit" means Python's `str.isdigit()` (as in the official code) on the
character before the comma; the in-graph tokenizer applies the rule as an id
table built from these same functions (`tf_tokenizer.digit_comma_table`).

The word-start handling follows the official code's intent (as it runs on
Python 2): under Python 3 its bytes `SPIECE_UNDERLINE` comparisons never match.
No piece of the released 30k-clean model is affected (all its "<digit>," pieces
start a word); custom vocabularies get the intended rule.
"""

SPIECE_UNDERLINE = "\u2581"


def splits_trailing_comma(piece):
    """Whether the digit-comma rule applies to `piece` (e.g. "▁1990,", "3,")."""
    return len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit()


def split_trailing_comma(sp_model, piece):
    """The pieces that replace `piece` under the digit-comma rule."""
    # Official behaviour: re-encode the number alone (with any "▁" removed, so
    # SentencePiece adds its own word-start marker) ...
    number_pieces = sp_model.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
    # ... keep that marker only if the original piece had one, then the comma.
    if (not piece.startswith(SPIECE_UNDERLINE) and number_pieces
            and number_pieces[0].startswith(SPIECE_UNDERLINE)):
        if len(number_pieces[0]) == 1:
            number_pieces = number_pieces[1:]
        else:
            number_pieces[0] = number_pieces[0][1:]
    return number_pieces + [piece[-1]]


def encode_pieces(sp_model, text, return_unicode=True, sample=False):
    """Encodes already preprocessed `text` into SentencePiece pieces.

    Args:
      sp_model: a loaded `sentencepiece.SentencePieceProcessor`.
      text: `str` (or UTF-8 `bytes`), normally the output of `preprocess_text`.
      return_unicode: the official signature's; pieces are `str` either way (as
        the official code gives on Python 3).
      sample: draw a subword regularisation sample (nbest 64, alpha 0.1, the
        official `SampleEncodeAsPieces` settings) instead of the best encoding.

    Returns:
      list of piece strings.
    """
    del return_unicode
    if isinstance(text, bytes):
        text = text.decode("utf-8", "ignore")
    if sample:
        pieces = sp_model.encode(text, out_type=str, enable_sampling=True,
                                 nbest_size=64, alpha=0.1)
    else:
        pieces = sp_model.encode(text, out_type=str)
    new_pieces = []
    for piece in pieces:
        if splits_trailing_comma(piece):
            new_pieces.extend(split_trailing_comma(sp_model, piece))
        else:
            new_pieces.append(piece)
    return new_pieces


def encode_ids(sp_model, text, sample=False):
    """Like `encode_pieces` but returns ids (pieces not in the vocabulary -> unk)."""
    return [sp_model.piece_to_id(piece)
            for piece in encode_pieces(sp_model, text, sample=sample)]
