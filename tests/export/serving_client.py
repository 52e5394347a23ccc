"""Calls exported SavedModels in a fresh process, as a serving client would.

Run as `python serving_client.py REQUESTS.pkl RESULTS.pkl`. It imports only
tensorflow, tensorflow_text and the standard library: albert_tf is blocked
outright, and any Keras module imported after TensorFlow's own start-up is
reported (loading must not need Keras classes).

REQUESTS.pkl: {"show_dirs": [dir, ...], "calls": [{"key", "dir", "signature",
"inputs": {name: numpy array}}, ...]}.
RESULTS.pkl: {"outputs": {key: {name: numpy array}}, "errors": {key: message},
"show": {dir: `saved_model_cli show --all` text}, "new_keras_modules": [...],
"albert_tf_imported": bool}.
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
    with open(results_path, "wb") as f:
        pickle.dump({"outputs": outputs, "errors": errors, "show": show,
                     "new_keras_modules": sorted(keras_after - keras_before),
                     "albert_tf_imported": any(m.split(".")[0] == "albert_tf"
                                               for m in sys.modules)}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
