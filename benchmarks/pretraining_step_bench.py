"""ALBERT pretraining-step and inference speed against peers, measured in one run.

    .venv/bin/python benchmarks/pretraining_step_bench.py --size=base --seq_length=128 \
        --batch_sizes=8,32 --impls=albert_tf,albert_tf_bf16,keras_hub,keras_hub_bf16,hf,hf_compile

Each (implementation, batch size) runs in its own fresh worker process, and the workers of
one repetition run in alternating order, so each gets the same machine state and its own
peak memory. A step is the pretraining step: MLM at `--max_predictions` positions + SOP,
forward + backward + optimizer update; `--mode=infer` times the encoder forward pass.
Printed: seq/s (median over repetitions), tokens/s, achieved TFLOP/s (formula below),
% of the matmul peak measured by a worker in the same run, the ratio to each peer, peak RSS
and start-up time (process start to first finished step).

FLOPs per sequence (multiply-adds x 2; T = seq_length, P = max_predictions):
  forward = 2*T*E*H + L*(8*T*H^2 + 4*T^2*H + 4*T*H*I) + 2*H^2 + 2*P*(H*E + E*V) + 4*H
  train = 3 * forward (backward = 2 x forward); infer = forward without the MLM/SOP terms.

Peers, when installed: keras-hub's AlbertBackbone + MaskedLMHead on the same Keras backend
(the same LAMB optimizer as ours), HF transformers AlbertForPreTraining in PyTorch eager
and with torch.compile (torch.optim.AdamW: LAMB is not in torch), as HF users run it (its
MLM head and loss over every position; `hf_gather`: only at the masked positions, as ours
and keras-hub). Missing peers are skipped.

Kernel libraries: albert_tf runs with TF's oneDNN CPU kernels on, as `import albert_tf` sets
them (`albert_tf_eigen`: off); keras-hub runs with TF's default for the machine
(`keras_hub_onednn`: forced on). Ablations of albert_tf switches: `albert_tf_3d` (dense
layers on 3-D activations), `albert_tf_onehot` (one-hot embedding lookup, the TPU option),
`albert_tf_loop1` (one step per compiled-loop call instead of `--steps`).
The matmul peak is the faster of the two libraries, per dtype.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

SIZES = {  # hidden, layers, heads, intermediate
    "tiny": (128, 4, 2, 512),
    "base": (768, 12, 12, 3072),
    "large": (1024, 24, 16, 4096),
    "xlarge": (2048, 24, 16, 8192),
    "xxlarge": (4096, 12, 64, 16384),
}
VOCAB, EMBED = 30000, 128


def flops_per_sequence(size, seq_length, max_predictions, mode):
    H, L, _, I = SIZES[size]
    T, P, E, V = seq_length, max_predictions, EMBED, VOCAB
    encoder = 2 * T * E * H + L * (8 * T * H * H + 4 * T * T * H + 4 * T * H * I) + 2 * H * H
    if mode == "infer":
        return encoder
    return 3 * (encoder + 2 * P * (H * E + E * V) + 4 * H)


# --------------------------------------------------------------------------- workers
def random_batch(np, batch, seq_length, max_predictions, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "input_ids": rng.integers(5, VOCAB, (batch, seq_length)).astype("int32"),
        "input_mask": np.ones((batch, seq_length), "int32"),
        "segment_ids": (np.arange(seq_length)[None] >= seq_length // 2)
        .astype("int32").repeat(batch, 0),
        "masked_lm_positions": np.sort(rng.integers(1, seq_length, (batch, max_predictions)),
                                       axis=1).astype("int32"),
        "masked_lm_ids": rng.integers(5, VOCAB, (batch, max_predictions)).astype("int32"),
        "masked_lm_weights": np.ones((batch, max_predictions), "float32"),
        "next_sentence_labels": rng.integers(0, 2, (batch, 1)).astype("int32"),
    }


def albert_config(size):
    from albert_tf import AlbertConfig

    H, L, A, I = SIZES[size]
    return AlbertConfig(vocab_size=VOCAB, embedding_size=EMBED, hidden_size=H,
                        num_hidden_layers=L, num_attention_heads=A, intermediate_size=I)


def run_albert_tf(args, batch, precision, jit, flat=True, one_hot=False, steps_per_call=None):
    """Our real training path: Trainer's compiled loop (LAMB, clipping, metrics).

    Ablations: `flat=False` applies the dense layers to 3-D activations; `one_hot` uses the
    one-hot embedding lookup (the TPU option); `steps_per_call=1` runs one step per call of
    the compiled loop (as `--iterations_per_loop=1`) instead of all timed steps in one call.
    """
    # albert_tf before TensorFlow, as the entry points do: it picks TF's CPU kernel library.
    from albert_tf import AlbertPretrainer

    import numpy as np
    import tensorflow as tf

    from albert_tf.modeling.layers import flat_dense
    from albert_tf.training.optimizers import create_optimizer
    from albert_tf.training.precision import set_mixed_precision
    from albert_tf.tasks.pretraining.objective import PretrainingObjective
    from albert_tf.training.trainer import Trainer, TrainerConfig

    if not flat:
        flat_dense.dense_2d = lambda dense, x: dense(x)
    set_mixed_precision(precision)
    data = random_batch(np, batch, args.seq_length, args.max_predictions)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertPretrainer(albert_config(args.size), use_one_hot_embeddings=one_hot,
                                 attention_implementation=args.attention)
    if args.mode == "infer":
        inputs = {k: tf.constant(data[k]) for k in ("input_ids", "input_mask", "segment_ids")}
        forward = tf.function(lambda x: model.encoder(x, training=False)["sequence_output"],
                              jit_compile=jit)
        return lambda n: [forward(inputs).numpy() for _ in range(n)]
    with strategy.scope():
        optimizer = create_optimizer(1e-4, 10000, 100, optimizer="lamb")
    trainer = Trainer(strategy, model, optimizer, PretrainingObjective(),
                      TrainerConfig(model_dir="/tmp/unused", num_train_steps=10 ** 9,
                                    jit_compile=jit, log_gradient_norm=False), batch)
    trainer._metric_names = list(PretrainingObjective().metric_names())
    loop = trainer._build_train_loop()
    iterator = iter(tf.data.Dataset.from_tensors(data).repeat())
    if steps_per_call:
        return lambda n: [loop(iterator, tf.constant(steps_per_call))[0].numpy()
                          for _ in range(n // steps_per_call)]
    return lambda n: loop(iterator, tf.constant(n))[0].numpy()


def run_keras_hub(args, batch, precision, jit):
    import keras
    import keras_hub
    import numpy as np
    import tensorflow as tf

    from albert_tf.training.optimizers import create_optimizer

    keras.config.set_dtype_policy({"none": "float32", "bfloat16": "mixed_bfloat16"}[precision])
    H, L, A, I = SIZES[args.size]
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=VOCAB, num_layers=L, num_heads=A, num_groups=1,
        num_inner_repetitions=1, embedding_dim=EMBED, hidden_dim=H, intermediate_dim=I,
        dropout=0.0, max_sequence_length=512, num_segments=2)
    data = random_batch(np, batch, args.seq_length, args.max_predictions)
    features = {"token_ids": data["input_ids"], "padding_mask": data["input_mask"],
                "segment_ids": data["segment_ids"]}
    if args.mode == "infer":
        inputs = {k: tf.constant(v) for k, v in features.items()}
        forward = tf.function(lambda x: backbone(x)["sequence_output"], jit_compile=jit)
        return lambda n: [forward(inputs).numpy() for _ in range(n)]
    mlm_head = keras_hub.layers.MaskedLMHead(
        vocabulary_size=VOCAB, token_embedding=backbone.token_embedding,
        intermediate_activation="gelu", kernel_initializer="glorot_uniform")
    sop_head = keras.layers.Dense(2)
    optimizer = create_optimizer(1e-4, 10000, 100, optimizer="lamb")
    inputs = {k: tf.constant(v) for k, v in features.items()}
    positions = tf.constant(data["masked_lm_positions"])
    labels = tf.constant(data["masked_lm_ids"])
    sop_labels = tf.constant(data["next_sentence_labels"][:, 0])
    out = backbone(inputs)
    mlm_head(out["sequence_output"], mask_positions=positions)
    sop_head(out["pooled_output"])
    variables = (backbone.trainable_variables + mlm_head.trainable_variables
                 + sop_head.trainable_variables)
    optimizer.build(variables)

    def step():
        with tf.GradientTape() as tape:
            out = backbone(inputs, training=True)
            logits = tf.cast(mlm_head(out["sequence_output"], mask_positions=positions),
                             tf.float32)
            sop = tf.cast(sop_head(out["pooled_output"]), tf.float32)
            loss = (tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits)) + tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sop_labels, logits=sop)))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    step_fn = tf.function(step, jit_compile=jit)

    @tf.function
    def loop(n):
        loss = tf.constant(0.0)
        for _ in tf.range(n):
            loss = step_fn()
        return loss
    return lambda n: loop(tf.constant(n)).numpy()


def hf_config(size):
    import transformers

    H, L, A, I = SIZES[size]
    return transformers.AlbertConfig(
        vocab_size=VOCAB, embedding_size=EMBED, hidden_size=H, num_hidden_layers=L,
        num_attention_heads=A, intermediate_size=I, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, hidden_act="gelu_new")


def hf_pretraining_step(size, data, compiled, device="cpu", bf16=False, gather=False,
                        drop_mask=False):
    """HF AlbertForPreTraining step on `data` (a `random_batch`): run(n) -> last loss.

    AdamW (LAMB is not in torch) after clipping to global norm 1.0; bf16 through
    torch.autocast with float32 weights. As HF users run it, `labels` make the MLM
    head and its loss run over every position; `gather` applies them only at the
    masked positions (the work ours and keras-hub do). `drop_mask` passes no
    attention mask (the data has no padding), which lets SDPA pick flash attention
    also under torch.compile (compiled, HF keeps an all-ones mask).
    """
    import numpy as np
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.AlbertForPreTraining(hf_config(size)).to(device).train()

    def tensor(name):
        return torch.tensor(data[name], dtype=torch.long, device=device)
    ids, mask, segments = tensor("input_ids"), tensor("input_mask"), tensor("segment_ids")
    if drop_mask:
        assert bool(mask.all()), "drop_mask needs data without padding"
        mask = None
    labels = torch.full_like(ids, -100)
    rows = np.arange(len(data["input_ids"]))[:, None]
    labels[rows, data["masked_lm_positions"]] = tensor("masked_lm_ids")
    positions, mlm_ids = tensor("masked_lm_positions"), tensor("masked_lm_ids")
    sop = tensor("next_sentence_labels")[:, 0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, eps=1e-6, weight_decay=0.01,
                                  fused=device == "cuda")

    def gathered_loss():
        sequence, pooled = model.albert(input_ids=ids, attention_mask=mask,
                                        token_type_ids=segments)[:2]
        index = positions[..., None].expand(-1, -1, sequence.shape[-1])
        logits = model.predictions(torch.gather(sequence, 1, index))
        mlm = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1),
                                                mlm_ids.flatten())
        return mlm + torch.nn.functional.cross_entropy(
            model.sop_classifier(pooled).float(), sop)

    def full_loss():
        return model(input_ids=ids, attention_mask=mask, token_type_ids=segments,
                     labels=labels, sentence_order_label=sop).loss

    step_loss = gathered_loss if gather else full_loss
    forward = torch.compile(step_loss) if compiled else step_loss

    def run(n):
        for _ in range(n):
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                loss = forward()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        return float(loss)
    return run


def run_hf(args, batch, compiled, gather=False):
    import numpy as np
    import torch
    import transformers

    data = random_batch(np, batch, args.seq_length, args.max_predictions)
    if args.mode == "train":
        return hf_pretraining_step(args.size, data, compiled, gather=gather)
    torch.manual_seed(0)
    model = transformers.AlbertModel(hf_config(args.size), add_pooling_layer=True).eval()
    forward = torch.compile(model) if compiled else model
    inputs = {"input_ids": data["input_ids"], "attention_mask": data["input_mask"],
              "token_type_ids": data["segment_ids"]}
    inputs = {k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items()}

    def run(n):
        with torch.inference_mode():
            for _ in range(n):
                forward(**inputs)
    return run


def run_matmul(args, dtype):
    import tensorflow as tf

    n = 2048
    a = tf.random.normal((n, n), dtype=tf.float32)
    b = tf.random.normal((n, n), dtype=tf.float32)
    if dtype == "bfloat16":
        a, b = tf.cast(a, tf.bfloat16), tf.cast(b, tf.bfloat16)

    @tf.function
    def loop(k):
        c = tf.zeros((n, n), a.dtype)
        for _ in tf.range(k):
            c = tf.matmul(a, b) + c * 0
        return c
    return lambda k: loop(tf.constant(k)).numpy(), 2 * n ** 3


ONEDNN_ON = {"TF_ENABLE_ONEDNN_OPTS": "1"}
ONEDNN_OFF = {"TF_ENABLE_ONEDNN_OPTS": "0"}
MATMUL_ENVIRONMENTS = {f"matmul_{dtype}_{library}": environment
                       for dtype in ("float32", "bfloat16")
                       for library, environment in (("eigen", ONEDNN_OFF),
                                                    ("onednn", ONEDNN_ON))}
IMPLEMENTATIONS = {
    # name: (runner, kwargs, needs, environment). Workers start without
    # TF_ENABLE_ONEDNN_OPTS, so albert_tf gets the kernels `import albert_tf` picks (oneDNN;
    # TF's own default is on only for CPUs with AVX-512 VNNI/BF16 or AMX) and keras-hub TF's
    # default; `albert_tf_eigen` and `keras_hub_onednn` force the other library.
    "albert_tf": (run_albert_tf, {"precision": "none", "jit": False}, "albert_tf", {}),
    "albert_tf_eigen": (run_albert_tf, {"precision": "none", "jit": False}, "albert_tf",
                        ONEDNN_OFF),
    "albert_tf_3d": (run_albert_tf, {"precision": "none", "jit": False, "flat": False},
                     "albert_tf", {}),
    "albert_tf_onehot": (run_albert_tf, {"precision": "none", "jit": False, "one_hot": True},
                         "albert_tf", {}),
    "albert_tf_loop1": (run_albert_tf, {"precision": "none", "jit": False,
                                        "steps_per_call": 1}, "albert_tf", {}),
    "albert_tf_xla": (run_albert_tf, {"precision": "none", "jit": True}, "albert_tf", {}),
    "albert_tf_bf16": (run_albert_tf, {"precision": "bfloat16", "jit": False}, "albert_tf", {}),
    "keras_hub": (run_keras_hub, {"precision": "none", "jit": False}, "keras_hub", {}),
    "keras_hub_onednn": (run_keras_hub, {"precision": "none", "jit": False}, "keras_hub",
                         ONEDNN_ON),
    "keras_hub_xla": (run_keras_hub, {"precision": "none", "jit": True}, "keras_hub", {}),
    "keras_hub_bf16": (run_keras_hub, {"precision": "bfloat16", "jit": False}, "keras_hub",
                       {}),
    "hf": (run_hf, {"compiled": False}, "transformers", {}),
    "hf_compile": (run_hf, {"compiled": True}, "transformers", {}),
    # HF with its MLM head at the masked positions only (as ours and keras-hub).
    "hf_gather": (run_hf, {"compiled": False, "gather": True}, "transformers", {}),
}


def worker(args):
    started = float(args.process_start)
    if args.impl.startswith("matmul_"):
        run, flops_per_iteration = run_matmul(args, args.impl.split("_")[1])
        run(2)
        t0 = time.perf_counter()
        run(args.steps * 4)
        elapsed = time.perf_counter() - t0
        result = {"tflops": flops_per_iteration * args.steps * 4 / elapsed / 1e12}
    else:
        runner, kwargs, _, _ = IMPLEMENTATIONS[args.impl]
        run = runner(args, args.batch_size, **kwargs)
        run(1)
        startup = time.time() - started
        run(args.warmup)
        t0 = time.perf_counter()
        run(args.steps)
        elapsed = time.perf_counter() - t0
        result = {"seq_per_s": args.steps * args.batch_size / elapsed, "startup_s": startup}
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- driver
def available(need):
    if need == "albert_tf":
        return True
    try:
        __import__(need)
        return True
    except Exception:  # noqa: BLE001 - any import failure means the peer is absent.
        return False


def launch(args, impl, batch):
    command = [sys.executable, os.path.abspath(__file__), "--worker", f"--impl={impl}",
               f"--batch_size={batch}", f"--size={args.size}", f"--seq_length={args.seq_length}",
               f"--max_predictions={args.max_predictions}", f"--steps={args.steps}",
               f"--warmup={args.warmup}", f"--mode={args.mode}",
               f"--attention={args.attention}", f"--process_start={time.time()}"]
    env = MATMUL_ENVIRONMENTS[impl] if impl in MATMUL_ENVIRONMENTS else IMPLEMENTATIONS[impl][3]
    return run_worker(command, env, f"{impl} b{batch}")


def run_worker(command, env, label):
    """Runs a worker command on the TF backend with its kernel-library `env`; returns the
    dict of its `RESULT {json}` line, or None (the error printed under `label`)."""
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    full_env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    full_env.update(env)
    result = subprocess.run(command, capture_output=True, text=True, env=full_env)
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    print(f"  {label} failed:\n{result.stderr[-2000:]}", file=sys.stderr)
    return None


def cpu_description():
    """'<model name>, bf16 instructions: yes/no/unknown' (the issue's bf16 targets need yes)."""
    # Loaded by path: importing the albert_tf package would load TensorFlow in the driver.
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "albert_tf",
                        "training", "cpu_features.py")
    spec = importlib.util.spec_from_file_location("cpu_features", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    native = module.cpu_has_native_bf16()
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.lower().startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, bf16 instructions: {({True: 'yes', False: 'no'}).get(native, 'unknown')}"


def driver(args):
    impls = [i for i in args.impls.split(",") if i]
    unknown = [i for i in impls if i not in IMPLEMENTATIONS]
    if unknown:
        sys.exit(f"unknown --impls {unknown}; choose from {sorted(IMPLEMENTATIONS)}")
    skipped = [i for i in impls if not available(IMPLEMENTATIONS[i][2])]
    impls = [i for i in impls if i not in skipped]
    batches = [int(b) for b in args.batch_sizes.split(",")]
    print(f"# {args.mode} | ALBERT-{args.size} | seq {args.seq_length} | "
          f"{args.max_predictions} MLM positions | {args.steps} timed steps after "
          f"{args.warmup} warm-up | {args.reps} alternating repetitions | "
          f"{os.cpu_count()} CPUs ({cpu_description()})" + (f" | skipped (not installed): {skipped}" if skipped else ""))
    rates = {}
    for matmul in MATMUL_ENVIRONMENTS:
        results = [launch(args, matmul, 1) for _ in range(2)]
        rates[matmul] = max((r["tflops"] for r in results if r), default=float("nan"))
    peaks = {dtype: max(rates[f"matmul_{name}_eigen"], rates[f"matmul_{name}_onednn"])
             for dtype, name in (("fp32", "float32"), ("bf16", "bfloat16"))}
    print("# matmul rate (TF, 2048^3, GFLOP/s): " + ", ".join(
        f"{name[len('matmul_'):]} {rate * 1e3:.0f}" for name, rate in rates.items())
        + "; peak = the faster kernel library of each dtype")
    samples = {(i, b): [] for i in impls for b in batches}
    for rep in range(args.reps):
        order = impls if rep % 2 == 0 else list(reversed(impls))
        for batch in batches:
            for impl in order:
                result = launch(args, impl, batch)
                if result:
                    samples[(impl, batch)].append(result)
    flops = flops_per_sequence(args.size, args.seq_length, args.max_predictions, args.mode)
    print(f"# FLOPs/sequence: {flops / 1e9:.2f} GFLOP")
    for batch in batches:
        print(f"\n| batch {batch} | seq/s | tokens/s | TFLOP/s | % of peak | peak RSS MB | "
              f"start-up s | " + " | ".join(f"x {p}" for p in impls) + " |")
        print("|---" * (7 + len(impls)) + "|")
        medians = {i: statistics.median(r["seq_per_s"] for r in samples[(i, batch)])
                   for i in impls if samples[(i, batch)]}
        for impl in impls:
            if impl not in medians:
                continue
            rows = samples[(impl, batch)]
            seq_s = medians[impl]
            tflops = seq_s * flops / 1e12
            peak = peaks["bf16" if "bf16" in impl else "fp32"]
            ratios = " | ".join(f"{seq_s / medians[p]:.2f}" if p in medians else "-"
                                for p in impls)
            print(f"| {impl} | {seq_s:.2f} | {seq_s * args.seq_length:.0f} | {tflops:.3f} | "
                  f"{100 * tflops / peak:.0f}% | "
                  f"{max(r['peak_rss_mb'] for r in rows):.0f} | "
                  f"{statistics.median(r['startup_s'] for r in rows):.1f} | {ratios} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impls", default="albert_tf,albert_tf_bf16,keras_hub,keras_hub_bf16,"
                                           "hf,hf_compile")
    parser.add_argument("--size", default="base", choices=sorted(SIZES))
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--max_predictions", type=int, default=20)
    parser.add_argument("--batch_sizes", default="8,32")
    parser.add_argument("--mode", default="train", choices=["train", "infer"])
    parser.add_argument("--attention", default="einsum", choices=["einsum", "fused"])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--impl")
    parser.add_argument("--batch_size", type=int)
    parser.add_argument("--process_start")
    args = parser.parse_args()
    worker(args) if args.worker else driver(args)


if __name__ == "__main__":
    main()
