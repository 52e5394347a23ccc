"""TFRecord caching of SQuAD features and the tf.data input."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import features as squad_features
from albert_tf.tasks.squad import records as squad_records
from albert_tf.tasks.squad import metrics as squad_metrics
from albert_tf.tokenization import FullTokenizer

SEQ = 96


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.fixture(scope="module")
def examples(shared_data_dir):
    dataset = squad_metrics.read_json(str(shared_data_dir / "squad/v2.0/dev-v2.0.3articles.json"))
    examples = squad_examples.examples_from_json(dataset, is_training=True)
    return examples[:40]  # Several paragraphs, answerable and not.


def _features(examples, tokenizer, is_training):
    return list(squad_features.convert_examples_to_features(
        examples, tokenizer, is_training, max_seq_length=SEQ, doc_stride=32,
        max_query_length=16))


def _create(examples, tokenizer, path, is_training, **kwargs):
    settings = dict(max_seq_length=SEQ, doc_stride=32, max_query_length=16)
    settings.update(kwargs)
    return squad_records.load_or_create_squad_features(
        examples, tokenizer, path, is_training, **settings)


def test_training_records_round_trip(tmp_path, examples, tokenizer):
    path = str(tmp_path / "train.tf_record")
    result = _create(examples, tokenizer, path, is_training=True)
    expected = _features(examples, tokenizer, True)
    assert result.num_features == len(expected) > len(examples)
    assert not result.reused and result.metas is None
    # Official feature names and int64 values, byte-for-byte in the records.
    record = next(iter(tf.data.TFRecordDataset(path)))
    names = set(tf.train.Example.FromString(record.numpy()).features.feature)
    assert names == {"unique_ids", "input_ids", "input_mask", "segment_ids", "p_mask",
                     "start_positions", "end_positions", "is_impossible"}
    dataset = squad_records.squad_dataset(path, SEQ, is_training=True, batch_size=7,
                                          repeat=False, seed=1)
    rows = {}
    for batch in dataset:
        assert all(v.dtype == tf.int32 for v in batch.values())
        assert batch["input_ids"].shape[1:] == [SEQ]
        for i, uid in enumerate(batch["unique_ids"].numpy()):
            rows[int(uid)] = {k: v[i].numpy() for k, v in batch.items()}
    # drop_remainder defaults to True for training: all but the last partial batch.
    assert len(rows) == len(expected) // 7 * 7
    for f in expected:
        if f.unique_id not in rows:
            continue
        row = rows[f.unique_id]
        for name in ("input_ids", "input_mask", "segment_ids", "p_mask"):
            np.testing.assert_array_equal(row[name], getattr(f, name))
        assert (row["start_positions"], row["end_positions"], row["is_impossible"]) == (
            f.start_position, f.end_position, int(f.is_impossible))


def test_prediction_records_keep_order_and_metadata(tmp_path, examples, tokenizer):
    path = str(tmp_path / "eval.tf_record")
    result = _create(examples, tokenizer, path, is_training=False)
    expected = _features(examples, tokenizer, False)
    assert result.metas == [f.meta for f in expected]
    batches = list(squad_records.squad_dataset(path, SEQ, is_training=False, batch_size=8))
    assert "start_positions" not in batches[0]
    unique_ids = np.concatenate([b["unique_ids"].numpy() for b in batches])
    assert unique_ids.tolist() == [f.unique_id for f in expected]  # all, in order
    input_ids = np.concatenate([b["input_ids"].numpy() for b in batches])
    np.testing.assert_array_equal(input_ids, [f.input_ids for f in expected])
    # The sidecar is plain JSON (no pickles) and holds the char maps.
    sidecar = json.loads(open(path + ".meta.json").read())
    assert sidecar["num_features"] == len(expected)
    assert sidecar["examples"][0][:2] == [0, examples[0].qas_id]
    # Char maps are stored once per paragraph.
    assert len(sidecar["paragraphs"]) == len({e.context_text for e in examples})


def test_cache_is_reused_and_rebuilt_when_inputs_change(tmp_path, examples, tokenizer):
    path = str(tmp_path / "cache" / "eval.tf_record")
    first = _create(examples, tokenizer, path, is_training=False)
    stamp = os.stat(path).st_mtime_ns
    again = _create(examples, tokenizer, path, is_training=False)
    assert again.reused and os.stat(path).st_mtime_ns == stamp
    assert again.metas == first.metas  # rebuilt from the sidecar alone
    assert again.num_features == first.num_features and again.stats == first.stats

    other_stride = _create(examples, tokenizer, path, is_training=False, doc_stride=16)
    assert not other_stride.reused and other_stride.num_features > first.num_features
    fewer = _create(examples[:10], tokenizer, path, is_training=False, doc_stride=16)
    assert not fewer.reused and fewer.num_features < other_stride.num_features
    cased = _create(examples[:10], FullTokenizer(tokenizer.spm_model_file, do_lower_case=False),
                    path, is_training=False, doc_stride=16)
    assert not cased.reused

    with open(path + ".meta.json", "w") as f:
        f.write("{not json")
    assert not _create(examples[:10], tokenizer, path, is_training=False).reused
    assert _create(examples[:10], tokenizer, path, is_training=False).reused


def test_training_file_without_sidecar_is_reused_as_official(tmp_path, examples, tokenizer):
    """An existing --train_feature_file from elsewhere (the official script writes no
    sidecar) is reused, as official, after a schema check; prediction files are rebuilt
    (their window metadata lives only in the sidecar)."""
    path = str(tmp_path / "official_train.tf_record")
    made = _create(examples, tokenizer, path, is_training=True)
    os.remove(path + ".meta.json")
    stamp = os.stat(path).st_mtime_ns
    reused = _create(examples[:5], tokenizer, path, is_training=True)
    assert reused.reused and reused.num_features == made.num_features
    assert os.stat(path).st_mtime_ns == stamp
    assert not os.path.exists(path + ".meta.json")

    wrong = str(tmp_path / "seq64.tf_record")
    _create(examples, tokenizer, wrong, is_training=True, max_seq_length=64)
    os.remove(wrong + ".meta.json")
    with pytest.raises(ValueError, match=r"seq64.tf_record: .*max_seq_length 96"):
        _create(examples, tokenizer, wrong, is_training=True)

    predict = str(tmp_path / "predict.tf_record")
    _create(examples, tokenizer, predict, is_training=False)
    os.remove(predict + ".meta.json")
    rebuilt = _create(examples, tokenizer, predict, is_training=False)
    assert not rebuilt.reused and rebuilt.metas and os.path.exists(predict + ".meta.json")
