"""`text_in_graph=False` exports: servable where the TF Text ops are not built in.

Stock TF Serving images and the C++ API without TF Text cannot load a graph
holding TF Text's ops. The checks run in processes that never import
tensorflow_text: every op of the GraphDef and of every function in its library
must be one TensorFlow itself registers, and TensorFlow's own
`saved_model_cli run` must serve the export. The text half is then the
preprocess export's (next to the server, or in the client).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from . import export_test_helpers as helpers
from albert_tf.export import ExportParams, export_savedmodel

KINDS = ("encoder", "classifier", "squad_v2", "race")

# Lists the ops of each SavedModel that this TensorFlow does not register, from
# a process that must not have imported tensorflow_text.
_SCAN = """
import json, sys
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import op_def_registry
unregistered = {}
for directory in sys.argv[1:]:
    saved_model = saved_model_pb2.SavedModel()
    with open(directory + "/saved_model.pb", "rb") as f:
        saved_model.ParseFromString(f.read())
    graph = saved_model.meta_graphs[0].graph_def
    ops = {node.op for node in graph.node}
    for function in graph.library.function:
        ops.update(node.op for node in function.node_def)
    unregistered[directory] = sorted(op for op in ops if op_def_registry.get(op) is None)
assert "tensorflow_text" not in sys.modules
print(json.dumps(unregistered))
"""


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # No albert_tf, and so no tensorflow_text through it.
    return env


@pytest.fixture(scope="module")
def text_free(tiny_models, spm_model_file, tmp_path_factory):
    """name -> text-free SavedModel directory."""
    root = tmp_path_factory.mktemp("text_free")
    dirs = {}
    for name in KINDS:
        kind, settings = helpers.EXPORTS[name]
        dirs[name] = str(root / name)
        export_savedmodel(ExportParams(
            model_kind=kind, export_dir=dirs[name], spm_model_file=spm_model_file,
            init_checkpoint=tiny_models[name][1], max_seq_length=helpers.MAX_SEQ_LENGTH,
            text_in_graph=False, **settings))
    return dirs


def _unregistered_ops(saved_model_dirs):
    completed = subprocess.run([sys.executable, "-c", _SCAN, *saved_model_dirs], env=_env(),
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    unregistered = json.loads(completed.stdout.strip().splitlines()[-1])
    return [set(unregistered[d]) for d in saved_model_dirs]


def test_graph_holds_only_core_tensorflow_ops(text_free, exports):
    names = list(KINDS)
    *free, with_text = _unregistered_ops([text_free[n] for n in names] + [exports["encoder"]])
    for name, ops in zip(names, free):
        assert ops == set(), name
    # The scan sees TF Text's ops where they are (so it can fail).
    assert any("Sentencepiece" in op for op in with_text), with_text


def test_only_ids_in_signatures(text_free):
    for name, directory in text_free.items():
        loaded = tf.saved_model.load(directory)
        for signature, function in loaded.signatures.items():
            if signature == "tokenization_info":
                continue
            specs = function.structured_input_signature[1]
            assert all(spec.dtype == tf.int32 for key, spec in specs.items()
                       if key != "examples"), (name, signature)
        assert "serving_pair" not in loaded.signatures


def _ids_inputs(name):
    ids = [[2, 10975, 126, 3, 14, 3], [2, 48, 3, 0, 0, 0]]
    mask = [[1] * 6, [1, 1, 1, 0, 0, 0]]
    segments = [[0, 0, 0, 0, 1, 1], [0] * 6]
    inputs = {"input_ids": ids, "input_mask": mask, "segment_ids": segments}
    if name == "race":
        inputs = {k: [[row] * 4 for row in v] for k, v in inputs.items()}
    if name == "squad_v2":
        inputs["p_mask"] = [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]
    return inputs


def test_saved_model_cli_runs_it_without_tensorflow_text(text_free, exports, tmp_path):
    argv_lists = []
    for name, directory in text_free.items():
        exprs = ";".join(f"{k}={v!r}" for k, v in _ids_inputs(name).items())
        argv_lists.append(["run", "--dir", directory, "--tag_set", "serve",
                           "--signature_def", "serving_default", "--input_exprs", exprs,
                           "--outdir", str(tmp_path / name)])
    statuses, imported_text, stderr = helpers.run_saved_model_cli(argv_lists, False,
                                                                  str(tmp_path))
    assert statuses == [0] * len(text_free), stderr[-3000:]
    assert imported_text is False
    for name in text_free:
        # The same numbers as the text export's `tokens` (same checkpoint).
        inputs = {k: tf.constant(v, tf.int32) for k, v in _ids_inputs(name).items()}
        expected = tf.saved_model.load(exports[name]).signatures["tokens"](**inputs)
        for key, value in expected.items():
            got = np.load(tmp_path / name / f"{key}.npy", allow_pickle=True)
            if value.dtype.is_floating:
                np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-5)
            else:
                np.testing.assert_array_equal(got, value)


def test_preprocess_export_feeds_the_text_free_encoder(text_free, exports):
    text = tf.constant(helpers.strings(["Hello, World!", "", "Café costs 1,000 €."]))
    inputs = tf.saved_model.load(exports["preprocess"]).signatures["serving_default"](
        text=text)
    encoder = tf.saved_model.load(text_free["encoder"])
    pooled = encoder.signatures["serving_default"](**inputs)["pooled_output"]
    expected = tf.saved_model.load(exports["encoder"]).signatures["serving_default"](
        text=text)["pooled_output"]
    np.testing.assert_allclose(pooled, expected, atol=1e-5)


def test_preprocess_cannot_be_text_free(spm_model_file, tmp_path):
    with pytest.raises(ValueError, match="text half"):
        export_savedmodel(ExportParams(model_kind="preprocess", export_dir=str(tmp_path / "p"),
                                       spm_model_file=spm_model_file, text_in_graph=False))
