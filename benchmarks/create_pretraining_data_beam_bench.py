"""Benchmark: create_pretraining_data.py --runner=local vs Beam's DirectRunner.

Runs the command line once per configuration and repetition, alternating the
configurations (so a busy machine slows them alike), each in a fresh process,
and reports:
- records/s from the run's own final log line (generation, without the Python
  and TensorFlow start-up; for Beam it includes starting the pipeline and its
  worker processes), and wall seconds of the whole command;
- peak RSS of the largest single process (`RUSAGE_CHILDREN`), and the peak of
  the sum over the whole process tree (sampled from /proc every 0.1 s: Beam's
  multi_processing workers are separate processes);
- whether every configuration wrote the same multiset of records.

  .venv/bin/python benchmarks/create_pretraining_data_beam_bench.py --repeats=2
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
import threading
import time

from absl import app
from absl import flags

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

CONFIGS = {
    "local-1": ["--num_workers=1"],
    "local-2": ["--num_workers=2"],
    "direct-in_memory-1": ["--runner=DirectRunner", "--num_output_shards=2",
                           "--beam_pipeline_options=direct_num_workers=1"],
    "direct-multi_processing-1": [
        "--runner=DirectRunner", "--num_output_shards=2",
        "--beam_pipeline_options=direct_num_workers=1,direct_running_mode=multi_processing"],
    "direct-multi_processing-2": [
        "--runner=DirectRunner", "--num_output_shards=2",
        "--beam_pipeline_options=direct_num_workers=2,direct_running_mode=multi_processing"],
}

flags.DEFINE_string("input_file",
                    str(SHARED_DATA / "corpus" / "wikitext2_valid_test.pretrain.txt"),
                    "Corpus to convert.")
flags.DEFINE_string("spm_model_file", str(SHARED_DATA / "albert_spm" / "30k-clean.model"),
                    "SentencePiece model.")
flags.DEFINE_string("configs", ",".join(CONFIGS), "Comma-separated names of: "
                    + ", ".join(CONFIGS))
flags.DEFINE_integer("repeats", 2, "Alternating repetitions of every configuration.")
flags.DEFINE_string("settings", "--max_seq_length=512 --dupe_factor=10 "
                    "--document_window_mb=0.25 --interleave_windows=2",
                    "Generation flags shared by every configuration.")
flags.DEFINE_string("_measure", None, "Internal: JSON command to run and measure.")

FLAGS = flags.FLAGS

_DONE = re.compile(r"done: documents (\d+), instances (\d+), records/s ([\d.]+)")


def _tree_rss_kb(root):
    """Sum of VmRSS over `root` and its descendants (kB)."""
    parents = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        try:
            for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _measure(command):
    """Runs `command`; prints wall seconds, peak RSS (largest process, tree) and the log."""
    import resource  # pylint: disable=import-outside-toplevel
    start = time.time()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    peak_tree = [0]

    def sample():
        while process.poll() is None:
            peak_tree[0] = max(peak_tree[0], _tree_rss_kb(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.communicate()[1]
    sampler.join()
    wall = time.time() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    match = _DONE.search(stderr)
    print(json.dumps({
        "returncode": process.returncode, "wall_s": wall, "peak_rss_mb": peak_kb / 1024.0,
        "peak_tree_rss_mb": peak_tree[0] / 1024.0,
        "documents": int(match.group(1)) if match else None,
        "records": int(match.group(2)) if match else None,
        "records_per_s": float(match.group(3)) if match else None,
        "stderr_tail": stderr[-3000:] if process.returncode else "",
    }))


def _run_measured(command):
    out = subprocess.run([sys.executable, __file__, f"--_measure={json.dumps(command)}"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _record_digest(paths):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    hashes = sorted(hashlib.sha256(r.numpy()).digest()
                    for path in paths for r in tf.data.TFRecordDataset(path))
    return hashlib.sha256(b"".join(hashes)).hexdigest()


def _loadavg():
    with open("/proc/loadavg", encoding="utf-8") as f:
        return f.read().strip()


def main(argv):
    del argv
    if FLAGS._measure:
        _measure(json.loads(FLAGS._measure))
        return
    names = [n.strip() for n in FLAGS.configs.split(",") if n.strip()]
    print(f"machine: {platform.node()} ({os.cpu_count()} cores), "
          f"Python {platform.python_version()}; settings: {FLAGS.settings}")
    print(f"load average before: {_loadavg()}")
    digests, results = {}, {name: [] for name in names}
    env_path = os.pathsep.join([str(REPO_ROOT)] + [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    os.environ["PYTHONPATH"] = env_path  # Beam's worker processes import albert_tf
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(FLAGS.repeats):
            for name in names:
                out_dir = pathlib.Path(tmp) / f"{name}-{repeat}"
                out_dir.mkdir()
                output = (f"{out_dir}/a.tfrecord,{out_dir}/b.tfrecord"
                          if name.startswith("local") else f"{out_dir}/train.tfrecord")
                command = [sys.executable, str(REPO_ROOT / "create_pretraining_data.py"),
                           f"--input_file={FLAGS.input_file}", f"--output_file={output}",
                           f"--spm_model_file={FLAGS.spm_model_file}"]
                command += FLAGS.settings.split() + CONFIGS[name]
                result = _run_measured(command)
                if result["returncode"] != 0:
                    raise RuntimeError(f"{name} failed:\n{result['stderr_tail']}")
                digests[name] = _record_digest(sorted(str(p) for p in out_dir.iterdir()))
                results[name].append(result)
                print(f"{name} (run {repeat + 1}): {result['records']} records, "
                      f"{result['records_per_s']:.1f} records/s, {result['wall_s']:.1f} s wall, "
                      f"peak RSS {result['peak_rss_mb']:.0f} MB (largest process), "
                      f"{result['peak_tree_rss_mb']:.0f} MB (all processes); "
                      f"load {_loadavg()}", flush=True)
    print("same multiset of records in every configuration:",
          len(set(digests.values())) == 1, {n: d[:12] for n, d in digests.items()})
    print(f"load average after: {_loadavg()}")


if __name__ == "__main__":
    app.run(main)
