"""What a run prints on stderr: progress, results and warnings that matter, not
TensorFlow's and Beam's start-up noise. `--verbosity=1` (absl's flag) shows it all.

The noise, and why it is dropped rather than fixed at its source:
  - absl's "All log messages before absl::InitializeLog()" banner, and with it the
    oneDNN notice and "Could not find cuda drivers": TensorFlow's shared libraries log
    them while they load, before anything reads TF_CPP_MIN_LOG_LEVEL, once per library
    that holds a copy of the logger (so twice).
  - "failed call to cuInit" (an E-line) on a machine without an NVIDIA driver.
  - "oneDNN supports DT_INT64 only on platforms with AVX-512" (an E-line), once per
    process on AVX2 CPUs, where `import albert_tf` turns oneDNN on (benchmarks/RESULTS.md):
    the int64 ops fall back to Eigen, as they would without the switch.
  - Beam workers' start-up lines (their harness logs at INFO until it has read the
    pipeline options) and apache_beam's notice that optional Google Cloud clients are
    missing.
Everything else TensorFlow logs at WARNING and above still shows: `import albert_tf` sets
TF_CPP_MIN_LOG_LEVEL=2 (INFO off), unless the user set it.

`import_tensorflow()` (from `albert_tf/__init__.py`) imports TensorFlow with stderr read
through `NOISE` (in any program); `filter_stderr()` (from the command-line entry points)
keeps stderr read through it for the whole run, and `quiet_tensorflow_python_logs()`
keeps TensorFlow's Python INFO lines out. This file runs as that filter's process
too (`python quiet_logs.py`), with the standard library only.
"""

import atexit
import contextlib
import json
import logging
import os
import re
import select
import subprocess
import sys
import tempfile

_NO_NVIDIA_DRIVER = not os.path.exists("/dev/nvidiactl")

NOISE = tuple(re.compile(pattern) for pattern in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    r"STDERR$",
    r"port\.cc:\d+\] oneDNN custom operations are on\.",
    r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available CPU",
    r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate "
    r"compiler flags\.$",
    r"util\.cc:\d+\] oneDNN supports DT_[A-Z0-9]+ only on platforms with AVX-512",
    # Beam workers: Python's default log format, before the harness applies the pipeline's
    # default_sdk_harness_log_level (see pretraining_data/beam.py).
    r"^INFO:(__main__|apache_beam[.\w]*):",
    r"^WARNING:__main__:No semi_persistent_directory found",
    r"^WARNING:apache_beam\.options\.pipeline_options:Discarding unparseable args",
    r"apitools not found, and bigquery client libraries are not available",
) + ((r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine",
      r"\] failed call to cuInit: ") if _NO_NVIDIA_DRIVER else ()))


def is_noise(line):
    """True for a line of `NOISE` (`line` without its newline)."""
    return any(pattern.search(line) for pattern in NOISE)


def verbosity_from_argv(argv):
    """absl's --verbosity (-v, --v) as given in `argv`; 0 (INFO) when absent or not an int.

    Read from the command line because the choice is made when TensorFlow is imported,
    before absl parses flags."""
    value = None
    for i, arg in enumerate(argv):
        name, sep, text = arg.partition("=")
        if name in ("--verbosity", "-verbosity", "--v", "-v"):
            value = text if sep else (argv[i + 1] if i + 1 < len(argv) else None)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def verbose(argv=None):
    """True when the user asked for more than INFO (`--verbosity=1` and up)."""
    return verbosity_from_argv(sys.argv if argv is None else argv) >= 1


def _keep(text):
    return "".join(line for line in text.splitlines(keepends=True)
                   if not is_noise(line.rstrip("\r\n")))


