"""Cost of the in-graph request checks of the ids-in signatures (issue 24), batch 1.

Builds the classifier export module of a config (random weights) twice in one
process: as exported (`tokens` checks its request, `base_module.check_request`)
and with the checks left out, then calls the two `tokens` signatures in
alternating rounds on the same batch-1 request and prints the per-call
latencies (median of each round, then the median over rounds).

    PYTHONPATH=. .venv/bin/python benchmarks/serving_checks_bench.py \
        --config=configs/albert_base_v2.json --seq_len=128 --rounds=8 --calls=30
"""

import argparse
import os
import platform
import statistics
import time

import numpy as np
import tensorflow as tf

from albert_tf import AlbertConfig
from albert_tf.export.base_module import check_request
from albert_tf.export.classifier_module import AlbertClassifierModule
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.tokenization import TFTokenizer


class _Unchecked(AlbertClassifierModule):
    def checked(self, inputs, where="request input"):
        return inputs


def _cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/albert_base_v2.json")
    parser.add_argument("--spm_model_file", default="../shared/data/albert_spm/30k-clean.model")
    parser.add_argument("--seq_len", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()

    config = AlbertConfig.from_json_file(args.config)
    model = AlbertClassifier(config, num_labels=2)
    tokenizer = TFTokenizer(args.spm_model_file)
    assets = {"spm.model": args.spm_model_file}
    modules = {
        "checked": AlbertClassifierModule(model, tokenizer, args.seq_len, assets, ["0", "1"],
                                          text_in_graph=False),
        "unchecked": _Unchecked(model, tokenizer, args.seq_len, assets, ["0", "1"],
                                text_in_graph=False),
    }
    rng = np.random.default_rng(0)
    request = {"input_ids": tf.constant(rng.integers(5, config.vocab_size, (1, args.seq_len)),
                                        tf.int32),
               "input_mask": tf.ones([1, args.seq_len], tf.int32),
               "segment_ids": tf.zeros([1, args.seq_len], tf.int32)}
    functions = {name: module.signature("tokens").get_concrete_function()
                 for name, module in modules.items()}
    for function in functions.values():  # Warm-up (first calls allocate).
        for _ in range(3):
            function(**request)["logits"].numpy()
    per_round = {name: [] for name in functions}
    for round_index in range(args.rounds):
        order = list(functions) if round_index % 2 == 0 else list(reversed(functions))
        for name in order:
            times = []
            for _ in range(args.calls):
                start = time.perf_counter()
                functions[name](**request)["logits"].numpy()
                times.append(time.perf_counter() - start)
            per_round[name].append(statistics.median(times) * 1e3)
    print(f"CPU: {_cpu_name()} (nproc {os.cpu_count()}), load average "
          f"{os.getloadavg()[0]:.2f}; TensorFlow {tf.__version__}")
    print(f"config {args.config}, batch 1 x {args.seq_len}, {args.rounds} alternating rounds "
          f"of {args.calls} calls")
    for name, values in per_round.items():
        print(f"{name:10s} median {statistics.median(values):7.2f} ms/call; rounds: "
              + " ".join(f"{v:.2f}" for v in values))
    diffs = [c - u for c, u in zip(per_round["checked"], per_round["unchecked"])]
    print("checked - unchecked, per round: " + " ".join(f"{d:+.2f}" for d in diffs)
          + f" ms; median {statistics.median(diffs):+.2f} ms")
    # The checks alone (a function of only the asserts) against a function that
    # passes the request through: their own cost, free of the model's noise.
    spec = [tf.TensorSpec([None, None], tf.int32)] * 3

    def checks(input_ids, input_mask, segment_ids):
        return check_request({"input_ids": input_ids, "input_mask": input_mask,
                              "segment_ids": segment_ids}, config)["input_ids"]

    def identity(input_ids, input_mask, segment_ids):
        return tf.identity(input_ids)

    alone = {"checks only": tf.function(checks, input_signature=spec),
             "pass-through": tf.function(identity, input_signature=spec)}
    alone_rounds = {name: [] for name in alone}
    for round_index in range(args.rounds):
        order = list(alone) if round_index % 2 == 0 else list(reversed(alone))
        for name in order:
            times = []
            for _ in range(args.calls * 10):
                start = time.perf_counter()
                alone[name](**request).numpy()
                times.append(time.perf_counter() - start)
            alone_rounds[name].append(statistics.median(times) * 1e6)
    for name, values in alone_rounds.items():
        print(f"{name:12s} median {statistics.median(values):7.1f} us/call; rounds: "
              + " ".join(f"{v:.1f}" for v in values))


if __name__ == "__main__":
    main()
