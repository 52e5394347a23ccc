"""Two or more SavedModels' `tokens` signatures timed in one process, calls alternating.

Calls go A B A B ... (the order rotated each repetition), so slow drifts of a shared
machine's load hit every model alike; prints, per model, the median and fastest call
and the median over repetitions of its time divided by the first model's:

  PYTHONPATH=. python benchmarks/savedmodel_pair_bench.py --batch=1 --reps=30 \\
      /tmp/a/savedmodel /tmp/b/savedmodel
"""

import argparse
import json
import time

import numpy as np
import tensorflow as tf


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("saved_models", nargs="+")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq_len", type=int, default=128)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    paths = args.saved_models
    signatures = [tf.saved_model.load(path).signatures["tokens"] for path in paths]
    rng = np.random.default_rng(0)
    ids = tf.constant(rng.integers(5, 30000, size=(args.batch, args.seq_len)).astype(np.int32))
    inputs = dict(input_ids=ids, input_mask=tf.ones_like(ids), segment_ids=tf.zeros_like(ids))
    outputs = []
    for signature in signatures:
        for _ in range(args.warmup):
            out = signature(**inputs)["pooled_output"].numpy()
        outputs.append(out)
    times = [[] for _ in paths]
    for rep in range(args.reps):
        for i in np.roll(np.arange(len(paths)), -rep):
            start = time.perf_counter()
            signatures[i](**inputs)["pooled_output"].numpy()
            times[i].append((time.perf_counter() - start) * 1e3)
    first = np.array(times[0])
    for path, ms, out in zip(paths, times, outputs):
        ms = np.array(ms)
        print(json.dumps({
            "saved_model": path, "batch": args.batch, "seq_len": args.seq_len,
            "reps": args.reps, "p50_ms": round(float(np.median(ms)), 2),
            "min_ms": round(float(ms.min()), 2),
            "median_ratio_to_first": round(float(np.median(ms / first)), 3),
            "max_abs_diff_vs_first": float(np.abs(out - outputs[0]).max())}))


if __name__ == "__main__":
    main()
