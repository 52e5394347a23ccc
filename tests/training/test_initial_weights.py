"""What a run starts from (`load_initial_weights`): a resumed run restores its own
training checkpoint and never reads `--init_checkpoint`."""

import shutil

import albert_tf
from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
from synthetic_pretraining_data import write_records

from .test_run_loop import TINY


def test_a_resumed_run_does_not_read_init_checkpoint(tmp_path, capsys):
    # An HF folder as --init_checkpoint: it used to be read (and converted) on every
    # start, before the Trainer restored over it; gone after the first start, the
    # resumed run failed.
    init = tmp_path / "hf"
    albert_tf.save_pretrained(AlbertPretrainer(AlbertConfig.from_json_file(str(TINY))),
                              str(init), format="hf")
    records = write_records(tmp_path / "train.tfrecord", 16, vocab_size=30000)
    params = dict(albert_config_file=str(TINY), input_file=str(records),
                  output_dir=str(tmp_path / "out"), init_checkpoint=str(init),
                  max_seq_length=32, max_predictions_per_seq=5, train_batch_size=8,
                  num_warmup_steps=0, save_checkpoints_steps=2, iterations_per_loop=2)
    run_pretraining(PretrainingParams(num_train_steps=2, **params))
    assert f"Initialised from {init}" in capsys.readouterr().out
    assert (tmp_path / "out" / "training_checkpoints" / "ckpt-2.index").is_file()
    shutil.rmtree(init)
    run_pretraining(PretrainingParams(num_train_steps=4, **params))
    out = capsys.readouterr().out
    assert f"--init_checkpoint {init} is not read" in out
    assert "Resumed from" in out and "ckpt-2" in out
    assert (tmp_path / "out" / "training_checkpoints" / "ckpt-4.index").is_file()
