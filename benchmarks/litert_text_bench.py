"""Raw text through LiteRT: the raw-text `.tflite` against Python tokenization + the ids-in file.

On the bundled WikiText-2 lines (`data/corpus/wikitext2_sample.txt`, real text),
in one process, arms alternating within each round:

  tokenization only (all non-empty lines, batches of 32; texts per second):
    tflite_tokenize  the preprocess export's `tokenize` (ai_edge_litert, TF Text's kernel)
    full_tokenizer   `FullTokenizer.encode` (Python preprocessing + sentencepiece)
    tf_tokenizer     `TFTokenizer` in a tf.function (the SavedModel's in-graph tokenizer)
  string -> label, a classifier (ALBERT-base or --config, random weights) at
  --quantization, batch 1 and 32 (ms per request):
    litert_text      the raw-text file's `serving_default`
    litert_ids       `FullTokenizer` + the official packing (to the longest text) in
                     Python, then the ids-in file's `tokens`

Checks first that both classifier arms give the same labels and probabilities
(to 1e-4) and the tokenizers the same ids. Prints one JSON line per round, then
medians and the ratios to the Python-tokenizer arms.

  PYTHONPATH=. python benchmarks/litert_text_bench.py --work_dir=/tmp/litert_text_bench \
    --rounds=3
"""

import argparse
import json
import os
import statistics
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABELS = ["negative", "positive"]


def bundled_lines():
    path = os.path.join(REPO, "data", "corpus", "wikitext2_sample.txt")
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line.strip()]


def prepare(work_dir, config_file, spm_model_file, max_seq_length, quantization):
    """A random classifier checkpoint and its three LiteRT exports under work_dir."""
    import keras

    import albert_tf
    from albert_tf.config import AlbertConfig
    from albert_tf.export import ExportParams, export
    from albert_tf.modeling.models.classifier import AlbertClassifier

    ckpt = os.path.join(work_dir, "classifier")
    if not os.path.exists(os.path.join(ckpt, "albert_config.json")):
        keras.utils.set_random_seed(0)
        config = AlbertConfig.from_json_file(config_file)
        model = AlbertClassifier(config, num_labels=2)
        # Wider than the initializer's 0.02, so that the outputs depend on the text
        # and `check` can tell the two arms apart.
        rng = np.random.default_rng(0)
        for variable in model.trainable_weights:
            if len(variable.shape) >= 2:  # kernels, embedding tables, output_weights
                variable.assign(rng.normal(0.0, 0.1, variable.shape).astype("float32"))
        albert_tf.save_official_checkpoint(model, os.path.join(ckpt, "model.ckpt-0"),
                                           write_state_file=True)
        config.to_json_file(os.path.join(ckpt, "albert_config.json"))
    common = dict(spm_model_file=spm_model_file, max_seq_length=max_seq_length,
                  format="tflite")
    files = {}
    for name, kind, text, quant in (
            ("preprocess", "preprocess", True, "none"),
            ("litert_text", "classifier", True, quantization),
            ("litert_ids", "classifier", False, quantization)):
        export_dir = os.path.join(work_dir, name)
        if not os.path.exists(export_dir):
            export(ExportParams(model_kind=kind, export_dir=export_dir, text_in_graph=text,
                                quantization=quant, label_list=LABELS,
                                init_checkpoint=None if kind == "preprocess" else ckpt,
                                **common))
        files[name] = os.path.join(export_dir, "model.tflite")
    return files


