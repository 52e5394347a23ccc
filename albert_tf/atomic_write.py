"""Outputs written under a temporary name and renamed when complete.

A reader (or a restarted run) therefore sees either the old file or the whole new
one, never a truncated file. Local paths use `os.replace`; other file systems
(gs://, hdfs://) `tf.io.gfile.rename`, imported only then.
"""

import contextlib
import json
import math
import os


def _is_remote(path):
    return "://" in str(path)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it to `path` on success.

    On an exception the temporary file is removed and `path` is left as it was.
    """
    path = str(path)
    tmp = f"{path}.tmp"
    try:
        yield tmp
    except BaseException:
        _remove_quietly(tmp)
        raise
    if _is_remote(path):
        import tensorflow as tf

        tf.io.gfile.rename(tmp, path, overwrite=True)
    else:
        os.replace(tmp, path)


def _remove_quietly(tmp):
    try:
        if _is_remote(tmp):
            import tensorflow as tf

            if tf.io.gfile.exists(tmp):
                tf.io.gfile.remove(tmp)
        elif os.path.exists(tmp):
            os.remove(tmp)
    except OSError:
        pass


def _open(path, mode):
    if _is_remote(path):
        import tensorflow as tf

        return tf.io.gfile.GFile(path, mode)
    return open(path, mode, encoding="utf-8")


def write_text_atomically(path, text):
    """Writes the string `text` to `path` (UTF-8); returns `path`."""
    directory = os.path.dirname(str(path))
    if directory and not _is_remote(path):
        os.makedirs(directory, exist_ok=True)
    with atomic_path(path) as tmp:
        with _open(tmp, "w") as f:
            f.write(text)
    return str(path)


def json_safe(value):
    """JSON-ready: numpy scalars to Python, non-finite floats to None (valid JSON)."""
    if isinstance(value, dict):
        return {k: json_safe(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(x) for x in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def write_json_atomically(path, value, indent=2, sort_keys=True):
    """Writes `value` as JSON (non-finite floats as null); returns `path`."""
    return write_text_atomically(
        path, json.dumps(json_safe(value), indent=indent, sort_keys=sort_keys) + "\n")
