"""Trainer invariants across replicas, float16 loss scaling and resumption, on a one-weight
linear model whose every input batch is identified (two logical CPU devices, in a fresh
process). The expectations are independent: one device, and an uninterrupted run."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = """
    import json, sys
    import albert_tf  # noqa: F401
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from albert_tf.training.optimizers import create_optimizer
    from albert_tf.training.precision import wrap_for_loss_scaling
    from albert_tf.training.strategy import get_distribution_strategy
    from albert_tf.training.trainer import Trainer, TrainerConfig

    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, kernel_initializer="ones", name="dense")

        def call(self, inputs, training=False):
            return {"y": self.dense(inputs["x"])}

    class Task:
        '''loss = sum((y - t)^2) / global examples; `seen` logs the example ids trained on.'''
        def __init__(self):
            self.seen = []

        def metric_names(self):
            return ()

        def model_inputs(self, f):
            return {"x": f["x"]}

        def denominators(self, f):
            return {"n": tf.cast(tf.shape(f["x"])[0], tf.float32)}

        def loss_and_metrics(self, out, f, den):
            tf.py_function(lambda ids: self.seen.extend(ids.numpy().tolist()) or 0,
                           [f["id"]], tf.int32)
            y = tf.cast(tf.reshape(out["y"], [-1]), tf.float32)
            return tf.reduce_sum(tf.square(y - f["t"])) / den["n"], {}

    def data(huge_id=None):
        def fn(ctx):
            d = tf.data.Dataset.range(1000).shard(ctx.num_input_pipelines,
                                                  ctx.input_pipeline_id)
            def example(i):
                x = tf.cast(i % 7, tf.float32) / 7.0
                if huge_id is not None:  # (1e18)^2 fits float32; times the loss scale not
                    x = tf.where(tf.equal(i, huge_id), 1e18, x)
                return {"id": i, "x": tf.reshape(x, [1]), "t": 2.0 * x + 1.0}
            return d.map(example).batch(ctx.get_per_replica_batch_size(4),
                                        drop_remainder=True)
        return fn

    def run(strategy_name, out, steps, float16=False, huge_id=None, **config):
        strategy = get_distribution_strategy(strategy_name)
        with strategy.scope():
            model = Linear()
            model({"x": tf.zeros([1, 1])})
            optimizer = wrap_for_loss_scaling(create_optimizer(1e-2, 100, 0),
                                              "float16" if float16 else "none")
        task = Task()
        trainer = Trainer(strategy, model, optimizer, task, TrainerConfig(
            model_dir=out, num_train_steps=steps, steps_per_loop=1, **config), 4)
        trainer.train(data(huge_id))
        scale = float(optimizer.dynamic_scale.numpy()) if float16 else None
        return {"replicas": strategy.num_replicas_in_sync, "step": trainer.global_step,
                "scale": scale, "seen": sorted(task.seen),
                "weights": [np.asarray(w).ravel().tolist() for w in model.weights]}

    out, case = sys.argv[1], sys.argv[2]
    report = {}
    if case == "float16":
        # Example 3 overflows once scaled: on 2 replicas it is replica 1's alone.
        for name in ("one_device", "mirrored"):
            report[name] = run(name, f"{out}/{name}", 2, float16=True, huge_id=3,
                               save_checkpoints_steps=100, log_gradient_norm=False)
    else:
        name, extra = case.split(":")
        config = dict(save_checkpoints_steps=2, checkpoint_input_pipeline=extra != "noiter")
        report["straight"] = run(name, f"{out}/straight", 4, **config)
        first = run(name, f"{out}/resumed", 2, **config)
        second = run(name, f"{out}/resumed", 4, **config)  # resumes from ckpt-2
        report["resumed"] = dict(second, seen=sorted(first["seen"] + second["seen"]))
    print(json.dumps(report))
"""


def run_case(tmp_path, case):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT), str(tmp_path), case],
                          env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_float16_overflow_on_one_replica_skips_the_step_as_on_one_device(tmp_path):
    report = run_case(tmp_path, "float16")
    one, two = report["one_device"], report["mirrored"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    # The first batch (examples 0-3) overflows: skipped, scale 32768 -> 16384; the next
    # two batches make the 2 steps asked for.
    assert one["step"] == two["step"] == 2
    assert one["seen"] == two["seen"] == list(range(12))
    assert one["scale"] == two["scale"] == 16384.0
    assert all(abs(w) < 10 for w in two["weights"][0] + two["weights"][1])  # no NaN
    for a, b in zip(one["weights"], two["weights"]):
        assert b == pytest.approx(a, abs=1e-6)


@pytest.mark.parametrize("case", ["mirrored:iter", "one_device:noiter"])
def test_resumed_run_sees_exactly_the_data_of_an_uninterrupted_run(tmp_path, case):
    """Two replicas draw two per-replica batches a step from one pipeline; without a
    checkpointed iterator (several replicas, or checkpoint_input_pipeline=False) a
    resumed run skips what was consumed."""
    report = run_case(tmp_path, case)
    straight, resumed = report["straight"], report["resumed"]
    assert straight["seen"] == list(range(16))   # 4 steps of 4 examples
    assert resumed["seen"] == straight["seen"]   # none repeated, none skipped
    assert resumed["step"] == 4
    for a, b in zip(straight["weights"], resumed["weights"]):
        assert b == pytest.approx(a, abs=1e-6)
