"""Why does a pretrained checkpoint fine-tune worse than random weights on few-row
SST-2 (issue 27)? Two measurements of random, pretrained and fine-tuned encoders.

1. Where `[CLS]` looks. The classifier reads the pooled `[CLS]` output, and `[CLS]`
   learns about the words only through its attention. A freshly drawn encoder (weights
   ~ N(0, 0.02)) gives almost equal scores to every key, so its `[CLS]` is close to a
   mean of the tokens: a bag of words, which is what few labelled rows can train. Per
   layer, over the harness's few-row SST-2 *train* sentences (no dev text):

     entropy   entropy of the `[CLS]` attention over the row's keys / log(keys)
               (1: uniform; averaged over heads and rows)
     special   share of the `[CLS]` attention on `[CLS]` and `[SEP]` (not on words)
     top1      the largest single attention weight of the `[CLS]` query

   and the root mean square of the encoder's kernels (weight scale, against the
   initializer's 0.02).
2. Sentiment antonyms among the word embeddings (`--word_pairs`, e.g. good/bad): their
   cosine, and how many of the vocabulary's pieces are nearer to the first word than
   the second is (0: its nearest neighbour). Masked LM puts words that fill the same
   slots together, antonyms included; a classifier must pull them apart again.

Any checkpoint the loader reads: pretraining checkpoints and the fine-tuned
classifiers' (`run_classifier` output folders); name=path labels one.

  PYTHONPATH=. python benchmarks/transfer_diagnostics.py --work_dir=/work/out/default10k \
      --checkpoints=step10000=/work/out/default10k/pretrain/model.ckpt-10000,...

Prints one JSON line per encoder; writes diagnostics.json in --work_dir (or --output).
"""

import argparse
import glob
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transfer_probe  # noqa: E402  (the harness folder's rows and packing)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work_dir", required=True, help="A pretraining_transfer.py output folder.")
    p.add_argument("--checkpoints", default="",
                   help="Comma-separated checkpoints (prefixes or folders); name=path to label.")
    p.add_argument("--random_seeds", default="1,2,3")
    p.add_argument("--rows", type=int, default=500, help="Train sentences measured.")
    p.add_argument("--max_seq_length", type=int, default=64)
    p.add_argument("--word_pairs", default="good:bad,best:worst,great:terrible,"
                   "funny:boring,love:hate,beautiful:ugly,smart:stupid",
                   help="Comma-separated first:second words, each one piece of the vocabulary.")
    p.add_argument("--output", default=None)
    return p.parse_args(argv)


def layer_inputs(encoder, ids, mask, segments):
    """[layer input [n, seq, hidden] for each layer] + [top output], and the outputs."""
    outputs = encoder({"input_ids": ids, "input_mask": mask, "segment_ids": segments},
                      training=False)
    hidden = [np.asarray(outputs["embedding_output"])]
    if encoder.embedding_projection is not None:
        hidden = [np.asarray(encoder.embedding_projection(hidden[0]))]
    hidden += [np.asarray(h) for h in outputs["encoder_outputs"]]
    return hidden


def attention_layer(encoder, index):
    """The AlbertAttention that layer `index` (0-based) runs (shared across layers)."""
    config = encoder.albert_config
    group = int(index / (config.num_hidden_layers / config.num_hidden_groups))
    layers = [l for l in encoder.transformer._flatten_layers(include_self=False)
              if type(l).__name__ == "AlbertAttention"]
    per_group = len(layers) // config.num_hidden_groups
    return layers[group * per_group]


def cls_attention(attention, h, mask):
    """[CLS] query attention probabilities of `attention` on layer input h:
    [n, heads, seq] (padding gets 0)."""
    heads = attention.num_attention_heads
    size = attention.hidden_size // heads
    n, seq, _ = h.shape

    def project(layer, x):
        kernel = np.asarray(layer.kernel).reshape(x.shape[-1], -1)
        return x @ kernel + np.asarray(layer.bias).reshape(-1)

    q = project(attention.query, h[:, :1]).reshape(n, 1, heads, size)
    k = project(attention.key, h).reshape(n, seq, heads, size)
    scores = np.einsum("bfnd,btnd->bnt", q, k) / math.sqrt(size)
    scores = scores + (1.0 - mask[:, None, :]) * -10000.0
    scores -= scores.max(-1, keepdims=True)
    p = np.exp(scores)
    return p / p.sum(-1, keepdims=True)


