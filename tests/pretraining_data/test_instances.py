"""SOP pair construction and truncation on hand-worked inputs."""

import random

import pytest

from albert_tf.pretraining_data import instances as pi
from .pretraining_test_helpers import ScriptedRandom


def pairs_as_tuples(pairs):
    return [(p.tokens_a, p.tokens_b, p.is_random_next) for p in pairs]


def test_truncate_removes_from_the_longer_side_front_or_back():
    a, b = [1, 2, 3, 4, 5], [6, 7]
    rng = ScriptedRandom([
        ("random", (), 0.3),  # A longer: drop its front -> [2, 3, 4, 5]
        ("random", (), 0.7),  # A longer: drop its back  -> [2, 3, 4]
        ("random", (), 0.2),  # A longer: drop its front -> [3, 4]
    ])
    pi.truncate_seq_pair(a, b, 4, rng)
    rng.assert_done()
    assert (a, b) == ([3, 4], [6, 7])


def test_truncate_ties_cut_b_and_short_pairs_are_untouched():
    a, b = [1, 2], [3, 4]
    rng = ScriptedRandom([("random", (), 0.9)])  # tie -> B, from the back
    pi.truncate_seq_pair(a, b, 3, rng)
    rng.assert_done()
    assert (a, b) == ([1, 2], [3])
    a, b = [1], [2]
    pi.truncate_seq_pair(a, b, 2, ScriptedRandom([]))
    assert (a, b) == ([1], [2])


def test_swapped_pair_and_single_sentence_chunk_with_random_b():
    documents = [[[1, 2], [3, 4, 5], [6]], [[7, 8], [9]]]
    rng = ScriptedRandom([
        ("random", (), 0.5),          # no short target: 8 - 3 = 5 tokens
        ("randint", (1, 1), 1),       # chunk [1 2 | 3 4 5]: A = first sentence
        ("random", (), 0.3),          # < 0.5: swap A and B (label 1)
        ("randint", (0, 1), 1),       # chunk [6] alone: B from document 1 ...
        ("randint", (0, 1), 0),       # ... from its first sentence, up to 4 tokens
    ])
    pairs = pi.create_instances_from_document(documents, 0, 8, 0.1, rng)
    rng.assert_done()
    assert pairs_as_tuples(pairs) == [([3, 4, 5], [1, 2], True), ([6], [7, 8, 9], True)]


def test_random_next_sentence_puts_unused_sentences_back():
    documents = [[[1], [2], [3], [4]], [[10, 11, 12, 13]]]
    rng = ScriptedRandom([
        ("random", (), 0.05), ("randint", (2, 4), 2),  # short target: 2 tokens
        ("randint", (1, 1), 1),                        # chunk [1 | 2]
        ("random", (), 0.2),                           # random next sentence
        ("randint", (0, 1), 0), ("randint", (0, 1), 1),  # same doc, retry -> doc 1
        ("randint", (0, 0), 0),
        ("random", (), 0.2),                           # truncate B's front
        # sentence [2] was put back: chunk [2 | 3]
        ("randint", (1, 1), 1),
        ("random", (), 0.7),                           # actual next (label 0)
        ("randint", (0, 1), 1), ("randint", (0, 0), 0),  # chunk [4] alone
        ("random", (), 0.8),                           # truncate B's back
    ])
    pairs = pi.create_instances_from_document(documents, 0, 7, 0.1, rng,
                                              random_next_sentence=True)
    rng.assert_done()
    assert pairs_as_tuples(pairs) == [
        ([1], [11, 12, 13], True),
        ([2], [3], False),
        ([4], [10, 11, 12], True),
    ]


def test_pack_pair():
    tokens, segment_ids = pi.pack_pair(pi.SentencePair([5, 6], [7], False), 2, 3)
    assert tokens == [2, 5, 6, 3, 7, 3]
    assert segment_ids == [0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize("random_next_sentence", [False, True])
def test_pair_properties_on_random_documents(random_next_sentence):
    # Document d holds increasing ids in [1000 d, 1000 d + 999], so the order
    # and origin of every segment can be read off its ids.
    rng = random.Random(5)
    documents = []
    for d in range(6):
        next_id = 1000 * d
        sentences = []
        for _ in range(rng.randint(1, 12)):
            length = rng.randint(1, 9)
            sentences.append(list(range(next_id, next_id + length)))
            next_id += length
        documents.append(sentences)
    labels = []
    for _ in range(20):
        for d in range(len(documents)):
            for pair in pi.create_instances_from_document(
                    documents, d, 16, 0.1, rng, random_next_sentence=random_next_sentence):
                a, b = pair.tokens_a, pair.tokens_b
                assert a and b and len(a) + len(b) <= 13
                assert all(x // 1000 == d for x in a)  # A always comes from document d
                b_same = all(x // 1000 == d for x in b)
                if not pair.is_random_next:
                    assert b_same and max(a) < min(b)  # in order
                else:
                    swapped = b_same and min(a) > max(b)
                    other = len({x // 1000 for x in b} - {d}) == 1 and not any(
                        x // 1000 == d for x in b)
                    assert other if random_next_sentence else (swapped or other)
                labels.append(pair.is_random_next)
    assert 0.4 < sum(labels) / len(labels) < 0.8


def test_too_short_max_seq_length():
    with pytest.raises(ValueError, match="max_seq_length"):
        pi.create_instances_from_document([[[1]]], 0, 4, 0.1, random.Random(0))
