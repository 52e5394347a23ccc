"""GPU pretraining-step speed: albert_tf on JAX against HF transformers, in one run.

    KERAS_BACKEND=jax python benchmarks/gpu_pretraining_bench.py \
        --runs=base:64,xxlarge:16 --impls=albert_fused,hf_compile,albert_einsum,hf

A step is the pretraining step at seq 512 (MLM at 20 positions + SOP; forward, backward,
global-norm clipping to 1.0 and an AdamW update), bf16 mixed precision with float32
weights on both sides: Keras `mixed_bfloat16` for albert_tf, `torch.autocast(bfloat16)`
for HF. Each (implementation, size) runs in its own fresh process, one after the other,
so each gets the whole GPU and its own peak memory. Dropout is 0 (the v2 configs).

Implementations:
    albert_fused   AlbertPretrainer, attention_implementation="fused" (cuDNN flash
                   attention with the padding mask as key lengths), jax.jit, XLA.
    albert_fused_3d  ablation: the same with the dense layers applied to 3-D activations
                   (see albert_tf/modeling/layers/flat_dense.py).
    albert_einsum  the same with the written-out float32-softmax attention.
    hf, hf_compile HF AlbertForPreTraining (SDPA attention), eager / torch.compile, as
                   HF users run it: its MLM head and loss cover every position (ours and
                   keras-hub's only the masked ones: +4% FLOPs at base seq 512 and a
                   [batch, 512, 30000] logits tensor), and compiled, SDPA gets an all-ones
                   mask (eager drops it), which rules out its flash kernel.
    hf_compile_gather  the same compiled, with the MLM head at the masked positions only.
    hf_compile_gather_nomask  and no attention mask (valid for --padding=none): HF's
                   fastest form of the same work.
    keras_hub      keras-hub AlbertBackbone + MaskedLMHead + a Dense SOP head, through the
                   same jitted JAX step as albert_* (needs keras-hub, kagglehub and
                   kagglesdk importable; TensorFlow is not needed).
`--check` first compares the fused and einsum attention (outputs and gradients, with
padded rows) on the GPU. `--profile` adds a traced run of the first impl and size, and
prints where its GPU time goes (kernel time by name, from the JAX profiler's trace).
Printed: seq/s, achieved TFLOP/s and % of the bf16 matmul peak measured in the same run,
ratios, peak GPU memory, start-up (process start to first step).
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pretraining_step_bench import (  # noqa: E402
    EMBED, SIZES, VOCAB, albert_config, flops_per_sequence, hf_pretraining_step, random_batch)

IMPLS = ("albert_fused", "albert_fused_3d", "albert_einsum", "hf", "hf_compile",
         "hf_compile_gather", "hf_compile_gather_nomask", "keras_hub")


def padded_batch(np, batch, seq_length, max_predictions, padding="none"):
    """`random_batch`; with padding="random", right padding to lengths in [seq/2, seq]."""
    data = random_batch(np, batch, seq_length, max_predictions)
    if padding == "none":
        return data
    rng = np.random.default_rng(1)
    lengths = rng.integers(seq_length // 2, seq_length + 1, batch)
    lengths[0] = seq_length
    data["input_mask"] = (np.arange(seq_length)[None] < lengths[:, None]).astype("int32")
    data["input_ids"] *= data["input_mask"]
    data["masked_lm_positions"] = np.minimum(data["masked_lm_positions"],
                                             lengths[:, None] - 1).astype("int32")
    return data


# --------------------------------------------------------------------------- albert_tf
def albert_step(args, attention):
    """Returns run(n) -> runs n jitted training steps of AlbertPretrainer."""
    from albert_tf import AlbertPretrainer
    from albert_tf.modeling.layers import flat_dense

    if attention == "fused_3d":  # Ablation: Dense on [batch, seq, width] directly.
        attention = "fused"
        flat_dense.dense_2d = lambda dense, x: dense(x)
    return keras_jax_step(args, lambda: AlbertPretrainer(
        albert_config(args.size), attention_implementation=attention))


def keras_hub_pretrainer(size):
    """keras-hub's ALBERT with an MLM head (tied embeddings) and a SOP head, taking and
    giving what AlbertPretrainer does."""
    import keras
    import keras_hub

    H, L, A, I = SIZES[size]
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=VOCAB, num_layers=L, num_heads=A, num_groups=1,
        num_inner_repetitions=1, embedding_dim=EMBED, hidden_dim=H, intermediate_dim=I,
        dropout=0.0, max_sequence_length=512, num_segments=2)
    inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in (
        "input_ids", "input_mask", "segment_ids", "masked_lm_positions")}
    out = backbone({"token_ids": inputs["input_ids"], "padding_mask": inputs["input_mask"],
                    "segment_ids": inputs["segment_ids"]})
    mlm = keras_hub.layers.MaskedLMHead(
        vocabulary_size=VOCAB, token_embedding=backbone.token_embedding,
        intermediate_activation="gelu")(out["sequence_output"],
                                        mask_positions=inputs["masked_lm_positions"])
    sop = keras.layers.Dense(2)(out["pooled_output"])
    return keras.Model(inputs, {"mlm_logits": mlm, "sop_logits": sop})


def keras_jax_step(args, build_model):
    """Returns run(n) -> runs n jitted training steps of `build_model()` and blocks on
    the result (a Keras model giving `mlm_logits` and `sop_logits`)."""
    import jax
    import keras
    import numpy as np
    from keras import ops

    keras.config.set_dtype_policy("mixed_bfloat16" if args.bf16 else "float32")
    keras.utils.set_random_seed(0)
    model = build_model()
    optimizer = keras.optimizers.AdamW(learning_rate=1e-4, weight_decay=0.01, beta_1=0.9,
                                       beta_2=0.999, epsilon=1e-6, global_clipnorm=1.0)
    optimizer.build(model.trainable_variables)
    data = padded_batch(np, args.batch, args.seq_length, args.max_predictions, args.padding)
    data = {k: jax.device_put(v) for k, v in data.items()}
    inputs = {k: data[k] for k in ("input_ids", "input_mask", "segment_ids",
                                   "masked_lm_positions")}

    def loss_fn(trainable, non_trainable):
        outputs, non_trainable = model.stateless_call(trainable, non_trainable, inputs,
                                                      training=True)
        mlm = ops.sparse_categorical_crossentropy(
            data["masked_lm_ids"], ops.cast(outputs["mlm_logits"], "float32"),
            from_logits=True)
        weights = data["masked_lm_weights"]
        mlm = ops.sum(mlm * weights) / (ops.sum(weights) + 1e-5)
        sop = ops.mean(ops.sparse_categorical_crossentropy(
            data["next_sentence_labels"][:, 0], ops.cast(outputs["sop_logits"], "float32"),
            from_logits=True))
        return mlm + sop, non_trainable

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state, _):
        trainable, non_trainable, opt_vars = state
        (loss, non_trainable), grads = grad_fn(trainable, non_trainable)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return (trainable, non_trainable, opt_vars), loss

    @functools.partial(jax.jit, donate_argnums=0)  # Update the state in place.
    def steps(state, n_dummy):
        return jax.lax.scan(step, state, n_dummy)

    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    holder = {"state": state}
    compiled = {}

    def run(n):
        if n not in compiled:  # One compilation per scan length.
            compiled[n] = steps.lower(holder["state"], np.zeros(n)).compile()
        holder["state"], losses = compiled[n](holder["state"], np.zeros(n))
        losses.block_until_ready()
        return float(losses[-1])
    return run


def gpu_time_by_name(trace_dir, device="GPU"):
    """{trace line (CUDA stream): Counter(kernel name -> microseconds)} of a JAX profiler
    trace (perfetto JSON), for processes whose name contains `device`."""
    import collections
    import glob
    import gzip

    paths = glob.glob(os.path.join(trace_dir, "**", "*trace.json.gz"), recursive=True)
    paths.sort(key=lambda p: ("perfetto" in p, os.path.getmtime(p)))
    if not paths:
        return {}
    with gzip.open(paths[-1]) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    names = {}  # (pid,) -> process name, (pid, tid) -> thread name
    for e in events:
        if e.get("ph") == "M" and e.get("name") in ("process_name", "thread_name"):
            key = (e["pid"],) if e["name"] == "process_name" else (e["pid"], e["tid"])
            names[key] = e["args"]["name"]
    per_line = collections.defaultdict(collections.Counter)
    for e in events:
        if e.get("ph") == "X" and "dur" in e and \
                device.lower() in names.get((e["pid"],), "").lower():
            per_line[names.get((e["pid"], e["tid"]), str(e["tid"]))][e["name"]] += e["dur"]
    return per_line


def format_profile(per_line, steps, top=None):
    """Per trace line: ms/step and share of each kernel name, the `top` largest."""
    if not per_line:
        return "no GPU events in the trace"
    report = []
    for line, counter in sorted(per_line.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(counter.values())
        report.append(f"== {line}: {total / 1e3 / steps:.2f} ms/step, {len(counter)} names")
        for name, dur in counter.most_common(top):
            report.append(f"  {dur / 1e3 / steps:8.3f} ms/step {100 * dur / total:5.1f}%  "
                          f"{name[:150]}")
    return "\n".join(report)


def check_fused_attention(out):
    """Fused (cuDNN) vs einsum attention on the GPU: outputs and gradients agree."""
    import jax
    import keras
    import numpy as np

    from albert_tf.modeling.layers.attention import AlbertAttention, attention_bias

    keras.config.set_dtype_policy("mixed_bfloat16")
    rng = np.random.default_rng(0)
    x = jax.numpy.asarray(rng.normal(size=(4, 512, 768)), "float32")
    mask = (np.arange(512)[None] < np.array([512, 300, 17, 511])[:, None]).astype("int32")
    bias = attention_bias(mask)
    layers = {impl: AlbertAttention(768, 12, attention_implementation=impl)
              for impl in ("einsum", "fused")}
    for layer in layers.values():
        layer.build((None, None, 768))
    layers["fused"].set_weights(layers["einsum"].get_weights())
    results = {}
    for impl, layer in layers.items():
        def f(x, layer=layer):
            return (layer(x, bias, training=False).astype("float32") ** 2).sum()
        lowered = jax.jit(f).lower(x).as_text()
        value, grad = jax.jit(jax.value_and_grad(f))(x)
        results[impl] = (np.asarray(value), np.asarray(grad), "cudnn" in lowered.lower())
    (v0, g0, _), (v1, g1, uses_cudnn) = results["einsum"], results["fused"]
    valid = mask.astype(bool)
    report = {
        "fused_lowers_to_cudnn": bool(uses_cudnn),
        "value_rel_diff": float(abs(v1 - v0) / abs(v0)),
        "grad_max_abs_diff_valid_rows": float(np.abs(g1 - g0)[valid].max()),
        "grad_max_abs_valid_rows": float(np.abs(g0)[valid].max()),
    }
    print("CHECK " + json.dumps(report), flush=True)
    with open(os.path.join(out, "check.json"), "w") as f:
        json.dump(report, f)


# ------------------------------------------------------------------------------- HF
def hf_step(args, impl):
    import numpy as np
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    data = padded_batch(np, args.batch, args.seq_length, args.max_predictions, args.padding)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # cpu: smoke tests only.
    return hf_pretraining_step(args.size, data, "compile" in impl, device=device,
                               bf16=bool(args.bf16), gather="gather" in impl,
                               drop_mask="nomask" in impl)


def matmul_peak():
    import torch

    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(20):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * 20 / (time.perf_counter() - t0) / 1e12


def gpu_peak_memory_gb(impl):
    if impl.startswith("hf"):
        import torch
        return torch.cuda.max_memory_allocated() / 2 ** 30
    import jax
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use", 0) / 2 ** 30


def worker(args):
    started = float(args.process_start or time.time())
    if args.impl == "matmul":
        print("RESULT " + json.dumps({"tflops": matmul_peak()}), flush=True)
        return
    if args.impl == "check":
        check_fused_attention(args.out)
        return
    if args.impl.startswith("albert"):
        run = albert_step(args, args.impl.split("_", 1)[1])
    elif args.impl == "keras_hub":
        run = keras_jax_step(args, lambda: keras_hub_pretrainer(args.size))
    else:
        run = hf_step(args, args.impl)
    # Warm-up with the timed step count, so JAX compiles that scan once, untimed.
    first_loss = run(args.steps)
    startup = time.time() - started
    t0 = time.perf_counter()
    last_loss = run(args.steps)
    elapsed = time.perf_counter() - t0
    result = {"seq_per_s": args.steps * args.batch / elapsed, "startup_s": round(startup, 1),
              "peak_gpu_gb": gpu_peak_memory_gb(args.impl), "loss_first": first_loss,
              "loss_last": last_loss}
    if args.profile:
        import jax

        trace_dir = os.path.join(args.out, f"trace_{args.impl}_{args.size}")
        with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
            run(args.steps)
        per_line = gpu_time_by_name(trace_dir)
        with open(os.path.join(args.out, f"profile_{args.impl}_{args.size}.txt"), "w") as f:
            f.write(format_profile(per_line, args.steps))
        print(format_profile(per_line, args.steps, top=40), flush=True)
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- driver
def launch(args, impl, size="base", batch=1, profile=False):
    command = [sys.executable, os.path.abspath(__file__), "--worker", f"--impl={impl}",
               f"--size={size}", f"--batch={batch}", f"--seq_length={args.seq_length}",
               f"--max_predictions={args.max_predictions}", f"--steps={args.steps}",
               f"--out={args.out}", f"--bf16={int(args.bf16)}", f"--padding={args.padding}",
               f"--process_start={time.time()}"] + (["--profile"] if profile else [])
    env = dict(os.environ, KERAS_BACKEND="jax", XLA_PYTHON_CLIENT_PREALLOCATE="false")
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env,
                                timeout=args.worker_timeout)
    except subprocess.TimeoutExpired:
        print(f"  {impl} {size} b{batch}: timed out", flush=True)
        return None
    if profile:
        print(result.stdout, flush=True)
    for line in result.stdout.splitlines():
        if line.startswith(("RESULT ", "CHECK ")):
            print(f"  {impl} {size} b{batch}: {line}", flush=True)
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT "):])
            return None
    print(f"  {impl} {size} b{batch} failed:\n{result.stderr[-3000:]}", flush=True)
    return None


def driver(args):
    impls = [i for i in args.impls.split(",") if i]
    unknown = sorted(set(impls) - set(IMPLS))
    if unknown:
        sys.exit(f"unknown --impls {unknown}; choose from {IMPLS}")
    runs = [(s, int(b)) for s, b in (r.split(":") for r in args.runs.split(","))]
    os.makedirs(args.out, exist_ok=True)
    if args.check:
        launch(args, "check")
    peak = launch(args, "matmul")
    peak = peak["tflops"] if peak else float("nan")
    print(f"# bf16 matmul peak (torch, 8192^3): {peak:.0f} TFLOP/s", flush=True)
    if args.profile:
        launch(args, impls[0], *runs[0], profile=True)
    table = {}
    for size, batch in runs:
        for impl in impls:
            table[(size, batch, impl)] = launch(args, impl, size, batch)
            with open(os.path.join(args.out, "results.json"), "w") as f:
                json.dump({f"{s}:{b}:{i}": r for (s, b, i), r in table.items()}, f, indent=1)
    for size, batch in runs:
        flops = flops_per_sequence(size, args.seq_length, args.max_predictions, "train")
        print(f"\n| ALBERT-{size} b{batch} s{args.seq_length} | seq/s | TFLOP/s | % peak | "
              f"peak GPU GB | start-up s | " + " | ".join(f"x {i}" for i in impls) + " |")
        print("|---" * (6 + len(impls)) + "|")
        for impl in impls:
            r = table[(size, batch, impl)]
            if not r:
                continue
            tflops = r["seq_per_s"] * flops / 1e12
            ratios = " | ".join(
                f"{r['seq_per_s'] / table[(size, batch, p)]['seq_per_s']:.2f}"
                if table[(size, batch, p)] else "-" for p in impls)
            print(f"| {impl} | {r['seq_per_s']:.1f} | {tflops:.0f} | {100 * tflops / peak:.0f}%"
                  f" | {r['peak_gpu_gb']:.1f} | {r['startup_s']:.0f} | {ratios} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impls", default="albert_fused,hf_compile,albert_einsum,hf")
    parser.add_argument("--runs", default="base:64,xxlarge:16", help="size:batch,...")
    parser.add_argument("--seq_length", type=int, default=512)
    parser.add_argument("--max_predictions", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bf16", type=int, default=1)
    parser.add_argument("--padding", default="none", choices=["none", "random"],
                        help="none: all-ones input_mask (HF eager's SDPA then drops the "
                             "mask, compiled it keeps it); random: right-padded rows")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=os.environ.get("OUT", "/tmp/gpu_bench"))
    parser.add_argument("--worker_timeout", type=int, default=300)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--impl")
    parser.add_argument("--size", default="base")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--process_start")
    args = parser.parse_args()
    worker(args) if args.worker else driver(args)


if __name__ == "__main__":
    main()
