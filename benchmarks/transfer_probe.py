"""What do pretrained ALBERT weights hold for a downstream task? Linear probes of frozen
encoders against the same encoder at random weights and a bag-of-words baseline.

Issue 27 asks whether pretraining with albert_tf helps fine-tuning and, where it does
not, whether the pretrained weights hold nothing useful yet or fine-tuning fails to use
what they hold. A linear probe separates the two: an L2 logistic regression on frozen
features of the labelled rows (the harness's seeded few-row SST-2 sample), its L2
strength chosen by 5-fold cross-validation on those rows (never dev), scored on dev.
Features per encoder and sentence:

  cls        top layer at [CLS]                        [batch, hidden]
  pooled     tanh pooler of [CLS] (what the classifier reads)
  mean_emb   mean over the text's tokens, embeddings after the E -> H projection
  mean_l<k>  mean over the text's tokens after layer k (every layer; the last is the top)

and `bow`, the same regression on unigram counts of the SentencePiece ids (what the
labelled rows give with no encoder). On the pair task (MRPC or RTE, all train rows):
`sep_mean_emb` / `sep_mean_top`, [|u - v|, u * v] of the two sentences encoded apart
(the sentence-embedding recipe), `joint_cls` / `joint_pooled` of the pair packed as the
classifier packs it, and `overlap`, five lexical-overlap features, as the baseline.
Random encoders: the same config built with the model's own initializer (std
initializer_range), several seeds.

  PYTHONPATH=. python benchmarks/transfer_probe.py --work_dir=/tmp/tr/default \
      --checkpoints=/tmp/tr/default/pretrain/model.ckpt-10000

`--work_dir` is a `pretraining_transfer.py` output folder (its albert_config.json,
vocabulary and few-row SST-2 folder); any checkpoint the loader reads can be probed (the
Trainer's `pretrain/training_checkpoints/ckpt-N` too). Prints one JSON line per encoder
and a table; writes probe.json there. The harness runs it after pretraining (`--probe`).
"""

import argparse
import csv
import glob
import json
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Per-row L2 strengths on standardised features. Much stronger penalties shrink the
# weights until the unpenalised bias alone decides (the majority class).
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work_dir", required=True,
                   help="A pretraining_transfer.py output folder.")
    p.add_argument("--checkpoints", default="",
                   help="Comma-separated pretraining checkpoint prefixes to probe.")
    p.add_argument("--random_seeds", default="1,2,3")
    p.add_argument("--max_seq_length", type=int, default=64)
    return p.parse_args(argv)


def read_tsv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def sst2_rows(work_dir):
    """(train, dev) lists of ((sentence,), label) from the harness's few-row SST-2 folder
    (`<work_dir>/tasks/sst2_few/SST-2`, the seeded train sample and the dev file)."""
    folder = os.path.join(work_dir, "tasks", "sst2_few", "SST-2")
    return tuple([((r[0],), int(r[1]))
                  for r in read_tsv(os.path.join(folder, f"{split}.tsv"))[1:]]
                 for split in ("train", "dev"))


def pair_rows(work_dir):
    """(task name, train, dev) with rows ((sentence_a, sentence_b), label) from the
    harness's pair-task folder (`<work_dir>/tasks/pair/MRPC` or `.../RTE`)."""
    (task,) = os.listdir(os.path.join(work_dir, "tasks", "pair"))
    folder = os.path.join(work_dir, "tasks", "pair", task)
    rows = {split: read_tsv(os.path.join(folder, f"{split}.tsv"))[1:]
            for split in ("train", "dev")}
    if task == "MRPC":  # Quality, #1 ID, #2 ID, #1 String, #2 String
        return task, *([((r[3], r[4]), int(r[0])) for r in rows[split]]
                       for split in ("train", "dev"))
    # RTE: index, sentence1, sentence2, label
    return task, *([((r[1], r[2]), int(r[3] == "entailment")) for r in rows[split]]
                   for split in ("train", "dev"))


