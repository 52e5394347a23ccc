"""Pretraining input-pipeline throughput, measured apart from the model.

    .venv/bin/python benchmarks/input_pipeline_bench.py --max_seq_length=512 \
        --batch_size=64 --needed_seq_per_s=1305

Writes pretraining TFRecords from the bundled corpus (`data/corpus`) with
create_pretraining_data.py (official defaults except `--dupe_factor`, split into
`--num_files` shards), unless `--input_file` names existing ones, then times
`albert_tf.tasks.pretraining.inputs` alone (no model): sequences/s over `--batches` batches
after a warm-up, for
  - static:  the records' own masks (parse, shuffle, batch, prefetch);
  - dynamic: masks re-drawn per batch in the pipeline (`--dynamic_masking` of
             run_pretraining.py);
  - serial:  the same static pipeline without parallel reads/parses or prefetch, to show
             what those buy;
  - checked: static plus the Trainer's per-batch id range checks
             (`albert_tf.data.input_checks`).
With `--check_rounds=N`, only static and checked, alternating N times (the check's cost
apart from machine noise), with the median of each.
Each is printed with its ratio to `--needed_seq_per_s` (default: the ALBERT-base seq-512
pretraining step on one H200, benchmarks/RESULTS.md): a ratio above 1 means the host keeps
that accelerator fed with that many CPU cores.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
SPM = os.path.join(REPO, "..", "shared", "data", "albert_spm", "30k-clean.model")


def write_records(args, out_dir):
    """create_pretraining_data.py on the bundled corpus -> `num_files` TFRecord shards."""
    corpus = sorted(glob.glob(os.path.join(REPO, "data", "corpus", "*.txt")))
    outputs = [os.path.join(out_dir, f"pretrain-{i:02d}.tfrecord") for i in range(args.num_files)]
    for i, output in enumerate(outputs):
        subprocess.run([sys.executable, os.path.join(REPO, "create_pretraining_data.py"),
                        f"--input_file={','.join(corpus)}", f"--output_file={output}",
                        f"--spm_model_file={args.spm_model_file}",
                        f"--max_seq_length={args.max_seq_length}",
                        f"--max_predictions_per_seq={args.max_predictions_per_seq}",
                        f"--dupe_factor={args.dupe_factor}", f"--random_seed={i + 1}"],
                       check=True, capture_output=True)
    return ",".join(outputs)


def serial_dataset(tf, pattern, args):
    """The static pipeline with every parallel/prefetch switch off."""
    from albert_tf.tasks.pretraining.inputs import _expand_pattern, _parse_fn

    d = tf.data.TFRecordDataset(_expand_pattern(pattern)).repeat()
    d = d.shuffle(1000, seed=1).map(_parse_fn(args.max_seq_length,
                                               args.max_predictions_per_seq))
    options = tf.data.Options()
    options.autotune.enabled = False
    return d.batch(args.batch_size, drop_remainder=True).with_options(options)


def measure(dataset, args):
    iterator = iter(dataset)
    for _ in range(args.warmup):
        next(iterator)
    t0 = time.perf_counter()
    for _ in range(args.batches):
        batch = next(iterator)
    batch["input_ids"].numpy()
    return args.batches * args.batch_size / (time.perf_counter() - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input_file", help="existing pretraining TFRecords (globs)")
    parser.add_argument("--spm_model_file", default=SPM)
    parser.add_argument("--max_seq_length", type=int, default=512)
    parser.add_argument("--max_predictions_per_seq", type=int, default=20)
    parser.add_argument("--dupe_factor", type=int, default=5)
    parser.add_argument("--num_files", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--needed_seq_per_s", type=float, default=1305.0)
    parser.add_argument("--check_rounds", type=int, default=0,
                        help="alternate static/checked this many times and report medians")
    args = parser.parse_args()

    import tensorflow as tf

    from albert_tf.config import AlbertConfig
    from albert_tf.data.input_checks import check_model_inputs
    from albert_tf.tasks.pretraining.inputs import pretraining_dataset

    with tempfile.TemporaryDirectory() as tmp:
        pattern = args.input_file or write_records(args, tmp)
        records = sum(1 for f in pattern.split(",") for _ in tf.data.TFRecordDataset(f))

        def pipeline(dynamic):
            return pretraining_dataset(
                pattern, args.max_seq_length, args.max_predictions_per_seq, args.batch_size,
                is_training=True, dynamic_masking=dynamic, vocab_size=30000, seed=1)

        config = AlbertConfig(vocab_size=30000,
                              max_position_embeddings=max(512, args.max_seq_length))

        def checked():
            return check_model_inputs(pipeline(False), config)
        if args.check_rounds:
            runs = {"static": [], "checked": []}
            for _ in range(args.check_rounds):
                runs["static"].append(measure(pipeline(False), args))
                runs["checked"].append(measure(checked(), args))
            for name, values in runs.items():
                print(f"# {name}: " + " ".join(f"{v:.0f}" for v in values) + " seq/s")
            results = {name: sorted(values)[len(values) // 2] for name, values in runs.items()}
        else:
            results = {"static": measure(pipeline(False), args),
                       "dynamic": measure(pipeline(True), args),
                       "serial": measure(serial_dataset(tf, pattern, args), args),
                       "checked": measure(checked(), args)}
    print(f"# input pipeline | {records} records in {len(pattern.split(','))} files | seq "
          f"{args.max_seq_length} | batch {args.batch_size} | {args.batches} batches after "
          f"{args.warmup} | {os.cpu_count()} CPUs")
    print("| pipeline | seq/s | tokens/s | x needed |\n|---|---|---|---|")
    for name, seq_s in results.items():
        print(f"| {name} | {seq_s:.0f} | {seq_s * args.max_seq_length:.0f} | "
              f"{seq_s / args.needed_seq_per_s:.2f} |")


if __name__ == "__main__":
    main()
