"""One live run per output: a lock file naming its holder.

Two runs on one output_dir would interleave `train_metrics.jsonl`, and the
second would resume from the first's checkpoints while both write the same
steps. Every command that writes an output (the training commands, export,
convert, pretraining data) therefore takes a lock first:

  <output_dir>/albert_tf.lock   for a directory written in place (training)
  <output>.lock                 for an output renamed into place whole (an export
                                or converted folder, a TFRecord file)

A continuous evaluator (`--do_continuous_eval`) reads the checkpoints a training
run writes in the same output_dir and writes only the evaluation files, so it
takes `<output_dir>/albert_tf.eval.lock` instead of the training lock; a run
that evaluates as it trains, or evaluates alone, takes both. Hence one trainer
and one evaluator may share an output_dir, two evaluators (or an evaluator and
a `--do_train --do_eval` run) may not.

The lock is a small JSON file {pid, host, command, started}, created with
O_CREAT | O_EXCL so that of two runs starting together exactly one gets it. A
lock whose process is gone (same host, pid no longer running) is taken over
with a warning; a live one (or one from another host, whose pid cannot be
checked) stops the new run with one line naming the holder. The same process
may take its own lock again (a notebook that runs twice). The lock is removed
when the holder releases it or exits. On remote file systems (gs://) the
lock is written with tf.io.gfile, which has no exclusive create: two runs
started in the same instant may both pass.
"""

import atexit
import contextlib
import datetime
import functools
import json
import logging
import os
import socket
import sys

LOCK_NAME = "albert_tf.lock"
EVAL_LOCK_NAME = "albert_tf.eval.lock"  # the evaluation files: best checkpoint, eval logs

_held = {}  # lock path -> True, released at exit.


class OutputInUseError(RuntimeError):
    """Another live run holds the output."""


def _is_remote(path):
    return "://" in str(path)


def lock_path_for(output, inside=True, name=LOCK_NAME):
    """The lock file of `output`: inside it (a directory written in place: `name`, the
    training lock by default) or beside it. A local output is named by its real path, so
    that a symlink to it (or a path through a symlinked folder) and the path itself are
    one output with one lock."""
    output = str(output).rstrip("/")
    if not _is_remote(output):
        output = os.path.realpath(output)
    return f"{output}/{name}" if inside else f"{output}.lock"


def pid_alive(pid):
    """True if process `pid` runs on this host (or exists but is not ours)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder():
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "command": " ".join([os.path.basename(sys.argv[0] or "python")] + sys.argv[1:]),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds")}


def _describe(holder):
    return (f"pid {holder.get('pid')} on {holder.get('host')} (command: "
            f"{holder.get('command')!s}, started {holder.get('started')})")


def _read(path):
    try:
        if _is_remote(path):
            import tensorflow as tf

            with tf.io.gfile.GFile(path) as f:
                return json.loads(f.read())
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None  # Half-written or gone: see the caller.


def _create(path, holder):
    """Writes the lock unless it exists; True if this call created it."""
    text = json.dumps(holder) + "\n"
    if _is_remote(path):
        import tensorflow as tf

        if tf.io.gfile.exists(path):
            return False
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(text)
        return True
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return True


def _remove(path):
    try:
        if _is_remote(path):
            import tensorflow as tf

            tf.io.gfile.remove(path)
        else:
            os.remove(path)
    except Exception:  # pylint: disable=broad-except  (gone already)
        pass


def hold(output, inside=True, chief=True, name=LOCK_NAME, what=None):
    """Takes the lock of `output` for this process; returns the lock path (None if
    not `chief`: under multi-worker only the chief holds it).

    Args:
      output: the output directory or file the command writes.
      inside: the lock goes inside `output` (a directory written in place; it is
        created) rather than beside it as `<output>.lock`.
      chief: False on the other workers of a multi-worker run.
      name: the lock file inside `output` (EVAL_LOCK_NAME: its evaluation files).
      what: what the refusal says is in use (default: `output`).

    Raises:
      OutputInUseError: another live run holds it (one line naming the holder).
    """
    if not chief or not output:
        return None
    path = lock_path_for(output, inside, name)
    directory = os.path.dirname(path)
    if directory:
        if _is_remote(directory):
            import tensorflow as tf

            tf.io.gfile.makedirs(directory)
        else:
            os.makedirs(directory, exist_ok=True)
    me = _holder()
    for _ in range(3):
        if _create(path, me):
            break
        holder = _read(path)
        if holder is None:
            # Being written this instant by another run (or emptied by a crash at
            # that instant): never taken over blindly.
            raise OutputInUseError(
                f"{path}: another run is taking this output now (unreadable lock file); "
                f"if no run is using {output}, remove {path}")
        same_host = holder.get("host") == me["host"]
        pid = holder.get("pid")
        if same_host and pid == me["pid"]:
            break  # This process already holds it.
        if same_host and isinstance(pid, int) and not pid_alive(pid):
            logging.warning("%s: taking over the lock of a run that is gone: %s", path,
                            _describe(holder))
            _remove(path)
            continue
        where = "" if same_host else " (another host: its process cannot be checked here)"
        raise OutputInUseError(
            f"{what or output} is in use by {_describe(holder)}{where}; wait for that run to end, "
            f"or use another output (if that run is gone, remove {path})")
    else:
        raise OutputInUseError(f"{path}: could not take the lock (other runs kept taking it)")
    if path not in _held:
        _held[path] = True
        if len(_held) == 1:
            atexit.register(_release_all)
    return path


def release(path):
    """Removes the lock at `path` if this process holds it (None: nothing)."""
    if path is None or _held.pop(path, None) is None:
        return
    holder = _read(path)
    if holder is not None and holder.get("pid") == os.getpid() \
            and holder.get("host") == socket.gethostname():
        _remove(path)


def release_output(output, inside=True):
    """`release` of `output`'s lock (see `hold`)."""
    release(lock_path_for(output, inside))


def _release_all():
    for path in list(_held):
        release(path)


@contextlib.contextmanager
def holding(output, inside=True, chief=True):
    """`hold(output)` for the duration of a `with` block, released after it."""
    path = hold(output, inside, chief)
    try:
        yield path
    finally:
        release(path)


def remove_leftovers(output):
    """Removes `<output>.tmp-<pid>` files or folders that runs on this host left when
    killed (their pid is gone); returns the removed paths. Call it holding the lock."""
    import glob
    import re
    import shutil

    output = str(output).rstrip("/")
    if not output or _is_remote(output):
        return []
    removed = []
    for temp in glob.glob(glob.escape(output) + ".tmp-*"):
        match = re.search(r"\.tmp-(\d+)$", temp)
        if not match or int(match.group(1)) == os.getpid() or pid_alive(int(match.group(1))):
            continue
        if os.path.isdir(temp) and not os.path.islink(temp):
            shutil.rmtree(temp, ignore_errors=True)
        else:
            _remove(temp)
        logging.warning("removed %s, left by a run that was killed (pid %s)", temp,
                        match.group(1))
        removed.append(temp)
    return removed


def releases_locks(function):
    """Decorator: the locks `function` takes with `hold` are released when it returns
    or raises (a failed run in a notebook leaves no lock naming a live process)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        before = set(_held)
        try:
            return function(*args, **kwargs)
        finally:
            for path in set(_held) - before:
                release(path)
    return wrapper
