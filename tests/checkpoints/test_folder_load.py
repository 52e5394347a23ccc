"""Loading a folder of official checkpoints reads each tensor once, and a damaged
candidate leaves nothing of itself in the model the next one loads into."""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.checkpoints import (load_official_checkpoint, load_weights,
                                   restore_official_weights, save_official_checkpoint)
from albert_tf.checkpoints import official
from albert_tf.checkpoints.official import write_official_variables
from albert_tf.checkpoints.variable_names import official_variable_map
from albert_tf.modeling.models import AlbertClassifier

CONFIG = dict(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)


class CountingReader:
    """A checkpoint reader that counts `get_tensor` per (prefix, tensor)."""

    def __init__(self, reader, prefix, counts):
        self._reader, self._prefix, self._counts = reader, prefix, counts

    def get_tensor(self, name):
        self._counts[(self._prefix, name)] += 1
        return self._reader.get_tensor(name)

    def __getattr__(self, name):
        return getattr(self._reader, name)


@pytest.fixture
def tensor_reads(monkeypatch):
    counts = collections.Counter()
    official._damage.cache_clear()  # No read of an earlier test counts as done.
    load = tf.train.load_checkpoint
    monkeypatch.setattr(tf.train, "load_checkpoint",
                        lambda prefix: CountingReader(load(prefix), str(prefix), counts))
    return counts


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A run folder: model.ckpt-best and model.ckpt-4, both intact."""
    directory = tmp_path_factory.mktemp("run")
    config = AlbertConfig(**CONFIG)
    keras.utils.set_random_seed(1)
    for name in ("model.ckpt-4", "model.ckpt-best"):
        save_official_checkpoint(AlbertPretrainer(config), str(directory / name))
    config.to_json_file(str(directory / "albert_config.json"))
    return directory


@pytest.mark.parametrize("load", ["load_official_checkpoint", "load_weights",
                                  "restore_official_weights"])
def test_an_intact_folder_is_read_once(folder, tensor_reads, load):
    if load == "load_official_checkpoint":
        load_official_checkpoint(str(folder))
    else:
        model = AlbertPretrainer(AlbertConfig(**CONFIG))
        (load_weights if load == "load_weights" else restore_official_weights)(
            model, str(folder))
    best = str(folder / "model.ckpt-best")
    names = tf.train.list_variables(best)
    assert {tensor_reads[(best, name)] for name, _ in names} == {1}, tensor_reads
    assert set(tensor_reads) == {(best, name) for name, _ in names}, tensor_reads


def _random_weights(model, seed):
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=tuple(v.shape)).astype("float32")
            for name, v in official_variable_map(model).items()}


def _flip_bytes_of(prefix, array):
    """Damages `array`'s bytes where they lie in the checkpoint's data file."""
    path = prefix + ".data-00000-of-00001"
    data = bytearray(open(path, "rb").read())
    at = bytes(data).find(array.tobytes())
    assert at >= 0, "the tensor's bytes are not in the data file"
    data[at] ^= 0xFF
    with open(path, "wb") as f:
        f.write(bytes(data))


@pytest.mark.parametrize("load", ["load_weights", "restore_official_weights"])
def test_a_damaged_candidate_leaves_nothing_in_the_model(tmp_path, load):
    """model.ckpt-best holds a classifier head whose output_bias (read after
    output_weights) is damaged; model.ckpt-4 has no head: the head keeps its initial
    values, not best's output_weights, and the encoder is ckpt-4's."""
    keras.utils.set_random_seed(0)
    model = AlbertClassifier(AlbertConfig(**CONFIG), num_labels=3)
    best = _random_weights(model, 1)
    write_official_variables(best, str(tmp_path / "model.ckpt-best"))
    _flip_bytes_of(str(tmp_path / "model.ckpt-best"), best["output_bias"])
    older = {n: v for n, v in _random_weights(model, 2).items()
             if not n.startswith("output_")}
    write_official_variables(older, str(tmp_path / "model.ckpt-4"))
    AlbertConfig(**CONFIG).to_json_file(str(tmp_path / "albert_config.json"))
    initial = {n: np.array(v) for n, v in official_variable_map(model).items()}

    if load == "load_weights":
        assert load_weights(model, str(tmp_path))["status"] == "new"
    else:
        restore_official_weights(model, str(tmp_path), allow_missing=r"output_.*")
    for name, variable in official_variable_map(model).items():
        want = initial[name] if name.startswith("output_") else older[name]
        np.testing.assert_array_equal(np.array(variable), want, err_msg=name)
