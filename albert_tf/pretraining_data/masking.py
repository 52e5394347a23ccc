"""Whole-word n-gram masking for ALBERT's masked LM (generation time).

Follows `create_masked_lm_predictions` in google-research/albert
create_pretraining_data.py, on token ids instead of piece strings:

- Candidates are whole words: a SentencePiece piece that is not a start piece
  (see `is_start_piece`) joins the word before it. [CLS] and [SEP] are never
  candidates; like the official code, a word may continue across a [SEP]
  when segment B starts in the middle of a word.
- The budget is `min(max_predictions_per_seq, max(1, round(len * masked_lm_prob)))`
  tokens, `len` counting [CLS] and [SEP] (Python's round: halves to even).
- Candidate words are visited in random order; at each one an n-gram length
  n <= `ngram` is drawn with p(n) proportional to 1/n (reversed when not
  `favor_shorter_ngram`). If the n words starting there would overshoot the
  budget, n shrinks until they fit; if even one word does not fit, or any of
  the words is already masked, the candidate is skipped.
- Each masked token independently becomes [MASK] (80%), stays (10%) or becomes
  a uniformly random vocabulary id (10%, any id, as the official code draws
  from the whole vocabulary).

Unlike the official code, the n-gram length is drawn from the same seeded
`rng` as everything else (the official uses the unseeded global numpy RNG), and
the visiting order is drawn lazily (a partial Fisher-Yates shuffle), which has
the same distribution as shuffling all candidates first.
"""

import dataclasses

import numpy as np

SPIECE_UNDERLINE = "\u2581"

# The official `_is_start_piece_sp` intends € and £ to count as punctuation; in
# Python 3 it adds them as bytes, so they never match. We follow the intent:
# only pieces that mix letters with € or £ are affected.
_PUNCTUATION = frozenset('!"#$%&()*+,-./:;?@[\\]^_`{|}~\u20ac\u00a3')
_ENGLISH_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_WORD_CHARS = _ENGLISH_LETTERS | _PUNCTUATION


def is_start_piece(piece):
    """True if SentencePiece `piece` starts a new word (official `_is_start_piece_sp`).

    A piece starts a word if it begins with "▁" or "<", is a single punctuation
    character, or holds any character that is not an ASCII letter or
    punctuation (digits, accents, foreign scripts: those are treated as whole
    words). So "ing" and "s" continue a word; "▁the", ",", "1990", "'s" do not.
    """
    if piece.startswith(SPIECE_UNDERLINE) or piece.startswith("<"):
        return True
    if piece in _PUNCTUATION:
        return True
    return not all(ch.lower() in _WORD_CHARS for ch in piece)


def start_piece_table(pieces):
    """[vocab_size] uint8 array, 1 at id i iff `is_start_piece(pieces[i])`.

    Args:
      pieces: the vocabulary pieces in id order.
    """
    return np.array([1 if is_start_piece(p) else 0 for p in pieces], dtype=np.uint8)


def ngram_probabilities(ngram, favor_shorter_ngram=True):
    """p(n) for n = 1..ngram: proportional to 1/n, or reversed when not favoured."""
    if ngram < 1:
        raise ValueError(f"ngram ({ngram}) must be >= 1")
    weights = [1.0 / n for n in range(1, ngram + 1)]
    if not favor_shorter_ngram:
        weights.reverse()
    total = sum(weights)
    return [w / total for w in weights]


def num_to_predict(num_tokens, masked_lm_prob, max_predictions_per_seq):
    """The official masking budget in tokens for a sequence of `num_tokens`."""
    return min(max_predictions_per_seq,
               max(1, int(round(num_tokens * masked_lm_prob))))


@dataclasses.dataclass(frozen=True)
class MaskingConfig:
    """What `create_masked_lm_predictions` needs besides the tokens."""
    max_predictions_per_seq: int
    vocab_size: int
    cls_id: int
    sep_id: int
    mask_id: int
    masked_lm_prob: float = 0.15
    ngram: int = 3
    favor_shorter_ngram: bool = True
    do_whole_word_mask: bool = True
    do_permutation: bool = False

    def __post_init__(self):
        if self.max_predictions_per_seq < 1:
            raise ValueError(
                f"max_predictions_per_seq ({self.max_predictions_per_seq}) must be >= 1")
        if not 0.0 <= self.masked_lm_prob <= 1.0:
            raise ValueError(f"masked_lm_prob ({self.masked_lm_prob}) must be in [0, 1]")
        ngram_probabilities(self.ngram)  # validates ngram


@dataclasses.dataclass
class MaskedLmPredictions:
    """Result of masking one sequence of length L.

    output_ids: [L] ids after replacement. masked_lm_positions: ascending
    positions that carry a prediction. masked_lm_ids: the original ids there.
    token_boundary: [L], 1 at [CLS]/[SEP] and at word-start pieces.
    ngram_lengths: length in words of each accepted masked n-gram (diagnostics).
    """
    output_ids: list
    masked_lm_positions: list
    masked_lm_ids: list
    token_boundary: list
    ngram_lengths: list = dataclasses.field(default_factory=list)


