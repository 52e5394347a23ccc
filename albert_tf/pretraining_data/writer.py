"""Streaming, deterministic, parallel writer of ALBERT pretraining TFRecords.

Pipeline (what `create_pretraining_data` does; tasks in `pretraining_workers`;
`pretraining_beam` runs the same tasks on Apache Beam):

1. The main process reads the input files in windows: byte ranges of about
   `document_window_mb` of one file, cut at blank lines (`pretraining_documents`).
2. Workers tokenize each window, then build the `dupe_factor` rounds of SOP
   pairs + masks for it, one task per (window, round), round-major over groups
   of `interleave_windows` windows (so a document's copies land a group's
   worth of records apart, beyond the shuffle buffer). Each task has its own
   `random.Random`, seeded from (random_seed, window index, round), so its
   records depend only on the seed and the input, never on which process ran
   it or when.
3. The main process takes task results in task order, passes them through a
   shuffle buffer of `shuffle_buffer_size` records (seeded from random_seed)
   and writes them round-robin to the output files.

Hence the same seed and inputs give byte-identical files for any
`num_workers`. Differences from the official script, which holds every
document and every instance in memory: random B segments come from the same
window rather than the whole corpus, and the final shuffle is a bounded
shuffle buffer rather than a global shuffle (the trainer shuffles files and
records again). Memory is bounded by two groups of tokenized windows (about
4 bytes a token), the raw text of the group being tokenized, the in-flight
results (2 x num_workers rounds) and the shuffle buffer.

Outputs are written to `<name>.tmp-<pid>` and renamed only on success; an
output that is also an input, or named twice, is refused before anything is
written, and `<name>.tmp-<pid>` files of a killed run for the same outputs are
removed at the start.
"""

import dataclasses
import os
import random
import resource
import time

import tensorflow as tf
from absl import logging

from albert_tf.run_lock import pid_alive
from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import workers as pretraining_workers
from albert_tf.pretraining_data.config import derive_seed


@dataclasses.dataclass
class PretrainingDataStats:
    """What a run read and wrote."""
    input_files: int = 0
    lines: int = 0
    undecodable_lines: int = 0
    documents: int = 0
    records: int = 0
    seconds: float = 0.0


class ShuffleBuffer:
    """Bounded record shuffle (like `tf.data.Dataset.shuffle`), seeded."""

    def __init__(self, size, rng):
        self._size, self._rng, self._items = size, rng, []

    def push(self, item):
        """Adds `item`; returns an item to emit once the buffer is full, else None."""
        if len(self._items) < self._size:
            self._items.append(item)
            return None
        j = self._rng.randrange(self._size)
        out, self._items[j] = self._items[j], item
        return out

    def drain(self):
        """Returns the remaining items in random order and empties the buffer."""
        items, self._items = self._items, []
        self._rng.shuffle(items)
        return items


def real_path(path):
    """The path with links resolved (local files); URLs (gs://, s3://) as given."""
    return path if "://" in path else os.path.realpath(path)


def check_output_paths(input_files, output_files):
    """Refuses outputs that are inputs or named twice, before anything is written.

    Raises:
      ValueError naming the path.
    """
    inputs = {real_path(p): p for p in input_files}
    seen = {}
    for path in output_files:
        real = real_path(path)
        if real in seen:
            raise ValueError(f"output_file names {path!r} twice (as {seen[real]!r} and "
                             f"{path!r}): give each output file once")
        seen[real] = path
        if real in inputs:
            raise ValueError(f"output_file {path!r} is the input file {inputs[real]!r}: "
                             f"refusing to overwrite the corpus")


def check_tokenizer(tokenizer):
    """Raises ValueError naming the SentencePiece model when it lacks [CLS], [SEP] or
    [MASK] (ALBERT's records need all three)."""
    missing = [name for name in ("cls_id", "sep_id", "mask_id")
               if getattr(tokenizer, name, None) is None]
    if missing:
        raise ValueError(f"{getattr(tokenizer, 'spm_model_file', 'tokenizer')}: "
                         f"no id for {', '.join(missing)}; the SentencePiece model needs "
                         f"control symbols [CLS], [SEP], [MASK]")


def remove_stale_temp_files(output_files):
    """Removes `<output>.tmp-<pid>` files of earlier runs that are no longer running.

    Local files only: the pid of a run on another machine cannot be checked.
    """
    for path in output_files:
        if "://" in path:
            continue
        for temp in tf.io.gfile.glob(f"{path}.tmp-*"):
            if not pretraining_documents.is_temp_output_name(temp):
                continue
            pid = int(temp.rsplit("-", 1)[1])
            if pid != os.getpid() and not pid_alive(pid):
                logging.warning("removing %s, left by a killed run (pid %d)", temp, pid)
                tf.io.gfile.remove(temp)


