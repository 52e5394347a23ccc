"""load_pretrained / save_pretrained / convert_checkpoint.py on the official and our own formats."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_tf.checkpoints import list_official_variables, read_pretrained
from albert_tf.modeling.models import AlbertClassifier, AlbertSquadV1, AlbertSquadV2
from albert_reference import forward, random_official_weights, write_tf1_checkpoint

REPO = pathlib.Path(__file__).resolve().parents[2]
CFG = dict(vocab_size=23, embedding_size=4, hidden_size=8, num_hidden_layers=2,
           num_hidden_groups=1, inner_group_num=1, num_attention_heads=2,
           intermediate_size=12, hidden_act="gelu", hidden_dropout_prob=0.0,
           attention_probs_dropout_prob=0.0, max_position_embeddings=12, type_vocab_size=2,
           initializer_range=0.02)
IDS = np.array([[2, 7, 9, 3, 11, 3], [2, 5, 3, 0, 0, 0]], np.int32)
MASK = (IDS > 0).astype(np.int32)
SEGMENTS = np.array([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], np.int32)
POSITIONS = np.array([[1, 4], [1, 2]], np.int32)


def official_dir(path, weights, cfg=CFG):
    os.makedirs(path)
    write_tf1_checkpoint(str(path / "model.ckpt-best"), weights)
    (path / "albert_config.json").write_text(json.dumps(cfg))
    return path


def outputs(model):
    out = model({"input_ids": IDS, "input_mask": MASK, "segment_ids": SEGMENTS,
                 "masked_lm_positions": POSITIONS})
    return {k: np.asarray(v) for k, v in out.items() if not isinstance(v, list)}


def test_official_directory_and_prefix_load_as_pretrainer(tmp_path):
    weights = random_official_weights(CFG, seed=0)
    directory = official_dir(tmp_path / "albert", weights)
    want = forward(weights, CFG, IDS, MASK, SEGMENTS, POSITIONS)
    for path in (directory, directory / "model.ckpt-best"):
        model = albert_tf.load_pretrained(str(path))
        assert isinstance(model, albert_tf.AlbertPretrainer)
        got = outputs(model)
        np.testing.assert_allclose(got["mlm_logits"], want["mlm_logits"], atol=1e-4)
        np.testing.assert_allclose(got["sop_logits"], want["sop_logits"], atol=1e-4)


def test_fine_tuned_official_checkpoints_load_as_their_task_model(tmp_path):
    encoder = random_official_weights(CFG, seed=1, with_heads=False)
    rng = np.random.default_rng(2)
    classifier = dict(encoder, output_weights=rng.normal(size=(3, 8)).astype(np.float32),
                      output_bias=rng.normal(size=3).astype(np.float32))
    model = albert_tf.load_pretrained(str(official_dir(tmp_path / "mnli", classifier)))
    assert isinstance(model, AlbertClassifier) and model.num_labels == 3
    squad = dict(encoder, **{"cls/squad/output_weights": rng.normal(size=(2, 8)).astype(
        np.float32), "cls/squad/output_bias": rng.normal(size=2).astype(np.float32)})
    assert isinstance(albert_tf.load_pretrained(str(official_dir(tmp_path / "sq", squad))),
                      AlbertSquadV1)
    v2 = AlbertSquadV2(CFG)
    albert_tf.save_pretrained(v2, str(tmp_path / "v2"))
    back = albert_tf.load_pretrained(str(tmp_path / "v2"))
    assert isinstance(back, AlbertSquadV2)
    for a, b in zip(v2.weights, back.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_trainer_checkpoint_and_keras_file_load(tmp_path):
    model = albert_tf.AlbertPretrainer(CFG)
    # As the Trainer saves: model, optimizer and step under one object graph.
    prefix = tf.train.Checkpoint(model=model, step=tf.Variable(5, dtype=tf.int64)).save(
        str(tmp_path / "train" / "ckpt"))
    (tmp_path / "train" / "albert_config.json").write_text(json.dumps(CFG))
    loaded = albert_tf.load_pretrained(prefix)
    np.testing.assert_allclose(outputs(loaded)["mlm_logits"], outputs(model)["mlm_logits"],
                               atol=1e-6)
    model.save(str(tmp_path / "model.keras"))
    loaded = albert_tf.load_pretrained(str(tmp_path / "model.keras"))
    np.testing.assert_allclose(outputs(loaded)["mlm_logits"], outputs(model)["mlm_logits"],
                               atol=1e-6)


def test_save_pretrained_official_never_writes_over_a_directory_with_files(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an empty directory"):
        albert_tf.save_pretrained(albert_tf.AlbertPretrainer(CFG), str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == ["keep.txt"]
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]


def test_bad_hf_and_keras_hub_configs_name_the_file_and_field(tmp_path):
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 5}))
    with pytest.raises(ValueError, match=r"hf/config.json: model_type must be 'albert', "
                                         r"got 'bert'"):
        read_pretrained(str(hf))
    kh = tmp_path / "kh"
    kh.mkdir()
    (kh / "model.weights.h5").write_bytes(b"")
    (kh / "config.json").write_text(json.dumps(
        {"class_name": "AlbertBackbone", "registered_name": "evil>AlbertBackbone",
         "config": {}}))
    with pytest.raises(ValueError, match="registered_name 'evil>AlbertBackbone' is not "
                                         "keras-hub's AlbertBackbone"):
        read_pretrained(str(kh))


def test_convert_checkpoint_script_round_trips_official(tmp_path):
    weights = random_official_weights(CFG, seed=3)
    official_dir(tmp_path / "albert", weights)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    completed = subprocess.run(
        [sys.executable, str(REPO / "convert_checkpoint.py"), f"--input={tmp_path / 'albert'}",
         f"--output={tmp_path / 'hf'}", "--output_format=hf"],
        capture_output=True, text=True, env=env, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads((tmp_path / "hf" / "config.json").read_text())["architectures"] == \
        ["AlbertForPreTraining"]
    albert_tf.checkpoints.convert_checkpoint(str(tmp_path / "hf"), str(tmp_path / "back"),
                                             "official")
    prefix = str(tmp_path / "back" / "model.ckpt-best")
    assert set(list_official_variables(prefix)) == set(weights)
    reader = tf.train.load_checkpoint(prefix)
    for name, value in weights.items():
        np.testing.assert_array_equal(reader.get_tensor(name), value, err_msg=name)
    assert json.loads((tmp_path / "back" / "albert_config.json").read_text()) == CFG
