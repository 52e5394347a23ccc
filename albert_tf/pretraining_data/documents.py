"""Reading the pretraining corpus: files, lines, documents, windows, tokens.

Input format (official): one sentence per line, a blank line between
documents. Here the end of every input file also ends a document (the official
script lets a document run on into the next file).

Lines are split at "\\n" only and every "\\r" is dropped, as TensorFlow's GFile
`readline` (the official reader) does: "\\r\\n" ends a line, a lone "\\r" does not.
A line that is not valid UTF-8 is skipped, counted in
`ReadStats.undecodable_lines` and logged (the first few with the file and the
line's byte offset, which a window read on its own knows, unlike its line
number); it does not end the document.

Documents are read in *windows*, the unit of work, of memory and of random B
segments (the official script draws those from the whole corpus, which needs
it all in memory). Windows are byte ranges of one file, so any reader can form
window k of a file on its own, without reading what comes before it (the local
writer reads them in order, a Beam pipeline in parallel):

  window k of a file holds the lines after its k-th boundary up to and
  including its (k+1)-th, where boundary 0 is the start of the file and
  boundary k >= 1 is the first blank line starting at or after byte
  k * window_bytes (the end of the file if there is none).

A window thus never splits a document, every line belongs to exactly one
window, and a window is empty when a single document spans its whole range. A
window is named by (file index, window index in the file); both depend only on
the input list and `window_bytes`, never on the number of workers or the runner.
"""

import dataclasses
import os
import re

import numpy as np
import tensorflow as tf
from absl import logging

from albert_tf.tokenization import preprocess_text

_READ_BLOCK_BYTES = 1 << 22
_MAX_LOGGED_BAD_LINES = 10


# `<output>.tmp-<pid>`: what the writer writes before renaming (see pretraining_writer).
_TEMP_NAME = re.compile(r"\.tmp-(\d+)$")


def temp_output_name(path, pid=None):
    """The name an output is written under until it is complete."""
    return f"{path}.tmp-{os.getpid() if pid is None else pid}"


def is_temp_output_name(path):
    """True for a `<name>.tmp-<pid>` file that a (killed) writer run left."""
    return _TEMP_NAME.search(str(path)) is not None


def is_unfinished_output(path):
    """True for a writer's `<name>.tmp-<pid>` file, also when reached through a symlink
    of another name (a local link is followed to the file it names)."""
    path = str(path)
    return is_temp_output_name(path) or (
        "://" not in path and os.path.islink(path)
        and is_temp_output_name(os.path.realpath(path)))


def split_patterns(input_file):
    """Comma-separated glob patterns -> list of stripped patterns."""
    patterns = [p.strip() for p in str(input_file or "").split(",") if p.strip()]
    if not patterns:
        raise ValueError("input_file is empty: give one or more comma-separated globs")
    return patterns


def is_binary_file(path, head_bytes=4096):
    """True if the file's first bytes hold a NUL byte: never one-sentence-per-line text.

    A TFRecord always does (each record starts with its length as a little-endian
    uint64), as do the writer's own outputs matched by a broad input glob.
    """
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            return b"\0" in f.read(head_bytes)
    except (tf.errors.OpError, OSError):
        return False  # Unreadable: the reader names it when it gets there.


def select_matches(pattern, matches):
    """A pattern's matches, sorted, without writer temp files and binary files (e.g.
    TFRecords, our own earlier outputs); one warning names what was skipped; raises
    if nothing is left."""
    matches = sorted(matches)
    temps = [m for m in matches if is_unfinished_output(m)]
    if temps:
        logging.warning("input_file pattern %r: skipping %d unfinished output file(s) "
                        "of a killed run (%s)", pattern, len(temps), ", ".join(temps[:3]))
        matches = [m for m in matches if m not in set(temps)]
    binary = [m for m in matches if is_binary_file(m)]
    if binary:
        logging.warning("input_file pattern %r: skipping %d binary file(s), not text (e.g. "
                        "TFRecords; NUL bytes at the start): %s%s", pattern, len(binary),
                        ", ".join(binary[:5]), ", ..." if len(binary) > 5 else "")
        matches = [m for m in matches if m not in set(binary)]
    if not matches:
        skipped = [f"{len(temps)} unfinished *.tmp-PID output(s)"] if temps else []
        skipped += [f"{len(binary)} binary file(s)"] if binary else []
        raise FileNotFoundError(
            f"input_file pattern {pattern!r} matched no files"
            + (f" (only {' and '.join(skipped)}, never read as text)" if skipped else ""))
    return matches


