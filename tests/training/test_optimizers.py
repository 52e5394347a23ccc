"""Lamb and AdamW against a NumPy reference of the official ALBERT update equations.

The reference below re-states official `lamb_optimizer.LAMBOptimizer`,
`optimization.AdamWeightDecayOptimizer` and `create_optimizer` (warmup + polynomial
decay, `tf.clip_by_global_norm(grads, 1.0)`) in float64 NumPy; which variables are
excluded from weight decay / the trust ratio is written out per case by hand.
"""

import json
import os
import pathlib
import subprocess
import sys
import types

import keras
import numpy as np
import pytest

from albert_tf.training.optimizers import AdamW, Lamb, create_optimizer
from albert_tf.training.optimizers.exclusions import matches_any, variable_path

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

INIT_LR, NUM_TRAIN_STEPS, NUM_WARMUP_STEPS, NUM_STEPS = 0.1, 8, 2, 5

# path, shape, initial value kind, gradient kind
VARIABLES = [
    ("albert/encoder/dense/kernel", (3, 4), "random", "random"),
    ("albert/encoder/dense/bias", (4,), "random", "random"),
    ("albert/embeddings/LayerNorm/gamma", (4,), "ones", "random"),
    ("albert/encoder/attention/layer_norm/beta", (4,), "random", "random"),
    ("albert/pooler/frozen/kernel", (2, 3), "random", "zero"),
    ("albert/pooler/frozen/bias", (3,), "random", "zero"),
    ("albert/head/zero_init/kernel", (3, 2), "zero", "random"),
]
NAMES = [path for path, *_ in VARIABLES]

# Per case: optimizer factory arguments and, per variable, (weight decay?, trust ratio?).
DECAY_ON_KERNELS = {
    "albert/encoder/dense/kernel": True, "albert/encoder/dense/bias": False,
    "albert/embeddings/LayerNorm/gamma": False,
    "albert/encoder/attention/layer_norm/beta": False,
    "albert/pooler/frozen/kernel": True, "albert/pooler/frozen/bias": False,
    "albert/head/zero_init/kernel": True,
}
CASES = {
    "lamb": dict(
        optimizer="lamb", kwargs={}, decay=DECAY_ON_KERNELS, adapt=DECAY_ON_KERNELS),
    # Biases adapted but not decayed: the zero-gradient bias has ||update|| = 0 -> ratio 1.
    "lamb_adapt_bias": dict(
        optimizer="lamb",
        kwargs=dict(exclude_from_layer_adaptation=["LayerNorm", "layer_norm"]),
        decay=DECAY_ON_KERNELS,
        adapt={name: "LayerNorm" not in name and "layer_norm" not in name
               for name in NAMES}),
    "adamw": dict(
        optimizer="adamw", kwargs={}, decay=DECAY_ON_KERNELS,
        adapt={name: False for name in NAMES}),
}


def make_inputs(seed=0):
    """Initial values and NUM_STEPS float32 gradients per variable (global norm >> 1)."""
    rng = np.random.default_rng(seed)
    initial, gradients = {}, {name: [] for name in NAMES}
    for name, shape, init, grad in VARIABLES:
        initial[name] = {"random": lambda s: rng.normal(size=s),
                         "ones": np.ones, "zero": np.zeros}[init](shape).astype("float32")
        for step in range(NUM_STEPS):
            value = rng.normal(size=shape) * (3.0 + step) if grad == "random" else (
                np.zeros(shape))
            gradients[name].append(value.astype("float32"))
    return initial, gradients


# --- Independent reference ----------------------------------------------------------

def reference_learning_rate(step):
    if step < NUM_WARMUP_STEPS:
        return INIT_LR * step / NUM_WARMUP_STEPS
    return INIT_LR * (1.0 - min(step, NUM_TRAIN_STEPS) / NUM_TRAIN_STEPS)


