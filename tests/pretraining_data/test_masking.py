"""Exact tests of the generation-time masking on hand-worked inputs."""

import collections
import random

import pytest

from albert_tf.pretraining_data import masking as pm
from .pretraining_test_helpers import CLS, MASK, SEP, ScriptedRandom, tiny_ids, \
    tiny_start_table

EDGES = (6 / 11, 9 / 11)  # cumulative p(n) for n = 1, 2 with favor_shorter_ngram


def config(**overrides):
    values = dict(max_predictions_per_seq=20, vocab_size=16, cls_id=CLS, sep_id=SEP,
                  mask_id=MASK)
    values.update(overrides)
    return pm.MaskingConfig(**values)


@pytest.mark.parametrize("piece, expected", [
    ("\u2581the", True),   # word-start marker
    ("ing", False),        # ASCII letters continue the word
    ("S", False),          # upper case is lower-cased before the check
    (",", True),           # a single punctuation character
    ("--", False),         # punctuation only, but not a single character
    ("1990", True),        # digits are not in the letter/punctuation set
    ("'s", True),          # the official set has no apostrophe
    ("<unk>", True),       # starts with "<"
    ("\u00e9t\u00e9", True),  # accented letters: treated as a whole word
    ("\u20ac", True),      # € alone
    ("a\u20ac", False),    # € counts as punctuation (the official intent)
    ("\u2581", True),
])
def test_is_start_piece_official_rule(piece, expected):
    assert pm.is_start_piece(piece) is expected


def test_word_groups_join_continuations_even_across_sep():
    # [CLS] ▁hel lo [SEP] ing ▁x [SEP]: "ing" joins "▁hel lo" across [SEP],
    # as in the official code (it skips [CLS]/[SEP] without closing the word).
    ids = [CLS] + tiny_ids("\u2581hel", "lo") + [SEP] + tiny_ids("ing", "\u2581x") + [SEP]
    positions, offsets, boundary = pm.word_groups(ids, tiny_start_table(), config())
    assert positions == [1, 2, 4, 5]
    assert offsets == [0, 3, 4]  # words: {1, 2, 4} and {5}
    assert boundary == [1, 1, 0, 1, 0, 1, 1]


def test_word_groups_first_piece_opens_a_word_without_boundary():
    ids = [CLS] + tiny_ids("lo", "\u2581x") + [SEP]
    positions, offsets, boundary = pm.word_groups(ids, tiny_start_table(), config())
    assert (positions, offsets, boundary) == ([1, 2], [0, 1, 2], [1, 0, 1, 1])


def test_word_groups_without_whole_word_masking():
    ids = [CLS] + tiny_ids("\u2581hel", "lo", "s") + [SEP]
    positions, offsets, boundary = pm.word_groups(
        ids, tiny_start_table(), config(do_whole_word_mask=False))
    assert (positions, offsets) == ([1, 2, 3], [0, 1, 2, 3])
    assert boundary == [1, 1, 0, 0, 1]  # boundary still marks start pieces only


@pytest.mark.parametrize("num_tokens, expected", [
    (3, 1),     # round(0.45) = 0 -> at least 1
    (10, 2),    # round(1.5) = 2 (half to even)
    (30, 4),    # 30 * 0.15 == 4.5 in float64 -> 4 (half to even)
    (50, 8),    # 7.5 -> 8
    (70, 10),   # 10.5 -> 10
    (512, 20),  # capped by max_predictions_per_seq
])
def test_num_to_predict_budget(num_tokens, expected):
    assert pm.num_to_predict(num_tokens, 0.15, 20) == expected


def test_ngram_probabilities():
    assert pm.ngram_probabilities(3) == pytest.approx([6 / 11, 3 / 11, 2 / 11])
    assert pm.ngram_probabilities(3, favor_shorter_ngram=False) == \
        pytest.approx([2 / 11, 3 / 11, 6 / 11])


def test_scripted_trigram_with_80_10_10_replacements():
    ids = [CLS] + tiny_ids("\u2581a", "\u2581b", "\u2581c", "\u2581d") + [SEP]
    rng = ScriptedRandom([
        ("randrange", (0, 4), 1),     # first candidate: word 1 ("▁b")
        ("random", (), 0.99),         # n = 3: words 1..3, 3 tokens == budget 3
        ("random", (), 0.1),          # ▁b -> [MASK]
        ("random", (), 0.85), ("random", (), 0.3),   # ▁c kept
        ("random", (), 0.95), ("random", (), 0.7),   # ▁d -> random id ...
        ("randrange", (16,), 9),                     # ... 9
    ])
    out = pm.create_masked_lm_predictions(ids, tiny_start_table(),
                                          config(masked_lm_prob=0.5), rng)
    rng.assert_done()
    assert out.output_ids == [CLS, 5, MASK, 7, 9, SEP]
    assert out.masked_lm_positions == [2, 3, 4]
    assert out.masked_lm_ids == [6, 7, 8]
    assert out.ngram_lengths == [3]
    assert out.token_boundary == [1] * 6


