"""Quiet by default (issue 25): a command's stderr shows progress and results, not
TensorFlow's start-up noise; --verbosity=1 shows it."""

import collections
import json
import logging
import os
import pathlib
import re
import subprocess
import sys

import pytest

from albert_tf import quiet_logs
from tiny_config import real_vocabulary_config_dict

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]

# Lines as TensorFlow 2.21 and Beam 2.78 print them (from a CPU machine's run).
NOISE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796631479.997765   11121 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors "
    "from different computation orders. To turn them off, set the environment variable "
    "`TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796631480.129453   11121 cpu_feature_guard.cc:227] This TensorFlow binary "
    "is optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.",
    "2025-01-08 14:55:59.249677: E tensorflow/core/util/util.cc:131] oneDNN supports DT_INT64 "
    "only on platforms with AVX-512. Falling back to the default Eigen-based implementation "
    "if present.",
    "INFO:__main__:Logging handler created.",
    "INFO:apache_beam.runners.worker.sdk_worker:Control channel established.",
    "WARNING:__main__:No semi_persistent_directory found:  User registered objects (e.g. "
    "schema, logical type) throughregisteries may not be effective",
    "WARNING:root:apitools not found, and bigquery client libraries are not available "
    "despite the import not raising an ImportError.",
]
CUDA_LINES = [
    "I0000 00:00:1796631480.129453   11121 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "E0000 00:00:1796631487.000532   11121 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
]
KEPT_LINES = [
    "I1207 08:18:07.168134 140158441708416 create_pretraining_data.py:133] reading 1 input "
    "file(s): c.txt",
    "W1207 08:18:07.168134 140158441708416 run_loop.py:50] loss is NaN at step 3",
    "E1207 08:18:07.168134 140158441708416 trainer.py:50] corrupted record at 3710",
    "2025-01-08 14:55:59.249677: E tensorflow/core/kernels/foo.cc:1] something real failed",
    "WARNING:apache_beam.io.filebasedsink:Deleting 1 existing files in target path",
    "Traceback (most recent call last):",
]
# What a CPU machine's run must not show (issue 25 item 6).
FORBIDDEN = re.compile(r"E0000|cuInit|cuda drivers|oneDNN|absl::InitializeLog|"
                       r"tf_record_iterator|cpu_feature_guard|Sharding callback")


def test_noise_lines_are_dropped_and_others_kept():
    for line in NOISE_LINES:
        assert quiet_logs.is_noise(line), line
    for line in KEPT_LINES:
        assert not quiet_logs.is_noise(line), line
    for line in CUDA_LINES:  # dropped only where no NVIDIA driver could explain them
        assert quiet_logs.is_noise(line) == (not os.path.exists("/dev/nvidiactl")), line


def test_tensorflow_python_info_lines_are_dropped_from_absl_handler():
    keep = quiet_logs._NoTensorflowInfo()  # pylint: disable=protected-access
    saver = os.path.join("site-packages", "tensorflow", "python", "checkpoint", "saver.py")

    def record(level, path):
        return logging.LogRecord("absl", level, path, 440, "message", None, None)

    assert not keep.filter(record(logging.INFO, saver))
    assert keep.filter(record(logging.WARNING, saver))
    assert keep.filter(record(logging.INFO, os.path.join("albert_tf", "training", "x.py")))


@pytest.mark.parametrize("argv, want", [
    ([], 0), (["--verbosity=1"], 1), (["-v", "2"], 2), (["--v=1"], 1),
    (["--verbosity", "-1"], -1), (["--verbosity=x"], 0), (["--verbosity"], 0),
    (["--verbosity_of_x=3"], 0)])
def test_verbosity_read_from_the_command_line(argv, want):
    assert quiet_logs.verbosity_from_argv(["prog"] + argv) == want


