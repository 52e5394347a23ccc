"""Finding and loading the fine-tuned checkpoints a run left in its output_dir."""

import json
import os

import numpy as np
import tensorflow as tf

from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.training.saved_checkpoints import (
    evaluated_steps, load_saved, prediction_checkpoint, saved_checkpoints, trainer_checkpoint)

CONFIG = dict(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=16)


def classifier(seed):
    tf.keras.utils.set_random_seed(seed)
    model = AlbertClassifier(AlbertConfig(**CONFIG), num_labels=3)
    ids = np.ones((1, 8), np.int32)
    model({"input_ids": ids, "input_mask": ids, "segment_ids": 0 * ids})
    return model


def weights(model):
    return [w.numpy() for w in model.weights]


def assert_same(a, b):
    for x, y in zip(weights(a), weights(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_both_formats_found_loaded_and_ranked(tmp_path):
    out = str(tmp_path)
    models = {step: classifier(step) for step in (5, 7, 9)}
    tf.train.Checkpoint(model=models[5]).write(trainer_checkpoint(out, 5))
    tf.train.Checkpoint(model=models[7]).write(trainer_checkpoint(out, 7))
    save_official_checkpoint(models[9], os.path.join(out, "model.ckpt-9"), global_step=9)
    # An official checkpoint of step 7 wins over the trainer's (same weights in a run).
    save_official_checkpoint(models[7], os.path.join(out, "model.ckpt-7"), global_step=7)
    (tmp_path / "model.ckpt-3.data-00000-of-00001").write_bytes(b"")  # no index: incomplete
    found = saved_checkpoints(out)
    assert list(found) == [5, 7, 9]
    assert found[5] == ("trainer", trainer_checkpoint(out, 5))
    assert found[7] == ("official", os.path.join(out, "model.ckpt-7"))
    for step in found:
        target = classifier(100 + step)
        load_saved(target, found[step])
        assert_same(target, models[step])
    # Prediction: the newest, until there is a model.ckpt-best.
    assert prediction_checkpoint(out) == found[9]
    save_official_checkpoint(models[5], os.path.join(out, "model.ckpt-best"), global_step=5)
    assert prediction_checkpoint(out) == ("official", os.path.join(out, "model.ckpt-best"))
    assert list(saved_checkpoints(out)) == [5, 7, 9]  # "best" is not a step


def test_empty_output_dir(tmp_path):
    assert saved_checkpoints(str(tmp_path / "missing")) == {}
    assert prediction_checkpoint(str(tmp_path)) is None


def test_evaluated_steps_counts_only_output_dir_checkpoints(tmp_path):
    out = str(tmp_path / "run")
    history = tmp_path / "run_history.jsonl"
    lines = [{"accuracy": 0.5, "global_step": 100, "checkpoint": trainer_checkpoint(out, 100)},
             {"accuracy": 0.6, "global_step": 200, "checkpoint": f"{out}/model.ckpt-200"},
             {"accuracy": 0.1, "global_step": 300, "checkpoint": "/pretrained/model.ckpt-300"},
             {"accuracy": 0.2, "global_step": 400}]
    history.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    assert evaluated_steps(str(history), out) == {100, 200}
    assert evaluated_steps(str(tmp_path / "none.jsonl"), out) == set()