def test_scripted_ngram_shrinks_to_fit_budget():
    # [CLS] ▁hel lo ▁b ▁c [SEP]; budget round(6 * 0.34) = 2. A drawn trigram
    # (4 tokens) and bigram (3 tokens) overshoot, so only "▁hel lo" is masked.
    ids = [CLS] + tiny_ids("\u2581hel", "lo", "\u2581b", "\u2581c") + [SEP]
    rng = ScriptedRandom([
        ("randrange", (0, 3), 0),
        ("random", (), 0.9),
        ("random", (), 0.1), ("random", (), 0.5),
    ])
    out = pm.create_masked_lm_predictions(ids, tiny_start_table(),
                                          config(masked_lm_prob=0.34), rng)
    rng.assert_done()
    assert out.output_ids == [CLS, MASK, MASK, 6, 7, SEP]
    assert (out.masked_lm_positions, out.masked_lm_ids) == ([1, 2], [9, 10])
    assert out.ngram_lengths == [1]
    assert out.token_boundary == [1, 1, 0, 1, 1, 1]


def test_scripted_overlap_skips_candidate_and_ngrams_clip_at_the_end():
    ids = [CLS] + tiny_ids("\u2581a", "\u2581b", "\u2581c", "\u2581d") + [SEP]
    rng = ScriptedRandom([
        ("randrange", (0, 4), 2), ("random", (), 0.1),   # word 2, n=1: accepted
        ("randrange", (1, 4), 1), ("random", (), 0.7),   # words 1-2: 2 covered, skipped
        ("randrange", (2, 4), 3), ("random", (), 0.99),  # word 3, n=3 clipped to 1
        ("randrange", (3, 4), 3), ("random", (), 0.7),   # word 0, n=2 shrinks to 1
        ("random", (), 0.1), ("random", (), 0.1), ("random", (), 0.1),
    ])
    out = pm.create_masked_lm_predictions(ids, tiny_start_table(),
                                          config(masked_lm_prob=0.5), rng)
    rng.assert_done()
    assert out.masked_lm_positions == [1, 3, 4]
    assert out.masked_lm_ids == [5, 7, 8]
    assert out.output_ids == [CLS, MASK, 6, MASK, MASK, SEP]
    assert out.ngram_lengths == [1, 1, 1]


def test_budget_can_be_unfillable_as_in_the_official_code():
    # Budget round(7 * 0.15) = 1 but every word has two pieces: nothing fits.
    ids = [CLS] + tiny_ids("\u2581hel", "lo") + [SEP] + tiny_ids("\u2581hel", "lo") + [SEP]
    out = pm.create_masked_lm_predictions(ids, tiny_start_table(), config(),
                                          random.Random(0))
    assert out.masked_lm_positions == [] and out.output_ids == ids
    single = pm.create_masked_lm_predictions(
        ids, tiny_start_table(), config(do_whole_word_mask=False), random.Random(0))
    assert len(single.masked_lm_positions) == 1


def test_masked_lm_prob_zero_masks_nothing():
    ids = [CLS] + tiny_ids("\u2581a", "\u2581b") + [SEP]
    out = pm.create_masked_lm_predictions(ids, tiny_start_table(),
                                          config(masked_lm_prob=0.0), random.Random(0))
    assert out.masked_lm_positions == [] and out.output_ids == ids
    assert out.token_boundary == [1, 1, 1, 1]


def test_single_piece_words_always_fill_the_budget_exactly():
    rng = random.Random(7)
    start_table = tiny_start_table()
    for length in range(5, 60):
        words = [rng.choice(tiny_ids("\u2581a", "\u2581b", "\u2581c", "\u2581d"))
                 for _ in range(length - 3)]
        ids = [CLS] + words[:length // 2] + [SEP] + words[length // 2:] + [SEP]
        out = pm.create_masked_lm_predictions(ids, start_table, config(), rng)
        assert len(out.masked_lm_positions) == pm.num_to_predict(len(ids), 0.15, 20)
        assert out.masked_lm_positions == sorted(set(out.masked_lm_positions))
        assert all(ids[p] not in (CLS, SEP) for p in out.masked_lm_positions)
        assert out.masked_lm_ids == [ids[p] for p in out.masked_lm_positions]
        unmasked = set(range(len(ids))) - set(out.masked_lm_positions)
        assert all(out.output_ids[p] == ids[p] for p in unmasked)


def test_permutation_adds_disjoint_shuffled_predictions():
    rng = random.Random(3)
    ids = [CLS] + list(range(5, 16)) * 2 + [SEP] + list(range(5, 9)) + [SEP]
    budget = pm.num_to_predict(len(ids), 0.15, 20)
    plain = pm.create_masked_lm_predictions(ids, tiny_start_table(), config(),
                                            random.Random(11))
    permuted = pm.create_masked_lm_predictions(
        ids, tiny_start_table(), config(do_permutation=True, do_whole_word_mask=False), rng)
    assert len(plain.masked_lm_positions) == budget
    positions = permuted.masked_lm_positions
    assert budget < len(positions) <= 2 * budget
    assert len(set(positions)) == len(positions)
    # Tokens that are neither [MASK] nor unchanged come from the permutation
    # (or the 10% random replacement); the multiset of labels is preserved.
    assert collections.Counter(permuted.masked_lm_ids) == \
        collections.Counter(ids[p] for p in positions)


def test_config_validation():
    with pytest.raises(ValueError, match="max_predictions_per_seq"):
        config(max_predictions_per_seq=0)
    with pytest.raises(ValueError, match="masked_lm_prob"):
        config(masked_lm_prob=1.5)
    with pytest.raises(ValueError, match="ngram"):
        config(ngram=0)
