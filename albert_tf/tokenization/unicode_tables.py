"""Unicode tables taken from this Python's `unicodedata` and `str` methods.

The in-graph tokenizer uses these instead of ICU so that it agrees with
`preprocess_text` code point for code point: TensorFlow's ICU builds follow
other Unicode versions (e.g. `tf.strings.lower` does not know Unicode 14's
Vithkuqi capitals, `tensorflow_text.normalize_utf8` decomposes Unicode 16
characters that Python 3.11 leaves alone). Tables are computed once per process
(about 2 s) and baked into any graph or SavedModel built from them.
"""

import functools
import sys
import unicodedata

import numpy as np

GREEK_CAPITAL_SIGMA = 0x3A3
GREEK_SMALL_SIGMA = 0x3C3
GREEK_SMALL_FINAL_SIGMA = 0x3C2


def _code_points():
    return (c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


def _to_ranges(code_points):
    """Sorted code points -> (starts, ends) int32 arrays of inclusive ranges."""
    starts, ends = [], []
    for c in sorted(code_points):
        if ends and c == ends[-1] + 1:
            ends[-1] = c
        else:
            starts.append(c)
            ends.append(c)
    return np.array(starts, np.int32), np.array(ends, np.int32)


def _re2_class(code_points):
    starts, ends = _to_ranges(code_points)
    parts = [f"\\x{{{s:x}}}" if s == e else f"\\x{{{s:x}}}-\\x{{{e:x}}}"
             for s, e in zip(starts, ends)]
    return "[" + "".join(parts) + "]"


@functools.lru_cache(maxsize=None)
def whitespace_class():
    """RE2 class of the characters `str.split()`/`str.strip()` treat as whitespace."""
    return _re2_class(c for c in _code_points() if chr(c).isspace())


@functools.lru_cache(maxsize=None)
def decomposition_table():
    """NFKD with combining characters removed, as a per-code-point expansion.

    Because canonical reordering only permutes characters of non-zero combining
    class, and those are all dropped afterwards, NFKD-then-drop equals mapping
    each input character to its own NFKD minus combining characters.

    Returns:
      keys: int32 [K] sorted code points whose expansion is not themselves;
      splits: int32 [K + 1] row splits into `values`;
      values: int32 [V] the expansions (a combining character expands to nothing).
    """
    keys, splits, values = [], [0], []
    for c in _code_points():
        ch = chr(c)
        if unicodedata.combining(ch):
            expansion = []
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            if decomposed == ch:
                continue
            expansion = [ord(d) for d in decomposed if not unicodedata.combining(d)]
        keys.append(c)
        values.extend(expansion)
        splits.append(len(values))
    return (np.array(keys, np.int32), np.array(splits, np.int32),
            np.array(values, np.int32))


@functools.lru_cache(maxsize=None)
def lower_table():
    """`str.lower()` of single characters, for characters that survive NFKD.

    Returns:
      keys: int32 [K] sorted code points that change; values: int32 [K] their
      lower case. Greek capital sigma maps to small sigma here; its final form
      depends on context (see `final_sigma_tables`).

    Raises:
      RuntimeError if some character lower-cases to several characters and is
      not removed by NFKD (in Python 3.11 only U+0130, which NFKD decomposes).
    """
    decomposed = set(decomposition_table()[0].tolist())
    keys, values = [], []
    for c in _code_points():
        lowered = chr(c).lower()
        if lowered == chr(c):
            continue
        if len(lowered) != 1:
            if c in decomposed:
                continue
            raise RuntimeError(
                f"U+{c:04X} lower-cases to {len(lowered)} characters; the in-graph "
                f"tokenizer cannot match Python for it")
        keys.append(c)
        values.append(ord(lowered))
    return np.array(keys, np.int32), np.array(values, np.int32)


@functools.lru_cache(maxsize=None)
def final_sigma_tables():
    """Character classes of Python's Final_Sigma rule, probed from `str.lower()`.

    Python lower-cases U+03A3 to final sigma when, skipping case-ignorable
    characters, the previous character is cased and the next one is not (or
    there is none). The `unicodedata` module does not expose Cased and
    Case_Ignorable, so they are read off `str.lower()` itself:
      "X" + SIGMA gives final sigma  <=> X is cased and not case-ignorable;
      "A" + X + SIGMA gives final sigma, but not "X" + SIGMA <=> X is case-ignorable.

    Returns:
      (ignorable_starts, ignorable_ends, cased_starts, cased_ends) int32 ranges;
      "cased" here means cased and not case-ignorable, the only cased
      characters the rule ever looks at.
    """
    sigma = chr(GREEK_CAPITAL_SIGMA)
    final = chr(GREEK_SMALL_FINAL_SIGMA)
    ignorable, cased = [], []
    for c in _code_points():
        ch = chr(c)
        if (ch + sigma).lower()[-1] == final:
            cased.append(c)
        elif ("A" + ch + sigma).lower()[-1] == final:
            ignorable.append(c)
    cased.append(GREEK_CAPITAL_SIGMA)
    return _to_ranges(ignorable) + _to_ranges(cased)