def test_filter_process_passes_lines_and_a_pending_progress_line():
    kept = "\n".join(KEPT_LINES)
    sent = "\n".join(NOISE_LINES[:3] + KEPT_LINES[:3] + NOISE_LINES[3:] + KEPT_LINES[3:])
    result = subprocess.run([sys.executable, "-I", "-S", quiet_logs.__file__],
                            input=(sent + "\n50%\r").encode(), capture_output=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == kept + "\n50%\r"


def user_env():
    """This environment as a user's shell has it: no TF_CPP_MIN_LOG_LEVEL of a test runner."""
    return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def run_python(code, *args):
    return subprocess.run([sys.executable, "-c", code] + list(args), capture_output=True,
                          text=True, timeout=300, cwd=REPO_ROOT, env=user_env())


_AFTER_START = """
import os, sys
import albert_tf
from albert_tf import quiet_logs
quiet_logs.filter_stderr(quiet_logs.verbosity_from_argv(sys.argv))
os.write(2, {noise!r}.encode() + b"\\n")
os.write(2, b"kept line\\n")
os.write(2, b"last words\\n")
os.abort()  # a crash: what was written before it still comes out
"""


@pytest.mark.parametrize("verbosity", [0, 1])
def test_commands_filter_stderr_for_the_whole_run_and_crashes_still_show(verbosity):
    result = run_python(_AFTER_START.format(noise=NOISE_LINES[4]),
                        f"--verbosity={verbosity}")
    assert result.returncode != 0
    assert "kept line\nlast words\n" in result.stderr
    assert ("DT_INT64" in result.stderr) == (verbosity == 1), result.stderr


def test_import_shows_no_tensorflow_banners_unless_verbose():
    code = "import albert_tf, tensorflow as tf; print(tf.constant(2) * 3)"
    quiet = run_python(code)
    assert quiet.returncode == 0, quiet.stderr
    assert "tf.Tensor(6" in quiet.stdout
    assert not FORBIDDEN.search(quiet.stderr), quiet.stderr
    loud = run_python(code, "--verbosity=1")
    assert "absl::InitializeLog" in loud.stderr, loud.stderr


def repeated_lines(text):
    counts = collections.Counter(line for line in text.splitlines() if line.strip())
    return {line: n for line, n in counts.items() if n > 1}


def test_a_real_command_prints_progress_and_no_noise(spm_model_file, tmp_path):
    """create_pretraining_data.py on the bundled corpus, as a user runs it."""
    corpus = tmp_path / "corpus.txt"
    text = (REPO_ROOT / "data" / "corpus" / "wikitext2_sample.txt").read_text(
        encoding="utf-8")
    corpus.write_text(text[:20000], encoding="utf-8")

    def run(*extra):
        return subprocess.run(
            [sys.executable, str(REPO_ROOT / "create_pretraining_data.py"),
             f"--input_file={corpus}", f"--output_file={tmp_path / 'out.tfrecord'}",
             f"--spm_model_file={spm_model_file}", "--max_seq_length=64",
             "--max_predictions_per_seq=10", "--dupe_factor=1"] + list(extra),
            capture_output=True, text=True, timeout=300, env=user_env())

    quiet = run()
    assert quiet.returncode == 0, quiet.stderr[-4000:]
    assert not FORBIDDEN.search(quiet.stderr), quiet.stderr
    assert not repeated_lines(quiet.stderr), quiet.stderr
    assert re.search(r"reading 1 input file", quiet.stderr), quiet.stderr
    assert re.search(r"done: documents \d+, instances \d+", quiet.stderr), quiet.stderr

    loud = run("--verbosity=1")
    assert loud.returncode == 0, loud.stderr[-4000:]
    assert "absl::InitializeLog" in loud.stderr
    assert len(loud.stderr.splitlines()) > len(quiet.stderr.splitlines())

    # Pretraining on those records: where TensorFlow logs its run-time E-lines (cuInit,
    # oneDNN's int64 fallback) and a checkpoint's INFO lines.
    config = tmp_path / "albert_config.json"
    config.write_text(json.dumps(real_vocabulary_config_dict(max_position_embeddings=64)))
    pretrain = subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_pretraining.py"), f"--albert_config_file={config}",
         f"--input_file={tmp_path / 'out.tfrecord'}", f"--output_dir={tmp_path / 'pretrained'}",
         "--do_train", "--train_batch_size=4", "--max_seq_length=64",
         "--max_predictions_per_seq=10", "--num_train_steps=2", "--num_warmup_steps=1",
         "--save_checkpoints_steps=2", "--iterations_per_loop=1"],
        capture_output=True, text=True, timeout=300, env=user_env())
    assert pretrain.returncode == 0, pretrain.stderr[-4000:]
    assert not FORBIDDEN.search(pretrain.stderr), pretrain.stderr
    assert not repeated_lines(pretrain.stderr), pretrain.stderr
    assert "step 2/2" in pretrain.stdout, pretrain.stdout
