"""Work units of the pretraining data generator and how they run in parallel.

Two tasks: tokenize a window of raw documents (`tokenize_task`), and build one
dupe round of records (SOP pairs, masks, serialized examples) over a tokenized
window (`instances_task`). A round's `random.Random` is seeded from
(random_seed, window key, round), the window key being (file index, window
index in the file), so its records depend only on the seed and the input,
never on which process ran it, when, or under which executor: the local
writer (`ordered_records`, here) and the Beam pipeline (`pretraining_beam`)
call these same two functions. `ordered_records` keeps at most 2 x num_workers
rounds in flight and yields their records in task order, so the local output
is the same for any number of workers.

Worker processes exit when the process that started them dies (a `kill -9`
of the writer must not leave them running).
"""

import collections
import concurrent.futures
import ctypes
import multiprocessing
import os
import random
import signal
import sys
import threading
import time

from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import example as pretraining_example
from albert_tf.pretraining_data import instances as pretraining_instances
from albert_tf.pretraining_data import masking as pretraining_masking
from albert_tf.pretraining_data.config import derive_seed


# Per-process state, set by `init_worker` (in workers and, for
# num_workers == 1, in the main process).
_STATE = {}


def init_worker(tokenizer, config):
    """Sets this process's tokenizer, `PretrainingDataConfig` and lookup tables."""
    pieces = [tokenizer.inv_vocab[i] for i in range(tokenizer.vocab_size)]
    _STATE.clear()
    _STATE.update(
        tokenizer=tokenizer,
        config=config,
        start_table=pretraining_masking.start_piece_table(pieces),
        masking=pretraining_masking.MaskingConfig(
            max_predictions_per_seq=config.max_predictions_per_seq,
            vocab_size=tokenizer.vocab_size,
            cls_id=tokenizer.cls_id,
            sep_id=tokenizer.sep_id,
            mask_id=tokenizer.mask_id,
            masked_lm_prob=config.masked_lm_prob,
            ngram=config.ngram,
            favor_shorter_ngram=config.favor_shorter_ngram,
            do_whole_word_mask=config.do_whole_word_mask,
            do_permutation=config.do_permutation),
        kinds={name: kind for name, (kind, _) in pretraining_example.feature_lengths(
            config.max_seq_length, config.num_prediction_slots).items()},
    )


def tokenize_task(raw_documents):
    """`TokenizedWindow` of a window's raw documents (after `init_worker`)."""
    return pretraining_documents.tokenize_window(raw_documents, _STATE["tokenizer"])


def instances_task(window, window_key, dupe_index):
    """Serialized records of dupe round `dupe_index` over one tokenized window.

    window_key: (file index, window index in the file). Needs `init_worker`.
    """
    config = _STATE["config"]
    masking = _STATE["masking"]
    file_index, window_index = window_key
    rng = random.Random(derive_seed(config.random_seed, "instances", file_index,
                                    window_index, dupe_index))
    documents = window.documents()
    order = list(range(len(documents)))
    rng.shuffle(order)
    records = []
    for document_index in order:
        pairs = pretraining_instances.create_instances_from_document(
            documents, document_index, config.max_seq_length, config.short_seq_prob, rng,
            random_next_sentence=config.random_next_sentence)
        for pair in pairs:
            tokens, segment_ids = pretraining_instances.pack_pair(
                pair, masking.cls_id, masking.sep_id)
            masked = pretraining_masking.create_masked_lm_predictions(
                tokens, _STATE["start_table"], masking, rng)
            features = pretraining_example.instance_features(
                masked.output_ids, segment_ids, masked.token_boundary,
                masked.masked_lm_positions, masked.masked_lm_ids, pair.is_random_next,
                config.max_seq_length, config.num_prediction_slots)
            records.append(pretraining_example.encode_example(features, _STATE["kinds"]))
    return records


class _InlineFuture:
    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


class InlineExecutor:
    """Runs tasks at submit time in this process (num_workers == 1)."""

    def submit(self, fn, *args):
        return _InlineFuture(fn(*args))

    def shutdown(self, wait=True, cancel_futures=False):
        del wait, cancel_futures


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_POLL_SECONDS = 1.0


def exit_with_parent(parent_pid):
    """Ends this (worker) process when `parent_pid` dies.

    Linux: the kernel sends SIGKILL on the parent's death (prctl
    PR_SET_PDEATHSIG). Everywhere, a daemon thread also polls the parent pid, as
    a fallback (e.g. a worker blocked writing to a full pipe).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the polling thread below still applies
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(_PARENT_POLL_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _init_pool_worker(parent_pid, tokenizer, config):
    exit_with_parent(parent_pid)
    init_worker(tokenizer, config)


def make_executor(tokenizer, config):
    """An in-process executor for one worker, else a pool of `num_workers` processes."""
    if config.num_workers == 1:
        init_worker(tokenizer, config)
        return InlineExecutor()
    methods = multiprocessing.get_all_start_methods()
    # fork shares the loaded tokenizer without pickling it; workers never call
    # TensorFlow, so forking a process that imported it is safe here.
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=config.num_workers, mp_context=context,
        initializer=_init_pool_worker, initargs=(os.getpid(), tokenizer, config))
    # Start the workers now, before this process opens any TensorFlow writer.
    executor.submit(int).result()
    return executor


def _window_groups(windows, size):
    """Lists of up to `size` consecutive raw windows."""
    group = []
    for raw in windows:
        group.append(raw)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def ordered_records(executor, windows, config, stats):
    """Yields serialized records in task order, keeping few tasks in flight.

    windows: iterable of (window key, raw documents), see
    `pretraining_documents.iter_document_windows`.

    Windows go in groups of `config.interleave_windows`, and a group's dupe rounds
    run round-major: round 0 of every window in the group, then round 1, ... So the
    copies of one document (one per round, differently masked) are a group's worth
    of records apart, farther than the shuffle buffer mixes, and rarely meet in one
    training batch; the official script gets the same from its global shuffle. The
    next group is tokenized a window at a time between this group's rounds, so the
    workers never wait on a whole group's tokenization.
    """
    max_in_flight = 2 * config.num_workers
    in_flight = collections.deque()
    groups = _window_groups(windows, config.interleave_windows)
    group = next(groups, None)
    def submit_tokenize(keyed):
        key, raw = keyed
        return key, executor.submit(tokenize_task, raw)

    pending = [submit_tokenize(keyed) for keyed in group] if group else None
    while pending is not None:
        tokenized = [(key, future.result()) for key, future in pending]
        upcoming = next(groups, None)
        to_tokenize = list(upcoming) if upcoming else []
        pending = [] if upcoming else None
        stats.documents += sum(window.num_documents for _, window in tokenized)
        indexed = [(key, window) for key, window in tokenized if window.num_documents]
        del tokenized
        for dupe_index in range(config.dupe_factor):
            if to_tokenize:
                pending.append(submit_tokenize(to_tokenize.pop(0)))
            for key, window in indexed:
                while len(in_flight) >= max_in_flight:
                    yield from in_flight.popleft().result()
                in_flight.append(executor.submit(instances_task, window, key, dupe_index))
        for keyed in to_tokenize:  # dupe_factor < group size
            pending.append(submit_tokenize(keyed))
    while in_flight:
        yield from in_flight.popleft().result()