def reference_run(case_name, initial, gradients, clip_norm=1.0):
    """Official equations in float64; returns final values and the pre-clip norms."""
    case = CASES[case_name]
    lamb = case["optimizer"] == "lamb"
    w = {n: initial[n].astype(np.float64) for n in NAMES}
    m = {n: np.zeros_like(w[n]) for n in NAMES}
    v = {n: np.zeros_like(w[n]) for n in NAMES}
    norms = []
    for step in range(NUM_STEPS):
        g = {n: gradients[n][step].astype(np.float64) for n in NAMES}
        norm = np.sqrt(sum(np.sum(g[n] ** 2) for n in NAMES))
        norms.append(norm)
        g = {n: g[n] * clip_norm / max(norm, clip_norm) for n in NAMES}
        lr = reference_learning_rate(step)
        for n in NAMES:
            m[n] = 0.9 * m[n] + 0.1 * g[n]
            v[n] = 0.999 * v[n] + 0.001 * g[n] ** 2
            update = m[n] / (np.sqrt(v[n]) + 1e-6)
            if case["decay"][n]:
                update = update + 0.01 * w[n]
            ratio = 1.0
            if lamb and case["adapt"][n]:
                w_norm, u_norm = np.linalg.norm(w[n]), np.linalg.norm(update)
                ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            w[n] = w[n] - ratio * lr * update
    return w, norms


# --- Code under test (also run in the JAX subprocess) --------------------------------

def make_variables(initial):
    """Keras variables whose `.path` is exactly the names above."""
    variables = []
    for name in NAMES:
        *scopes, leaf = name.split("/")
        stack = [keras.name_scope(scope) for scope in scopes]
        for scope in stack:
            scope.__enter__()
        variables.append(keras.Variable(initial[name], name=leaf))
        for scope in reversed(stack):
            scope.__exit__(None, None, None)
        assert variables[-1].path == name, variables[-1].path
    return variables


def make_optimizer(case_name, **kwargs):
    case = CASES[case_name]
    return create_optimizer(INIT_LR, NUM_TRAIN_STEPS, NUM_WARMUP_STEPS,
                            optimizer=case["optimizer"], **case["kwargs"], **kwargs)


def run_keras(case_name, mode, accumulation_steps=None):
    """Applies NUM_STEPS updates; mode: eager | tf_function | tf_xla | jax_jit.

    With `accumulation_steps` 2 each update is fed as two micro-batch gradients,
    1.5 g and 0.5 g, whose mean is the update's gradient g. Returns {path: array}.
    """
    initial, gradients = make_inputs()
    variables = make_variables(initial)
    kwargs = {}
    if accumulation_steps:
        assert accumulation_steps == 2
        kwargs["gradient_accumulation_steps"] = 2
    optimizer = make_optimizer(case_name, **kwargs)
    optimizer.build(variables)
    steps = [[keras.ops.convert_to_tensor(gradients[n][s]) for n in NAMES]
             for s in range(NUM_STEPS)]
    if accumulation_steps:
        steps = [[g * factor for g in grads] for grads in steps for factor in (1.5, 0.5)]
    if mode == "jax_jit":
        import jax  # pylint: disable=g-import-not-at-top

        @jax.jit
        def step_fn(optimizer_values, values, grads):
            return optimizer.stateless_apply(optimizer_values, grads, values)

        values = [v.value for v in variables]
        optimizer_values = [v.value for v in optimizer.variables]
        for grads in steps:
            values, optimizer_values = step_fn(optimizer_values, values, grads)
        return {n: np.asarray(value) for n, value in zip(NAMES, values)}
    apply = lambda grads: optimizer.apply(grads, variables)
    if mode in ("tf_function", "tf_xla"):
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        apply = tf.function(apply, jit_compile=mode == "tf_xla")
    for grads in steps:
        apply(grads)
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == NUM_STEPS
    return {n: keras.ops.convert_to_numpy(v) for n, v in zip(NAMES, variables)}


