"""Under multi-worker tf.distribute only the chief writes output_dir (checkpoints,
metrics, the lock, caches, predictions); another worker writes nothing there, and its
own temporary folders are gone when its run ends.

A worker other than the chief is simulated on one device: the strategy stands for
worker 1 of two (its cluster resolver), and the one decision of who is chief
(`strategy.is_chief`, wherever albert_tf imported it) answers False for it."""

import os
import sys
import tempfile

import pytest
import tensorflow as tf

from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
from albert_tf.training import run_loop
from albert_tf.training import strategy as strategy_module
from finetune_test_helpers import glue_sample, write_config
from synthetic_pretraining_data import write_records


class _Worker1(tf.distribute.OneDeviceStrategy):
    """One CPU, standing for worker 1 of a two-worker cluster."""

    @property
    def cluster_resolver(self):
        return tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec({"worker": ["localhost:1", "localhost:2"]}),
            task_type="worker", task_id=1)


@pytest.fixture
def worker_1(monkeypatch, tmp_path):
    """Runs as worker 1; returns the temporary folders it makes (`tempfile.mkdtemp`)."""
    decide = strategy_module.is_chief
    patched = [name for name, module in list(sys.modules.items())
               if name.startswith("albert_tf") and getattr(module, "is_chief", None) is decide]
    assert "albert_tf.training.run_loop" in patched and "albert_tf.training.trainer" in patched
    for name in patched:
        monkeypatch.setattr(sys.modules[name], "is_chief",
                            lambda strategy: not isinstance(strategy, _Worker1))
    setup = run_loop.setup_runtime

    def setup_runtime(params):
        setup(params)  # seeds and precision as usual
        return _Worker1("/cpu:0")

    monkeypatch.setattr(run_loop, "setup_runtime", setup_runtime)
    made = []
    mkdtemp = tempfile.mkdtemp

    def recorded_mkdtemp(*args, **kwargs):
        made.append(mkdtemp(*args, dir=str(tmp_path), **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recorded_mkdtemp)
    return made


def _written(output_dir):
    return sorted(str(p.relative_to(output_dir)) for p in output_dir.rglob("*")) \
        if output_dir.exists() else []


def test_a_worker_that_is_not_the_chief_writes_nothing_in_output_dir_classifier(
        worker_1, tmp_path, shared_data_dir, spm_model_file):
    data_dir = glue_sample(shared_data_dir / "glue_data", tmp_path / "glue", "SST-2",
                           train_rows=16, test_rows=4)
    out = tmp_path / "out"
    results = run_classifier(ClassifierParams(
        task_name="SST-2", data_dir=data_dir,
        albert_config_file=write_config(tmp_path / "albert_config.json"),
        spm_model_file=spm_model_file, output_dir=str(out), do_train=True, do_eval=True,
        do_predict=True, max_seq_length=32, train_batch_size=8, eval_batch_size=8,
        predict_batch_size=4, learning_rate=1e-3, train_step=4, warmup_step=0,
        save_checkpoints_steps=2, iterations_per_loop=2))
    assert results["train"]["step"] == 4  # it trained, evaluated and predicted
    assert _written(out) == []
    assert worker_1 and not any(os.path.exists(d) for d in worker_1)  # its caches' folder


def test_a_worker_that_is_not_the_chief_writes_nothing_in_output_dir_pretraining(
        worker_1, tmp_path):
    records = write_records(tmp_path / "train.tfrecord", 16, vocab_size=30000)
    out = tmp_path / "out"
    results = run_pretraining(PretrainingParams(
        albert_config_file=write_config(tmp_path / "albert_config.json"),
        input_file=str(records), output_dir=str(out), max_seq_length=32,
        max_predictions_per_seq=5, train_batch_size=8, num_train_steps=2,
        num_warmup_steps=0, save_checkpoints_steps=1, iterations_per_loop=1))
    assert results["train"]["step"] == 2
    assert _written(out) == []
    assert not any(os.path.exists(d) for d in worker_1)
