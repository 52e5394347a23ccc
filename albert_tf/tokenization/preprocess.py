"""ALBERT text preprocessing, applied before SentencePiece.

Matches `preprocess_text` in google-research/albert tokenization.py: collapse
whitespace, NFKD, drop combining marks, optionally lower-case. Unlike XLNet and
the Hugging Face tokenizer, ALBERT does not turn `` and '' into a double quote.
"""

import unicodedata


def preprocess_text(text, remove_space=True, lower=False):
    """Normalises one text the way ALBERT's pretraining and fine-tuning did.

    Args:
      text: `str`, or `bytes` in UTF-8 (undecodable bytes are dropped, like the
        official `convert_to_unicode`).
      remove_space: strip the ends and collapse every run of whitespace (as
        Python's `str.split()` defines it) into one space.
      lower: lower-case with Python's `str.lower()` after accent removal.

    Returns:
      The normalised `str`.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "ignore")
    elif not isinstance(text, str):
        raise TypeError(f"preprocess_text expects str or bytes, got {type(text).__name__}")
    if remove_space:
        text = " ".join(text.split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    if lower:
        text = text.lower()
    return text
