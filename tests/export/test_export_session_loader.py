"""The exports in the loader of TF Serving and the C++ API, and in `saved_model_cli run`.

TF Serving, `LoadSavedModel` (C++) and TF1 clients load a SavedModel into a
session and run its signature_defs by tensor name; `tf.saved_model.load` maps
captured variables through the object graph instead. Every request of the
export tests is made both ways in the serving process (`serving_client.py`)
and must agree; TensorFlow's own `saved_model_cli run` then serves each kind.
"""

import os

import numpy as np

from .export_test_helpers import (EXPORTS, MAX_SEQ_LENGTH, run_saved_model_cli,
                                 serving_requests)
from .test_export_signatures import DOCUMENTED

QUESTION = "Where is the cat?"
CONTEXT = "The cat sat on the mat in Paris. It was happy."
# saved_model_cli --input_exprs per export kind, as a user would type them.
CLI_INPUTS = {
    "preprocess": {"text": ["Hello, World!", ""]},
    "encoder": {"text": ["Hello, World!", ""]},
    "classifier": {"text": ["The movie was great.", ""]},
    "regression": {"text": ["A man is playing a guitar.", ""]},
    "race": {"article": [CONTEXT], "question": ["The cat was _ ."],
             "options": [["happy", "sad", "angry", "tired"]]},
    "squad_v1": {"question": [QUESTION], "context": [CONTEXT]},
    "squad_v2": {"question": [QUESTION, "Who?"], "context": [CONTEXT, ""]},
}


def _array(values):
    values = np.array(values, dtype=object)
    return np.vectorize(lambda v: v.encode("utf-8"), otypes=[object])(values)


def _ids(shape, rng):
    ids = rng.integers(5, 30000, size=shape).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, ..., 6:] = 0  # The second row is padded.
    segments = np.zeros_like(ids)
    segments[..., 4:] = 1
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments}


def _examples(rng):
    import tensorflow as tf  # Only to write tf.Example protos.

    features = _ids((2, MAX_SEQ_LENGTH), rng)
    return np.array([tf.train.Example(features=tf.train.Features(feature={
        name: tf.train.Feature(int64_list=tf.train.Int64List(value=values[row]))
        for name, values in features.items()})).SerializeToString() for row in range(2)],
        dtype=object)


def _inputs(name, signature, input_names, rng):
    """Valid inputs of batch 2 for any documented signature."""
    texts = {"text": ["Hello, World!", ""], "text_a": ["The cat sat.", "x"],
             "text_b": ["On the mat.", ""], "question": [QUESTION, "Who?"],
             "context": [CONTEXT, ""], "article": [CONTEXT, "b"],
             "options": [["happy", "sad", "angry", "tired"], ["a", "b", "c", "d"]]}
    if "input_ids" in input_names:
        inputs = _ids((2, 4, 10) if name == "race" else (2, 10), rng)
        if "mlm_positions" in input_names:
            inputs["mlm_positions"] = np.array([[1, 2], [0, 5]], np.int32)
        if "p_mask" in input_names:
            inputs["p_mask"] = np.zeros((2, 10), np.int32)
        return inputs
    if "examples" in input_names:
        return {"examples": _examples(rng)}
    return {k: _array(texts[k]) for k in input_names}


@serving_requests
def _requests(ctx):
    rng = np.random.default_rng(3)
    calls = [{"key": f"cli/{name}", "export": name, "signature": "serving_default",
              "inputs": {k: _array(v) for k, v in inputs.items()}}
             for name, inputs in CLI_INPUTS.items()]
    documented = dict(DOCUMENTED, regression=DOCUMENTED["classifier"])
    for name, signatures in documented.items():
        for signature, (input_names, _) in signatures.items():
            calls.append({"key": f"session/{name}/{signature}", "export": name,
                          "signature": signature,
                          "inputs": _inputs(name, signature, input_names, rng)})
    return calls


def test_session_loader_gives_the_tf2_loader_outputs(served):
    """Every signature of every kind (and every other request of the export tests)."""
    assert {k for k in served.outputs if k.startswith("session/")} == {
        f"session/{name}/{signature}" for name in EXPORTS
        for signature in DOCUMENTED["classifier" if name == "regression" else name]}
    assert served.session_errors.keys() == served.errors.keys(), {
        k: v for k, v in served.session_errors.items() if k not in served.errors}
    assert served.session_outputs.keys() == served.outputs.keys()
    for key, expected in served.outputs.items():
        got = served.session_outputs[key]
        assert got.keys() == expected.keys(), key
        for name, value in expected.items():
            value = np.asarray(value)
            if value.dtype.kind == "f":
                np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{key}:{name}")
            else:
                np.testing.assert_array_equal(got[name], value, err_msg=f"{key}:{name}")


def test_saved_model_cli_runs_serving_default_of_every_kind(served, exports, tmp_path):
    argv_lists = []
    for name, inputs in CLI_INPUTS.items():
        exprs = ";".join(f"{k}={v!r}" for k, v in inputs.items())
        argv_lists.append(["run", "--dir", exports[name], "--tag_set", "serve",
                           "--signature_def", "serving_default", "--input_exprs", exprs,
                           "--outdir", str(tmp_path / name)])
    statuses, _, stderr = run_saved_model_cli(argv_lists, True, str(tmp_path))
    assert statuses == [0] * len(CLI_INPUTS), stderr[-3000:]
    for name in CLI_INPUTS:
        expected = served.outputs[f"cli/{name}"]
        outdir = tmp_path / name
        assert sorted(os.listdir(outdir)) == sorted(f"{k}.npy" for k in expected), name
        for key, value in expected.items():
            got = np.load(outdir / f"{key}.npy", allow_pickle=True)
            if value.dtype.kind == "f":
                np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-5)
            else:
                np.testing.assert_array_equal(got, value)
    assert set(CLI_INPUTS) == set(EXPORTS)
