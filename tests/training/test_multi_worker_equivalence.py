"""Two multi_worker_mirrored workers train exactly as one device on the same global batch.

The tiny pretrainer (dropout 0) trains 3 steps of global batch 8 with LAMB through the
shared Trainer, reading the records in file order: one device takes records 0-7 at
step 1; the two workers shard the file (0, 2, 4, 6 and 1, 3, 5, 7), the same global
batch. Every step's loss and every final weight, on both workers, must agree with the
one-device run. (The entry points shuffle with a 1000-record buffer, which sharding
changes, so this drives the Trainer directly, as run_pretraining.py does.)
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap

import numpy as np

from synthetic_pretraining_data import write_records
from tiny_config import tiny_config_dict

REPO = pathlib.Path(__file__).resolve().parents[2]
STEPS = 3

WORKER = """
    import json, sys
    import albert_tf  # noqa: F401
    import keras, numpy as np
    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.tasks.pretraining.inputs import pretraining_dataset
    from albert_tf.training.optimizers import create_optimizer
    from albert_tf.tasks.pretraining.objective import PretrainingObjective
    from albert_tf.training.strategy import get_distribution_strategy
    from albert_tf.training.trainer import Trainer, TrainerConfig
    records, out, config, strategy_name, steps, report = sys.argv[1:]
    strategy = get_distribution_strategy(strategy_name)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = AlbertPretrainer(AlbertConfig(**json.loads(config)))
        optimizer = create_optimizer(1e-2, 20, 0, optimizer="lamb")
    trainer = Trainer(strategy, model, optimizer, PretrainingObjective(),
                      TrainerConfig(model_dir=out, num_train_steps=int(steps),
                                    steps_per_loop=1, save_checkpoints_steps=100),
                      global_batch_size=8)
    trainer.train(lambda ctx: pretraining_dataset(records, 32, 5, 8, is_training=False,
                                                  input_context=ctx))
    with open(report, "w") as f:
        json.dump({"replicas": strategy.num_replicas_in_sync,
                   "weights": {w.path: np.asarray(w).tolist() for w in model.weights}}, f)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def start(args, **env):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               **env)
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKER), *map(str, args)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(process):
    _, err = process.communicate(timeout=400)
    assert process.returncode == 0, err[-3000:]


def step_losses(output_dir):
    with open(output_dir / "train_metrics.jsonl") as f:
        return {line["step"]: line["loss"] for line in map(json.loads, f)}


def test_two_workers_match_one_device(tmp_path):
    records = write_records(tmp_path / "train.tfrecord", 32)
    config = json.dumps(tiny_config_dict(max_position_embeddings=32))
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    two = tmp_path / "two_workers"
    workers = [start([records, two, config, "multi_worker_mirrored", STEPS,
                      tmp_path / f"worker_{index}.json"],
                     TF_CONFIG=json.dumps({"cluster": cluster,
                                           "task": {"type": "worker", "index": index}}))
               for index in range(2)]
    for worker in workers:
        finish(worker)
    one = tmp_path / "one_device"
    finish(start([records, one, config, "one_device", STEPS, tmp_path / "one.json"]))

    want, got = step_losses(one), step_losses(two)
    assert sorted(want) == sorted(got) == list(range(1, STEPS + 1))
    assert abs(want[STEPS] - want[1]) > 1e-3  # it trained
    for step in want:
        np.testing.assert_allclose(got[step], want[step], rtol=1e-5, err_msg=f"step {step}")
    reference = json.loads((tmp_path / "one.json").read_text())
    assert reference["replicas"] == 1
    for index in range(2):
        report = json.loads((tmp_path / f"worker_{index}.json").read_text())
        assert report["replicas"] == 2
        assert list(report["weights"]) == list(reference["weights"])
        for path, value in reference["weights"].items():
            np.testing.assert_allclose(np.array(report["weights"][path]), np.array(value),
                                       atol=1e-5, err_msg=f"worker {index}: {path}")