def assert_matches_reference(case_name, result):
    initial, gradients = make_inputs()
    expected, norms = reference_run(case_name, initial, gradients)
    assert min(norms[1:]) > 5.0, "clipping must be active on every step that trains"
    for name in NAMES:
        np.testing.assert_allclose(result[name], expected[name], rtol=2e-5, atol=2e-6,
                                   err_msg=f"{case_name}: {name}")
        assert np.all(np.isfinite(result[name])), name


# --- Tests ------------------------------------------------------------------------

@pytest.mark.parametrize("case_name", sorted(CASES))
@pytest.mark.parametrize("mode", ["eager", "tf_function"])
def test_update_rule_matches_numpy_reference(case_name, mode):
    if mode == "tf_function" and keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function needs the TensorFlow backend")
    assert_matches_reference(case_name, run_keras(case_name, mode))


@pytest.mark.parametrize("mode", ["eager", "tf_xla"])
def test_lamb_under_xla_and_gradient_accumulation(mode):
    """XLA-compiled updates; accumulation: schedule and clip see the averaged update."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function needs the TensorFlow backend")
    assert_matches_reference("lamb", run_keras("lamb", mode, accumulation_steps=2))


def test_reference_is_sensitive_to_exclusions_and_clipping():
    """The cases differ by more than the tolerance, so the test above can fail."""
    initial, gradients = make_inputs()
    runs = {name: reference_run(name, initial, gradients)[0] for name in CASES}
    unclipped = reference_run("lamb", initial, gradients, clip_norm=1e9)[0]
    for other in [runs["adamw"], runs["lamb_adapt_bias"], unclipped]:
        assert max(np.max(np.abs(runs["lamb"][n] - other[n])) for n in NAMES) > 1e-3
    # Official LAMB with a decayed zero-gradient kernel: ratio ||w||/||0.01 w|| = 100.
    frozen = "albert/pooler/frozen/kernel"
    lrs = [reference_learning_rate(s) for s in range(NUM_STEPS)]
    np.testing.assert_allclose(runs["lamb"][frozen],
                               initial[frozen] * np.prod([1 - lr for lr in lrs]),
                               rtol=1e-6)


def test_zero_gradient_trust_ratio_is_one():
    result = run_keras("lamb_adapt_bias", "eager")
    initial, _ = make_inputs()
    # No decay, zero update: unchanged and finite (0/0 would be NaN without ratio 1.0).
    np.testing.assert_array_equal(result["albert/pooler/frozen/bias"],
                                  initial["albert/pooler/frozen/bias"])


def test_global_norm_clip_equals_tf_clip_by_global_norm():
    """First-step adam_m is 0.1 * clipped gradient: compare with tf.clip_by_global_norm."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("compares with the TensorFlow op")
    initial, gradients = make_inputs()
    variables = make_variables(initial)
    optimizer = make_optimizer("lamb")
    grads = [tf.constant(gradients[n][1]) for n in NAMES]
    optimizer.apply(grads, variables)
    clipped, norm = tf.clip_by_global_norm(grads, 1.0)
    assert float(norm) > 1.0
    for name, expected in zip(NAMES, clipped):
        suffix = f"/{name.replace('/', '_')}_adam_m"
        [moment] = [v for v in optimizer.variables if v.path.endswith(suffix)]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(moment),
                                   np.float32(0.1) * expected.numpy(), rtol=1e-6,
                                   atol=1e-9)


