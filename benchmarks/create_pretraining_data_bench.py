"""Benchmark of create_pretraining_data.py: records/s and peak memory per worker count.

Runs the command line once per worker count, each inside a fresh measuring
process, and reports:
- records/s as logged by the run itself (generation only, without the
  Python/TensorFlow start-up), and wall seconds of the whole command;
- peak RSS: `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` of the measuring
  process, i.e. the largest single process of the run (main or worker);
- the same for a bare `import tensorflow` (the floor every run pays);
- whether all runs wrote byte-identical files.

  .venv/bin/python benchmarks/create_pretraining_data_bench.py --workers=1,2
"""

import hashlib
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

flags.DEFINE_string("input_file",
                    str(SHARED_DATA / "corpus" / "wikitext2_valid_test.pretrain.txt"),
                    "Corpus to convert.")
flags.DEFINE_string("spm_model_file", str(SHARED_DATA / "albert_spm" / "30k-clean.model"),
                    "SentencePiece model.")
flags.DEFINE_string("workers", "1,2", "Comma-separated worker counts to measure.")
flags.DEFINE_integer("max_seq_length", 512, "As the official default.")
flags.DEFINE_integer("dupe_factor", 40, "As the official default.")
flags.DEFINE_string("extra_flags", "", "More flags for create_pretraining_data.py.")
flags.DEFINE_string("_measure", None, "Internal: JSON command to run and measure.")

FLAGS = flags.FLAGS

_DONE = re.compile(r"done: documents (\d+), instances (\d+), records/s ([\d.]+)")


def _measure(command):
    """Runs `command`; prints wall seconds, peak child RSS and the log line."""
    import resource  # pylint: disable=import-outside-toplevel
    start = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.time() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    match = _DONE.search(result.stderr)
    print(json.dumps({
        "returncode": result.returncode, "wall_s": wall, "peak_rss_mb": peak_kb / 1024.0,
        "documents": int(match.group(1)) if match else None,
        "records": int(match.group(2)) if match else None,
        "records_per_s": float(match.group(3)) if match else None,
        "stderr_tail": result.stderr[-2000:] if result.returncode else "",
    }))


def _run_measured(command):
    out = subprocess.run([sys.executable, __file__, f"--_measure={json.dumps(command)}"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def main(argv):
    del argv
    if FLAGS._measure:
        _measure(json.loads(FLAGS._measure))
        return
    env_note = f"{platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}"
    print(f"machine: {env_note}")
    with open("/proc/loadavg", encoding="utf-8") as f:
        print(f"load average before: {f.read().strip()}")
    baseline = _run_measured([sys.executable, "-c", "import tensorflow"])
    print(f"bare `import tensorflow`: peak RSS {baseline['peak_rss_mb']:.0f} MB, "
          f"{baseline['wall_s']:.1f} s")
    digests = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in [int(w) for w in FLAGS.workers.split(",")]:
            output = os.path.join(tmp, f"w{workers}.tfrecord")
            command = [sys.executable, str(REPO_ROOT / "create_pretraining_data.py"),
                       f"--input_file={FLAGS.input_file}", f"--output_file={output}",
                       f"--spm_model_file={FLAGS.spm_model_file}",
                       f"--max_seq_length={FLAGS.max_seq_length}",
                       f"--dupe_factor={FLAGS.dupe_factor}", f"--num_workers={workers}"]
            command += FLAGS.extra_flags.split()
            result = _run_measured(command)
            if result["returncode"] != 0:
                raise RuntimeError(f"run with {workers} workers failed:\n"
                                   f"{result['stderr_tail']}")
            digests[workers] = _sha256(output)
            print(f"workers {workers}: {result['records']} records from "
                  f"{result['documents']} documents, {result['records_per_s']:.1f} records/s "
                  f"(generation), {result['wall_s']:.1f} s wall (with start-up), "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB")
    identical = len(set(digests.values())) == 1
    print(f"outputs byte-identical across worker counts: {identical} "
          f"(sha256 {next(iter(digests.values()))[:16]}...)")
    with open("/proc/loadavg", encoding="utf-8") as f:
        print(f"load average after: {f.read().strip()}")


if __name__ == "__main__":
    app.run(main)
