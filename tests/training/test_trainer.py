"""The shared training loop: replicas, accumulation, resume after SIGKILL, divergence."""

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from albert_tf.training.optimizers import create_optimizer
from albert_tf.tasks.pretraining.objective import PretrainingObjective
from albert_tf.training.trainer import DivergenceError, Trainer, TrainerConfig
from synthetic_pretraining_data import write_records

REPO = pathlib.Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
CONFIG = dict(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    return write_records(tmp_path_factory.mktemp("data") / "train.tfrecord", 96)


def run_python(script, *args, env=None, timeout=400):
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(TESTS), env.get("PYTHONPATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=timeout)


def make_trainer(model_dir, records, **config_kwargs):
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertPretrainer(AlbertConfig(**CONFIG))
        optimizer = create_optimizer(1e-2, 20, 0, optimizer="lamb")
    settings = dict(model_dir=str(model_dir), num_train_steps=4, steps_per_loop=2,
                    save_checkpoints_steps=2)
    settings.update(config_kwargs)
    trainer = Trainer(strategy, model, optimizer, PretrainingObjective(), TrainerConfig(**settings),
                      global_batch_size=8)

    def dataset_fn(ctx):
        return pretraining_dataset(records, 32, 5, 8, is_training=False, input_context=ctx)
    return trainer, dataset_fn


def test_gradient_accumulation_equals_the_full_batch(tmp_path, records):
    full, fn = make_trainer(tmp_path / "full", records)
    full.train(fn)
    accumulated, fn = make_trainer(tmp_path / "acc", records, gradient_accumulation_steps=4)
    accumulated.train(fn)
    assert accumulated.global_step == full.global_step == 4
    for a, b in zip(full.model.weights, accumulated.model.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=2e-5, err_msg=a.path)


def test_divergence_stops_without_writing_a_poisoned_checkpoint(tmp_path, records):
    trainer, fn = make_trainer(tmp_path, records, loss_bound=1.0)
    with pytest.raises(DivergenceError, match="training diverged at step 2: loss"):
        trainer.train(fn)
    assert not (tmp_path / "training_checkpoints").exists()


def test_divergence_rolls_back_to_the_last_checkpoint(tmp_path, records):
    trainer, fn = make_trainer(tmp_path, records, num_train_steps=2)
    trainer.train(fn)
    # A bound the model cannot meet any more: each loop after the checkpoint
    # diverges, rolls back, and the rollbacks run out.
    trainer.config.num_train_steps = 6
    trainer.config.loss_bound = 1.0
    trainer.config.max_rollbacks = 2
    with pytest.raises(DivergenceError, match="2 rollback\\(s\\) used of 2"):
        trainer.train(fn)
    assert trainer.global_step == 4  # restored to step 2, then one more loop of 2
    assert sorted(os.listdir(tmp_path / "training_checkpoints")) == \
        ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]


def test_bad_batch_settings_fail_early(tmp_path, records):
    with pytest.raises(ValueError, match="not divisible by gradient_accumulation_steps 3"):
        make_trainer(tmp_path, records, gradient_accumulation_steps=3)
    with pytest.raises(ValueError, match="steps_per_loop must be a positive integer, got 0"):
        make_trainer(tmp_path, records, steps_per_loop=0)


MIRRORED_SCRIPT = """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.tasks.pretraining.inputs import pretraining_dataset
    from albert_tf.training.optimizers import create_optimizer
    from albert_tf.tasks.pretraining.objective import PretrainingObjective
    from albert_tf.training.strategy import get_distribution_strategy
    from albert_tf.training.trainer import Trainer, TrainerConfig
    records, out = sys.argv[1], sys.argv[2]
    config = AlbertConfig(**json.loads(sys.argv[3]))
    report = {}
    for name in ("one_device", "mirrored"):
        strategy = get_distribution_strategy(name)
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = AlbertPretrainer(config)
            optimizer = create_optimizer(1e-2, 20, 0, optimizer="lamb")
        trainer = Trainer(strategy, model, optimizer, PretrainingObjective(),
                          TrainerConfig(model_dir=out + "/" + name, num_train_steps=2,
                                        steps_per_loop=1, save_checkpoints_steps=100),
                          global_batch_size=8)
        trainer.train(lambda ctx: pretraining_dataset(records, 32, 5, 8, is_training=False,
                                                      input_context=ctx))
        with open(out + "/" + name + "/train_metrics.jsonl") as f:
            lines = [json.loads(line) for line in f]
        report[name] = {"replicas": strategy.num_replicas_in_sync,
                        "losses": [l["loss"] for l in lines],
                        "norms": [l["gradient_norm"] for l in lines],
                        "weights": [np.asarray(w).tolist() for w in model.weights]}
    print(json.dumps(report))
"""


def test_mirrored_on_two_devices_matches_one_device(tmp_path, records):
    result = run_python(MIRRORED_SCRIPT, records, tmp_path, json.dumps(CONFIG))
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    one, two = report["one_device"], report["mirrored"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    # Same global batch: same loss at step 1, same gradient (its norm, clipped at 1.0
    # since it is larger), so the same weights and loss at step 2.
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-5)
    np.testing.assert_allclose(two["norms"], one["norms"], rtol=1e-5)
    assert one["norms"][0] > 1.0
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(np.array(b), np.array(a), atol=1e-5)


def pretraining_command(records, output_dir, steps, extra=()):
    return [sys.executable, str(REPO / "run_pretraining.py"),
            f"--albert_config_file={REPO / 'configs' / 'albert_tiny_test.json'}",
            f"--input_file={records}", f"--output_dir={output_dir}", "--do_train",
            "--train_batch_size=8", "--max_seq_length=32", "--max_predictions_per_seq=5",
            f"--num_train_steps={steps}", "--num_warmup_steps=2", "--learning_rate=0.005",
            "--save_checkpoints_steps=4", "--iterations_per_loop=2", "--deterministic",
            *extra]


def last_metrics(output_dir):
    with open(os.path.join(output_dir, "train_metrics.jsonl")) as f:
        return [json.loads(line) for line in f][-1]


@pytest.fixture(scope="module")
def tiny_records(tmp_path_factory):
    """Records of the real 30k vocabulary, for `configs/albert_tiny_test.json`."""
    return write_records(tmp_path_factory.mktemp("tiny") / "train.tfrecord", 64,
                         vocab_size=30000)


STRAIGHT_STEPS = 12


@pytest.fixture(scope="module")
def straight(tiny_records, tmp_path_factory):
    """The output_dir of run_pretraining.py run uninterrupted to STRAIGHT_STEPS (read
    only: a test that changes it works on a copy)."""
    output = tmp_path_factory.mktemp("straight") / "out"
    subprocess.run(pretraining_command(tiny_records, output, STRAIGHT_STEPS),
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO)),
                   check=True, capture_output=True, timeout=400)
    return output


