"""The tf.data reader: round trip, shapes, sharding, errors, dynamic masks."""

import collections

import pytest
import tensorflow as tf

from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from albert_tf.pretraining_data import PretrainingDataConfig
from albert_tf.pretraining_data import writer as pw
from albert_tf.tokenization import FullTokenizer

SEQ, PRED = 64, 10
NAMES = ("input_ids", "input_mask", "segment_ids", "token_boundary", "masked_lm_positions",
         "masked_lm_ids", "masked_lm_weights", "next_sentence_labels")


@pytest.fixture(scope="module")
def record_files(shared_data_dir, spm_model_file, tmp_path_factory):
    """Two record files from the first 4 documents of the real corpus."""
    text = (shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt").read_text(
        encoding="utf-8")
    directory = tmp_path_factory.mktemp("reader")
    corpus = directory / "corpus.txt"
    corpus.write_text("\n\n".join(text.split("\n\n")[:4]) + "\n", encoding="utf-8")
    outputs = [str(directory / "part-0.tfrecord"), str(directory / "part-1.tfrecord")]
    config = PretrainingDataConfig(max_seq_length=SEQ, max_predictions_per_seq=PRED,
                                      dupe_factor=1)
    pw.create_pretraining_data([str(corpus)], outputs, FullTokenizer(spm_model_file), config)
    return outputs


def parse_independently(path):
    rows = []
    for raw in tf.data.TFRecordDataset(path):
        feature = tf.train.Example.FromString(raw.numpy()).features.feature
        rows.append({name: list(feature[name].int64_list.value or
                                feature[name].float_list.value) for name in NAMES})
    return rows


def collect(dataset, names=NAMES):
    rows = []
    for batch in dataset:
        assert set(batch) == set(names)
        size = batch["input_ids"].shape[0]
        rows += [{name: batch[name][i].numpy().tolist() for name in names} for i in range(size)]
    return rows


def test_eval_reads_back_every_record_in_order(record_files):
    dataset = pretraining_dataset(",".join(record_files), SEQ, PRED, 7, is_training=False)
    expected = parse_independently(record_files[0]) + parse_independently(record_files[1])
    assert len(expected) > 20 and len(expected) % 7 != 0  # a partial last batch
    assert collect(dataset) == expected


def test_training_batches_have_static_shapes_and_dtypes(record_files):
    dataset = pretraining_dataset(record_files, SEQ, PRED, 4, is_training=True, seed=3)
    spec = dataset.element_spec
    for name in ("input_ids", "input_mask", "segment_ids", "token_boundary"):
        assert spec[name].shape == (4, SEQ) and spec[name].dtype == tf.int32
    for name in ("masked_lm_positions", "masked_lm_ids"):
        assert spec[name].shape == (4, PRED) and spec[name].dtype == tf.int32
    assert spec["masked_lm_weights"].shape == (4, PRED)
    assert spec["masked_lm_weights"].dtype == tf.float32
    assert spec["next_sentence_labels"].shape == (4, 1)
    # Training repeats forever: more batches than records.
    total = len(parse_independently(record_files[0])) + len(parse_independently(record_files[1]))
    assert sum(1 for _ in dataset.take(total)) == total
    # A fixed seed gives the same first batch (each new iterator reshuffles,
    # so compare fresh pipelines).
    first = next(iter(pretraining_dataset(record_files, SEQ, PRED, 4, True, seed=3)))
    second = next(iter(pretraining_dataset(record_files, SEQ, PRED, 4, True, seed=3)))
    assert all((first[n].numpy() == second[n].numpy()).all() for n in NAMES)