def pack(tokenizer, texts, max_seq_length):
    """Texts, or (text_a, text_b) pairs, packed as the classifier packs them (its own
    `truncate_seq_pair` and `build_inputs`): ids, mask, segment ids int32 [n, max_seq_length]."""
    from albert_tf.tasks.classification.features import build_inputs, truncate_seq_pair
    rows = []
    for text in texts:
        if isinstance(text, tuple):
            tokens_a, tokens_b = (tokenizer.tokenize(t) for t in text)
            truncate_seq_pair(tokens_a, tokens_b, max_seq_length - 3)
        else:
            tokens_a, tokens_b = tokenizer.tokenize(text)[:max_seq_length - 2], []
        rows.append(build_inputs(tokens_a, tokens_b, max_seq_length, tokenizer))
    return tuple(np.array(column, np.int32) for column in zip(*rows))


def features(encoder, ids, mask, segments, batch_size=128):
    """{name: float64 [n, hidden]} for the feature names of the module docstring."""
    out = {}
    for start in range(0, len(ids), batch_size):
        window = slice(start, start + batch_size)
        outputs = encoder({"input_ids": ids[window], "input_mask": mask[window],
                           "segment_ids": segments[window]}, training=False)
        m = mask[window][:, :, None].astype(np.float64)
        # The text's own tokens: not [CLS], [SEP] or padding.
        text = m.copy()
        text[:, 0] = 0
        text[np.arange(len(m)), m[:, :, 0].sum(1).astype(int) - 1] = 0
        text_count = np.maximum(text.sum(1), 1)

        def mean(x):
            return (np.asarray(x, np.float64) * text).sum(1) / text_count

        rows = {"cls": np.asarray(outputs["sequence_output"])[:, 0],
                "pooled": np.asarray(outputs["pooled_output"]),
                "mean_emb": mean(embedded(encoder, ids[window], segments[window]))}
        for k, layer in enumerate(outputs["encoder_outputs"], 1):
            rows[f"mean_l{k}"] = mean(layer)
        for name, value in rows.items():
            out.setdefault(name, []).append(np.asarray(value, np.float64))
    return {name: np.concatenate(parts) for name, parts in out.items()}


def embedded(encoder, ids, segments):
    """The embeddings after the E -> H projection: [batch, seq, hidden]."""
    x = encoder.embeddings(ids, segments, training=False)
    if encoder.embedding_projection is not None:
        x = encoder.embedding_projection(x)
    return x


def bag_of_words(tokenizer, texts, vocab_size):
    """Counts of each SentencePiece id: [len(texts), vocab_size]."""
    counts = np.zeros([len(texts), vocab_size])
    for i, text in enumerate(texts):
        for token_id in tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text)):
            counts[i, token_id] += 1
    return counts


def bow_probe(tokenizer, train_texts, y_train, dev_texts, y_dev, vocab_size):
    """The probe on the ids that occur in at least 2 train rows (keeps Newton cheap)."""
    train = bag_of_words(tokenizer, train_texts, vocab_size)
    kept = (train > 0).sum(0) >= 2
    return dict(probe(train[:, kept], y_train,
                      bag_of_words(tokenizer, dev_texts, vocab_size)[:, kept], y_dev),
                features=int(kept.sum()))


def overlap(tokenizer, pairs):
    """The classic lexical baselines of a sentence pair, float64 [len(pairs), 5]: the
    Jaccard index of the two token sets, the share of each set found in the other, the
    cosine of the count vectors and the length ratio."""
    rows = []
    for a, b in pairs:
        ta, tb = tokenizer.tokenize(a), tokenizer.tokenize(b)
        sa, sb = set(ta), set(tb)
        common = len(sa & sb)
        ca = {t: ta.count(t) for t in sa}
        cb = {t: tb.count(t) for t in sb}
        dot = sum(ca[t] * cb.get(t, 0) for t in ca)
        norm = np.sqrt(sum(v * v for v in ca.values()) * sum(v * v for v in cb.values()))
        rows.append([common / max(1, len(sa | sb)), common / max(1, len(sa)),
                     common / max(1, len(sb)), dot / max(norm, 1e-9),
                     min(len(ta), len(tb)) / max(1, len(ta), len(tb))])
    return np.array(rows, np.float64)