def word_groups(token_ids, start_table, config):
    """Candidate words and the token boundary of one sequence.

    Args:
      token_ids: list of L ids. start_table: `start_piece_table` array.

    Returns:
      (positions, offsets, token_boundary): word k covers the positions
      `positions[offsets[k]:offsets[k + 1]]` (every non-[CLS]/[SEP] position,
      in order); token_boundary is a list of L 0/1 values.
    """
    ids = np.asarray(token_ids, dtype=np.int64)
    special = (ids == config.cls_id) | (ids == config.sep_id)
    starts = np.asarray(start_table, dtype=bool)[ids]
    token_boundary = (special | starts).astype(np.int64).tolist()
    positions = np.flatnonzero(~special)
    if config.do_whole_word_mask:
        group_start = starts[positions]
        group_start[:1] = True  # the first piece opens a word even if not a start
        offsets = np.flatnonzero(group_start).tolist()
    else:
        offsets = list(range(len(positions)))
    offsets.append(len(positions))
    return positions.tolist(), offsets, token_boundary


def _draw_ngram(rng, cumulative):
    u = rng.random()
    for n, edge in enumerate(cumulative, start=1):
        if u < edge:
            return n
    return len(cumulative)


def _select_ngrams(offsets, budget, blocked, rng, cumulative):
    """Greedy official n-gram selection.

    Returns the accepted n-grams as (first word, number of words), in order.

    `offsets` are word offsets (`word_groups`); `blocked` is a bytearray over
    words (1 = unavailable) and is updated.
    """
    num_words = len(offsets) - 1
    order = list(range(num_words))
    ngrams = []
    count = 0
    for t in range(num_words):
        if count >= budget:
            break
        j = rng.randrange(t, num_words)
        order[t], order[j] = order[j], order[t]
        start = order[t]
        n = _draw_ngram(rng, cumulative)
        # Largest m <= n whose words fit into the budget (official shrinking);
        # n-grams are clipped at the last word, as the official slices are.
        m = min(n, num_words - start)
        while m > 0 and count + offsets[start + m] - offsets[start] > budget:
            m -= 1
        if m == 0:
            continue
        words = range(start, start + m)
        if any(blocked[k] for k in words):
            continue
        for k in words:
            blocked[k] = 1
        ngrams.append((start, m))
        count += offsets[start + m] - offsets[start]
    return ngrams


def create_masked_lm_predictions(token_ids, start_table, config, rng):
    """Masks one packed sequence `[CLS] A [SEP] B [SEP]` (ids).

    Args:
      token_ids: list of ids, length L <= max_seq_length.
      start_table: `start_piece_table` array (1 for word-start pieces).
      config: `MaskingConfig`.
      rng: `random.Random`.

    Returns:
      `MaskedLmPredictions`; at most `num_to_predict(L, ...)` masked positions
      (twice that with `do_permutation`).
    """
    positions, offsets, token_boundary = word_groups(token_ids, start_table, config)
    output_ids = list(token_ids)
    if config.masked_lm_prob == 0:
        return MaskedLmPredictions(output_ids, [], [], token_boundary)

    budget = num_to_predict(len(token_ids), config.masked_lm_prob,
                            config.max_predictions_per_seq)
    probs = ngram_probabilities(config.ngram, config.favor_shorter_ngram)
    cumulative = [sum(probs[:n]) for n in range(1, len(probs) + 1)]
    cumulative[-1] = 1.0

    blocked = bytearray(len(offsets) - 1)
    masked = []  # (position, original id)
    ngrams = _select_ngrams(offsets, budget, blocked, rng, cumulative)
    for start, m in ngrams:
        for position in positions[offsets[start]:offsets[start + m]]:
            original = token_ids[position]
            if rng.random() < 0.8:
                output_ids[position] = config.mask_id
            elif rng.random() < 0.5:
                pass  # keep the original token
            else:
                output_ids[position] = rng.randrange(config.vocab_size)
            masked.append((position, original))

    if config.do_permutation:
        # Official permutation LM: a second, disjoint n-gram selection whose
        # tokens are shuffled among themselves and also predicted.
        chosen = _select_ngrams(offsets, budget, blocked, rng, cumulative)
        sources = sorted(p for start, m in chosen
                         for p in positions[offsets[start]:offsets[start + m]])
        targets = list(sources)
        rng.shuffle(targets)
        before = list(output_ids)
        for src, tgt in zip(sources, targets):
            output_ids[src] = before[tgt]
            masked.append((src, before[src]))

    masked.sort()
    return MaskedLmPredictions(
        output_ids=output_ids,
        masked_lm_positions=[p for p, _ in masked],
        masked_lm_ids=[i for _, i in masked],
        token_boundary=token_boundary,
        ngram_lengths=[m for _, m in ngrams])
