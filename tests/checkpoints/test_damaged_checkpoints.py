"""A truncated or damaged checkpoint names its file and tensor; a damaged newest
training checkpoint falls back to the previous intact one."""

import glob
import logging
import os
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.checkpoints import load_official_checkpoint
from albert_tf.checkpoints.official import CheckpointCorruptError, save_official_checkpoint
from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from albert_tf.training.optimizers import create_optimizer
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training.trainer import Trainer, TrainerConfig
from synthetic_pretraining_data import write_records

CONFIG = dict(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def truncate(path, keep=0.5):
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:int(len(data) * keep)])


def flip_byte(path, offset):
    data = bytearray(open(path, "rb").read())
    data[offset] ^= 0xFF
    with open(path, "wb") as f:
        f.write(bytes(data))


@pytest.fixture(scope="module")
def official_checkpoint(tmp_path_factory):
    directory = tmp_path_factory.mktemp("official")
    config = AlbertConfig(**CONFIG)
    keras.utils.set_random_seed(0)
    prefix = save_official_checkpoint(AlbertPretrainer(config), str(directory / "model.ckpt-1"))
    config.to_json_file(str(directory / "albert_config.json"))
    return prefix


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped", "index truncated"])
def test_damaged_init_checkpoint_names_the_file_and_the_tensor(tmp_path, official_checkpoint,
                                                               damage):
    for name in glob.glob(official_checkpoint + "*") + [
            os.path.join(os.path.dirname(official_checkpoint), "albert_config.json")]:
        with open(name, "rb") as src, open(tmp_path / os.path.basename(name), "wb") as dst:
            dst.write(src.read())
    data = str(tmp_path / "model.ckpt-1.data-00000-of-00001")
    message = (rf"checkpoint {tmp_path}/model.ckpt-1: cannot read tensor '[\w/]+' from "
               rf"{data}: the file is truncated or corrupt")
    if damage == "truncated":
        truncate(data)
    elif damage == "bit-flipped":
        flip_byte(data, os.path.getsize(data) // 3)
    else:
        truncate(str(tmp_path / "model.ckpt-1.index"))
        message = (rf"checkpoint {tmp_path}/model.ckpt-1: cannot read its index "
                   rf"{tmp_path}/model.ckpt-1.index \(truncated or corrupt\?\)")
    with pytest.raises(CheckpointCorruptError, match=message):
        load_official_checkpoint(str(tmp_path))


def make_trainer(model_dir, records, num_train_steps=4):
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertPretrainer(AlbertConfig(**CONFIG))
        optimizer = create_optimizer(1e-2, 20, 0, optimizer="lamb")
    trainer = Trainer(strategy, model, optimizer, PretrainingObjective(),
                      TrainerConfig(model_dir=str(model_dir), num_train_steps=num_train_steps,
                                    steps_per_loop=2, save_checkpoints_steps=2),
                      global_batch_size=8)

    def dataset_fn(ctx):
        return pretraining_dataset(records, 32, 5, 8, is_training=False, input_context=ctx)
    return trainer, dataset_fn


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 4-step run with checkpoints at steps 2 and 4, and its final weights."""
    root = tmp_path_factory.mktemp("trained")
    records = write_records(root / "train.tfrecord", 48)
    trainer, fn = make_trainer(root / "out", records)
    trainer.train(fn)
    return records, root / "out", [np.array(w) for w in trainer.model.weights]


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped", "index truncated"])
def test_damaged_newest_training_checkpoint_falls_back_to_the_previous(tmp_path, trained,
                                                                       damage, capsys):
    records, original, expected = trained
    shutil.copytree(original, tmp_path / "out")
    directory = tmp_path / "out" / "training_checkpoints"
    assert {p.name for p in directory.glob("*.index")} == {"ckpt-2.index", "ckpt-4.index"}
    data = str(directory / "ckpt-4.data-00000-of-00001")
    if damage == "truncated":
        truncate(data, 0.3)
    elif damage == "bit-flipped":
        flip_byte(data, os.path.getsize(data) // 2)
    else:
        truncate(str(directory / "ckpt-4.index"), 0.5)
    capsys.readouterr()

    resumed, fn = make_trainer(tmp_path / "out", records)
    resumed.train(fn)
    out = capsys.readouterr().out
    assert f"checkpoint {directory}/ckpt-4 is truncated or corrupt" in out
    assert f"Resumed from {directory}/ckpt-2 at step 2" in out
    assert resumed.global_step == 4
    # Steps 3-4 were trained again from ckpt-2 on the same data: the same weights.
    for want, got in zip(expected, resumed.model.weights):
        np.testing.assert_allclose(np.array(got), want, atol=1e-6, err_msg=got.path)
    # And ckpt-4 was written again, intact.
    again, _ = make_trainer(tmp_path / "out", records)
    assert again.restore_latest() == 4


def test_every_checkpoint_damaged_is_an_error_naming_them(tmp_path, trained):
    records, original, _ = trained
    shutil.copytree(original, tmp_path / "out")
    directory = tmp_path / "out" / "training_checkpoints"
    for data in directory.glob("*.data-*"):
        truncate(data, 0.2)
    again, _ = make_trainer(tmp_path / "out", records)
    with pytest.raises(ValueError, match=f"every checkpoint in {directory} is truncated or "
                                         f"corrupt: {directory}/ckpt-4, {directory}/ckpt-2"):
        again.restore_latest()


@pytest.mark.parametrize("damage", ["truncated", "index truncated"])
def test_damaged_training_checkpoint_read_for_evaluation_export_or_loading_is_named(
        tmp_path, trained, damage):
    """Evaluation of output_dir's checkpoints (`load_saved`), the exporter and
    `load_pretrained` read a Trainer ckpt-N through one restore, which names a damaged
    one instead of a bare IndexError / DataLossError."""
    from albert_tf.checkpoints.official import restore_training_checkpoint
    from albert_tf.checkpoints import load_pretrained
    from albert_tf.training.saved_checkpoints import load_saved

    _, original, _ = trained
    shutil.copytree(original, tmp_path / "out")
    prefix = str(tmp_path / "out" / "training_checkpoints" / "ckpt-4")
    model = AlbertPretrainer(AlbertConfig(**CONFIG))
    restore_training_checkpoint(model, prefix)  # intact: reads
    # (A flipped byte in an optimizer slot is not read for the weights, and rightly
    # passes; cutting the file loses model weights too.)
    if damage == "truncated":
        truncate(prefix + ".data-00000-of-00001", 0.3)
    else:
        truncate(prefix + ".index", 0.5)
    message = f"checkpoint {re.escape(prefix)}: .*truncated or corrupt"
    with pytest.raises(CheckpointCorruptError, match=message):
        load_saved(AlbertPretrainer(AlbertConfig(**CONFIG)), ("trainer", prefix))
    with pytest.raises(CheckpointCorruptError, match=message):
        load_pretrained(prefix, config=AlbertConfig(**CONFIG))


@pytest.fixture
def four_official_checkpoints(tmp_path):
    """A folder of model.ckpt-2, -4, -6 (the state file's latest) and -best, each of
    other weights; returns it and {name: the weights saved}."""
    directory = tmp_path / "run"
    config = AlbertConfig(**CONFIG)
    saved = {}
    for name, seed in (("model.ckpt-2", 2), ("model.ckpt-4", 4), ("model.ckpt-best", 8),
                       ("model.ckpt-6", 6)):
        keras.utils.set_random_seed(seed)
        model = AlbertPretrainer(config)
        save_official_checkpoint(model, str(directory / name),
                                 write_state_file=name == "model.ckpt-6")
        saved[name] = [np.array(w) for w in model.weights]
    config.to_json_file(str(directory / "albert_config.json"))
    assert tf.train.latest_checkpoint(str(directory)) == str(directory / "model.ckpt-6")
    return directory, saved


def test_loader_takes_the_newest_intact_checkpoint_of_a_folder_naming_the_damaged(
        four_official_checkpoints, caplog):
    directory, saved = four_official_checkpoints
    truncate(str(directory / "model.ckpt-best.data-00000-of-00001"))
    os.remove(directory / "model.ckpt-6.index")  # the state file's latest
    with caplog.at_level(logging.WARNING):
        model = load_official_checkpoint(str(directory))
    for want, got in zip(saved["model.ckpt-4"], model.weights):
        np.testing.assert_array_equal(np.array(got), want, err_msg=got.path)
    warning = [r.getMessage() for r in caplog.records if "newest checkpoint that reads" in
               r.getMessage()]
    assert len(warning) == 1, caplog.text
    assert warning[0].startswith(f"{directory}: using {directory}/model.ckpt-4, ")
    assert (f"checkpoint {directory}/model.ckpt-best: cannot read tensor" in warning[0]
            and "truncated or corrupt" in warning[0])
    assert (f"checkpoint {directory}/model.ckpt-6: its index {directory}/model.ckpt-6.index "
            f"is missing") in warning[0]
    assert "model.ckpt-2" not in warning[0]


def test_loader_refuses_a_folder_whose_every_checkpoint_is_damaged_naming_each(
        four_official_checkpoints):
    directory, _ = four_official_checkpoints
    truncate(str(directory / "model.ckpt-best.data-00000-of-00001"))
    os.remove(directory / "model.ckpt-6.index")
    truncate(str(directory / "model.ckpt-4.index"))
    flip_byte(str(directory / "model.ckpt-2.data-00000-of-00001"),
              os.path.getsize(directory / "model.ckpt-2.data-00000-of-00001") // 2)
    with pytest.raises(CheckpointCorruptError) as error:
        load_official_checkpoint(str(directory))
    message = str(error.value)
    assert message.startswith(f"every checkpoint in {directory} is damaged: ")
    named = re.findall(rf"checkpoint ({re.escape(str(directory))}/[\w.-]+): ", message)
    assert named == [f"{directory}/model.ckpt-{n}" for n in ("best", "6", "4", "2")], message


@pytest.fixture(scope="module")
def trained_six(tmp_path_factory):
    """A 6-step run with training checkpoints at steps 2, 4 and 6, and its final weights."""
    root = tmp_path_factory.mktemp("trained_six")
    records = write_records(root / "train.tfrecord", 64)
    trainer, fn = make_trainer(root / "out", records, num_train_steps=6)
    trainer.train(fn)
    return records, root / "out", [np.array(w) for w in trainer.model.weights]


def _damage_newest_two(directory):
    os.remove(directory / "ckpt-6.index")  # the state file's latest
    truncate(str(directory / "ckpt-4.data-00000-of-00001"), 0.3)


def test_resume_takes_the_newest_intact_of_three_naming_each_damaged(tmp_path, trained_six,
                                                                     capsys, caplog):
    records, original, expected = trained_six
    shutil.copytree(original, tmp_path / "out")
    directory = tmp_path / "out" / "training_checkpoints"
    assert tf.train.latest_checkpoint(str(directory)) == str(directory / "ckpt-6")
    _damage_newest_two(directory)
    capsys.readouterr()
    resumed, fn = make_trainer(tmp_path / "out", records, num_train_steps=6)
    with caplog.at_level(logging.WARNING):
        resumed.train(fn)
    out = capsys.readouterr().out
    # The state file named ckpt-6: said so (not "stopped while saving").
    assert (f"{directory}/checkpoint named {directory}/ckpt-6, whose .index is missing"
            in caplog.text)
    assert "stopped while saving" not in caplog.text
    assert f"checkpoint {directory}/ckpt-6 is damaged (its .index is missing)" in out
    assert f"checkpoint {directory}/ckpt-4 is truncated or corrupt" in out
    assert (f"resumed from {directory}/ckpt-2 instead of the damaged {directory}/ckpt-6, "
            f"{directory}/ckpt-4") in out
    assert f"Resumed from {directory}/ckpt-2 at step 2" in out
    # Steps 3-6 trained again from ckpt-2 on the same data: the same weights.
    for want, got in zip(expected, resumed.model.weights):
        np.testing.assert_allclose(np.array(got), want, atol=1e-6, err_msg=got.path)


def test_resume_refuses_when_all_three_are_damaged_naming_each(tmp_path, trained_six):
    records, original, _ = trained_six
    shutil.copytree(original, tmp_path / "out")
    directory = tmp_path / "out" / "training_checkpoints"
    _damage_newest_two(directory)
    truncate(str(directory / "ckpt-2.index"), 0.5)
    again, fn = make_trainer(tmp_path / "out", records, num_train_steps=6)
    with pytest.raises(ValueError, match=f"every checkpoint in {directory} is truncated or "
                                         f"corrupt: {directory}/ckpt-6, {directory}/ckpt-4, "
                                         f"{directory}/ckpt-2; "):
        again.train(fn)
    # Nothing was trained over them.
    assert sorted(p.name for p in directory.glob("ckpt-*.index")) == ["ckpt-2.index",
                                                                      "ckpt-4.index"]
