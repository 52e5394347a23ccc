"""A damaged or hostile checkpoint file is refused naming the file (and the tensor or
field) and what was expected, where a user meets it: `load_pretrained`,
`albert-convert` (`convert_checkpoint`) and a fine-tuning `--init_checkpoint`
(`load_weights` into a built model)."""

import json
import os
import re
import shutil

import keras
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.checkpoints import load_pretrained, load_weights, loader
from albert_tf.checkpoints.hf import write_hf
from albert_tf.checkpoints.keras_hub import write_keras_hub
from albert_tf.checkpoints.named_weights import declared_shapes, from_model
from albert_tf.checkpoints.official import save_official_checkpoint
from albert_tf.checkpoints.pretrained import convert_checkpoint
from albert_tf.checkpoints.variable_names import official_variable_map

CONFIG = dict(vocab_size=40, embedding_size=8, hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=24, max_position_embeddings=16,
              type_vocab_size=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
              hidden_act="gelu")
WORDS = "albert.embeddings.word_embeddings.weight"


@pytest.fixture(scope="module")
def pretrainer():
    keras.utils.set_random_seed(0)
    return AlbertPretrainer(AlbertConfig(**CONFIG))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, pretrainer):
    """One folder of each format, to be copied and damaged by each test."""
    root = tmp_path_factory.mktemp("saved")
    named = from_model(pretrainer)
    for name, write in (("hf", write_hf), ("keras_hub", write_keras_hub)):
        os.mkdir(root / name)
        write(named, str(root / name))
    os.mkdir(root / "official")
    save_official_checkpoint(pretrainer, str(root / "official" / "model.ckpt-1"))
    pretrainer.encoder.albert_config.to_json_file(str(root / "official" / "albert_config.json"))
    pretrainer.save(str(root / "model.keras"))
    return root


def copy(saved, tmp_path, name):
    target = tmp_path / name
    if os.path.isdir(saved / name):
        shutil.copytree(saved / name, target)
    else:
        shutil.copyfile(saved / name, target)
    return target


def refused(path, message, error=ValueError, **kwargs):
    with pytest.raises(error, match=re.escape(message)):
        load_pretrained(str(path), **kwargs)


# ------------------------------------------------------------------ safetensors
def test_declared_shapes_are_the_shapes_a_built_model_has(pretrainer):
    built = {n: tuple(v.shape) for n, v in official_variable_map(pretrainer).items()}
    declared = declared_shapes(pretrainer.encoder.albert_config)
    assert {n: declared[n] for n in built} == built


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:5], "its header length is missing (the file has 5 bytes)"),
    (lambda data: (10 ** 9).to_bytes(8, "little") + data[8:],
     "its header length (1000000000 bytes) runs past the end"),
    (lambda data: data[:8] + b"#" * int.from_bytes(data[:8], "little") +
     data[8 + int.from_bytes(data[:8], "little"):], "the safetensors header is not valid JSON"),
    (lambda data: data[:-100], "cannot read safetensors tensors"),
])
def test_a_damaged_safetensors_file_is_named(saved, tmp_path, damage, message):
    folder = copy(saved, tmp_path, "hf")
    path = folder / "model.safetensors"
    path.write_bytes(damage(path.read_bytes()))
    refused(folder, f"{path}: ")
    refused(folder, message)


def sharded(saved, tmp_path):
    folder = copy(saved, tmp_path, "hf")
    os.rename(folder / "model.safetensors", folder / "model-00001-of-00001.safetensors")
    return folder


def write_index(folder, values):
    path = folder / "model.safetensors.index.json"
    path.write_text(values if isinstance(values, str) else json.dumps(values))
    return path


def test_a_sharded_folder_loads(saved, tmp_path, pretrainer):
    folder = sharded(saved, tmp_path)
    names = load_file(str(folder / "model-00001-of-00001.safetensors"))
    write_index(folder, {"weight_map": {n: "model-00001-of-00001.safetensors" for n in names}})
    model = load_pretrained(str(folder))
    np.testing.assert_array_equal(model.encoder.embeddings.word_embeddings.numpy(),
                                  pretrainer.encoder.embeddings.word_embeddings.numpy())