def expand_input_files(input_file):
    """Comma-separated glob patterns -> list of files (each pattern's matches sorted).

    `*.tmp-<pid>` files (outputs of a writer run that was killed) are skipped.

    Raises:
      ValueError if `input_file` is empty; FileNotFoundError naming a pattern
      that matches nothing.
    """
    files = []
    for pattern in split_patterns(input_file):
        files.extend(select_matches(pattern, tf.io.gfile.glob(pattern)))
    return files


@dataclasses.dataclass
class ReadStats:
    """Counters of the reading stage (main process)."""
    files: int = 0
    lines: int = 0
    undecodable_lines: int = 0
    bytes: int = 0
    documents: int = 0  # counted where windows are tokenized (the Beam pipeline)


def _gfile_open(path):
    return tf.io.gfile.GFile(path, "rb")


def num_windows(file_size, window_bytes):
    """Windows of a file of `file_size` bytes (some may turn out empty)."""
    if window_bytes < 1:
        raise ValueError(f"window_bytes ({window_bytes}) must be >= 1")
    return -(-file_size // window_bytes)


def _lines_from(f, offset):
    """Yields (start offset, raw line without "\\n" and "\\r") from `offset` on."""
    rest = b""
    while True:
        block = f.read(_READ_BLOCK_BYTES)
        if not block:
            break
        parts = (rest + block).split(b"\n")
        rest = parts.pop()
        for part in parts:
            yield offset, part.replace(b"\r", b"")
            offset += len(part) + 1
    if rest:
        yield offset, rest.replace(b"\r", b"")


def _decode(raw):
    """The line's text, "" for a blank line, None for one that is not UTF-8."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return line if line.strip() else ""


def read_window(path, window_index, window_bytes, stats, open_fn=None):
    """Window `window_index` of `path`: a list of documents, each a list of raw lines.

    Reads from byte `window_index * window_bytes - 1` (the line starting there
    or later) to the first blank line starting at or after the next window's
    first byte; see the module docstring. `open_fn(path)` opens the file for
    binary reading with `seek` (GFile by default; Beam passes its filesystems).
    """
    open_fn = open_fn or _gfile_open
    start = window_index * window_bytes
    end = start + window_bytes
    documents, document = [], []
    with open_fn(path) as f:
        if start > 0:
            f.seek(start - 1)
        lines = _lines_from(f, max(start - 1, 0))
        if start > 0:
            for offset, raw in lines:
                if offset < start:
                    continue  # the line holding byte start - 1: a previous window's
                if _decode(raw) == "":
                    if offset >= end:
                        return []  # one document spans this whole window's bytes
                    break  # boundary: this window starts after it
            else:
                return []
        for offset, raw in lines:
            line = _counted_line(raw, stats, f"{path}: skipping the line at byte {offset}")
            if line is None:
                continue
            if line:
                document.append(line)
                continue
            if document:
                documents.append(document)
                document = []
            if offset >= end:
                break  # the next window's boundary, ours to count
    if document:
        documents.append(document)
    return documents


def _counted_line(raw, stats, where):
    """Counts line bytes `raw` in `stats`; its text, or None (counted, and logged as
    `where`: not valid UTF-8) for bytes that do not decode."""
    stats.lines += 1
    stats.bytes += len(raw) + 1
    line = _decode(raw)
    if line is None:
        stats.undecodable_lines += 1
        if stats.undecodable_lines <= _MAX_LOGGED_BAD_LINES:
            logging.warning("%s: not valid UTF-8", where)
    return line


def read_lines(path, stats):
    """Yields decoded lines of `path`; `None` for a blank line (document boundary)."""
    stats.files += 1
    with _gfile_open(path) as f:
        for lineno, (_, raw) in enumerate(_lines_from(f, 0), start=1):
            line = _counted_line(raw, stats, f"{path}:{lineno}: skipping the line")
            if line is None:
                continue
            yield line or None


def window_keys(file_sizes, window_bytes):
    """(file index, window index) of every window of files of `file_sizes` bytes."""
    return [(file_index, window_index)
            for file_index, size in enumerate(file_sizes)
            for window_index in range(num_windows(size, window_bytes))]


def iter_document_windows(input_files, window_bytes, stats):
    """Yields ((file index, window index), documents) for every window, in order.

    Documents are lists of raw (non-blank) lines; empty windows are skipped.
    """
    sizes = [tf.io.gfile.stat(path).length for path in input_files]
    stats.files += len(input_files)
    for file_index, window_index in window_keys(sizes, window_bytes):
        documents = read_window(input_files[file_index], window_index, window_bytes, stats)
        if documents:
            yield (file_index, window_index), documents


@dataclasses.dataclass
class TokenizedWindow:
    """Tokenized documents of one window, stored flat to pickle cheaply.

    ids: [num_tokens] int32. sentence_ends: [num_sentences] end offsets into
    `ids`. document_ends: [num_documents] end offsets into the sentences.
    """
    ids: np.ndarray
    sentence_ends: np.ndarray
    document_ends: np.ndarray

    @property
    def num_documents(self):
        return len(self.document_ends)

    @property
    def num_tokens(self):
        return len(self.ids)

    def documents(self):
        """A sequence of documents (each a sequence of sentences as lists of ids)."""
        return _DocumentList(self)


class _Document:
    """Sentences of one document, converted to lists on access."""

    def __init__(self, window, first, last):
        self._window, self._first, self._last = window, first, last

    def __len__(self):
        return self._last - self._first

    def __getitem__(self, j):
        if not 0 <= j < len(self):
            raise IndexError(j)
        k = self._first + j
        ends = self._window.sentence_ends
        start = ends[k - 1] if k > 0 else 0
        return self._window.ids[start:ends[k]].tolist()


class _DocumentList:
    def __init__(self, window):
        self._window = window

    def __len__(self):
        return self._window.num_documents

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(i)
        ends = self._window.document_ends
        return _Document(self._window, int(ends[i - 1]) if i > 0 else 0, int(ends[i]))


def tokenize_window(raw_documents, tokenizer):
    """Tokenizes a window of raw documents.

    Each line goes through `preprocess_text(line, lower=tokenizer.do_lower_case)`
    and the tokenizer, as in the official script; a line that preprocesses to
    nothing ends the document, and empty sentences and documents are dropped.

    Returns:
      `TokenizedWindow`.
    """
    ids, sentence_ends, document_ends = [], [], []
    lower = tokenizer.do_lower_case

    def close_document():
        if sentence_ends and (not document_ends or document_ends[-1] < len(sentence_ends)):
            document_ends.append(len(sentence_ends))

    for document in raw_documents:
        for line in document:
            text = preprocess_text(line, lower=lower)
            if not text:
                close_document()
                continue
            pieces = tokenizer.tokenize(text, preprocess=False)
            if pieces:
                ids.extend(tokenizer.convert_tokens_to_ids(pieces))
                sentence_ends.append(len(ids))
        close_document()
    return TokenizedWindow(
        ids=np.asarray(ids, dtype=np.int32),
        sentence_ends=np.asarray(sentence_ends, dtype=np.int64),
        document_ends=np.asarray(document_ends, dtype=np.int64))
