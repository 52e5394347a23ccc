"""Calls exported SavedModels in a fresh process, as a serving client would.

Run as `python serving_client.py REQUESTS.pkl RESULTS.pkl`. It imports only
tensorflow, tensorflow_text and the standard library: albert_tf is blocked
outright, and any Keras module imported after TensorFlow's own start-up is
reported (loading must not need Keras classes).

REQUESTS.pkl: {"show_dirs": [dir, ...], "calls": [{"key", "dir", "signature",
"inputs": {name: numpy array}}, ...]}.
RESULTS.pkl: {"outputs": {key: {name: numpy array}}, "errors": {key: message},
"show": {dir: `saved_model_cli show --all` text}, "new_keras_modules": [...],
"albert_tf_imported": bool, "session_outputs" / "session_errors": the same
calls made through the TF1 session loader (`tf.compat.v1.saved_model.loader`,
the loader of TF Serving and the C++ API)}.
"""

import contextlib
import importlib.abc
import io
import os
import pickle
import sys


class _BlockAlbertTf(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "albert_tf" or name.startswith("albert_tf."):
            raise ImportError(f"serving_client: {name} must not be needed to serve")
        return None


def _show_all(saved_model_dir):
    """The text `saved_model_cli show --dir DIR --all` prints."""
    from tensorflow.python.tools import saved_model_cli  # Part of tensorflow.

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        saved_model_cli._show_all(saved_model_dir)  # pylint: disable=protected-access
    return buffer.getvalue()


def _session_calls(tf, calls):
    """Runs `calls` with the TF1 session loader: one graph and session per SavedModel."""
    sessions, outputs, errors = {}, {}, {}
    for call in calls:
        if call["dir"] not in sessions:
            graph = tf.Graph()
            session = tf.compat.v1.Session(graph=graph)
            with graph.as_default():
                meta_graph = tf.compat.v1.saved_model.loader.load(
                    session, [tf.saved_model.SERVING], call["dir"])
            sessions[call["dir"]] = (session, meta_graph.signature_def)
        session, signature_defs = sessions[call["dir"]]
        signature = signature_defs[call["signature"]]
        try:
            feed = {signature.inputs[k].name: v for k, v in call["inputs"].items()}
            fetch = {k: v.name for k, v in signature.outputs.items()}
            outputs[call["key"]] = session.run(fetch, feed_dict=feed)
        except Exception as e:  # pylint: disable=broad-except
            errors[call["key"]] = f"{type(e).__name__}: {e}"
    for session, _ in sessions.values():
        session.close()
    return outputs, errors


def main(requests_path, results_path):
    sys.meta_path.insert(0, _BlockAlbertTf())
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece op)

    keras_before = {m for m in sys.modules if m.split(".")[0] == "keras"}
    with open(requests_path, "rb") as f:
        requests = pickle.load(f)
    models = {}
    outputs, errors = {}, {}
    for call in requests["calls"]:
        if call["dir"] not in models:
            models[call["dir"]] = tf.saved_model.load(call["dir"])
        function = models[call["dir"]].signatures[call["signature"]]
        try:
            result = function(**{
                k: tf.constant(v, dtype=tf.string if v.dtype == object else None)
                for k, v in call["inputs"].items()})
            outputs[call["key"]] = {k: v.numpy() for k, v in result.items()}
        except Exception as e:  # pylint: disable=broad-except
            errors[call["key"]] = f"{type(e).__name__}: {e}"
    keras_after = {m for m in sys.modules if m.split(".")[0] == "keras"}
    show = {d: _show_all(d) for d in requests.get("show_dirs", [])}
    session_outputs, session_errors = _session_calls(tf, requests["calls"])
    with open(results_path, "wb") as f:
        pickle.dump({"outputs": outputs, "errors": errors, "show": show,
                     "new_keras_modules": sorted(keras_after - keras_before),
                     "albert_tf_imported": any(m.split(".")[0] == "albert_tf"
                                               for m in sys.modules),
                     "session_outputs": session_outputs, "session_errors": session_errors}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