@pytest.mark.parametrize("num_files", [2, 1])
def test_sharding_with_input_context(record_files, num_files):
    files = record_files[:num_files]
    everything = []
    for path in files:
        everything += parse_independently(path)
    shards = []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2,
                                             input_pipeline_id=pipeline_id,
                                             num_replicas_in_sync=2)
        dataset = pretraining_dataset(files, SEQ, PRED, 8, is_training=False,
                                      input_context=context)
        assert dataset.element_spec["input_ids"].shape.as_list() == [None, SEQ]
        first = next(iter(dataset))
        assert first["input_ids"].shape[0] == 4  # per-replica batch: 8 / 2
        shards.append(collect(dataset))
    if num_files == 2:  # one file per pipeline
        assert shards == [parse_independently(files[0]), parse_independently(files[1])]
    else:  # fewer files than pipelines: records alternate
        assert shards == [everything[0::2], everything[1::2]]


def test_pattern_matching_nothing(tmp_path):
    with pytest.raises(ValueError, match="nothing-here"):
        pretraining_dataset(str(tmp_path / "nothing-here*"), SEQ, PRED, 4, True)


def test_length_mismatch_names_feature_and_lengths(record_files):
    with pytest.raises(ValueError, match=r"'input_ids' has length 64, expected 128"):
        pretraining_dataset(record_files, 128, PRED, 4, True)
    with pytest.raises(ValueError, match=r"'masked_lm_positions' has length 10, expected 20"):
        pretraining_dataset(record_files, SEQ, 20, 4, True)


def test_missing_feature(tmp_path):
    path = str(tmp_path / "partial.tfrecord")
    example = tf.train.Example()
    example.features.feature["input_ids"].int64_list.value.extend([0] * SEQ)
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(example.SerializeToString())
    with pytest.raises(ValueError, match="no feature 'input_mask'"):
        pretraining_dataset(path, SEQ, PRED, 4, True)


def test_bert_format_records_without_token_boundary(record_files, tmp_path):
    """BERT-format (and older ALBERT) records have no token_boundary: the official
    reader parses it only for on-the-fly masking, so they train as they are."""
    path = str(tmp_path / "bert_format.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for raw in tf.data.TFRecordDataset(record_files[0]):
            example = tf.train.Example.FromString(raw.numpy())
            del example.features.feature["token_boundary"]
            writer.write(example.SerializeToString())
    rows = collect(pretraining_dataset(path, SEQ, PRED, 3, is_training=False),
                   names=[n for n in NAMES if n != "token_boundary"])
    want = [{k: v for k, v in row.items() if k != "token_boundary"}
            for row in parse_independently(record_files[0])]
    assert rows == want
    with pytest.raises(ValueError, match="dynamic masking needs the records' 'token_boundary'"):
        pretraining_dataset(path, SEQ, PRED, 3, is_training=True, dynamic_masking=True,
                            vocab_size=30000)


def test_dynamic_masks_change_every_epoch(record_files):
    path = record_files[0]
    num_records = len(parse_independently(path))
    dataset = pretraining_dataset(path, SEQ, PRED, 5, is_training=True, dynamic_masking=True,
                                  vocab_size=30000, seed=9, shuffle_buffer=8)
    masks = collections.defaultdict(list)
    for batch in dataset.take(3 * num_records // 5):
        ids = batch["input_ids"].numpy().copy()
        for row in range(ids.shape[0]):
            real = batch["masked_lm_weights"][row].numpy() > 0
            positions = batch["masked_lm_positions"][row].numpy()[real]
            ids[row, positions] = batch["masked_lm_ids"][row].numpy()[real]
            masks[ids[row].tobytes()].append(tuple(positions))
    repeated = [m for m in masks.values() if len(m) >= 2]
    assert len(masks) == num_records and len(repeated) > num_records // 2
    changed = sum(len(set(m)) == len(m) for m in repeated)
    assert changed >= 0.95 * len(repeated)


def test_dynamic_masking_needs_vocab_size(record_files):
    with pytest.raises(ValueError, match="vocab_size"):
        pretraining_dataset(record_files, SEQ, PRED, 4, True, dynamic_masking=True)