def _peak_rss_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024.0, children / 1024.0


def create_pretraining_data(input_files, output_files, tokenizer, config,
                            log_every_seconds=10.0):
    """Writes ALBERT pretraining TFRecords.

    Args:
      input_files: list of text files (one sentence per line, blank lines
        between documents); see `pretraining_documents.expand_input_files`.
      output_files: list of TFRecord paths; records go round-robin.
      tokenizer: `albert_tf.tokenization.FullTokenizer` (picklable).
      config: `PretrainingDataConfig`.
      log_every_seconds: interval of the progress log line.

    Returns:
      `PretrainingDataStats`.

    Raises:
      ValueError for an empty corpus, bad settings, a tokenizer without
      [CLS]/[SEP]/[MASK], an output that is an input or is named twice;
      FileNotFoundError for a missing input file. No output file is left
      behind on error.
    """
    if config.uses_beam:
        raise ValueError(f"runner {config.runner!r}: this is the local writer; use "
                         f"pretraining_beam.create_pretraining_data_beam")
    input_files = list(input_files)
    output_files = [f for f in output_files if f]
    if not input_files:
        raise ValueError("no input files given")
    if not output_files:
        raise ValueError("no output files given")
    for path in input_files:
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"input file not found: {path}")
    check_output_paths(input_files, output_files)
    check_tokenizer(tokenizer)

    stats = PretrainingDataStats(input_files=len(input_files))
    read_stats = pretraining_documents.ReadStats()
    remove_stale_temp_files(output_files)
    temp_paths = [pretraining_documents.temp_output_name(path) for path in output_files]
    start = time.time()
    executor = pretraining_workers.make_executor(tokenizer, config)
    writers = []
    succeeded = False
    try:
        for path in output_files:
            directory = os.path.dirname(path)
            if directory and not tf.io.gfile.exists(directory):
                tf.io.gfile.makedirs(directory)
        writers = [tf.io.TFRecordWriter(p) for p in temp_paths]
        windows = pretraining_documents.iter_document_windows(
            input_files, config.window_bytes, read_stats)
        buffer = ShuffleBuffer(config.shuffle_buffer_size,
                               random.Random(derive_seed(config.random_seed, "shuffle")))
        next_log = start + log_every_seconds
        produced = 0

        def write(record):
            writers[stats.records % len(writers)].write(record)
            stats.records += 1

        for record in pretraining_workers.ordered_records(executor, windows, config, stats):
            produced += 1
            out = buffer.push(record)
            if out is not None:
                write(out)
            if produced % 256 == 0 and time.time() >= next_log:
                now = time.time()
                next_log = now + log_every_seconds
                _log_progress(stats.documents, produced, read_stats, now - start, done=False)
        for record in buffer.drain():
            write(record)
        for w in writers:
            w.close()
        writers = []
        if stats.documents == 0:
            raise ValueError(
                f"empty corpus: no text in {len(input_files)} input file(s) "
                f"({', '.join(input_files[:3])}{', ...' if len(input_files) > 3 else ''})")
        for temp, final in zip(temp_paths, output_files):
            tf.io.gfile.rename(temp, final, overwrite=True)
        succeeded = True
    finally:
        executor.shutdown(wait=succeeded, cancel_futures=not succeeded)
        for w in writers:
            w.close()
        if not succeeded:
            for temp in temp_paths:
                if tf.io.gfile.exists(temp):
                    tf.io.gfile.remove(temp)
    stats.lines = read_stats.lines
    stats.undecodable_lines = read_stats.undecodable_lines
    stats.seconds = time.time() - start
    _log_progress(stats.documents, stats.records, read_stats, stats.seconds, done=True)
    return stats


def _log_progress(documents, instances, read_stats, seconds, done):
    rate = instances / seconds if seconds > 0 else 0.0
    own, children = _peak_rss_mb()
    logging.info(
        "%s documents %d, instances %d, records/s %.1f, lines %d (%d not UTF-8, skipped), "
        "%.1f s, peak RSS %.0f MB (this process), %.0f MB (largest child process)",
        "done:" if done else "progress:", documents, instances, rate,
        read_stats.lines, read_stats.undecodable_lines, seconds, own, children)
