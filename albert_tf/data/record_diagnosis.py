"""Naming the TFRecord file behind a damaged input, at no per-record cost.

tf.data reports a truncated or damaged record as `DataLossError: corrupted record
at 3710`, without the file, and only when training reaches it. Two cheap checks:

- `check_first_records(files)` before training reads one record of every file,
  so a text file or a file cut within its first record fails at once;
- `explain_data_loss(error, files)` after a `DataLossError` scans the files
  (post mortem, once) and names each damaged one with the offset.

Readers attach their files to the dataset they return (`tag_files`); the
trainer finds them again through any later transformations (`tagged_files`).

A TFRecord is `uint64 length | uint32 masked crc32c(length) | data |
uint32 masked crc32c(data)`, little-endian.
"""

import re
import struct

import tensorflow as tf

_HEADER_BYTES = 12
_FOOTER_BYTES = 4
_ATTRIBUTE = "_albert_tf_record_files"


class CorruptRecordError(ValueError):
    """A TFRecord input file that is not a readable TFRecord file."""


def as_file_list(input_file):
    """A path, a comma-free list or tuple of paths -> list of str."""
    if isinstance(input_file, (list, tuple)):
        return [str(f) for f in input_file]
    return [str(input_file)]


def _read_error(error):
    """The record reader's words ("corrupted record at 3722") out of TensorFlow's message,
    which may wrap them in graph-execution context."""
    message = str(getattr(error, "message", error))
    found = re.search(r"(truncated|corrupted) record at \d+", message)
    if found is not None:
        hint = " (Is this even a TFRecord file?)" if "TFRecord file?" in message else ""
        return found.group(0) + hint
    message = re.sub(r"\{\{[^}]*\}\}", "", message).split(" [Op:")[0]
    return " ".join(message.split())


def _trailing_bytes(path):
    """A message if the file ends inside a record (TensorFlow's reader reports a cut
    within a header as a clean end of file), else None. Reads only the headers."""
    size = tf.io.gfile.stat(path).length
    offset = 0
    with tf.io.gfile.GFile(path, "rb") as f:
        while offset < size:
            if size - offset < _HEADER_BYTES:
                return (f"truncated: the last {size - offset} byte(s) at offset {offset} "
                        "are not a whole record")
            f.seek(offset)
            (length,) = struct.unpack("<Q", f.read(8))
            end = offset + _HEADER_BYTES + length + _FOOTER_BYTES
            if end > size:
                return (f"truncated: the record at offset {offset} needs {length} data "
                        f"bytes, the file ends at {size}")
            offset = end
    return None


def _records(path):
    """The records of one file, read (and checksum-checked) by tf.data's reader, as
    training reads them (`tf.compat.v1.io.tf_record_iterator` is deprecated: it logged a
    warning on every use)."""
    return tf.data.TFRecordDataset(path)


def scan_file(path):
    """Reads every record of `path`, checking the checksums.

    Returns:
      None if the file is intact, else a message with the problem and its offset,
      e.g. "corrupted record at 3710 (after 10 good records)".
    """
    count = 0
    try:
        for _ in _records(path):
            count += 1
    except tf.errors.NotFoundError:
        return "file not found"
    except tf.errors.DataLossError as e:
        return f"{_read_error(e)} (after {count} good record(s))"
    return _trailing_bytes(path)


def check_first_records(files):
    """Reads the first record of each file; raises for one that cannot be read.

    A text file given as a TFRecord, or one cut within its first record, fails here
    before any training. Reads one record per file (damage further in is found by
    `explain_data_loss` when training reaches it).

    Raises:
      CorruptRecordError naming the file.
    """
    for path in as_file_list(files):
        try:
            first = next(iter(_records(path).take(1)), None)
        except tf.errors.DataLossError as e:
            raise CorruptRecordError(
                f"{path}: not a readable TFRecord file: {_read_error(e)}") from None
        if first is None and tf.io.gfile.stat(path).length > 0:
            raise CorruptRecordError(f"{path}: not a readable TFRecord file: "
                                     f"{_trailing_bytes(path)}")


def explain_data_loss(error, files):
    """A `DataLossError` naming the damaged file(s) among `files`, to raise from `error`.

    Scans every file (only after a failure, so training pays nothing per record).
    When no file is damaged (the error came from elsewhere), returns `error`.
    """
    files = list(dict.fromkeys(files or ()))
    problems = [f"{path}: {problem}" for path in files
                for problem in [scan_file(path)] if problem]
    if not problems:
        return error
    message = ("damaged TFRecord input (truncated, corrupted or not a TFRecord file):\n  "
               + "\n  ".join(problems)
               + f"\n(tf.data reported: {_read_error(error)})")
    return tf.errors.DataLossError(None, None, message)


def tag_files(dataset, files):
    """Records on `dataset` the TFRecord files it reads; returns `dataset`."""
    setattr(dataset, _ATTRIBUTE, tuple(as_file_list(files)))
    return dataset


def tagged_files(dataset):
    """The files `tag_files` recorded on `dataset` or any dataset it was built from."""
    found, stack, seen = [], [dataset], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.extend(getattr(current, _ATTRIBUTE, ()))
        try:
            stack.extend(current._inputs())  # pylint: disable=protected-access
        except (AttributeError, NotImplementedError):
            pass
    return list(dict.fromkeys(found))
