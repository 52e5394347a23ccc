"""A kill between a checkpoint's index and the `checkpoint` state file loses nothing."""

import os

import tensorflow as tf

from albert_tf.training.checkpoint_files import latest_complete_checkpoint


def _save_steps(directory, steps):
    value = tf.Variable(0.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=value), str(directory),
                                         max_to_keep=5, checkpoint_name="ckpt")
    for step in steps:
        value.assign(float(step))
        manager.save(checkpoint_number=step)


def _restored_value(prefix):
    value = tf.Variable(-1.0)
    tf.train.Checkpoint(v=value).restore(prefix).assert_existing_objects_matched()
    return float(value.numpy())


def test_state_file_is_used_when_it_names_the_newest(tmp_path):
    _save_steps(tmp_path, [4, 8])
    assert latest_complete_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-8")


def test_checkpoint_missing_from_the_state_file_is_found_and_recorded(tmp_path):
    _save_steps(tmp_path, [4])
    state = (tmp_path / "checkpoint").read_text()
    _save_steps(tmp_path / "later", [8])
    for name in os.listdir(tmp_path / "later"):  # ckpt-8 complete, state still says ckpt-4
        if name.startswith("ckpt-8"):
            os.rename(tmp_path / "later" / name, tmp_path / name)
    assert (tmp_path / "checkpoint").read_text() == state

    assert latest_complete_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-8")
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-4")  # not repaired
    newest = latest_complete_checkpoint(str(tmp_path), repair=True)
    assert _restored_value(newest) == 8.0
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-8")
    kept = tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths
    assert [os.path.basename(p) for p in kept] == ["ckpt-4", "ckpt-8"]


def test_first_checkpoint_without_any_state_file(tmp_path):
    _save_steps(tmp_path, [4])
    os.remove(tmp_path / "checkpoint")
    assert latest_complete_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-4")


def test_data_without_index_is_not_a_checkpoint(tmp_path):
    _save_steps(tmp_path, [4])
    os.remove(tmp_path / "checkpoint")
    os.remove(tmp_path / "ckpt-4.index")
    assert latest_complete_checkpoint(str(tmp_path)) is None