@pytest.mark.parametrize("shard", ["..", ".", "/etc/hostname", "../outside.safetensors",
                                   "sub/model.safetensors", "link.safetensors"])
def test_a_shard_outside_the_folder_is_refused_naming_it(saved, tmp_path, shard):
    folder = sharded(saved, tmp_path)
    shutil.copyfile(folder / "model-00001-of-00001.safetensors",
                    tmp_path / "outside.safetensors")
    os.symlink(tmp_path / "outside.safetensors", folder / "link.safetensors")
    index = write_index(folder, {"weight_map": {WORDS: shard}})
    refused(folder, f"{index}: shard {shard!r} must be the name of a file in {folder}")


@pytest.mark.parametrize("values, message", [
    ("{not json", "not valid JSON"),
    ({"metadata": {}}, "expected an object with a 'weight_map' object"),
    ([1, 2], "expected an object with a 'weight_map' object"),
])
def test_a_bad_index_is_refused_naming_it(saved, tmp_path, values, message):
    folder = sharded(saved, tmp_path)
    index = write_index(folder, values)
    refused(folder, f"{index}: {message}")


def test_a_missing_shard_is_named(saved, tmp_path):
    folder = sharded(saved, tmp_path)
    index = write_index(folder, {"weight_map": {WORDS: "model-00002-of-00002.safetensors"}})
    refused(folder, f"{index}: shard 'model-00002-of-00002.safetensors' does not exist",
            error=FileNotFoundError)


# ------------------------------------------------------------- tensor values
def rewrite_tensor(folder, key, change):
    path = str(folder / "model.safetensors")
    state = load_file(path)
    state[key] = change(state[key])
    save_file(state, path, metadata={"format": "pt"})


def int_tensor(value):
    return value.astype(np.int32)


def nan_tensor(value):
    value = value.copy()
    value[3, 1] = np.nan
    return value


def inf_tensor(value):
    value = value.copy()
    value[0, 0] = -np.inf
    return value


CHANGES = [(int_tensor, "has dtype int32, expected floating point weights"),
           (nan_tensor, "holds 1 NaN or Inf values of 320"),
           (inf_tensor, "holds 1 NaN or Inf values of 320")]


@pytest.mark.parametrize("change, message", CHANGES)
def test_non_float_or_non_finite_weights_are_refused_naming_the_tensor(
        saved, tmp_path, pretrainer, change, message):
    folder = copy(saved, tmp_path, "hf")
    rewrite_tensor(folder, WORDS, change)
    expected = f"{folder}: tensor bert/embeddings/word_embeddings {message}"
    refused(folder, expected)  # load_pretrained
    with pytest.raises(ValueError, match=re.escape(expected)):  # albert-convert
        convert_checkpoint(str(folder), str(tmp_path / "out"), "keras_hub")
    assert not os.path.exists(tmp_path / "out")
    model = AlbertPretrainer(AlbertConfig(**CONFIG))  # fine-tuning's --init_checkpoint
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_weights(model, str(folder))


def test_half_precision_weights_still_load(saved, tmp_path, pretrainer):
    import ml_dtypes

    for dtype in (np.float16, ml_dtypes.bfloat16):
        folder = copy(saved, tmp_path / np.dtype(dtype).name, "hf")
        rewrite_tensor(folder, WORDS, lambda value: value.astype(dtype))
        model = load_pretrained(str(folder))
        np.testing.assert_array_equal(
            model.encoder.embeddings.word_embeddings.numpy(),
            pretrainer.encoder.embeddings.word_embeddings.numpy().astype(dtype)
            .astype(np.float32))


# ------------------------------------------------------------------ keras-hub
def test_a_keras_hub_config_of_another_class_says_so(saved, tmp_path):
    folder = copy(saved, tmp_path, "keras_hub")
    path = folder / "config.json"
    values = json.loads(path.read_text())
    values.update(class_name="BertBackbone", registered_name="keras_hub>BertBackbone")
    path.write_text(json.dumps(values))
    refused(folder, f"{path}: expected a serialized AlbertBackbone, got class_name "
                    "'BertBackbone'")