def test_indexed_slices_gradient_is_dense_in_norm_and_update():
    """Embedding lookups give IndexedSlices; repeated ids sum before the global norm."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("IndexedSlices are TensorFlow's")
    table = keras.Variable(np.ones((5, 2), "float32"), name="word_embeddings")
    optimizer = AdamW(learning_rate=0.5, global_clipnorm=1.0)
    with tf.GradientTape() as tape:
        loss = 3.0 * tf.reduce_sum(tf.gather(table.value, [1, 1, 1, 4]))
    grad = tape.gradient(loss, table.value)
    assert isinstance(grad, tf.IndexedSlices)
    optimizer.apply([grad], [table])
    dense = np.zeros((5, 2))
    dense[1], dense[4] = 9.0, 3.0
    dense /= np.linalg.norm(dense)  # norm sqrt(4 * 81 + ... ) > 1: clipped to 1
    moment = [v for v in optimizer.variables if v.path.endswith("adam_m")][0]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(moment), 0.1 * dense, rtol=1e-6)


def test_loss_scale_optimizer_wrapping_gives_the_same_update():
    initial, gradients = make_inputs()
    plain_vars, scaled_vars = make_variables(initial), make_variables(initial)
    plain = make_optimizer("lamb")
    scaled = keras.optimizers.LossScaleOptimizer(make_optimizer("lamb"))
    for step in range(NUM_STEPS):
        grads = [gradients[n][step] for n in NAMES]
        plain.apply([keras.ops.convert_to_tensor(g) for g in grads], plain_vars)
        scale = float(keras.ops.convert_to_numpy(scaled.dynamic_scale)) if scaled.built \
            else scaled.initial_scale
        scaled.apply([keras.ops.convert_to_tensor(g * np.float32(scale)) for g in grads],
                     scaled_vars)
    for a, b in zip(plain_vars, scaled_vars):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(b),
                                   keras.ops.convert_to_numpy(a), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case_name", ["lamb_adapt_bias", "adamw"])
def test_config_round_trip(case_name):
    optimizer = make_optimizer(case_name)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is type(optimizer)
    assert restored.get_config() == optimizer.get_config()
    config = optimizer.get_config()
    assert (config["weight_decay_rate"], config["beta_1"], config["beta_2"],
            config["epsilon"], config["global_clipnorm"]) == (0.01, 0.9, 0.999, 1e-6, 1.0)
    assert config["exclude_from_weight_decay"] == ["LayerNorm", "layer_norm", "bias"]
    initial, gradients = make_inputs()
    results = []
    for opt in [optimizer, restored]:
        variables = make_variables(initial)
        for step in range(NUM_STEPS):
            opt.apply([keras.ops.convert_to_tensor(gradients[n][step]) for n in NAMES],
                      variables)
        results.append([keras.ops.convert_to_numpy(v) for v in variables])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_exclusion_falls_back_to_tf1_style_name():
    variable = types.SimpleNamespace(name="bert/encoder/LayerNorm/gamma:0")
    assert variable_path(variable) == "bert/encoder/LayerNorm/gamma"
    assert matches_any(["LayerNorm"], variable)
    assert not matches_any(["bias", "layer_norm"], variable)


def test_clip_norm_none_disables_clipping():
    assert create_optimizer(0.1, 10, 1, clip_norm=None).global_clipnorm is None
    assert create_optimizer(0.1, 10, 1, clip_norm=0.0).global_clipnorm is None


def test_default_layer_adaptation_follows_weight_decay_list():
    optimizer = Lamb(exclude_from_weight_decay=["bias"])
    assert optimizer.get_config()["exclude_from_layer_adaptation"] == ["bias"]


@pytest.mark.parametrize("build, message", [
    (lambda: create_optimizer(0.1, 10, 1, optimizer="sgd"), "unknown optimizer 'sgd'"),
    (lambda: AdamW(weight_decay=0.01), "weight_decay_rate"),
    (lambda: Lamb(exclude_from_weight_decay="bias"), "list of regular expressions"),
    (lambda: Lamb(exclude_from_layer_adaptation=["("]), "not a regular expression"),
    (lambda: AdamW().exclude_from_weight_decay(var_names=["bias"]), "constructor"),
])
def test_clear_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def _run_script(script, backend, *args):
    """Runs `script` in a fresh Python with KERAS_BACKEND=backend; returns its JSON."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(
                   [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", script, *args], env=env,
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


JAX_SCRIPT = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("optimizer_checks", sys.argv[1])
checks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checks)
import keras
assert keras.backend.backend() == "jax", keras.backend.backend()
runs = [(case, "jax_jit") for case in sorted(checks.CASES)] + [("lamb", "eager")]
print(json.dumps({f"{case}/{mode}": {n: v.tolist() for n, v in
                  checks.run_keras(case, mode).items()} for case, mode in runs}))
