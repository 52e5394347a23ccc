"""run_pretraining refuses bad inputs before training starts, with errors that say why."""

import json
import pathlib

import pytest

from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
from albert_tf.training.strategy import get_distribution_strategy
from synthetic_pretraining_data import write_records

REPO = pathlib.Path(__file__).resolve().parents[3]
TINY = str(REPO / "configs" / "albert_tiny_test.json")


def params(tmp_path, **changes):
    values = dict(albert_config_file=TINY, input_file=str(tmp_path / "train.tfrecord"),
                  output_dir=str(tmp_path / "out"), max_seq_length=32,
                  max_predictions_per_seq=5, train_batch_size=8, num_train_steps=2,
                  num_warmup_steps=0, save_checkpoints_steps=2, iterations_per_loop=1)
    values.update(changes)
    return PretrainingParams(**values)


def test_missing_input_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no input files match .*nothing-\\*"):
        run_pretraining(params(tmp_path, input_file=str(tmp_path / "nothing-*")))


def test_empty_input_file(tmp_path):
    (tmp_path / "train.tfrecord").write_bytes(b"")
    with pytest.raises(ValueError, match="empty input file"):
        run_pretraining(params(tmp_path))


def test_record_lengths_must_match_the_flags(tmp_path):
    write_records(tmp_path / "train.tfrecord", 4, max_seq_length=32, vocab_size=30000)
    with pytest.raises(ValueError, match="train.tfrecord: feature 'input_ids' has length 32, expected 64"):
        run_pretraining(params(tmp_path, max_seq_length=64))


def test_vocabulary_must_match_the_config(tmp_path):
    write_records(tmp_path / "train.tfrecord", 16, vocab_size=30000)
    config = json.loads(pathlib.Path(TINY).read_text())
    config["vocab_size"] = 100
    (tmp_path / "small_vocab.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="vocab_size in .*small_vocab.json is 100"):
        run_pretraining(params(tmp_path, albert_config_file=str(tmp_path / "small_vocab.json")))


def test_sequence_length_must_fit_the_position_embeddings(tmp_path):
    write_records(tmp_path / "train.tfrecord", 4, vocab_size=30000)
    with pytest.raises(ValueError, match="max_seq_length 512 exceeds max_position_embeddings 128"):
        run_pretraining(params(tmp_path, max_seq_length=512))


def test_nothing_to_do(tmp_path):
    with pytest.raises(ValueError, match="at least one of do_train and do_eval"):
        run_pretraining(params(tmp_path, do_train=False, do_eval=False))


@pytest.mark.parametrize("kwargs, message", [
    (dict(distribution_strategy="horovod"), "unknown value 'horovod'"),
    (dict(distribution_strategy="tpu"), "needs --tpu"),
    (dict(distribution_strategy="mirrored", num_gpus=4), "--num_gpus=4 but only 0 GPU"),
    (dict(distribution_strategy="mirrored", all_reduce_alg="magic"), "expected nccl or ring"),
])
def test_strategy_flags_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_distribution_strategy(**kwargs)