@contextlib.contextmanager
def _stderr_read_through_noise():
    """Collects what is written to file descriptor 2 inside the block, then writes back
    all but `NOISE` (also when the block raises)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield  # no usable stderr: nothing to keep quiet
        return
    with tempfile.TemporaryFile() as collected:  # unlinked at once: nothing left in /tmp
        os.dup2(collected.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            collected.seek(0)
            kept = _keep(collected.read().decode("utf-8", errors="replace"))
            if kept:
                os.write(2, kept.encode("utf-8"))


def _keras_backend_is_tensorflow():
    """Whether Keras will run on TensorFlow: KERAS_BACKEND, else an imported Keras, else
    $KERAS_HOME/keras.json (~/.keras), as Keras itself decides."""
    backend = os.environ.get("KERAS_BACKEND")
    if backend is None and "keras" in sys.modules:
        backend = sys.modules["keras"].backend.backend()
    if backend is None:
        home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        try:
            with open(os.path.join(home, "keras.json"), encoding="utf-8") as f:
                backend = json.load(f).get("backend")
        except (OSError, ValueError, AttributeError):
            backend = None
    return backend in (None, "tensorflow")


def import_tensorflow():
    """Imports TensorFlow (and lists its devices: where CUDA logs cuInit) without `NOISE`,
    and with TF_CPP_MIN_LOG_LEVEL=2 unless the user set it. With --verbosity >= 1, or
    when TensorFlow is already imported, it only imports."""
    if not _keras_backend_is_tensorflow():
        return  # The model code runs on JAX (say) without TensorFlow: import nothing.
    if verbose() or "tensorflow" in sys.modules:
        import tensorflow  # pylint: disable=import-outside-toplevel,unused-import
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_read_through_noise():
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
        tf.config.list_physical_devices()  # does not initialise the runtime


class _NoTensorflowInfo(logging.Filter):
    """Drops records below WARNING logged from TensorFlow's own Python files."""

    _PACKAGE = os.sep + "tensorflow" + os.sep

    def filter(self, record):
        return record.levelno >= logging.WARNING or self._PACKAGE not in record.pathname


def quiet_tensorflow_python_logs(verbosity):
    """Keeps TensorFlow's Python INFO lines (e.g. every checkpoint's "Sharding callback
    duration", logged through absl) off absl's handler, unless `verbosity` >= 1."""
    if verbosity >= 1:
        return
    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

    absl_logging.get_absl_handler().addFilter(_NoTensorflowInfo())


def filter_stderr(verbosity):
    """For the rest of this process (and the processes it starts), file descriptor 2 goes
    through a small filter process that drops `NOISE` (the E-lines TensorFlow logs at run
    time, Beam workers' start-up). A filter process, not a thread, so that what a crash
    writes last still comes out. Does nothing at `verbosity` >= 1 or when stderr cannot
    be replaced. Returns True when the filter runs."""
    if verbosity >= 1:
        return False
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        read_end, write_end = os.pipe()
        process = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__)],
                                   stdin=read_end, stdout=saved, stderr=saved)
    except (OSError, AttributeError, ValueError):
        return False
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)

    def restore():
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)  # closes this process's write end: the filter drains and exits
        os.close(saved)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)  # longer only while a child still holds the pipe

    atexit.register(restore)
    return True


def _run_filter(source=0, sink=1, pause_s=0.2):
    """The filter process: lines from `source` to `sink`, less `NOISE`. A line without its
    newline yet (a progress bar's '\\r') is passed on after `pause_s` of silence."""
    pending = b""
    while True:
        ready, _, _ = select.select([source], [], [], pause_s if pending else None)
        if not ready:
            os.write(sink, pending)
            pending = b""
            continue
        chunk = os.read(source, 1 << 16)
        if not chunk:
            if pending:
                os.write(sink, pending)
            return
        *lines, pending = (pending + chunk).split(b"\n")
        kept = [line + b"\n" for line in lines
                if not is_noise(line.decode("utf-8", errors="replace").rstrip("\r"))]
        if kept:
            os.write(sink, b"".join(kept))


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run; this drains it
    _run_filter()
