"""Partial outputs are never read as input (issue 24): a killed writer's
`*.tmp-PID` file and an older shard set are not pretraining input."""

import logging
import shutil

import pytest

from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from synthetic_pretraining_data import write_records


def _count(dataset):
    return sum(int(batch["input_ids"].shape[0]) for batch in dataset)


def test_a_killed_writers_temp_file_is_skipped(tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    records = write_records(data / "part-0.tfrecord", 12)
    # A killed writer's file that ends on a record boundary reads as a valid TFRecord.
    shutil.copy(records, data / "part-1.tfrecord.tmp-4242")
    with caplog.at_level(logging.WARNING):
        dataset = pretraining_dataset(f"{data}/*", 32, 5, batch_size=4, is_training=False)
    assert _count(dataset) == 12  # Not 24.
    assert "skipping 1 unfinished output(s) of a killed run" in caplog.text
    assert "part-1.tfrecord.tmp-4242" in caplog.text
    with pytest.raises(ValueError, match=r"matched no files \(only 1 unfinished \*.tmp-PID"):
        pretraining_dataset(f"{data}/part-1*", 32, 5, batch_size=4, is_training=False)


def test_shards_of_two_shard_counts_are_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("wiki-00000-of-00002", "wiki-00001-of-00002", "wiki-00000-of-00003",
                 "wiki-00001-of-00003", "wiki-00002-of-00003"):
        write_records(data / name, 4)
    with pytest.raises(ValueError, match=r"shards of .*wiki from runs with different "
                                         r"--num_output_shards: -of-00002 \(2 files\), "
                                         r"-of-00003 \(3 files\)"):
        pretraining_dataset(f"{data}/*", 32, 5, batch_size=4, is_training=False)
    dataset = pretraining_dataset(f"{data}/wiki-*-of-00003", 32, 5, batch_size=4,
                                  is_training=False)
    assert _count(dataset) == 12


def test_symlinked_inputs_are_read_and_a_link_to_a_temp_file_is_not(tmp_path, caplog):
    store = tmp_path / "store"
    store.mkdir()
    records = write_records(store / "part-0.tfrecord", 12)
    shutil.copy(records, store / "part-1.tfrecord.tmp-4242")  # a killed writer's file
    data = tmp_path / "data"
    data.mkdir()
    (data / "part-0.tfrecord").symlink_to(records)
    # A link whose own name looks finished, to the unfinished file.
    (data / "part-1.tfrecord").symlink_to(store / "part-1.tfrecord.tmp-4242")
    with caplog.at_level(logging.WARNING):
        dataset = pretraining_dataset(f"{data}/*.tfrecord", 32, 5, batch_size=4,
                                      is_training=False)
    assert _count(dataset) == 12  # Not 24.
    assert f"skipping 1 unfinished output(s) of a killed run: {data}/part-1.tfrecord" \
        in caplog.text
    with pytest.raises(ValueError, match=r"matched no files \(only 1 unfinished \*.tmp-PID"):
        pretraining_dataset(f"{data}/part-1*", 32, 5, batch_size=4, is_training=False)
    # Through a symlinked folder too.
    (tmp_path / "folder").symlink_to(data, target_is_directory=True)
    dataset = pretraining_dataset(f"{tmp_path}/folder/*", 32, 5, batch_size=4,
                                  is_training=False)
    assert _count(dataset) == 12
