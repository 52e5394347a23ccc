"""Reading the pretraining corpus: files, lines, documents, windows, tokens.

Input format (official): one sentence per line, a blank line between
documents. Here the end of every input file also ends a document (the official
script lets a document run on into the next file).

Lines are split at "\\n" only and every "\\r" is dropped, as TensorFlow's GFile
`readline` (the official reader) does: "\\r\\n" ends a line, a lone "\\r" does not. A line that is not valid UTF-8 is skipped,
counted in `ReadStats.undecodable_lines` and logged (the first few with
file:line); it does not end the document.

Documents are streamed in *windows*: consecutive documents holding about
`window_bytes` of text. A window is the unit of work, of memory and of random
B segments (the official script draws those from the whole corpus, which needs
it all in memory). A window boundary depends only on the input, never on the
number of workers.
"""

import dataclasses

import numpy as np
import tensorflow as tf
from absl import logging

from albert_tf.tokenization import preprocess_text

_READ_BLOCK_BYTES = 1 << 22
_MAX_LOGGED_BAD_LINES = 10


def expand_input_files(input_file):
    """Comma-separated glob patterns -> list of files (each pattern's matches sorted).

    Raises:
      ValueError if `input_file` is empty; FileNotFoundError naming a pattern
      that matches nothing.
    """
    patterns = [p.strip() for p in str(input_file or "").split(",") if p.strip()]
    if not patterns:
        raise ValueError("input_file is empty: give one or more comma-separated globs")
    files = []
    for pattern in patterns:
        matches = sorted(tf.io.gfile.glob(pattern))
        if not matches:
            raise FileNotFoundError(f"input_file pattern {pattern!r} matched no files")
        files.extend(matches)
    return files


@dataclasses.dataclass
class ReadStats:
    """Counters of the reading stage (main process)."""
    files: int = 0
    lines: int = 0
    undecodable_lines: int = 0
    bytes: int = 0


def _raw_lines(path):
    """Yields the raw byte lines of `path` (without terminators)."""
    with tf.io.gfile.GFile(path, "rb") as f:
        rest = b""
        while True:
            block = f.read(_READ_BLOCK_BYTES)
            if not block:
                break
            parts = (rest + block).split(b"\n")
            rest = parts.pop()
            for part in parts:
                yield part.replace(b"\r", b"")
        if rest:
            yield rest.replace(b"\r", b"")


def read_lines(path, stats):
    """Yields decoded lines of `path`; `None` for a blank line (document boundary)."""
    stats.files += 1
    for lineno, raw in enumerate(_raw_lines(path), start=1):
        stats.lines += 1
        stats.bytes += len(raw) + 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            stats.undecodable_lines += 1
            if stats.undecodable_lines <= _MAX_LOGGED_BAD_LINES:
                logging.warning("%s:%d: skipping line that is not valid UTF-8 (%s)",
                                path, lineno, e)
            continue
        yield line if line.strip() else None


def iter_document_windows(input_files, window_bytes, stats):
    """Yields windows: lists of documents, each a list of raw (non-blank) lines.

    A window is closed at the first document boundary after it holds
    `window_bytes` of text, so a single document is never split.
    """
    window, document, size = [], [], 0
    for path in input_files:
        for line in read_lines(path, stats):
            if line is None:
                if document:
                    window.append(document)
                    document = []
                    if size >= window_bytes:
                        yield window
                        window, size = [], 0
                continue
            document.append(line)
            size += len(line)
        if document:
            window.append(document)
            document = []
            if size >= window_bytes:
                yield window
                window, size = [], 0
    if window:
        yield window


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
