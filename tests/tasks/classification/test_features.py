"""GLUE example -> features (hand-worked), TFRecord cache and tf.data input."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.classification import features as cf
from albert_tf.tasks.glue.processors import InputExample


class WordTokenizer:
    """Whitespace tokenizer, ids by hand: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3, a..z=10..35."""
    cls_id = 2
    sep_id = 3
    pad_id = 0
    vocab_size = 36

    def tokenize(self, text):
        return text.split()

    def convert_tokens_to_ids(self, tokens):
        return [10 + ord(t) - ord("a") if len(t) == 1 and t.islower() else 1 for t in tokens]


TOK = WordTokenizer()
A, B, C, D, E, F, G = range(10, 17)


def test_pair_truncation_and_layout_hand_worked():
    example = InputExample("x", "a b c d e", "f g", label="1")
    features = cf.convert_single_example(example, ["0", "1"], 8, TOK)
    # Budget 8 - 3 = 5 for 5 + 2 tokens: a is longer -> pop e, then d.
    assert features.input_ids == [2, A, B, C, 3, F, G, 3]
    assert features.input_mask == [1] * 8
    assert features.segment_ids == [0, 0, 0, 0, 0, 1, 1, 1]
    assert features.label_id == 1 and features.is_real_example


def test_truncate_ties_pop_from_b():
    a, b = list("xyz"), list("pqr")
    cf.truncate_seq_pair(a, b, 4)
    # 3/3 tie -> pop b (len 2); then a longer -> pop a.
    assert (a, b) == (["x", "y"], ["p", "q"])


def test_single_sentence_padding_and_truncation():
    features = cf.convert_single_example(InputExample("x", "a b", None, "0"), ["0", "1"], 6, TOK)
    assert features.input_ids == [2, A, B, 3, 0, 0]
    assert features.input_mask == [1, 1, 1, 1, 0, 0]
    assert features.segment_ids == [0] * 6
    assert features.label_id == 0
    long = cf.convert_single_example(InputExample("x", "a b c d e f g", None, "1"), ["0", "1"],
                                     5, TOK)
    assert long.input_ids == [2, A, B, C, 3]


def test_regression_label_padding_and_bad_label():
    features = cf.convert_single_example(InputExample("x", "a", "b", 3.25), [None], 6, TOK,
                                         is_regression=True)
    assert features.label_id == 3.25 and isinstance(features.label_id, float)
    padding = cf.convert_single_example(cf.PaddingInputExample(), ["0", "1"], 4, TOK)
    assert (padding.input_ids, padding.input_mask, padding.segment_ids) == ([0] * 4,) * 3
    assert padding.label_id == 0 and not padding.is_real_example
    with pytest.raises(ValueError, match=r"example x: label '7' is not one of \['0', '1'\]"):
        cf.convert_single_example(InputExample("x", "a", None, "7"), ["0", "1"], 6, TOK)
    padded = cf.pad_to_batch_multiple([1, 2, 3], 4)
    assert padded[:3] == [1, 2, 3] and isinstance(padded[3], cf.PaddingInputExample)
    assert cf.pad_to_batch_multiple([1, 2], 2) == [1, 2]


def test_real_sentencepiece_encoding(spm_model_file):
    sentencepiece = pytest.importorskip("sentencepiece")
    from albert_tf.tokenization import FullTokenizer
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    sp = sentencepiece.SentencePieceProcessor(model_file=spm_model_file)
    example = InputExample("dev-0", "the cat sat on the mat.", "a dog barked.", "1")
    features = cf.convert_single_example(example, ["0", "1"], 24, tokenizer)
    ids_a = sp.encode("the cat sat on the mat.")
    ids_b = sp.encode("a dog barked.")
    expected = [2] + ids_a + [3] + ids_b + [3]     # [CLS]=2, [SEP]=3 in 30k-clean
    assert features.input_ids == expected + [0] * (24 - len(expected))
    assert features.segment_ids == [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1) + \
        [0] * (24 - len(expected))


def _examples():
    return [InputExample("g0", "a b", "c", "1"), InputExample("g1", "d e f", None, "0"),
            InputExample("g2", "g", "a b c d e f g", "1")]


def test_tfrecord_uses_official_names_and_dataset_roundtrip(tmp_path):
    path = str(tmp_path / "cache" / "rte_eval.tf_record")
    examples = cf.pad_to_batch_multiple(_examples(), 2)
    meta = cf.ensure_classifier_tfrecord(examples, ["0", "1"], 7, TOK, path)
    assert meta["num_records"] == 4 and meta["num_real_examples"] == 3
    raw = [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]
    assert sorted(raw[0].features.feature) == sorted(
        ["input_ids", "input_mask", "segment_ids", "label_ids", "is_real_example"])
    assert list(raw[0].features.feature["input_ids"].int64_list.value) == [2, A, B, 3, C, 3, 0]
    assert raw[2].features.feature["label_ids"].int64_list.value == [1]
    assert raw[3].features.feature["is_real_example"].int64_list.value == [0]

    batches = list(cf.classifier_dataset(path, 7, batch_size=3, is_training=False))
    assert [b["input_ids"].shape.as_list() for b in batches] == [[3, 7], [1, 7]]
    first = batches[0]
    assert first["input_ids"].dtype == tf.int32 and first["label_ids"].dtype == tf.int32
    expected = cf.convert_examples_to_features(examples, ["0", "1"], 7, TOK)
    np.testing.assert_array_equal(
        np.concatenate([b["input_ids"] for b in batches]), [f.input_ids for f in expected])
    np.testing.assert_array_equal(
        np.concatenate([b["segment_ids"] for b in batches]), [f.segment_ids for f in expected])
    np.testing.assert_array_equal(np.concatenate([b["label_ids"] for b in batches]), [1, 0, 1, 0])
    np.testing.assert_array_equal(
        np.concatenate([b["is_real_example"] for b in batches]), [1, 1, 1, 0])


def test_regression_records_are_float(tmp_path):
    path = str(tmp_path / "sts-b_train.tf_record")
    examples = [InputExample("0", "a", "b", 4.5), InputExample("1", "c", "d", 0.25)]
    cf.ensure_classifier_tfrecord(examples, [None], 6, TOK, path, is_regression=True)
    raw = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(path))).numpy())
    assert list(raw.features.feature["label_ids"].float_list.value) == [4.5]
    batch = next(iter(cf.classifier_dataset(path, 6, 2, is_training=False, is_regression=True)))
    assert batch["label_ids"].dtype == tf.float32
    np.testing.assert_allclose(batch["label_ids"], [4.5, 0.25])


def test_training_dataset_repeats_shuffles_and_drops_remainder(tmp_path):
    path = str(tmp_path / "train.tf_record")
    examples = [InputExample(f"g{i}", "abcdefg"[i % 7], None, str(i % 2)) for i in range(10)]
    cf.ensure_classifier_tfrecord(examples, ["0", "1"], 4, TOK, path)
    dataset = cf.classifier_dataset(path, 4, batch_size=4, is_training=True, seed=3)
    batches = list(dataset.take(7))         # 28 records > 2 epochs of 10
    assert all(b["input_ids"].shape == (4, 4) for b in batches)
    seen = np.concatenate([b["input_ids"][:, 1] for b in batches])
    in_order = np.array([A + i % 7 for i in range(28)])
    assert not np.array_equal(seen, in_order)                   # shuffled
    assert sorted(set(seen.tolist())) == list(range(A, A + 7))  # every token seen
    # Distribution: 2 pipelines, per-replica batch 2, this pipeline reads every 2nd record.
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
                                         num_replicas_in_sync=2)
    eval_batches = list(cf.classifier_dataset(path, 4, 4, is_training=False,
                                              input_context=context))
    first_tokens = np.concatenate([b["input_ids"][:, 1] for b in eval_batches])
    np.testing.assert_array_equal(first_tokens, [A + i % 7 for i in range(1, 10, 2)])
    assert eval_batches[0]["input_ids"].shape[0] == 2


def test_cache_is_reused_and_rewritten_when_inputs_change(tmp_path, monkeypatch):
    path = str(tmp_path / "cola_train.tf_record")
    assert cf.cached_tfrecord_path(str(tmp_path), "cola", "train") == path
    assert cf.cached_tfrecord_path("d", "cola", "dev") == os.path.join("d", "cola_eval.tf_record")
    assert cf.cached_tfrecord_path("d", "cola", "test") == os.path.join("d", "predict.tf_record")
    cf.ensure_classifier_tfrecord(_examples(), ["0", "1"], 7, TOK, path)
    with open(path + ".meta.json") as f:
        assert json.load(f)["num_records"] == 3

    def exploding_convert(*args, **kwargs):
        raise AssertionError("cache should have been reused")

    with monkeypatch.context() as patch:
        patch.setattr(cf, "convert_single_example", exploding_convert)
        meta = cf.ensure_classifier_tfrecord(_examples(), ["0", "1"], 7, TOK, path)
    assert meta["num_records"] == 3
    changed = _examples()[:2]
    meta = cf.ensure_classifier_tfrecord(changed, ["0", "1"], 7, TOK, path)
    assert meta["num_records"] == 2
    assert sum(1 for _ in tf.data.TFRecordDataset(path)) == 2
    meta = cf.ensure_classifier_tfrecord(changed, ["0", "1"], 9, TOK, path)
    raw = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(path))).numpy())
    assert len(raw.features.feature["input_ids"].int64_list.value) == 9
    assert not os.path.exists(path + ".tmp")


def test_real_rte_dev_end_to_end(shared_data_dir, spm_model_file, tmp_path):
    from albert_tf.tasks.glue import processors as glue
    from albert_tf.tokenization import FullTokenizer
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    processor = glue.get_processor("rte")
    examples = processor.get_dev_examples(str(shared_data_dir / "glue_data"))
    padded = cf.pad_to_batch_multiple(examples, 8)              # 277 -> 280
    path = cf.cached_tfrecord_path(str(tmp_path), "rte", "dev")
    meta = cf.ensure_classifier_tfrecord(padded, processor.get_labels(), 128, tokenizer, path)
    assert (meta["num_records"], meta["num_real_examples"]) == (280, 277)
    batches = list(cf.classifier_dataset(path, 128, 8, is_training=False))
    real = np.concatenate([b["is_real_example"] for b in batches])
    labels = np.concatenate([b["label_ids"] for b in batches])[real == 1]
    assert real.sum() == 277 and len(real) == 280
    # 146 entailment (id 0) / 131 not_entailment (id 1).
    assert (labels == 0).sum() == 146 and (labels == 1).sum() == 131
    input_ids = np.concatenate([b["input_ids"] for b in batches])[real == 1]
    mask = np.concatenate([b["input_mask"] for b in batches])[real == 1]
    assert np.all(input_ids[:, 0] == tokenizer.cls_id)
    assert np.all((input_ids == tokenizer.sep_id).sum(axis=1) == 2)
    assert np.all(input_ids[mask == 0] == 0)
    # Some RTE premises exceed 128 pieces, so truncation fills those rows exactly.
    assert (mask.sum(axis=1) == 128).sum() > 0


def test_in_memory_dataset_matches_records(tmp_path):
    examples = cf.pad_to_batch_multiple(_examples(), 2)
    path = str(tmp_path / "x.tf_record")
    cf.ensure_classifier_tfrecord(examples, ["0", "1"], 7, TOK, path)
    from_file = next(iter(cf.classifier_dataset(path, 7, 4, is_training=False)))
    features = cf.convert_examples_to_features(examples, ["0", "1"], 7, TOK)
    in_memory = next(iter(cf.features_dataset(features).batch(4)))
    assert sorted(in_memory) == sorted(from_file)
    for name in from_file:
        assert in_memory[name].dtype == from_file[name].dtype
        np.testing.assert_array_equal(in_memory[name], from_file[name])