def test_sigkill_and_restart_continues_like_an_uninterrupted_run(tmp_path, tiny_records,
                                                                straight):
    # The tiny config has dropout 0.1 and a 30000 vocabulary: dropout RNG state,
    # optimizer slots, learning rate and the input position must all resume.
    records = tiny_records
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    steps = STRAIGHT_STEPS

    killed = tmp_path / "killed"
    process = subprocess.Popen(pretraining_command(records, killed, steps), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first_checkpoint = killed / "training_checkpoints" / "ckpt-4.index"
    deadline = time.time() + 300
    while not first_checkpoint.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert first_checkpoint.exists(), "no checkpoint appeared before the kill"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert last_metrics(killed)["step"] < steps

    resumed = subprocess.run(pretraining_command(records, killed, steps), env=env,
                             capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resumed from" in resumed.stdout
    want, got = last_metrics(straight), last_metrics(killed)
    assert got["step"] == want["step"] == steps
    for key in ("loss", "masked_lm_loss", "sentence_order_loss", "learning_rate"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, err_msg=key)
    # The final official-format checkpoints hold the same weights.
    reader = tf.train.load_checkpoint(str(killed / f"model.ckpt-{steps}"))
    reference = tf.train.load_checkpoint(str(straight / f"model.ckpt-{steps}"))
    names = reader.get_variable_to_shape_map()
    assert "cls/predictions/output_bias" in names
    for name in names:
        np.testing.assert_allclose(reader.get_tensor(name), reference.get_tensor(name),
                                   atol=1e-6, err_msg=name)
    assert tf.train.latest_checkpoint(str(killed)).endswith(f"model.ckpt-{steps}")


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_kill_between_last_checkpoint_and_final_export_is_repaired(tmp_path, tiny_records,
                                                                   straight):
    """A kill after the last training checkpoint but before output_dir/model.ckpt-N: the
    restart has no step left to run, and still writes the final official export."""
    out = tmp_path / "out"
    shutil.copytree(straight, out)
    final = f"model.ckpt-{STRAIGHT_STEPS}"
    exported = {p.name: p.read_bytes() for p in out.glob(f"{final}.*")}
    assert exported
    for name in exported:
        (out / name).unlink()
    (out / "checkpoint").unlink()
    done = subprocess.run(pretraining_command(tiny_records, out, STRAIGHT_STEPS),
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Resumed" in done.stdout
    assert {p.name: p.read_bytes() for p in out.glob(f"{final}.*")} == exported
    assert f'model_checkpoint_path: "{final}"' in (out / "checkpoint").read_text()


def test_entry_point_dynamic_masking_flags_reach_the_input_pipeline(tmp_path):
    """--dynamic_masking with its statistics; the official --do_train default (on)."""
    records = write_records(tmp_path / "train.tfrecord", 32, vocab_size=30000)
    command = [c for c in pretraining_command(records, tmp_path / "out", 2,
                                              ["--dynamic_masking", "--masked_lm_prob=0.3",
                                               "--ngram=1", "--nofavor_shorter_ngram"])
               if c != "--do_train"]
    probe = textwrap.dedent("""
        import sys, runpy
        from albert_tf.tasks.pretraining import task as pretraining
        real = pretraining.pretraining_dataset
        def spy(*args, **kwargs):
            if kwargs.get("is_training"):
                print("DYNAMIC", kwargs["dynamic_masking"], kwargs["masked_lm_prob"],
                      kwargs["ngram"], kwargs["favor_shorter_ngram"], flush=True)
            return real(*args, **kwargs)
        pretraining.pretraining_dataset = spy
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")
    """)
    done = subprocess.run([command[0], "-c", probe, *command[1:]], capture_output=True,
                          text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "DYNAMIC True 0.3 1 False" in done.stdout
    assert last_metrics(tmp_path / "out")["step"] == 2


def run_two_local_workers(records, output, steps, extra=(), timeout=400):
    """run_pretraining.py on two local multi_worker_mirrored workers; [(process, out, err)]."""
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO),
                   TF_CONFIG=json.dumps({"cluster": cluster,
                                         "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            pretraining_command(records, output, steps,
                                ["--distribution_strategy=multi_worker_mirrored", *extra]),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return [(p, *p.communicate(timeout=timeout)) for p in processes]


@pytest.fixture(scope="module")
def two_workers(tiny_records, tmp_path_factory):
    """(output_dir, [(process, out, err)]) of 4 steps on two local workers (read only: a
    test that changes it works on a copy)."""
    output = tmp_path_factory.mktemp("two_workers") / "out"
    return output, run_two_local_workers(tiny_records, output, 4)


def test_multi_worker_mirrored_two_local_workers(two_workers):
    output, results = two_workers
    for process, _, err in results:
        assert process.returncode == 0, err[-3000:]
    # The chief (worker 0) wrote the checkpoints; the other worker left nothing behind.
    assert (output / "training_checkpoints" / "ckpt-4.index").exists()
    assert (output / "model.ckpt-4.index").exists()
    assert not list(output.glob(".worker_*"))
    assert last_metrics(output)["step"] == 4


def test_multi_worker_rollback_after_a_resume_is_decided_alike(tmp_path, tiny_records,
                                                               two_workers):
    """After a restart the non-chief worker's scratch folder is empty; a divergence must
    still roll every worker back to the chief's checkpoint (not stop one of them and
    leave the other waiting in a collective), then stop all alike when rollbacks run out."""
    for process, _, err in two_workers[1]:
        assert process.returncode == 0, err[-3000:]
    output = tmp_path / "out"
    shutil.copytree(two_workers[0], output)
    # Resumed at step 4 with a bound no loss meets: each loop diverges.
    results = run_two_local_workers(tiny_records, output, 8,
                                    ["--loss_bound=0.0", "--max_rollbacks=1"], timeout=300)
    for process, _, err in results:
        assert process.returncode != 0
        assert "rolled back to" in err and "1 rollback(s) used of 1" in err, err[-3000:]
        assert "ckpt-4" in err


def test_jit_compiled_step_matches_the_graph_step(tmp_path, records):
    graph, fn = make_trainer(tmp_path / "graph", records)
    graph_results = graph.train(fn)
    xla, fn = make_trainer(tmp_path / "xla", records, jit_compile=True)
    xla_results = xla.train(fn)
    np.testing.assert_allclose(xla_results["loss"], graph_results["loss"], rtol=1e-4)
    for a, b in zip(graph.model.weights, xla.model.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-4, err_msg=a.path)