@pytest.mark.parametrize("damage, message", [
    (lambda data: b"not an hdf5 file" * 10, "not a readable .weights.h5 (HDF5) file"),
    (lambda data: data[:len(data) // 2], ""),
])
def test_a_damaged_weights_h5_is_named(saved, tmp_path, damage, message):
    folder = copy(saved, tmp_path, "keras_hub")
    path = folder / "model.weights.h5"
    path.write_bytes(damage(path.read_bytes()))
    refused(folder, f"{path}: {message}")


def test_a_group_where_an_h5_array_belongs_is_named(saved, tmp_path):
    import h5py

    folder = copy(saved, tmp_path, "keras_hub")
    path = folder / "model.weights.h5"
    with h5py.File(path, "r+") as h5:
        del h5["layers/dense_1/vars/1"]
        h5.create_group("layers/dense_1/vars/1")
    refused(folder, f"{path}: layers/dense_1/vars/1 is not an array (dataset)")


@pytest.mark.parametrize("damage", [lambda data: b"garbage" * 50,
                                    lambda data: data[:len(data) // 2]])
def test_a_damaged_keras_file_is_named(saved, tmp_path, damage):
    path = copy(saved, tmp_path, "model.keras")
    path.write_bytes(damage(path.read_bytes()))
    refused(path, f"{path}: cannot load this .keras file")
    with pytest.raises(ValueError, match=re.escape(f"{path}: cannot load this .keras file")):
        convert_checkpoint(str(path), str(tmp_path / "out"), "hf")


# ------------------------------------------------------- declared sizes
KERAS_HUB_FIELDS = {"vocab_size": "vocabulary_size", "intermediate_size": "intermediate_dim",
                    "hidden_size": "hidden_dim", "num_hidden_groups": "num_groups",
                    "num_hidden_layers": "num_layers"}


def declare(folder, name, field, value):
    """Sets `field` of the config of the `name` format to `value`; returns the file."""
    if name == "official":
        path = folder / "albert_config.json"
        values = json.loads(path.read_text())
        values[field] = value
    else:
        path = folder / "config.json"
        values = json.loads(path.read_text())
        inner = values if name == "hf" else values["config"]
        inner[KERAS_HUB_FIELDS.get(field, field) if name == "keras_hub" else field] = value
    path.write_text(json.dumps(values))
    return path


@pytest.fixture
def no_model_built(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was built before the sizes were checked")
    monkeypatch.setattr(loader, "_new_model", refuse)


@pytest.fixture
def no_array_read(monkeypatch):
    """Every way the readers read a weight's values fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("an array was read before the sizes were checked")
    import safetensors.numpy

    from albert_tf.checkpoints import keras_hub, official

    monkeypatch.setattr(safetensors.numpy, "load_file", refuse)
    monkeypatch.setattr(keras_hub, "_read_vars", refuse)
    monkeypatch.setattr(official, "read_tensor", refuse)
    monkeypatch.setattr(loader, "read_tensor", refuse)
    monkeypatch.setattr(loader, "restore_training_checkpoint", refuse)


def trainer_checkpoint(saved, pretrainer, tmp_path):
    """A Trainer `ckpt-1` in `run/training_checkpoints`, its config in `run`."""
    import tensorflow as tf

    run = tmp_path / "trainer"
    tf.train.Checkpoint(model=pretrainer).write(str(run / "training_checkpoints" / "ckpt-1"))
    shutil.copyfile(saved / "official" / "albert_config.json", run / "albert_config.json")
    return run


# Per format: the weights file a message names, and its name of the tensor holding
# vocab_size / intermediate_size / hidden_size (the first layer's query kernel).
WEIGHTS = {
    "hf": ("model.safetensors", {
        "vocab_size": "albert.embeddings.word_embeddings.weight of shape [40, 8]",
        "intermediate_size": "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight "
                             "of shape [24, 16]",
        "hidden_size": "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query."
                       "weight of shape [16, 16]",
        "num_hidden_groups": "tensors of 1 hidden_groups"}),
    "keras_hub": ("model.weights.h5", {
        "vocab_size": "layers/reversible_embedding/vars/0 of shape [40, 8]",
        "intermediate_size": "layers/transformer_encoder/_feedforward_intermediate_dense/vars/0"
                             " of shape [16, 24]",
        "hidden_size": "layers/transformer_encoder/_self_attention_layer/query_dense/vars/0 of "
                       "shape [16, 2, 8]",
        "num_hidden_groups": "1 transformer_encoder layers (inner_group_num 1 per group)"}),
    "official": ("model.ckpt-1", {
        "vocab_size": "bert/embeddings/word_embeddings of shape [40, 8]",
        "intermediate_size": "bert/encoder/transformer/group_0/inner_group_0/ffn_1/"
                             "intermediate/dense/kernel of shape [16, 24]",
        "hidden_size": "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/query/"
                       "kernel of shape [16, 16]",
        "num_hidden_groups": "tensors of 1 hidden_groups"}),
    "keras": ("model.keras: model.weights.h5", {
        "vocab_size": "albert_embeddings/vars/0 of shape [40, 8]",
        "intermediate_size": "albert_transformer/group_0_inner_group_0/intermediate_dense/"
                             "vars/0 of shape [16, 24]",
        "hidden_size": "albert_transformer/group_0_inner_group_0/attention/query/vars/0 of "
                       "shape [16, 16]",
        "num_hidden_groups": "tensors of 1 hidden_groups"}),
    "trainer": ("training_checkpoints/ckpt-1", {
        "vocab_size": "model/encoder/embeddings/word_embeddings/.ATTRIBUTES/VARIABLE_VALUE of "
                      "shape [40, 8]",
        "intermediate_size": "model/encoder/transformer/group_0_inner_group_0/"
                             "intermediate_dense/_kernel/.ATTRIBUTES/VARIABLE_VALUE of shape "
                             "[16, 24]",
        "hidden_size": "model/encoder/transformer/group_0_inner_group_0/attention/query/_kernel/"
                       ".ATTRIBUTES/VARIABLE_VALUE of shape [16, 16]",
        "num_hidden_groups": "tensors of 1 hidden_groups"}),
}
# A field, the value declared and what else the config must change to stay valid.
HUGE = {"vocab_size": (10 ** 12, {}), "intermediate_size": (10 ** 9, {}),
        "hidden_size": (2 * 10 ** 9, {}),
        "num_hidden_groups": (2 ** 20, {"num_hidden_layers": 2 ** 20})}


def no_keras_load(*args, **kwargs):
    raise AssertionError("Keras built the model of a .keras file before its sizes were "
                         "checked")


def declare_in_keras_file(path, changes):
    """Rewrites the albert config inside a .keras file (a zip) with `changes`."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    values = json.loads(members["config.json"])
    values["config"]["encoder"]["config"]["config"].update(changes)
    members["config.json"] = json.dumps(values).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("name", ["hf", "keras_hub", "official", "trainer", "keras"])
@pytest.mark.parametrize("field", list(HUGE))
def test_sizes_in_a_config_are_checked_against_the_weights_header_first(
        saved, pretrainer, tmp_path, monkeypatch, no_model_built, no_array_read, name, field):
    """A config declaring sizes its weights file does not hold is refused from the file's
    header (safetensors header, h5 dataset shapes, a TF checkpoint's index), naming the
    field, the config file, the weights file and the tensor: no array is read, no model
    built, and it takes no longer than reading a small file."""
    import time

    value, also = HUGE[field]
    if name == "keras":
        folder = tmp_path
        path = copy(saved, tmp_path, "model.keras")
        declare_in_keras_file(path, dict(also, **{field: value}))
        monkeypatch.setattr(keras.saving, "load_model", no_keras_load)
    elif name == "trainer":
        folder = trainer_checkpoint(saved, pretrainer, tmp_path)
        path = declare(folder, "official", field, value)
    else:
        folder = copy(saved, tmp_path, name)
        path = declare(folder, name, field, value)
    for other, other_value in also.items() if name != "keras" else ():
        declare(folder, "official" if name == "trainer" else name, other, other_value)
    weights_file, tensors = WEIGHTS[name]
    if name == "keras_hub":
        # Its first import (seconds under load) is not what the time bound is about.
        pytest.importorskip("keras_hub")
    start = time.monotonic()
    with pytest.raises(ValueError) as raised:
        load_pretrained(str(folder / "training_checkpoints" / "ckpt-1") if name == "trainer"
                        else str(path) if name == "keras" else str(folder))
    # A loop per declared layer (2**20 groups) or an allocation would take minutes; the
    # spies above are the exact guard, this bound a coarse one that holds on a loaded CI.
    assert time.monotonic() - start < 30
    message = str(raised.value)
    config_file = f"{path}: config.json" if name == "keras" else path
    assert message.startswith(f"{config_file}: the config does not fit the weights (nothing "
                              "was read or built)"), message
    assert f"{field} is {value}, but {folder / weights_file} holds {tensors[field]}" in \
        message, message


def test_a_pytorch_bin_is_checked_against_the_config_before_its_arrays_are_read(
        saved, tmp_path, monkeypatch, no_model_built, no_array_read):
    """A legacy pytorch_model.bin has no header, but its memory-mapped tensors give
    their shapes: a config that does not fit is refused before any array is read."""
    torch = pytest.importorskip("torch")
    import safetensors.torch

    folder = copy(saved, tmp_path, "hf")
    state = safetensors.torch.load_file(str(folder / "model.safetensors"))
    os.remove(folder / "model.safetensors")
    torch.save(state, folder / "pytorch_model.bin")
    path = declare(folder, "hf", "vocab_size", 10 ** 12)

    def refuse(*args, **kwargs):
        raise AssertionError("an array was read before the sizes were checked")

    loads = []
    torch_load = torch.load

    def mapped_load(*args, **kwargs):  # Unmapped, torch.load reads every array.
        loads.append(kwargs.get("mmap"))
        return torch_load(*args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "numpy", refuse)
    monkeypatch.setattr(torch, "load", mapped_load)
    with pytest.raises(ValueError) as raised:
        load_pretrained(str(folder))
    assert loads == [True]
    message = str(raised.value)
    assert message.startswith(f"{path}: the config does not fit the weights"), message
    assert (f"vocab_size is {10 ** 12}, but {folder / 'pytorch_model.bin'} holds "
            "albert.embeddings.word_embeddings.weight of shape [40, 8]") in message, message


@pytest.mark.parametrize("name", ["hf", "keras_hub", "official"])
def test_a_depth_no_model_could_run_is_refused_before_any_loop_over_layers(
        saved, tmp_path, monkeypatch, no_model_built, no_array_read, name):
    """The weights of shared layers say nothing of num_hidden_layers, so no header
    check can catch a typo there; the readers' layer-by-layer group-rule checks would
    loop 10**12 times. The config's own bound refuses it at once, naming the file."""
    import albert_tf.checkpoints.hf
    import albert_tf.checkpoints.keras_hub
    import albert_tf.config

    def no_loop(*args):
        raise AssertionError("a loop over the declared layers began before the depth "
                             "was checked")

    for module in (albert_tf.config, albert_tf.checkpoints.hf, albert_tf.checkpoints.keras_hub):
        monkeypatch.setattr(module, "layer_group", no_loop)
    folder = copy(saved, tmp_path, name)
    path = declare(folder, name, "num_hidden_layers", 10 ** 12)
    with pytest.raises(ValueError, match="num_hidden_layers must be at most 1048576, got "
                                         "1000000000000") as raised:
        load_pretrained(str(folder))
    assert str(path) in str(raised.value)


def test_albert_convert_refuses_a_shard_outside_the_folder_in_one_line(saved, tmp_path):
    import pathlib
    import subprocess
    import sys

    repo = pathlib.Path(__file__).resolve().parents[2]
    folder = sharded(saved, tmp_path)
    index = write_index(folder, {"weight_map": {WORDS: ".."}})
    env = dict(os.environ, PYTHONPATH=str(repo), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("ALBERT_TF_TRACEBACK", None)
    done = subprocess.run(
        [sys.executable, str(repo / "convert_checkpoint.py"), f"--input={folder}",
         f"--output={tmp_path / 'out'}", "--output_format=keras_hub"],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"{index}: shard '..' must be the name of a file in {folder}" in errors[0]
    assert not os.path.exists(tmp_path / "out")
