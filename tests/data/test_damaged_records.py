"""Damaged TFRecord input names the file and the offset: a text file or a file cut
in its first record before training, damage further in when training reaches it."""

import struct

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.tasks.classification.features import classifier_dataset
from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from albert_tf.data.record_diagnosis import CorruptRecordError
from albert_tf.tasks.squad.records import squad_dataset
from albert_tf.training.optimizers import create_optimizer
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training.prediction import predict_batches
from albert_tf.training.trainer import Trainer, TrainerConfig
from synthetic_pretraining_data import write_records

SEQ = 16
READERS = {
    "pretraining": lambda f: pretraining_dataset(f, 32, 5, 8, is_training=False),
    "classifier": lambda f: classifier_dataset(f, SEQ, 4, is_training=False),
    "squad": lambda f: squad_dataset(f, SEQ, is_training=False, batch_size=4),
}


def record_starts(path):
    """Offsets of the records in a TFRecord file, from its length headers (by hand)."""
    data = open(path, "rb").read()
    starts, offset = [], 0
    while offset < len(data):
        starts.append(offset)
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        offset += 12 + length + 4
    return starts


def write_classifier_records(path, count, seed=0):
    rng = np.random.default_rng(seed)

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))
    with tf.io.TFRecordWriter(str(path)) as writer:
        for _ in range(count):
            features = {"input_ids": ints(rng.integers(5, 60, SEQ)), "input_mask": ints([1] * SEQ),
                        "segment_ids": ints([0] * SEQ), "label_ids": ints([1]),
                        "is_real_example": ints([1])}
            writer.write(tf.train.Example(
                features=tf.train.Features(feature=features)).SerializeToString())
    return str(path)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_text_file_as_records_fails_before_reading_naming_it(tmp_path, reader):
    text = tmp_path / "corpus.txt"
    text.write_text("This is a sentence of the corpus.\nAnd another one.\n" * 20)
    with pytest.raises(CorruptRecordError, match=f"^{text}: not a readable TFRecord file: "
                       r"corrupted record at 0 \(Is this even a TFRecord file\?\)"):
        READERS[reader](str(text))
    stub = tmp_path / "cut.tfrecord"
    stub.write_bytes(b"\x10\x00\x00")  # TensorFlow alone reads this as an empty file
    with pytest.raises(CorruptRecordError, match=f"^{stub}: not a readable TFRecord file: "
                       r"truncated: the last 3 byte\(s\) at offset 0 are not a whole record"):
        READERS[reader](str(stub))


def damage(path, how, record):
    """Cuts the file inside `record`, or flips a byte of its data; returns its offset."""
    starts = record_starts(path)
    data = bytearray(open(path, "rb").read())
    start = starts[record]
    if how == "truncated":
        data = data[:start + 30]
    else:
        data[start + 20] ^= 0x01
    open(path, "wb").write(bytes(data))
    return start


def pretraining_trainer(model_dir):
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    config = AlbertConfig(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    with strategy.scope():
        model = AlbertPretrainer(config)
        optimizer = create_optimizer(1e-3, 20, 0, optimizer="adamw")
    return Trainer(strategy, model, optimizer, PretrainingObjective(),
                   TrainerConfig(model_dir=str(model_dir), num_train_steps=8, steps_per_loop=4,
                                 save_checkpoints_steps=100), global_batch_size=8)


@pytest.mark.parametrize("how", ["truncated", "bit-flipped"])
def test_damage_met_in_pretraining_names_the_file_and_offset(tmp_path, how):
    good = write_records(tmp_path / "a.tfrecord", 24, seed=1)
    bad = write_records(tmp_path / "b.tfrecord", 24, seed=2)
    offset = damage(bad, how, record=10)
    # TensorFlow's offsets: the record's start for a cut, its data (after the 12-byte
    # header) for a checksum error.
    kind, offset = ("truncated", offset) if how == "truncated" else ("corrupted", offset + 12)
    trainer = pretraining_trainer(tmp_path / "out")
    # The first records of both files are intact: training starts, and fails at
    # the damage (in its second loop) with the file named.
    with pytest.raises(tf.errors.DataLossError) as raised:
        trainer.train(lambda ctx: pretraining_dataset(f"{good},{bad}", 32, 5, 8,
                                                      is_training=False, input_context=ctx))
    message = raised.value.message
    assert f"{bad}: {kind} record at {offset} (after 10 good record(s))" in message
    assert good not in message.replace(f"{good},", "")
    assert message.endswith(f"(tf.data reported: {kind} record at {offset})")
    assert 4 <= trainer.global_step < 8
    assert not (tmp_path / "out" / "training_checkpoints").exists()


def test_damage_met_in_fine_tuning_prediction_names_the_file(tmp_path):
    path = write_classifier_records(tmp_path / "dev.tf_record", 12)
    offset = damage(path, "bit-flipped", record=7)
    ids = keras.Input((None,), dtype="int32", name="input_ids")
    model = keras.Model(ids, {"total": keras.ops.sum(ids, axis=-1)})
    outputs = predict_batches(tf.distribute.OneDeviceStrategy("/cpu:0"), model,
                              lambda ctx: classifier_dataset(path, SEQ, 4, is_training=False),
                              lambda f: f["input_ids"])
    assert len(next(outputs)["total"]) == 4  # the first batch is intact
    with pytest.raises(tf.errors.DataLossError,
                       match=f"{path}: corrupted record at {offset + 12} \\(after 7 good"):
        list(outputs)
