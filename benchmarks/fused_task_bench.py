"""A classifier SavedModel on `encoder_graph` against the same export on the Keras graph.

ALBERT-base (or --config) classifier with random weights, exported twice by
`exporter.build_module` (text-free, 2 labels): `fused` (the default,
use_encoder_graph=True) and `keras` (use_encoder_graph=False, what every task
export was before). A second process, which imports only TensorFlow, loads both
and times their `tokens` signature at each batch size, calls alternating
(fused keras, keras fused, ...) after warm-up, so that a shared machine's load
drifts hit both alike; rows are full (seq_len tokens, no padding to trim):

  PYTHONPATH=. python benchmarks/fused_task_bench.py --work_dir=/tmp/fused_task_bench

Prints one JSON line per batch size: each model's median and fastest call, the
median over repetitions of fused / keras, the same for the process's CPU time
per call (less sensitive than wall time to other jobs on a shared machine), and
the largest logit difference.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("fused", "keras")


def prepare(work_dir, config_file, spm_model_file, seq_len):
    """Writes work_dir/{fused,keras} (skips what is there)."""
    import keras
    import tensorflow as tf

    from albert_tf.config import AlbertConfig
    from albert_tf.export import ExportParams, exporter
    from albert_tf.modeling.models.classifier import AlbertClassifier
    from albert_tf.tokenization import TFTokenizer

    if all(os.path.exists(os.path.join(work_dir, name)) for name in MODELS):
        return
    keras.utils.set_random_seed(0)
    model = AlbertClassifier(AlbertConfig.from_json_file(config_file), num_labels=2)
    params = ExportParams(model_kind="classifier", export_dir=work_dir,
                          spm_model_file=spm_model_file, init_checkpoint="random weights",
                          max_seq_length=seq_len, text_in_graph=False)
    tokenizer = TFTokenizer(spm_model_file)
    for name in MODELS:
        module = exporter.build_module(params, model, tokenizer,
                                       {"spm.model": spm_model_file},
                                       use_encoder_graph=name == "fused")
        tf.saved_model.save(module, os.path.join(work_dir, name),
                            signatures=module.signatures())


def measure(args):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tokens = [tf.saved_model.load(os.path.join(args.work_dir, name)).signatures["tokens"]
              for name in MODELS]
    rng = np.random.default_rng(0)
    for batch, reps in ((1, args.reps_batch1), (32, args.reps_batch32)):
        ids = tf.constant(rng.integers(5, 30000, (batch, args.seq_len)).astype(np.int32))
        inputs = dict(input_ids=ids, input_mask=tf.ones_like(ids),
                      segment_ids=tf.zeros_like(ids))
        logits = []
        for signature in tokens:
            for _ in range(args.warmup):
                out = signature(**inputs)["logits"].numpy()
            logits.append(out)
        times = [[] for _ in MODELS]
        cpu_times = [[] for _ in MODELS]
        for rep in range(reps):
            for i in np.roll(np.arange(len(MODELS)), -rep):
                start, cpu_start = time.perf_counter(), time.process_time()
                tokens[i](**inputs)["logits"].numpy()
                times[i].append((time.perf_counter() - start) * 1e3)
                cpu_times[i].append((time.process_time() - cpu_start) * 1e3)
        fused, keras_ms = np.array(times[0]), np.array(times[1])
        fused_cpu, keras_cpu = np.array(cpu_times[0]), np.array(cpu_times[1])
        print(json.dumps({
            "batch": batch, "seq_len": args.seq_len, "reps": reps, "threads": args.threads,
            **{f"{name}_p50_ms": round(float(np.median(ms)), 1)
               for name, ms in zip(MODELS, (fused, keras_ms))},
            **{f"{name}_min_ms": round(float(ms.min()), 1)
               for name, ms in zip(MODELS, (fused, keras_ms))},
            "fused_over_keras_median": round(float(np.median(fused / keras_ms)), 3),
            "fused_cpu_p50_ms": round(float(np.median(fused_cpu)), 1),
            "keras_cpu_p50_ms": round(float(np.median(keras_cpu)), 1),
            "fused_over_keras_cpu_median": round(float(np.median(fused_cpu / keras_cpu)), 3),
            "max_abs_logit_diff": float(np.abs(logits[0] - logits[1]).max())}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work_dir", default="/tmp/fused_task_bench")
    parser.add_argument("--config", default=os.path.join(REPO, "configs",
                                                         "albert_base_v2.json"))
    parser.add_argument("--spm_model_file", default=os.path.join(
        REPO, "..", "shared", "data", "albert_spm", "30k-clean.model"))
    parser.add_argument("--seq_len", type=int, default=128)
    parser.add_argument("--reps_batch1", type=int, default=20)
    parser.add_argument("--reps_batch32", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prepare_only", action="store_true", help="Export, do not time.")
    parser.add_argument("--measure", action="store_true", help="The timing process's job.")
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return
    prepare(args.work_dir, args.config, args.spm_model_file, args.seq_len)
    if args.prepare_only:
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", *sys.argv[1:]],
                   env=env, check=True)


if __name__ == "__main__":
    main()
