"""Statistics of a few thousand instances generated from the real corpus.

One run of `create_pretraining_data` over the WikiText-2 corpus (max_seq_length
128, dupe_factor 1: about 4,000 records) feeds every test here. Expectations
come from the official algorithm: p(n) = 6/11, 3/11, 2/11; 80/10/10; the
budget formula; and an independent transcription of the official selection
loop (full shuffle of all n-gram candidates, numpy draw of n) to compare the
accepted n-gram lengths with.
"""

import random

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from albert_tf.pretraining_data import masking as pm
from albert_tf.pretraining_data import PretrainingDataConfig
from albert_tf.pretraining_data import writer as pw
from albert_tf.tokenization import FullTokenizer
from .pretraining_test_helpers import masked_word_runs, run_histogram

SEQ, PRED, VOCAB = 128, 20, 30000
CLS, SEP, MASK = 2, 3, 4


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.fixture(scope="module")
def record_file(shared_data_dir, tokenizer, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("stats") / "corpus.tfrecord")
    config = PretrainingDataConfig(max_seq_length=SEQ, max_predictions_per_seq=PRED,
                                      dupe_factor=1, random_seed=2024)
    corpus = shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt"
    pw.create_pretraining_data([str(corpus)], [path], tokenizer, config)
    return path


def load(dataset):
    arrays = {}
    for batch in dataset:
        for name, value in batch.items():
            arrays.setdefault(name, []).append(value.numpy())
    return {name: np.concatenate(values) for name, values in arrays.items()}


@pytest.fixture(scope="module")
def static(record_file):
    return load(pretraining_dataset(record_file, SEQ, PRED, 512, is_training=False))


@pytest.fixture(scope="module")
def dynamic(record_file):
    return load(pretraining_dataset(record_file, SEQ, PRED, 512, is_training=False,
                                    dynamic_masking=True, vocab_size=VOCAB, seed=5))


def originals(data):
    """input_ids with the masked positions restored, [N, SEQ]."""
    ids = data["input_ids"].copy()
    rows, slots = np.nonzero(data["masked_lm_weights"] > 0)
    ids[rows, data["masked_lm_positions"][rows, slots]] = data["masked_lm_ids"][rows, slots]
    return ids


def official_is_start(piece):
    """The official `_is_start_piece_sp` rule, written out independently."""
    punctuation = set('!"#$%&()*+,-./:;?@[\\]^_`{|}~') | {"\u20ac", "\u00a3"}
    letters = set("abcdefghijklmnopqrstuvwxyz")
    if piece[:1] in ("\u2581", "<") or piece in punctuation:
        return True
    return any(c.lower() not in letters | punctuation for c in piece)


def mask_matrix(data):
    masked = np.zeros(data["input_ids"].shape, bool)
    rows, slots = np.nonzero(data["masked_lm_weights"] > 0)
    masked[rows, data["masked_lm_positions"][rows, slots]] = True
    return masked


def budgets(data):
    lengths = data["input_mask"].sum(axis=1)
    return np.array([min(PRED, max(1, int(round(n * 0.15)))) for n in lengths])


def check_masks(data, original):
    n = len(original)
    assert n > 3000
    lengths = data["input_mask"].sum(axis=1)
    weights = data["masked_lm_weights"]
    counts = (weights > 0).sum(axis=1)
    # Budget: never above, and met whenever the words allow (all but a few).
    assert (counts <= budgets(data)).all()
    assert (counts == budgets(data)).mean() > 0.999
    for row in range(n):
        k = counts[row]
        positions = data["masked_lm_positions"][row]
        assert (weights[row, :k] == 1).all() and (weights[row, k:] == 0).all()
        assert (positions[k:] == 0).all() and (data["masked_lm_ids"][row, k:] == 0).all()
        assert (np.diff(positions[:k]) > 0).all() and (positions[:k] < lengths[row]).all()
        assert (positions[:k] > 0).all()
        assert not np.isin(original[row, positions[:k]], [CLS, SEP]).any()
    # 80% [MASK], 10% unchanged, 10% random.
    masked = mask_matrix(data)
    shown = data["input_ids"][masked]
    truth = original[masked]
    fraction_mask = np.mean(shown == MASK)
    fraction_kept = np.mean(shown == truth)
    assert abs(fraction_mask - 0.8) < 0.01
    assert abs(fraction_kept - 0.1) < 0.01
    assert abs(1 - fraction_mask - fraction_kept - 0.1) < 0.01
    # Whole words: a word (token_boundary start + continuation pieces) is
    # masked entirely or not at all.
    boundary = data["token_boundary"]
    special = np.isin(original, [CLS, SEP]) | (data["input_mask"] == 0)
    for row in range(0, n, 7):
        word_state = None
        for i in range(1, lengths[row]):
            if special[row, i]:
                continue
            if boundary[row, i] or word_state is None:
                word_state = masked[row, i]
            else:
                assert masked[row, i] == word_state
    # Unmasked positions are untouched.
    assert (data["input_ids"][~masked] == original[~masked]).all()


def test_static_masks(static, tokenizer):
    original = originals(static)
    check_masks(static, original)
    # token_boundary: 1 at [CLS]/[SEP] and at official start pieces, 0 elsewhere.
    for row in range(0, len(original), 13):
        length = static["input_mask"][row].sum()
        pieces = tokenizer.convert_ids_to_tokens(original[row, :length])
        expected = [1 if p in ("[CLS]", "[SEP]") or official_is_start(p) else 0
                    for p in pieces]
        assert static["token_boundary"][row, :length].tolist() == expected
        assert (static["token_boundary"][row, length:] == 0).all()