def summarize(p, mask):
    """[n, heads, seq] [CLS] attention, [n, seq] mask -> {entropy, special, top1}."""
    lengths = mask.sum(1)
    special = np.zeros(mask.shape, np.float64)
    special[:, 0] = 1.0
    special[np.arange(len(mask)), lengths - 1] = 1.0
    entropy = -(p * np.log(np.maximum(p, 1e-30))).sum(-1) / np.log(lengths)[:, None]
    return {"entropy": round(float(entropy.mean()), 4),
            "special": round(float((p * special[:, None, :]).sum(-1).mean()), 4),
            "top1": round(float(p.max(-1).mean()), 4)}


def measure(encoder, ids, mask, segments):
    """{layer k: summarize(...)} and the kernels' RMS."""
    hidden = layer_inputs(encoder, ids, mask, segments)
    out = {}
    for k in range(encoder.albert_config.num_hidden_layers):
        p = cls_attention(attention_layer(encoder, k), hidden[k], mask.astype(np.float64))
        out[f"layer{k + 1}"] = summarize(p, mask)
    kernels = [np.asarray(w) for w in encoder.weights if w.path.endswith("kernel")]
    out["kernel_rms"] = round(float(np.sqrt(np.mean(np.concatenate(
        [k.ravel() ** 2 for k in kernels])))), 4)
    return out


def word_pairs(encoder, tokenizer, pairs):
    """{"first:second": {"cosine", "nearer"}} of the word embeddings, and the mean |cosine|
    over all pairs of pieces; a word that is not one piece is left out."""
    table = next(np.asarray(w, np.float64) for w in encoder.embeddings.weights
                 if w.path.endswith("word_embeddings"))  # [vocab, E]
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    cosines = unit @ unit.T
    out = {"mean_abs_cosine": round(float(np.abs(cosines[np.triu_indices(len(unit), 1)])
                                          .mean()), 4)}
    for first, second in pairs:
        ids = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(w)) for w in (first, second)]
        if any(len(i) != 1 for i in ids):
            continue
        a, b = ids[0][0], ids[1][0]
        row = np.delete(cosines[a], a)  # not the word itself
        out[f"{first}:{second}"] = {"cosine": round(float(cosines[a, b]), 4),
                                    "nearer": int((row > cosines[a, b]).sum())}
    return out


def main(argv=None):
    args = parse_args(argv)
    from albert_tf.tokenization import FullTokenizer

    config_path = os.path.join(args.work_dir, "albert_config.json")
    tokenizer = FullTokenizer(sorted(glob.glob(os.path.join(args.work_dir, "spm*.model")))[0])
    train, _ = transfer_probe.sst2_rows(args.work_dir)
    texts = [t[0] for t, _ in train[:args.rows]]
    ids, mask, segments = transfer_probe.pack(tokenizer, texts, args.max_seq_length)
    length = int(mask.sum(1).max())
    ids, mask, segments = ids[:, :length], mask[:, :length], segments[:, :length]
    pairs = [tuple(p.split(":")) for p in args.word_pairs.split(",") if p]
    seeds = [s for s in args.random_seeds.split(",") if s]
    named = []
    for item in filter(None, args.checkpoints.split(",")):
        name, _, path = item.rpartition("=")
        named.append((name or os.path.basename(path.rstrip("/")), path))
    results = {}
    for name, encoder in transfer_probe.each_encoder(config_path, seeds, named):
        results[name] = measure(encoder, ids, mask, segments)
        results[name]["word_pairs"] = word_pairs(encoder, tokenizer, pairs)
        print(json.dumps({"encoder": name, **results[name]}), flush=True)
    path = args.output or os.path.join(args.work_dir, "diagnostics.json")
    with open(path, "w") as f:
        json.dump({"rows": len(texts), "results": results}, f, indent=1)
    return results


if __name__ == "__main__":
    main()