def runners(files, spm_model_file, max_seq_length, threads):
    """{arm: function(list of str) -> result} for every arm."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from albert_tf.export.litert_text import interpreter
    from albert_tf.tokenization import FullTokenizer, TFTokenizer

    def with_text_ops(path, signature):
        return interpreter(path, num_threads=threads).get_signature_runner(signature)

    full = FullTokenizer(spm_model_file, do_lower_case=True)
    tf_tokenizer = TFTokenizer(spm_model_file, do_lower_case=True)
    tf_tokenize = tf.function(tf_tokenizer.tokenize,
                              input_signature=[tf.TensorSpec([None], tf.string)])
    tokenize = with_text_ops(files["preprocess"], "tokenize")
    text_runner = with_text_ops(files["litert_text"], "serving_default")
    ids_runner = Interpreter(model_path=files["litert_ids"],
                             num_threads=threads).get_signature_runner("tokens")

    def as_bytes(texts):
        return np.array([t.encode("utf-8") for t in texts], dtype=object)

    def tflite_ids(texts):
        out = tokenize(text=as_bytes(texts))
        return [row[:n].tolist() for row, n in zip(out["token_ids"], out["num_tokens"])]

    def python_packed(texts):
        rows = [[full.vocab["[CLS]"]] + full.encode(t)[:max_seq_length - 2]
                + [full.vocab["[SEP]"]] for t in texts]
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), np.int32)
        mask = np.zeros_like(ids)
        for i, row in enumerate(rows):
            ids[i, :len(row)], mask[i, :len(row)] = row, 1
        return ids_runner(input_ids=ids, input_mask=mask, segment_ids=np.zeros_like(ids))

    return {
        "tflite_tokenize": tflite_ids,
        "full_tokenizer": lambda texts: [full.encode(t) for t in texts],
        "tf_tokenizer": lambda texts: tf_tokenize(tf.constant(texts)).to_list(),
        "litert_text": lambda texts: text_runner(text=as_bytes(texts)),
        "litert_ids": python_packed,
    }


def check(arms, lines):
    """Both tokenizer arms and both classifier arms agree before anything is timed."""
    want = arms["full_tokenizer"](lines)
    for name in ("tflite_tokenize", "tf_tokenizer"):
        got = arms[name](lines)
        bad = sum(g != w for g, w in zip(got, want))
        if bad:
            raise AssertionError(f"{name}: {bad} of {len(lines)} texts' ids differ")
    for start in range(0, 128, 32):
        texts = lines[start:start + 32]
        text_out, ids_out = arms["litert_text"](texts), arms["litert_ids"](texts)
        spread = np.ptp(ids_out["probabilities"][:, 0])
        if spread < 0.01:
            raise AssertionError(f"the model's outputs barely depend on the text (spread "
                                 f"{spread:.2g}): the comparison below would prove nothing")
        np.testing.assert_allclose(text_out["probabilities"], ids_out["probabilities"],
                                   atol=1e-4)
        np.testing.assert_array_equal(text_out["label_id"], ids_out["label_id"])


def timed(function, batches):
    start = time.perf_counter()
    for batch in batches:
        function(batch)
    return time.perf_counter() - start


def run_rounds(arms, lines, rounds, requests):
    """[{measure: seconds}] per round; arms alternate (order reversed every round)."""
    token_batches = [lines[i:i + 32] for i in range(0, len(lines), 32)]
    model_batches = {1: [[t] for t in lines[:requests]],
                     32: [lines[i:i + 32] for i in range(0, 32 * max(1, requests // 8), 32)]}
    plan = [(f"{name} texts/s", name, token_batches, len(lines))
            for name in ("tflite_tokenize", "full_tokenizer", "tf_tokenizer")]
    plan += [(f"{name} b{batch} ms", name, model_batches[batch], len(model_batches[batch]))
             for batch in (1, 32) for name in ("litert_text", "litert_ids")]
    results = []
    for r in range(rounds):
        row = {}
        for label, name, batches, count in (plan if r % 2 == 0 else plan[::-1]):
            seconds = timed(arms[name], batches)
            row[label] = count / seconds if label.endswith("texts/s") else 1000 * seconds / count
        print(json.dumps({"round": r, **{k: round(v, 3) for k, v in row.items()}}), flush=True)
        results.append(row)
    return results


def summarize(results):
    medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print("\n| measure | median | ratio |\n|---|---|---|")
    for key, value in medians.items():
        if key.endswith("texts/s"):
            ratio = value / medians["full_tokenizer texts/s"]
            note = "x FullTokenizer's texts/s"
        else:
            batch = key.split()[1]
            ratio = medians[f"litert_ids {batch} ms"] / value
            note = "x litert_ids' speed"
        print(f"| {key} | {value:.3f} | {ratio:.2f}{note} |")
    return medians


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work_dir", required=True)
    parser.add_argument("--config", default=os.path.join(REPO, "configs", "albert_base_v2.json"))
    parser.add_argument("--spm_model_file", default=os.path.join(
        REPO, "..", "shared", "data", "albert_spm", "30k-clean.model"))
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--quantization", default="dynamic_int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=64,
                        help="batch-1 requests per round (batch 32: requests / 8 batches)")
    args = parser.parse_args()
    files = prepare(args.work_dir, args.config, args.spm_model_file, args.max_seq_length,
                    args.quantization)
    lines = bundled_lines()
    arms = runners(files, args.spm_model_file, args.max_seq_length, args.threads)
    check(arms, lines)
    sizes = {name: round(os.path.getsize(path) / 1e6, 2) for name, path in files.items()}
    print(json.dumps({"file_mb": sizes, "lines": len(lines)}), flush=True)
    return summarize(run_rounds(arms, lines, args.rounds, args.requests))


if __name__ == "__main__":
    main()