"""


def test_jax_backend_matches_numpy_reference():
    pytest.importorskip("jax")
    runs = _run_script(JAX_SCRIPT, "jax", str(pathlib.Path(__file__).resolve()))
    assert len(runs) == len(CASES) + 1
    for key, values in runs.items():
        assert_matches_reference(key.split("/")[0],
                                 {n: np.asarray(v, np.float32) for n, v in values.items()})


MIRRORED_SCRIPT = """
import json
import numpy as np
import tensorflow as tf
# Two logical CPUs must be configured before TensorFlow initialises its devices.
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from albert_tf.training.optimizers import create_optimizer

GLOBAL_BATCH = 8
rng = np.random.default_rng(0)
features = rng.normal(size=(GLOBAL_BATCH, 6)).astype("float32")
targets = (10.0 * rng.normal(size=(GLOBAL_BATCH, 1))).astype("float32")


def run(strategy, loss_scale=False):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        inputs = keras.Input((6,))
        hidden = keras.layers.Dense(5, name="dense")(inputs)
        hidden = keras.layers.LayerNormalization(name="LayerNorm")(hidden)
        model = keras.Model(inputs, keras.layers.Dense(1, name="output")(hidden))
        optimizer = create_optimizer(0.1, 10, 2, optimizer="lamb")
        if loss_scale:
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables)
    dataset = tf.data.Dataset.from_tensor_slices((features, targets))
    dataset = dataset.batch(GLOBAL_BATCH).repeat(4)
    norms = []

    @tf.function
    def train_step(x, y):
        def replica_step(x, y):
            with tf.GradientTape() as tape:
                # Per-replica sum over the global batch size: replica sums add up.
                loss = tf.reduce_sum(tf.square(model(x) - y)) / GLOBAL_BATCH
                scaled = optimizer.scale_loss(loss) if loss_scale else loss
            grads = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            return loss
        return strategy.run(replica_step, args=(x, y))

    with strategy.scope():
        for x, y in strategy.experimental_distribute_dataset(dataset):
            train_step(x, y)
    return [v.numpy().tolist() for v in model.trainable_variables]


def initial_weights():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, name="dense")(inputs)
    hidden = keras.layers.LayerNormalization(name="LayerNorm")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="output")(hidden))
    return [v.numpy().tolist() for v in model.trainable_variables]


def first_step_norm():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, name="dense")(inputs)
    hidden = keras.layers.LayerNormalization(name="LayerNorm")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="output")(hidden))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(model(features) - targets)) / GLOBAL_BATCH
    return float(tf.linalg.global_norm(tape.gradient(loss, model.trainable_variables)))


mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert mirrored.num_replicas_in_sync == 2
print(json.dumps({
    "norm": first_step_norm(),
    "initial": initial_weights(),
    "default": run(tf.distribute.get_strategy()),
    "one_device": run(tf.distribute.OneDeviceStrategy("/cpu:0")),
    "mirrored": run(mirrored),
    "mirrored_loss_scale": run(mirrored, loss_scale=True),
}))
"""


def test_mirrored_strategy_two_replicas_equals_one_device():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute needs the TensorFlow backend")
    runs = _run_script(MIRRORED_SCRIPT, "tensorflow")
    assert runs["norm"] > 2.0, "clipping must be active for the comparison to matter"
    for name in ["one_device", "mirrored", "mirrored_loss_scale"]:
        for got, want in zip(runs[name], runs["default"]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
    moved = max(np.max(np.abs(np.subtract(a, b)))
                for a, b in zip(runs["default"], runs["initial"]))
    assert moved > 1e-2, "the steps must change the weights"