# ------------------------------------------------------------------ logistic regression
def fit_logistic(x, y, l2, iterations=30):
    """L2 logistic regression by Newton's method on standardised x [n, d]; returns
    (w [d + 1], mean, std). The bias is not penalised; l2 is per row (loss averaged)."""
    mean, std = x.mean(0), x.std(0) + 1e-8
    z = np.hstack([(x - mean) / std, np.ones([len(x), 1])])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) / len(y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z / len(y) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w, mean, std


def predict(model, x):
    w, mean, std = model
    return (np.hstack([(x - mean) / std, np.ones([len(x), 1])]) @ w) > 0


def probe(x_train, y_train, x_dev, y_dev, folds=5):
    """Dev accuracy with the L2 strength chosen by `folds`-fold cross-validation on train
    (seeded; never dev), then refit on all of train."""
    parts = np.array_split(np.random.RandomState(0).permutation(len(y_train)), folds)

    def cv_accuracy(l2):
        hits = 0
        for k, held in enumerate(parts):
            fit = np.concatenate([p for j, p in enumerate(parts) if j != k])
            model = fit_logistic(x_train[fit], y_train[fit], l2)
            hits += np.sum(predict(model, x_train[held]) == y_train[held])
        return float(hits / len(y_train))

    cv = {l2: cv_accuracy(l2) for l2 in L2_GRID}
    best = max(L2_GRID, key=lambda l2: (cv[l2], l2))  # ties: the stronger penalty
    model = fit_logistic(x_train, y_train, best)
    return {"dev_accuracy": float(np.mean(predict(model, x_dev) == y_dev)),
            "train_accuracy": float(np.mean(predict(model, x_train) == y_train)),
            "l2": best, "cv_accuracy": cv[best]}


def pair_features(encoder, a, b):
    """[|u - v|, u * v] of the two sentences' separate encodings, for the embedding mean
    and the top layer's mean (`sep_mean_emb`, `sep_mean_top`): [n, 2 * hidden] each."""
    u, v = features(encoder, *a), features(encoder, *b)
    top = f"mean_l{sum(name.startswith('mean_l') for name in u)}"
    return {f"sep_{short}": np.hstack([np.abs(u[name] - v[name]), u[name] * v[name]])
            for short, name in (("mean_emb", "mean_emb"), ("mean_top", top))}


def each_encoder(config_path, random_seeds, named_checkpoints):
    """Yields (name, AlbertEncoder): one drawn by the model's initializer per seed
    ("random_seed<s>"), then each (name, checkpoint) loaded; the Keras session is
    cleared after each."""
    import keras
    from albert_tf.checkpoints import load_pretrained
    from albert_tf.config import AlbertConfig
    from albert_tf.modeling import AlbertEncoder

    config = AlbertConfig.from_json_file(config_path)
    for seed in random_seeds:
        keras.utils.set_random_seed(int(seed))
        yield f"random_seed{seed}", AlbertEncoder(config)
        keras.backend.clear_session()
    for name, checkpoint in named_checkpoints:
        yield name, load_pretrained(checkpoint, config_path, task="encoder")
        keras.backend.clear_session()


def run_probe(work_dir, checkpoints=(), random_seeds=(1, 2, 3), max_seq_length=64):
    """Probes a lexical baseline, random encoders (one per seed) and each checkpoint
    prefix on the harness's few-row SST-2 folder and its pair-task folder in `work_dir`.

    SST-2: each sentence encoded alone; baseline `bow`. The pair task: each sentence
    encoded alone, the features [|u - v|, u * v] (the sentence-embedding recipe), and
    the pair encoded together as the classifier sees it (`joint_cls`, `joint_pooled`);
    baseline `overlap`. Returns (and writes to probe.json) {task: {"results": {encoder:
    {feature: {"dev_accuracy", ...}}}, "baseline", "train_rows", "dev_rows",
    "majority_dev"}}.
    """
    from albert_tf.config import AlbertConfig
    from albert_tf.tokenization import FullTokenizer

    config_path = os.path.join(work_dir, "albert_config.json")
    config = AlbertConfig.from_json_file(config_path)
    spm_model = sorted(glob.glob(os.path.join(work_dir, "spm*.model")))[0]
    tokenizer = FullTokenizer(spm_model)
    pair_task, pair_train, pair_dev = pair_rows(work_dir)
    tasks = {"sst2_few": ("SST-2",) + sst2_rows(work_dir), "pair": (pair_task, pair_train,
                                                                    pair_dev)}
    data, summary = {}, {}
    for task, (name, train, dev) in tasks.items():
        texts = {"train": [t for t, _ in train], "dev": [t for t, _ in dev]}
        labels = {"train": np.array([y for _, y in train], np.float64),
                  "dev": np.array([y for _, y in dev], np.float64)}
        if task == "sst2_few":
            baseline = "bow"
            result = bow_probe(tokenizer, [t[0] for t in texts["train"]], labels["train"],
                               [t[0] for t in texts["dev"]], labels["dev"], config.vocab_size)
            packed = {split: {"single": pack(tokenizer, [t[0] for t in texts[split]],
                                             max_seq_length)} for split in texts}
        else:
            baseline = "overlap"
            result = probe(overlap(tokenizer, texts["train"]), labels["train"],
                           overlap(tokenizer, texts["dev"]), labels["dev"])
            packed = {split: {"a": pack(tokenizer, [t[0] for t in texts[split]],
                                        max_seq_length),
                              "b": pack(tokenizer, [t[1] for t in texts[split]],
                                        max_seq_length),
                              "joint": pack(tokenizer, texts[split], max_seq_length)}
                      for split in texts}
        data[task] = (labels, packed)
        summary[task] = {"task": name, "train_rows": len(train), "dev_rows": len(dev),
                         "majority_dev": float(max(labels["dev"].mean(),
                                                   1 - labels["dev"].mean())),
                         "baseline": baseline, "results": {baseline: result}}
        print(json.dumps({"task": task, "encoder": baseline, **result}), flush=True)

    for name, encoder in each_encoder(config_path, random_seeds,
                                      [(os.path.basename(c), c) for c in checkpoints]):
        for task, (labels, packed) in data.items():
            start = time.time()
            if task == "sst2_few":
                feats = {split: features(encoder, *packed[split]["single"])
                         for split in packed}
            else:
                feats = {}
                for split in packed:
                    joint = features(encoder, *packed[split]["joint"])
                    feats[split] = dict(pair_features(encoder, packed[split]["a"],
                                                      packed[split]["b"]),
                                        joint_cls=joint["cls"], joint_pooled=joint["pooled"])
            summary[task]["results"][name] = {
                feature: probe(feats["train"][feature], labels["train"],
                               feats["dev"][feature], labels["dev"])
                for feature in feats["train"]}
            print(json.dumps({"task": task, "encoder": name,
                              "seconds": round(time.time() - start, 1),
                              **{f: round(r["dev_accuracy"], 4)
                                 for f, r in summary[task]["results"][name].items()}}),
                  flush=True)
    with open(os.path.join(work_dir, "probe.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def table(summary):
    """Markdown: per task, one row per encoder, one column per feature (dev accuracy, %)."""
    blocks = []
    for task in summary.values():
        results, baseline = task["results"], task["baseline"]
        names = [n for n in results if n != baseline]
        columns = list(results[names[0]]) if names else []
        lines = [f"{task['task']} dev accuracy of a linear probe on {task['train_rows']} "
                 f"train rows ({baseline}: {100 * results[baseline]['dev_accuracy']:.1f}; "
                 f"majority class {100 * task['majority_dev']:.1f})",
                 "| encoder | " + " | ".join(columns) + " |",
                 "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(f"{100 * results[name][f]['dev_accuracy']:.1f}"
                                              for f in columns) + " |" for name in names]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, REPO)
    summary = run_probe(args.work_dir, [c for c in args.checkpoints.split(",") if c],
                        [int(s) for s in args.random_seeds.split(",") if s],
                        args.max_seq_length)
    print("\n" + table(summary))


if __name__ == "__main__":
    main()
