"""open_record_files: the shared start of the classifier/RACE and SQuAD readers."""

import pytest
import tensorflow as tf

from albert_tf.data.record_diagnosis import CorruptRecordError
from albert_tf.data.record_input import open_record_files


def test_records_sharded_by_pipeline_and_a_per_replica_batch(tmp_path):
    path = str(tmp_path / "five.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(5):
            writer.write(f"record {i}".encode())
    dataset, batch_size = open_record_files(path, 8)
    assert batch_size == 8
    assert [r.numpy() for r in dataset] == [f"record {i}".encode() for i in range(5)]
    # Pipeline 1 of 2, one replica per pipeline: records 1 and 3, half the batch.
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
                                         num_replicas_in_sync=2)
    dataset, batch_size = open_record_files([path], 8, context)
    assert batch_size == 4
    assert [r.numpy() for r in dataset] == [b"record 1", b"record 3"]


def test_a_text_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "train.tf_record"
    path.write_text("index\tsentence\tlabel\n0\ta fine film\t1\n", encoding="utf-8")
    with pytest.raises(CorruptRecordError, match=r"train\.tf_record: not a readable TFRecord"):
        open_record_files(str(path), 8)
