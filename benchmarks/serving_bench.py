"""CPU serving of ALBERT: our SavedModel and LiteRT files against ONNX Runtime and PyTorch.

One model for all: ALBERT-base (or --config) with random weights, saved as an
official checkpoint and converted by `albert-convert` to transformers, so every
runtime runs the same weights:
  savedmodel     our text-free encoder SavedModel, signature `tokens`
  litert_fp32    `albert-export --format=tflite`, `tokens`, XNNPACK
  litert_int8    the same with --quantization=dynamic_int8
  ort_fp32       transformers AlbertModel -> torch.onnx.export -> ONNX Runtime
  ort_int8       onnxruntime.quantization.quantize_dynamic (QInt8) of it
  torch          transformers AlbertModel, eager
Each measurement runs in its own process (load time and peak RSS are its own),
implementations alternate within each round, and the fp32 outputs are checked
against the SavedModel's. Rerun on a quiet machine with more repetitions:

  PYTHONPATH=. python benchmarks/serving_bench.py --work_dir=/tmp/serving_bench \
    --batches=1,32 --seq_lengths=128 --rounds=2 --reps_batch1=20 --reps_batch32=5

Prints one JSON line per measurement, then a table of medians over rounds and the
ratios to ort_fp32 / ort_int8.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

IMPLEMENTATIONS = ("savedmodel", "litert_fp32", "litert_int8", "ort_fp32", "ort_int8",
                   "torch")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------- prepare
def prepare(work_dir, config_file, spm_model_file, max_seq_length):
    """Writes every artifact under work_dir (skips the ones already there)."""
    import tensorflow as tf

    import albert_tf
    from albert_tf.checkpoints.pretrained import convert_checkpoint
    from albert_tf.config import AlbertConfig
    from albert_tf.export import ExportParams, export
    from albert_tf.modeling import AlbertEncoder

    os.makedirs(work_dir, exist_ok=True)
    ckpt = os.path.join(work_dir, "official")
    if not os.path.exists(os.path.join(ckpt, "albert_config.json")):
        tf.keras.utils.set_random_seed(0)
        config = AlbertConfig.from_json_file(config_file)
        encoder = AlbertEncoder(config)
        albert_tf.save_official_checkpoint(encoder, os.path.join(ckpt, "model.ckpt-0"),
                                           write_state_file=True)
        config.to_json_file(os.path.join(ckpt, "albert_config.json"))
    common = dict(model_kind="encoder", spm_model_file=spm_model_file, init_checkpoint=ckpt,
                  max_seq_length=max_seq_length)
    savedmodel = os.path.join(work_dir, "savedmodel")
    if not os.path.exists(savedmodel):
        export(ExportParams(export_dir=savedmodel, text_in_graph=False, **common))
    for name, quantization in (("litert_fp32", "none"), ("litert_int8", "dynamic_int8")):
        if not os.path.exists(os.path.join(work_dir, name)):
            export(ExportParams(export_dir=os.path.join(work_dir, name), format="tflite",
                                quantization=quantization, **common))
    hf_dir = os.path.join(work_dir, "hf")
    if not os.path.exists(hf_dir):
        convert_checkpoint(ckpt, hf_dir, "hf", spm_model_file=spm_model_file)


def prepare_onnx(work_dir):
    """The ONNX files, in a process without TensorFlow (torch.onnx.export beside a
    loaded TensorFlow crashed here with SIGSEGV)."""
    hf_dir = os.path.join(work_dir, "hf")
    onnx_fp32 = os.path.join(work_dir, "ort_fp32.onnx")
    if not os.path.exists(onnx_fp32):
        import torch
        import transformers

        model = transformers.AlbertModel.from_pretrained(hf_dir).eval()
        ids = torch.ones((1, 16), dtype=torch.int64)
        axes = {0: "batch", 1: "seq_len"}
        torch.onnx.export(model, (ids, ids, torch.zeros_like(ids)), onnx_fp32,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["sequence_output", "pooled_output"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "token_type_ids": axes}, opset_version=17,
                          dynamo=False)
    onnx_int8 = os.path.join(work_dir, "ort_int8.onnx")
    if not os.path.exists(onnx_int8):
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(onnx_fp32, onnx_int8, weight_type=QuantType.QInt8)


def artifact_bytes(work_dir, name):
    path = {"savedmodel": os.path.join(work_dir, "savedmodel"),
            "litert_fp32": os.path.join(work_dir, "litert_fp32", "model.tflite"),
            "litert_int8": os.path.join(work_dir, "litert_int8", "model.tflite"),
            "ort_fp32": os.path.join(work_dir, "ort_fp32.onnx"),
            "ort_int8": os.path.join(work_dir, "ort_int8.onnx"),
            "torch": os.path.join(work_dir, "hf", "model.safetensors")}[name]
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(root, f))
                   for root, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


# ----------------------------------------------------------------- measure
def load(name, work_dir, threads):
    """Returns fn(input_ids, input_mask, segment_ids int32 numpy) -> pooled_output."""
    if name == "savedmodel":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tokens = tf.saved_model.load(os.path.join(work_dir, "savedmodel")).signatures["tokens"]
        return lambda i, m, s: tokens(input_ids=tf.constant(i), input_mask=tf.constant(m),
                                      segment_ids=tf.constant(s))["pooled_output"].numpy()
    if name.startswith("litert"):
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=os.path.join(work_dir, name, "model.tflite"),
                                  num_threads=threads)
        runner = interpreter.get_signature_runner("tokens")
        return lambda i, m, s: runner(input_ids=i, input_mask=m,
                                      segment_ids=s)["pooled_output"].copy()
    if name.startswith("ort"):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(os.path.join(work_dir, f"{name}.onnx"), options,
                                       providers=["CPUExecutionProvider"])
        return lambda i, m, s: session.run(["pooled_output"], {
            "input_ids": i.astype(np.int64), "attention_mask": m.astype(np.int64),
            "token_type_ids": s.astype(np.int64)})[0]
    if name == "torch":
        import torch
        import transformers

        torch.set_num_threads(threads)
        model = transformers.AlbertModel.from_pretrained(os.path.join(work_dir, "hf")).eval()

        def run(i, m, s):
            with torch.inference_mode():
                return model(input_ids=torch.from_numpy(i.astype(np.int64)),
                             attention_mask=torch.from_numpy(m.astype(np.int64)),
                             token_type_ids=torch.from_numpy(s.astype(np.int64))
                             ).pooler_output.numpy()
        return run
    raise ValueError(f"unknown implementation {name!r}")


def measure(args):
    start = time.perf_counter()
    fn = load(args.measure, args.work_dir, args.threads)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 30000, size=(args.batch, args.seq_len)).astype(np.int32)
    mask = np.ones_like(ids)
    segments = np.zeros_like(ids)
    out = fn(ids, mask, segments)  # First call: graph set-up counts as loading.
    load_s = time.perf_counter() - start
    for _ in range(args.warmup):
        fn(ids, mask, segments)
    times = []
    for _ in range(args.reps):
        t = time.perf_counter()
        fn(ids, mask, segments)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    np.save(os.path.join(args.work_dir, f"out_{args.measure}_{args.batch}_{args.seq_len}.npy"),
            out)
    print(json.dumps({
        "impl": args.measure, "batch": args.batch, "seq_len": args.seq_len,
        "reps": args.reps, "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p90_ms": round(float(np.percentile(ms, 90)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        # The fastest call: on a shared, loaded machine the least disturbed one.
        "min_ms": round(float(ms.min()), 2),
        "seq_per_s": round(float(args.batch * 1e3 / np.median(ms)), 2),
        "load_s": round(load_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bytes": artifact_bytes(args.work_dir, args.measure)}))


# ----------------------------------------------------------------- driver
def run_all(args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO,
               OMP_NUM_THREADS=str(args.threads))
    prep = subprocess.run([sys.executable, __file__, "--prepare", "--work_dir", args.work_dir,
                           "--config", args.config, "--spm_model_file", args.spm_model_file,
                           "--max_seq_length", str(max(args.seq_lengths))], env=env)
    if prep.returncode:
        sys.exit(prep.returncode)
    prep = subprocess.run([sys.executable, __file__, "--prepare_onnx", "--work_dir",
                           args.work_dir], env=env)
    if prep.returncode:
        sys.exit(prep.returncode)
    results = []
    for round_index in range(args.rounds):
        for batch in args.batches:
            for seq_len in args.seq_lengths:
                impls = list(args.impls)
                if round_index % 2:
                    impls.reverse()  # Alternate the order: no one always goes first.
                for impl in impls:
                    reps = args.reps_batch1 if batch == 1 else args.reps_batch32
                    done = subprocess.run(
                        [sys.executable, __file__, "--measure", impl, "--work_dir",
                         args.work_dir, "--batch", str(batch), "--seq_len", str(seq_len),
                         "--reps", str(reps), "--warmup", str(args.warmup),
                         "--threads", str(args.threads)],
                        env=env, capture_output=True, text=True)
                    if done.returncode:
                        print(f"{impl} batch {batch} seq {seq_len} failed:\n"
                              f"{done.stderr[-2000:]}", file=sys.stderr)
                        continue
                    line = json.loads(done.stdout.strip().splitlines()[-1])
                    line["round"] = round_index
                    print(json.dumps(line), flush=True)
                    results.append(line)
    summarize(args, results)


def summarize(args, results):
    print("\n| implementation | batch | seq | p50 ms | p90 ms | seq/s | vs ort_fp32 | "
          "vs ort_int8 | MB | load s | peak RSS MB |  max abs diff vs savedmodel |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for batch in args.batches:
        for seq_len in args.seq_lengths:
            rows = {impl: [r for r in results if r["impl"] == impl and r["batch"] == batch
                           and r["seq_len"] == seq_len] for impl in args.impls}
            med = {impl: statistics.median(r["p50_ms"] for r in rs)
                   for impl, rs in rows.items() if rs}
            ref_path = os.path.join(args.work_dir, f"out_savedmodel_{batch}_{seq_len}.npy")
            ref = np.load(ref_path) if os.path.exists(ref_path) else None
            for impl, rs in rows.items():
                if not rs:
                    continue
                ratio = {k: f"{med[k] / med[impl]:.2f}x" if k in med else "-"
                         for k in ("ort_fp32", "ort_int8")}
                out_path = os.path.join(args.work_dir, f"out_{impl}_{batch}_{seq_len}.npy")
                diff = "-" if ref is None else f"{np.abs(np.load(out_path) - ref).max():.1e}"
                p50s = sorted(r["p50_ms"] for r in rs)
                print(f"| {impl} | {batch} | {seq_len} | "
                      f"{'-'.join(f'{p:.1f}' for p in (p50s[0], p50s[-1]))} | "
                      f"{statistics.median(r['p90_ms'] for r in rs):.1f} | "
                      f"{batch * 1e3 / med[impl]:.1f} | {ratio['ort_fp32']} | "
                      f"{ratio['ort_int8']} | {rs[0]['bytes'] / 1e6:.1f} | "
                      f"{statistics.median(r['load_s'] for r in rs):.1f} | "
                      f"{max(r['peak_rss_mb'] for r in rs):.0f} | {diff} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work_dir", default="/tmp/serving_bench")
    parser.add_argument("--config", default=os.path.join(REPO, "configs",
                                                         "albert_base_v2.json"))
    parser.add_argument("--spm_model_file", default=os.path.join(
        REPO, "..", "shared", "data", "albert_spm", "30k-clean.model"))
    parser.add_argument("--impls", type=lambda s: s.split(","), default=list(IMPLEMENTATIONS))
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 32])
    parser.add_argument("--seq_lengths", type=lambda s: [int(x) for x in s.split(",")],
                        default=[128])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reps_batch1", type=int, default=20)
    parser.add_argument("--reps_batch32", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    # One process's job (the driver starts them).
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--prepare_onnx", action="store_true")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--measure", choices=IMPLEMENTATIONS)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--seq_len", type=int)
    parser.add_argument("--reps", type=int)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.work_dir, args.config, args.spm_model_file, args.max_seq_length)
    elif args.prepare_onnx:
        prepare_onnx(args.work_dir)
    elif args.measure:
        measure(args)
    else:
        run_all(args)


if __name__ == "__main__":
    main()
