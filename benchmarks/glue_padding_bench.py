"""GLUE evaluation and fine-tuning on real dev sentences: fixed vs trimmed padding, vs peers.

    .venv/bin/python benchmarks/glue_padding_bench.py --tasks=SST-2,MRPC --max_seq_length=512

Official ALBERT GLUE runs pad every example to `--max_seq_length=512`, where an SST-2
sentence is ~28 tokens. Our runners cut each batch to its longest row, rounded up to 8
tokens (`--trim_padding`, on by default; `albert_tf.data.padding`), and evaluation on one
replica batches rows of one rounded length together (outputs go back in file order); this
script measures what that buys on the real token-length distribution, in one run, against:

  albert_tf_full  our runner's path with --notrim_padding (the official shapes)
  keras_hub       keras-hub AlbertBackbone + a Dense head on the pooled output; its
                  preprocessors pad to a fixed `sequence_length`, so it runs the full length
  hf_full         HF AlbertForSequenceClassification, PyTorch eager, every batch padded to
                  max_seq_length (`run_glue.py --pad_to_max_length`, its default)
  hf_dynamic      the same padded to each batch's longest row (HF's DataCollatorWithPadding)

All see the same token ids (our tokenizer on the official 30k-clean.model), ALBERT-base
shapes with random weights, float32, in file order. `eval` times one pass over
`--examples` dev rows through each implementation's evaluation path (ours: the runner's
`predict_batches`, tracing included, as at every checkpoint); `train` times
`--train_steps` fine-tuning steps (AdamW, the same batches) after one warm-up step.
Each implementation runs in its own worker process; repetitions alternate the order.
Printed: examples/s (median), the tokens actually computed per example (padding
included), the ratio to each peer, peak RSS. TFLOP/s is not printed: trimming is a
change in the work done, not in how fast it is done.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import sys
import tempfile
import time

from pretraining_step_bench import SIZES, albert_config, available, hf_config, run_worker

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_GLUE = REPO.parent / "shared" / "data" / "glue_data"
DEFAULT_SPM = REPO.parent / "shared" / "data" / "albert_spm" / "30k-clean.model"
IMPLEMENTATIONS = {  # name -> peer package needed
    "albert_tf": "albert_tf", "albert_tf_full": "albert_tf", "keras_hub": "keras_hub",
    "hf_full": "transformers", "hf_dynamic": "transformers"}
FEATURES = ("input_ids", "input_mask", "segment_ids")


# ------------------------------------------------------------------------- the data
def prepare(args, task, directory):
    """Tokenizes the first `--examples` dev rows once: records for us, .npz for peers."""
    import numpy as np

    from albert_tf.tasks.classification import features as classifier_features
    from albert_tf.tasks.glue import processors as glue
    from albert_tf.tokenization import FullTokenizer

    processor = glue.get_processor(task.lower())
    examples = processor.get_dev_examples(args.glue_dir)[:args.examples]
    if len(examples) < args.examples:
        sys.exit(f"{task} dev has {len(examples)} rows, fewer than --examples={args.examples}")
    tokenizer = FullTokenizer(args.spm_model_file, do_lower_case=True)
    features = classifier_features.convert_examples_to_features(
        examples, processor.get_labels(), args.max_seq_length, tokenizer)
    records = os.path.join(directory, f"{task}.tf_record")
    classifier_features.write_tfrecord(
        examples, records, lambda e: classifier_features.convert_single_example(
            e, processor.get_labels(), args.max_seq_length, tokenizer))
    arrays = {name: np.array([getattr(f, name) for f in features], np.int32)
              for name in FEATURES}
    arrays["label_ids"] = np.array([f.label_id for f in features], np.int32)
    np.savez(os.path.join(directory, f"{task}.npz"), **arrays)
    lengths = arrays["input_mask"].sum(1)
    return records, os.path.join(directory, f"{task}.npz"), lengths


def batches(arrays, batch_size, dynamic):
    """Consecutive batches of the arrays; `dynamic` cuts each to its longest row."""
    for start in range(0, len(arrays["input_ids"]), batch_size):
        batch = {k: v[start:start + batch_size] for k, v in arrays.items()}
        if dynamic:
            longest = int(batch["input_mask"].sum(1).max())
            batch = {k: v[:, :longest] if k in FEATURES else v for k, v in batch.items()}
        yield batch


# -------------------------------------------------------------------------- workers
def run_albert_tf(args, trim):
    import albert_tf  # noqa: F401 - before TensorFlow, as the entry points: CPU kernels.
    import tensorflow as tf

    from albert_tf.data import padding
    from albert_tf.tasks.classification import features as classifier_features
    from albert_tf.modeling.models import AlbertClassifier
    from albert_tf.tasks.classification.objective import ClassificationObjective
    from albert_tf.tasks.classification.task import ordered_dataset_fn
    from albert_tf.training.prediction import predict_batches
    from albert_tf.training.optimizers import create_optimizer
    from albert_tf.training.trainer import Trainer, TrainerConfig

    multiple = padding.MULTIPLE if trim else None
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = AlbertClassifier(albert_config(args.size), num_labels=2)
    task = ClassificationObjective()
    if args.mode == "eval":
        def dataset_fn(limit):
            full = ordered_dataset_fn(args.records, args.max_seq_length, args.batch_size,
                                      trim_padding_multiple=multiple)
            return lambda context: full(context).take(limit)
        def predict(limit):
            return list(predict_batches(strategy, model, dataset_fn(limit), task.model_inputs,
                                        passthrough=("label_ids", "example_index"),
                                        output_keys=("logits",)))
        predict(1)  # warm-up
        return lambda: predict(10 ** 9)
    with strategy.scope():
        optimizer = create_optimizer(2e-5, 10000, 0, optimizer="adamw")
    trainer = Trainer(strategy, model, optimizer, task,
                      TrainerConfig(model_dir="/tmp/unused", num_train_steps=10 ** 9,
                                    log_gradient_norm=False), args.batch_size)
    trainer._metric_names = list(task.metric_names())
    loop = trainer._build_train_loop()
    dataset = classifier_features.classifier_dataset(
        args.records, args.max_seq_length, args.batch_size, is_training=True,
        shuffle_buffer_size=1, trim_padding_multiple=multiple)
    iterator = iter(dataset)
    loop(iterator, tf.constant(1))
    return lambda: loop(iterator, tf.constant(args.train_steps))[0].numpy()


def run_keras_hub(args):
    import keras
    import keras_hub
    import numpy as np
    import tensorflow as tf

    from albert_tf.training.optimizers import create_optimizer

    H, L, A, I = SIZES[args.size]
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=30000, num_layers=L, num_heads=A, num_groups=1,
        num_inner_repetitions=1, embedding_dim=128, hidden_dim=H, intermediate_dim=I,
        dropout=0.0, max_sequence_length=512, num_segments=2)
    head = keras.layers.Dense(2)
    arrays = dict(np.load(args.arrays))

    def inputs(batch):
        return {"token_ids": tf.constant(batch["input_ids"]),
                "padding_mask": tf.constant(batch["input_mask"]),
                "segment_ids": tf.constant(batch["segment_ids"])}
    if args.mode == "eval":
        forward = tf.function(lambda x: head(backbone(x)["pooled_output"]))
        forward(inputs(next(batches(arrays, args.batch_size, False))))

        def evaluate():
            return [forward(inputs(b)).numpy() for b in batches(arrays, args.batch_size, False)]
        return evaluate
    optimizer = create_optimizer(2e-5, 10000, 0, optimizer="adamw")
    head(backbone(inputs(next(batches(arrays, args.batch_size, False))))["pooled_output"])
    variables = backbone.trainable_variables + head.trainable_variables
    optimizer.build(variables)

    @tf.function
    def step(x, labels):
        with tf.GradientTape() as tape:
            logits = head(backbone(x, training=True)["pooled_output"])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss
    train = _cycle(arrays, args.batch_size, False)
    step(*_keras_batch(next(train), inputs))
    return lambda: [step(*_keras_batch(next(train), inputs)).numpy()
                    for _ in range(args.train_steps)]


def _keras_batch(batch, inputs):
    import tensorflow as tf
    return inputs(batch), tf.constant(batch["label_ids"])


def _cycle(arrays, batch_size, dynamic):
    """Training batches in file order, endlessly (full batches only, as drop_remainder)."""
    while True:
        for batch in batches(arrays, batch_size, dynamic):
            if len(batch["input_ids"]) == batch_size:
                yield batch


def run_hf(args, dynamic):
    import numpy as np
    import torch
    import transformers

    torch.manual_seed(0)
    config = hf_config(args.size)
    config.num_labels = 2
    model = transformers.AlbertForSequenceClassification(config)
    arrays = dict(np.load(args.arrays))

    def tensors(batch):
        return {"input_ids": torch.tensor(batch["input_ids"], dtype=torch.long),
                "attention_mask": torch.tensor(batch["input_mask"], dtype=torch.long),
                "token_type_ids": torch.tensor(batch["segment_ids"], dtype=torch.long)}
    if args.mode == "eval":
        model.eval()

        def evaluate():
            with torch.inference_mode():
                return [model(**tensors(b)).logits.numpy()
                        for b in batches(arrays, args.batch_size, dynamic)]
        with torch.inference_mode():
            model(**tensors(next(batches(arrays, args.batch_size, dynamic))))
        return evaluate
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-6, weight_decay=0.01)
    train = _cycle(arrays, args.batch_size, dynamic)

    def step():
        batch = next(train)
        loss = model(**tensors(batch),
                     labels=torch.tensor(batch["label_ids"], dtype=torch.long)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss)
    step()
    return lambda: [step() for _ in range(args.train_steps)]


def worker(args):
    if args.impl.startswith("albert_tf"):
        run = run_albert_tf(args, trim=args.impl == "albert_tf")
    elif args.impl == "keras_hub":
        run = run_keras_hub(args)
    else:
        run = run_hf(args, dynamic=args.impl == "hf_dynamic")
    t0 = time.perf_counter()
    run()
    elapsed = time.perf_counter() - t0
    count = args.examples if args.mode == "eval" else args.train_steps * args.batch_size
    print("RESULT " + json.dumps({
        "examples_per_s": count / elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


# --------------------------------------------------------------------------- driver
def computed_tokens(lengths, batch_size, max_seq_length, impl, mode):
    """Tokens each implementation computes per example, padding included."""
    import numpy as np

    if impl in ("albert_tf_full", "keras_hub", "hf_full"):
        return float(max_seq_length)
    if impl == "albert_tf" and mode == "eval":  # rows grouped by their rounded length
        return float(np.mean(np.minimum(max_seq_length, np.maximum(8, -(-lengths // 8) * 8))))
    multiple = 8 if impl == "albert_tf" else 1
    total = count = 0
    for start in range(0, len(lengths), batch_size):
        rows = lengths[start:start + batch_size]
        if mode == "train" and len(rows) < batch_size:
            continue
        width = min(max_seq_length, -(-int(np.max(rows)) // multiple) * multiple)
        total += width * len(rows)
        count += len(rows)
    return total / count


def launch(args, impl, task, records, arrays):
    command = [sys.executable, os.path.abspath(__file__), "--worker", f"--impl={impl}",
               f"--mode={args.mode}", f"--size={args.size}", f"--records={records}",
               f"--arrays={arrays}", f"--max_seq_length={args.max_seq_length}",
               f"--batch_size={args.batch_size}", f"--examples={args.examples}",
               f"--train_steps={args.train_steps}"]
    return run_worker(command, {}, f"{impl} {task}")


def driver(args):
    impls = [i for i in args.impls.split(",") if i]
    unknown = [i for i in impls if i not in IMPLEMENTATIONS]
    if unknown:
        sys.exit(f"unknown --impls {unknown}; choose from {sorted(IMPLEMENTATIONS)}")
    for path, flag in ((args.glue_dir, "--glue_dir"), (args.spm_model_file, "--spm_model_file")):
        if not os.path.exists(path):
            sys.exit(f"{flag}: {path} does not exist")
    skipped = [i for i in impls if not available(IMPLEMENTATIONS[i])]
    impls = [i for i in impls if i not in skipped]
    if args.mode == "train":
        args.examples = max(args.examples, (args.train_steps + 1) * args.batch_size)
    print(f"# {args.mode} | ALBERT-{args.size} fp32 | max_seq_length {args.max_seq_length} | "
          f"batch {args.batch_size} | " + (f"{args.examples} dev rows" if args.mode == "eval"
                                            else f"{args.train_steps} steps after 1 warm-up")
          + f" | {args.reps} alternating repetitions | {os.cpu_count()} CPUs"
          + (f" | skipped (not installed): {skipped}" if skipped else ""))
    with tempfile.TemporaryDirectory() as directory:
        for task in args.tasks.split(","):
            records, arrays, lengths = prepare(args, task, directory)
            samples = {impl: [] for impl in impls}
            for rep in range(args.reps):
                for impl in (impls if rep % 2 == 0 else impls[::-1]):
                    result = launch(args, impl, task, records, arrays)
                    if result:
                        samples[impl].append(result)
            medians = {i: statistics.median(r["examples_per_s"] for r in samples[i])
                       for i in impls if samples[i]}
            print(f"\n{task}: {len(lengths)} rows, tokens per row mean {lengths.mean():.1f}, "
                  f"max {lengths.max()}")
            print("| implementation | examples/s | computed tokens/example | peak RSS MB | "
                  + " | ".join(f"x {p}" for p in impls) + " |")
            print("|---" * (4 + len(impls)) + "|")
            for impl in impls:
                if impl not in medians:
                    continue
                ratios = " | ".join(f"{medians[impl] / medians[p]:.2f}" if p in medians
                                    else "-" for p in impls)
                tokens = computed_tokens(lengths, args.batch_size, args.max_seq_length, impl,
                                         args.mode)
                rss = max(r["peak_rss_mb"] for r in samples[impl])
                print(f"| {impl} | {medians[impl]:.2f} | {tokens:.0f} | {rss:.0f} | "
                      f"{ratios} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impls", default="albert_tf,albert_tf_full,keras_hub,hf_full,"
                                           "hf_dynamic")
    parser.add_argument("--tasks", default="SST-2,MRPC")
    parser.add_argument("--mode", default="eval", choices=["eval", "train"])
    parser.add_argument("--size", default="base", choices=sorted(SIZES))
    parser.add_argument("--max_seq_length", type=int, default=512)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--train_steps", type=int, default=3)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--glue_dir", default=str(DEFAULT_GLUE))
    parser.add_argument("--spm_model_file", default=str(DEFAULT_SPM))
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--impl")
    parser.add_argument("--records")
    parser.add_argument("--arrays")
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        driver(args)


if __name__ == "__main__":
    main()
