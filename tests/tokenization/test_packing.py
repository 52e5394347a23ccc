"""TFTokenizer.pack against a plain-Python copy of the official rule."""

import itertools

import pytest
import tensorflow as tf

from albert_tf.tokenization import TFTokenizer
from albert_tf.tokenization.packing import pack_segments

CLS, SEP, PAD = 2, 3, 0


def official_truncate_seq_pair(tokens_a, tokens_b, max_length):
    """The official `_truncate_seq_pair`: pop from the longer, B when equal."""
    while len(tokens_a) + len(tokens_b) > max_length:
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


def reference_pack(a, b, max_seq_length):
    a, b = list(a), (None if b is None else list(b))
    if b is None:
        a = a[:max_seq_length - 2]
        ids, segs = [CLS] + a + [SEP], [0] * (len(a) + 2)
    else:
        official_truncate_seq_pair(a, b, max_seq_length - 3)
        ids = [CLS] + a + [SEP] + b + [SEP]
        segs = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    pad = max_seq_length - len(ids)
    return ids + [PAD] * pad, [1] * len(ids) + [0] * pad, segs + [0] * pad


def test_hand_worked_pair():
    a = tf.ragged.constant([[10, 11, 12, 13, 14], [20]])
    b = tf.ragged.constant([[30, 31], [40, 41, 42, 43, 44, 45, 46, 47, 48]])
    out = pack_segments([a, b], 8, CLS, SEP, PAD)
    # Budget 5: row 0 keeps A[:3] + B; row 1 keeps A + B[:4].
    assert out["input_ids"].numpy().tolist() == [
        [2, 10, 11, 12, 3, 30, 31, 3],
        [2, 20, 3, 40, 41, 42, 43, 3]]
    assert out["segment_ids"].numpy().tolist() == [
        [0, 0, 0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1, 1]]
    assert out["input_mask"].numpy().tolist() == [[1] * 8, [1] * 8]


def test_hand_worked_padding_and_single_segment():
    a = tf.ragged.constant([[10, 11], [20, 21, 22, 23, 24, 25]])
    out = pack_segments([a], 6, CLS, SEP, PAD)
    assert out["input_ids"].numpy().tolist() == [
        [2, 10, 11, 3, 0, 0],
        [2, 20, 21, 22, 23, 3]]
    assert out["input_mask"].numpy().tolist() == [[1, 1, 1, 1, 0, 0], [1] * 6]
    assert out["segment_ids"].numpy().tolist() == [[0] * 6, [0] * 6]
    for value in out.values():
        assert value.dtype == tf.int32 and value.shape == (2, 6)


@pytest.mark.parametrize("max_seq_length", [3, 4, 5, 8, 11])
def test_all_small_pairs_match_official_truncation(max_seq_length):
    lengths = list(itertools.product(range(10), range(10)))
    a = tf.ragged.constant([[100 + i for i in range(la)] for la, _ in lengths],
                           dtype=tf.int32, row_splits_dtype=tf.int32)
    b = tf.ragged.constant([[200 + i for i in range(lb)] for _, lb in lengths],
                           dtype=tf.int64)
    out = pack_segments([a, b], max_seq_length, CLS, SEP, PAD)
    got = [out[k].numpy().tolist() for k in ("input_ids", "input_mask", "segment_ids")]
    for row, (la, lb) in enumerate(lengths):
        expected = reference_pack(range(100, 100 + la), range(200, 200 + lb),
                                  max_seq_length)
        assert tuple(g[row] for g in got) == expected, (la, lb)


@pytest.mark.parametrize("max_seq_length", [2, 3, 7])
def test_single_segments_match_reference(max_seq_length):
    a = tf.ragged.constant([[100 + i for i in range(n)] for n in range(10)])
    out = pack_segments([a], max_seq_length, CLS, SEP, PAD)
    for n in range(10):
        expected = reference_pack(range(100, 100 + n), None, max_seq_length)
        assert tuple(out[k][n].numpy().tolist()
                     for k in ("input_ids", "input_mask", "segment_ids")) == expected


def test_seq_length_as_a_tensor_packs_the_same():
    """As the exports' `bert_pack_inputs(..., seq_length=N)` calls it."""
    lengths = list(itertools.product(range(6), range(6)))
    a = tf.ragged.constant([[100 + i for i in range(la)] for la, _ in lengths])
    b = tf.ragged.constant([[200 + i for i in range(lb)] for _, lb in lengths])
    pack = tf.function(lambda a, b, n: pack_segments([a, b], n, CLS, SEP, PAD))
    for max_seq_length in (3, 6, 9):
        out = pack(a, b, tf.constant(max_seq_length))
        for row, (la, lb) in enumerate(lengths):
            expected = reference_pack(range(100, 100 + la), range(200, 200 + lb),
                                      max_seq_length)
            assert tuple(out[k][row].numpy().tolist()
                         for k in ("input_ids", "input_mask", "segment_ids")) == expected
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least 3"):
        pack(a, b, tf.constant(2))


def test_rejects_bad_arguments():
    a = tf.ragged.constant([[1, 2]])
    with pytest.raises(ValueError, match="at least 3"):
        pack_segments([a, a], 2, CLS, SEP, PAD)
    with pytest.raises(ValueError, match="1 or 2 segments"):
        pack_segments([a, a, a], 16, CLS, SEP, PAD)
    with pytest.raises(ValueError, match="RaggedTensor"):
        pack_segments([tf.constant([[1, 2]])], 16, CLS, SEP, PAD)


def test_tokenizer_pack_uses_model_ids(spm_model_file):
    tokenizer = TFTokenizer(spm_model_file)
    assert (tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id) == (CLS, SEP, PAD)
    assert all(isinstance(getattr(tokenizer, name), int) for name in (
        "pad_id", "unk_id", "cls_id", "sep_id", "mask_id", "vocab_size"))
    out = tokenizer.pack([tokenizer(["this is a test"]), tokenizer(["a test"])], 10)
    # "▁this"=48 "▁is"=25 "▁a"=21 "▁test"=1289 (official vocabulary).
    assert out["input_ids"].numpy().tolist() == [[2, 48, 25, 21, 1289, 3, 21, 1289, 3, 0]]
    assert out["segment_ids"].numpy().tolist() == [[0, 0, 0, 0, 0, 0, 1, 1, 1, 0]]
