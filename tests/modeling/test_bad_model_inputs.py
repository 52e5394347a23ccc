"""Model inputs outside their tables fail naming the input and the range, instead of
a negative id being read as one counted from the end of the table."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig
from albert_tf.modeling.encoder import AlbertEncoder

CONFIG = dict(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=1,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=24,
              type_vocab_size=2)


@pytest.fixture(scope="module")
def encoder():
    return AlbertEncoder(AlbertConfig(**CONFIG))


def inputs(seq=6, **changes):
    ids = np.arange(3, 3 + 2 * seq, dtype=np.int32).reshape(2, seq) % 50
    features = {"input_ids": ids, "input_mask": np.ones_like(ids),
                "segment_ids": np.zeros_like(ids)}
    for name, (index, value) in changes.items():
        features[name] = features[name].copy()
        features[name][index] = value
    return features


BAD = [
    ("negative id", dict(input_ids=((1, 2), -1)),
     r"input_ids must be in \[0, vocab_size=50\), got -1 at index \[1, 2\]"),
    ("id = vocab_size", dict(input_ids=((0, 0), 50)),
     r"input_ids must be in \[0, vocab_size=50\), got 50 at index \[0, 0\]"),
    ("segment id 2", dict(segment_ids=((0, 5), 2)),
     r"segment_ids must be in \[0, type_vocab_size=2\), got 2 at index \[0, 5\]"),
    ("negative segment id", dict(segment_ids=((1, 0), -1)),
     r"segment_ids must be in \[0, type_vocab_size=2\), got -1"),
]


@pytest.mark.parametrize("changes,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
@pytest.mark.parametrize("as_tensors", [False, True], ids=["numpy", "eager tensors"])
def test_out_of_range_ids_fail_in_eager_calls(encoder, changes, message, as_tensors):
    features = inputs(**changes)
    if as_tensors:
        features = {k: tf.constant(v) for k, v in features.items()}
    with pytest.raises(ValueError, match=message):
        encoder(features)


def test_negative_id_is_not_read_as_the_last_one(encoder):
    # What the check prevents: the gather behind the layer (keras.ops.take, NumPy
    # semantics) reads -1 as row vocab_size - 1, with no error.
    table = np.asarray(encoder.embeddings.word_embeddings)
    np.testing.assert_array_equal(np.asarray(keras.ops.take(table, np.array([-1]), axis=0))[0],
                                  table[49])
    with pytest.raises(ValueError, match="input_ids must be in"):
        encoder.embeddings(np.array([[-1, 2]]), np.zeros((1, 2), np.int32))


def test_valid_ids_at_the_edges_pass(encoder):
    features = inputs(input_ids=((0, 0), 49), segment_ids=((1, 1), 1))
    features["input_ids"][0, 1] = 0
    outputs = encoder(features)
    assert outputs["sequence_output"].shape == (2, 6, 16)


def test_longer_sequence_names_max_position_embeddings(encoder):
    message = (r"sequence length 30 exceeds the config's max_position_embeddings \(24\)")
    with pytest.raises(ValueError, match=message):
        encoder(inputs(seq=30))
    # Traced with a static length: the same error when the step is traced.
    step = tf.function(lambda f: encoder(f)["pooled_output"])
    with pytest.raises(ValueError, match=message):
        step({k: tf.constant(v) for k, v in inputs(seq=30).items()})
    assert encoder(inputs(seq=24))["sequence_output"].shape == (2, 24, 16)


def test_traced_calls_are_not_checked_per_step(encoder):
    """Compiled steps carry no check ops: the input pipeline checks their data."""
    spec = {k: tf.TensorSpec([None, None], tf.int32) for k in inputs()}
    step = tf.function(lambda f: encoder(f)["pooled_output"], input_signature=[spec])
    graph = step.get_concrete_function().graph
    kinds = {op.type for op in graph.get_operations()}
    assert not kinds & {"Assert", "PyFunc", "EagerPyFunc", "CheckNumerics"}
    ok = step({k: tf.constant(v) for k, v in inputs().items()})
    np.testing.assert_allclose(ok, encoder(inputs())["pooled_output"], atol=1e-6)


JAX_SCRIPT = """
import json, numpy as np, jax
from albert_tf import AlbertConfig
from albert_tf.modeling.encoder import AlbertEncoder
encoder = AlbertEncoder(AlbertConfig(**json.loads(%r)))
ids = np.ones((1, 6), np.int32)
features = dict(input_ids=ids, input_mask=ids, segment_ids=0 * ids)
try:
    encoder(dict(features, input_ids=-ids))
    eager = "no error"
except ValueError as e:
    eager = str(e)
jitted = jax.jit(lambda f: encoder(f)["pooled_output"])(features)
print(json.dumps({"eager": eager, "jit_shape": list(jitted.shape)}))
"""


def test_jax_backend_checks_eager_calls_and_traces_unchecked():
    import json
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", JAX_SCRIPT % json.dumps(CONFIG)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "input_ids must be in [0, vocab_size=50), got -1 at index [0, 0]" in report["eager"]
    assert report["jit_shape"] == [1, 16]