def test_sentence_order_labels_and_segments(static):
    labels = static["next_sentence_labels"][:, 0]
    assert set(np.unique(labels)) == {0, 1}
    assert 0.45 < labels.mean() < 0.6
    original = originals(static)
    for row in range(len(original)):
        length = static["input_mask"][row].sum()
        seps = np.flatnonzero(original[row, :length] == SEP)
        assert original[row, 0] == CLS and len(seps) == 2 and seps[1] == length - 1
        segments = static["segment_ids"][row]
        assert (segments[:seps[0] + 1] == 0).all() and (segments[seps[0] + 1:length] == 1).all()
        assert (segments[length:] == 0).all() and seps[0] >= 2  # A is non-empty


def official_reference_ngrams(is_start, is_special, budget, rng):
    """Accepted n-gram lengths (in words) by the official loop, transcribed."""
    candidates = []
    for i in range(len(is_start)):
        if is_special[i]:
            continue
        if candidates and not is_start[i]:
            candidates[-1].append(i)
        else:
            candidates.append([i])
    ngram_sets = [[candidates[i:i + n] for n in (1, 2, 3)] for i in range(len(candidates))]
    order = rng.permutation(len(ngram_sets))
    covered, count, accepted = set(), 0, []
    for index in order:
        if count >= budget:
            break
        sets = ngram_sets[index]
        n = rng.choice([1, 2, 3], p=[6 / 11, 3 / 11, 2 / 11])
        while n > 1 and count + sum(len(w) for w in sets[n - 1]) > budget:
            n -= 1
        chosen = [i for word in sets[n - 1] for i in word]
        if count + len(chosen) > budget or covered.intersection(chosen):
            continue
        covered.update(chosen)
        count += len(chosen)
        accepted.append(len(sets[n - 1]))
    return accepted


def test_ngram_lengths_match_official_distribution(static, tokenizer):
    original = originals(static)
    pieces = [tokenizer.inv_vocab[i] for i in range(tokenizer.vocab_size)]
    start_table = pm.start_piece_table(pieces)
    config = pm.MaskingConfig(max_predictions_per_seq=PRED, vocab_size=VOCAB, cls_id=CLS,
                              sep_id=SEP, mask_id=MASK)
    rng = random.Random(1)
    reference_rng = np.random.default_rng(1)
    ours, reference, first = [], [], []
    for row in range(len(original)):
        ids = original[row, :static["input_mask"][row].sum()].tolist()
        lengths = pm.create_masked_lm_predictions(ids, start_table, config, rng).ngram_lengths
        ours += lengths
        first.append(lengths[0])
        special = [i in (CLS, SEP) for i in ids]
        starts = static["token_boundary"][row, :len(ids)].tolist()
        reference += official_reference_ngrams(starts, special, pm.num_to_predict(
            len(ids), 0.15, PRED), reference_rng)
    ours_freq = np.bincount(ours, minlength=4)[1:] / len(ours)
    reference_freq = np.bincount(reference, minlength=4)[1:] / len(reference)
    first_freq = np.bincount(first, minlength=4)[1:] / len(first)
    expected = np.array([6, 3, 2]) / 11
    assert len(ours) > 20000
    # The first n-gram of a sequence can neither overshoot the budget nor
    # overlap, so its length is the drawn n (bar rare clipping at the end).
    assert np.abs(first_freq - expected).max() < 0.03
    # All accepted n-grams lean short (long ones overshoot the budget or
    # overlap more often), exactly as in the official loop.
    assert np.abs(ours_freq - expected).max() < 0.07
    assert np.abs(ours_freq - reference_freq).max() < 0.015


def test_dynamic_masking_statistics_match_static(static, dynamic):
    original = originals(static)
    assert (originals(dynamic) == original).all()  # same underlying sequences
    for name in ("input_mask", "segment_ids", "token_boundary", "next_sentence_labels"):
        assert (dynamic[name] == static[name]).all()
    check_masks(dynamic, original)
    assert (mask_matrix(dynamic) != mask_matrix(static)).any(axis=1).mean() > 0.99
    special = np.isin(original, [CLS, SEP])

    def runs(data):
        masked = mask_matrix(data)
        out = []
        for row in range(len(original)):
            out += masked_word_runs(masked[row], data["token_boundary"][row],
                                    data["input_mask"][row], special[row])
        return run_histogram(out)

    static_runs, dynamic_runs = runs(static), runs(dynamic)
    assert static_runs[0] > 0.4  # sanity: many single-word runs
    assert np.abs(static_runs - dynamic_runs).max() < 0.02


def test_dynamic_masking_is_graph_friendly(record_file):
    # The map runs inside tf.data (graph mode); a tf.function around the whole
    # iteration must also work.
    dataset = pretraining_dataset(record_file, SEQ, PRED, 8, is_training=True,
                                  dynamic_masking=True, vocab_size=VOCAB, seed=1)

    @tf.function
    def first_batch_sum():
        return dataset.take(1).reduce(
            0.0, lambda total, batch: total + tf.reduce_sum(batch["masked_lm_weights"]))

    assert float(first_batch_sum()) > 0
