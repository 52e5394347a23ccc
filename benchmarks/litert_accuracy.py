"""int8 vs fp32 LiteRT on real data: SST-2 dev accuracy and SQuAD v2.0 F1 (issue 26).

A full check fine-tunes ALBERT-base on SST-2 and SQuAD (GPU hours) and scores the
exported .tflite files on their dev sets; this machine cannot. What it does instead,
for each task in `--tasks`:

  sst2   a tiny ALBERT from random weights (no pretrained tiny model exists),
         fine-tuned on `--train_rows` SST-2 training rows with `TextClassifier.fit`,
         exported with `albert-export --format=tflite` at each quantization (int8
         calibrated on training texts), every file scored on all of SST-2 dev through
         `ai_edge_litert`, next to the Keras model: accuracy, label agreement, max
         |delta p|; then the raw-text dynamic int8 file (`--text_in_graph`) on the
         dev sentences as strings.
  squad  a small ALBERT from random weights trained by `run_squad` (v2.0 head) on the
         SQuAD v1.1 dev articles other than the three bundled v2.0 ones, with
         unanswerable questions made by pairing a third of the questions with another
         paragraph of their article that lacks the answer; exported as a text-free
         SavedModel and as .tflite at each quantization; the 1,124 bundled v2.0 dev
         questions windowed by the export's own `SquadClient`, run through each file's
         `tokens` signature and decoded by the client: EM, F1, HasAns F1, NoAns exact,
         and the share of answers equal to the SavedModel's.

  PYTHONPATH=. python benchmarks/litert_accuracy.py --data_dir=../shared/data

Prints one JSON line per model.
"""

import argparse
import csv
import json
import os
import random
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

import albert_tf
from albert_tf.config import AlbertConfig
from albert_tf.export import ExportParams, export
from albert_tf.export.exporter import QUANTIZATIONS
from albert_tf.export.base_module import ENCODER_INPUTS, pack_texts
from albert_tf.modeling import AlbertEncoder
from albert_tf.tokenization import TFTokenizer

# tests/finetune_test_helpers.py's TINY_CONFIG (embedding 16, hidden 32, 2 layers).
TINY_CONFIG = dict(vocab_size=30000, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                   num_hidden_groups=1, inner_group_num=1, num_attention_heads=2,
                   intermediate_size=64, hidden_act="gelu", max_position_embeddings=128,
                   type_vocab_size=2, initializer_range=0.02, hidden_dropout_prob=0.0,
                   attention_probs_dropout_prob=0.0)
MAX_SEQ_LENGTH = 64
# SQuAD: a larger tiny model (a span head learns little at hidden 32), windows of 256.
SQUAD_CONFIG = dict(TINY_CONFIG, embedding_size=64, hidden_size=128, num_attention_heads=2,
                    intermediate_size=512, max_position_embeddings=256)
SQUAD_SEQ_LENGTH = 256


def read_sst2(path, count=None):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[:count]
    return [row["sentence"] for row in rows], np.array([int(row["label"]) for row in rows])


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def batched(run, inputs, batch_size=32):
    """`run(**batch)` over `inputs` (dict of numpy [n, seq]) in batches, each trimmed to its
    longest row as the SavedModel trims; the outputs concatenated."""
    out = {}
    for start in range(0, len(inputs["input_ids"]), batch_size):
        batch = {k: v[start:start + batch_size] for k, v in inputs.items()}
        length = int(batch["input_mask"].sum(1).max())
        for name, value in run(**{k: v[:, :length] for k, v in batch.items()}).items():
            out.setdefault(name, []).append(np.asarray(value))
    return {name: np.concatenate(values) for name, values in out.items()}


def tflite_outputs(path, inputs, names, signature="serving_default"):
    """The .tflite's `signature` on `inputs` through `ai_edge_litert`: {name: numpy}."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner(signature)
    outputs = batched(runner, inputs)
    return {name: outputs[name] for name in names}


def sst2(args, work):
    """Tiny classifier fine-tuned on SST-2 rows; every .tflite scored on all of dev."""
    spm = os.path.join(args.data_dir, "albert_spm", "30k-clean.model")
    sst2_dir = os.path.join(args.data_dir, "glue_data", "SST-2")
    train_texts, train_ids = read_sst2(os.path.join(sst2_dir, "train.tsv"), args.train_rows)
    dev_texts, dev_ids = read_sst2(os.path.join(sst2_dir, "dev.tsv"))
    keras.utils.set_random_seed(1)
    config = AlbertConfig.from_dict(TINY_CONFIG)
    ckpt = os.path.join(work, "pretrained")
    albert_tf.save_official_checkpoint(AlbertEncoder(config), os.path.join(ckpt, "model.ckpt-0"))
    config.to_json_file(os.path.join(ckpt, "albert_config.json"))
    shutil.copy(spm, os.path.join(ckpt, "30k-clean.model"))
    model = albert_tf.TextClassifier.from_pretrained(
        ckpt, num_labels=2, max_seq_length=MAX_SEQ_LENGTH, learning_rate=3e-4)
    start = time.time()
    model.fit(train_texts, train_ids, epochs=args.epochs, batch_size=32, verbose=0)
    train_s = time.time() - start
    keras_probs = softmax(np.asarray(model.predict(dev_texts, verbose=0)))
    keras_pred = keras_probs.argmax(-1)
    print(json.dumps({"task": "sst2", "model": "keras fp32", "train_rows": args.train_rows,
                      "epochs": args.epochs, "train_s": round(train_s, 1),
                      "dev_accuracy": round(float(np.mean(keras_pred == dev_ids)), 4),
                      "majority": round(float(max(dev_ids.mean(), 1 - dev_ids.mean())), 4)}),
          flush=True)
    finetuned = os.path.join(work, "finetuned")
    albert_tf.save_official_checkpoint(model.classifier, os.path.join(finetuned, "model.ckpt-1"))
    config.to_json_file(os.path.join(finetuned, "albert_config.json"))
    calibration = os.path.join(work, "calibration.txt")
    with open(calibration, "w", encoding="utf-8") as f:
        f.write("\n".join(train_texts[-args.calibration_rows:]) + "\n")
    tokenizer = TFTokenizer(spm)
    packed = pack_texts(tokenizer, tokenizer.tokenize, tf.constant(dev_texts), None,
                        MAX_SEQ_LENGTH)
    inputs = {k: packed[k].numpy() for k in ENCODER_INPUTS}
    for quantization in QUANTIZATIONS:
        path = export(ExportParams(
            model_kind="classifier", export_dir=os.path.join(work, quantization),
            spm_model_file=spm, init_checkpoint=finetuned, task_name="SST-2",
            max_seq_length=MAX_SEQ_LENGTH, format="tflite", quantization=quantization,
            representative_data=calibration if quantization == "int8" else None))
        probs = softmax(tflite_outputs(path, inputs, ("logits",))["logits"])
        pred = probs.argmax(-1)
        print(json.dumps({
            "task": "sst2", "model": f"tflite {quantization}", "bytes": os.path.getsize(path),
            "dev_accuracy": round(float(np.mean(pred == dev_ids)), 4),
            "agreement_with_keras": round(float(np.mean(pred == keras_pred)), 4),
            "max_abs_delta_p": float(np.abs(probs - keras_probs).max())}), flush=True)
        if quantization == "dynamic_int8":
            ids_pred = pred
    raw_text_file(work, spm, finetuned, dev_texts, dev_ids, keras_probs, ids_pred)


def raw_text_file(work, spm, finetuned, dev_texts, dev_ids, keras_probs, ids_pred):
    """The raw-text dynamic int8 file (`--text_in_graph`) on the dev sentences as
    strings, next to the ids-in one fed by the in-graph tokenizer."""
    from albert_tf.export import litert_text

    path = export(ExportParams(
        model_kind="classifier", export_dir=os.path.join(work, "text_dynamic_int8"),
        spm_model_file=spm, init_checkpoint=finetuned, task_name="SST-2",
        max_seq_length=MAX_SEQ_LENGTH, format="tflite", quantization="dynamic_int8",
        text_in_graph=True))
    runner = litert_text.interpreter(path).get_signature_runner("serving_default")
    probs = np.concatenate([runner(text=np.array([t.encode("utf-8") for t in
                                                  dev_texts[i:i + 32]], dtype=object))
                            ["probabilities"] for i in range(0, len(dev_texts), 32)])
    pred = probs.argmax(-1)
    print(json.dumps({
        "task": "sst2", "model": "tflite dynamic_int8, raw text in", "bytes":
        os.path.getsize(path), "dev_accuracy": round(float(np.mean(pred == dev_ids)), 4),
        "agreement_with_keras": round(float(np.mean(pred == keras_probs.argmax(-1))), 4),
        "agreement_with_ids_in_file": round(float(np.mean(pred == ids_pred)), 4),
        "max_abs_delta_p": float(np.abs(probs - keras_probs).max())}), flush=True)


def squad_training_file(data_dir, heldout_titles, path, seed=0):
    """SQuAD v1.1 dev articles other than `heldout_titles` as v2.0 training data: every
    question once with its own paragraph (answerable) and, for a third of them, once
    with another paragraph of its article that does not hold the answer text
    (`is_impossible`). Returns (questions, unanswerable)."""
    rng = random.Random(seed)
    articles = []
    for part in ("a", "b"):
        with open(os.path.join(data_dir, "squad", "v1.1", f"dev-v1.1.part-{part}.json"),
                  encoding="utf-8") as f:
            articles += [a for a in json.load(f)["data"] if a["title"] not in heldout_titles]
    total = impossible = 0
    for article in articles:
        paragraphs = article["paragraphs"]
        extra = [[] for _ in paragraphs]
        for i, paragraph in enumerate(paragraphs):
            for qa in paragraph["qas"]:
                qa["is_impossible"] = False
                total += 1
                others = [j for j, other in enumerate(paragraphs) if j != i and not any(
                    answer["text"] in other["context"] for answer in qa["answers"])]
                if others and rng.random() < 1 / 3:
                    extra[rng.choice(others)].append(
                        {"id": qa["id"] + "_neg", "question": qa["question"], "answers": [],
                         "is_impossible": True})
                    impossible += 1
        for paragraph, qas in zip(paragraphs, extra):
            paragraph["qas"] += qas
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"version": "v2.0", "data": articles}, f)
    return total + impossible, impossible


def squad(args, work):
    """Tiny SQuAD v2.0 model trained here; every .tflite scored on the bundled v2.0 dev
    questions through the `tokens` signature and the export's own client."""
    from albert_tf.export.squad_client import SquadClient
    from albert_tf.tasks.squad import metrics
    from albert_tf.tasks.squad.task import SquadParams, run_squad
    from albert_tf.training.runtime import RuntimeParams

    spm = os.path.join(args.data_dir, "albert_spm", "30k-clean.model")
    with open(os.path.join(args.data_dir, "squad", "v2.0", "dev-v2.0.3articles.json"),
              encoding="utf-8") as f:
        dev = json.load(f)["data"]
    train_file = os.path.join(work, "squad_train.json")
    questions, impossible = squad_training_file(args.data_dir, {a["title"] for a in dev},
                                                train_file)
    keras.utils.set_random_seed(1)
    config = AlbertConfig.from_dict(SQUAD_CONFIG)
    init = os.path.join(work, "squad_init")
    albert_tf.save_official_checkpoint(AlbertEncoder(config), os.path.join(init, "model.ckpt-0"))
    config_path = os.path.join(init, "albert_config.json")
    config.to_json_file(config_path)
    out = os.path.join(work, "squad_out")
    start = time.time()
    run_squad(SquadParams(
        version_2_with_negative=True, train_file=train_file, do_train=True,
        output_dir=out, albert_config_file=config_path, spm_model_file=spm,
        init_checkpoint=os.path.join(init, "model.ckpt-0"),
        max_seq_length=SQUAD_SEQ_LENGTH, doc_stride=128, train_batch_size=32,
        learning_rate=args.squad_learning_rate, num_train_epochs=args.squad_epochs,
        runtime=RuntimeParams(seed=1)))
    train_s = time.time() - start
    print(json.dumps({"task": "squad", "train_questions": questions,
                      "train_unanswerable": impossible, "epochs": args.squad_epochs,
                      "train_s": round(train_s, 1)}), flush=True)
    common = dict(model_kind="squad", spm_model_file=spm, init_checkpoint=out,
                  max_seq_length=SQUAD_SEQ_LENGTH, version_2_with_negative=True)
    saved_model = os.path.join(work, "squad_savedmodel", "1")
    export(ExportParams(export_dir=saved_model, text_in_graph=False, **common))
    client = SquadClient(saved_model)
    ids, questions_text, contexts = [], [], []
    for article in dev:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                ids.append(qa["id"])
                questions_text.append(qa["question"])
                contexts.append(paragraph["context"])
    encoded = client.encode(questions_text, contexts)
    names = ("start_top_log_probs", "start_top_index", "end_top_log_probs",
             "end_top_index", "cls_logits")
    served = tf.saved_model.load(saved_model).signatures["tokens"]
    reference = None
    calibration = os.path.join(work, "squad_calibration.txt")
    for model in ("savedmodel fp32",) + tuple(f"tflite {q}" for q in QUANTIZATIONS):
        if model == "savedmodel fp32":
            outputs, size = batched(lambda **b: {k: v.numpy() for k, v in served(
                **{n: tf.constant(x) for n, x in b.items()}).items()}, encoded.inputs), None
        else:
            quantization = model.split()[1]
            path = export(ExportParams(
                export_dir=os.path.join(work, "squad_" + quantization), format="tflite",
                quantization=quantization,
                representative_data=train_calibration(train_file, calibration,
                                                      args.calibration_rows)
                if quantization == "int8" else None, **common))
            outputs, size = tflite_outputs(path, encoded.inputs, names, "tokens"), \
                os.path.getsize(path)
        answers = client.decode(encoded, outputs)
        predictions = dict(zip(ids, answers["answer_text"]))
        scores = metrics.evaluate_v2({"data": dev}, predictions)
        if reference is None:
            reference = predictions
        row = {"task": "squad", "model": model, "bytes": size,
               "questions": len(ids), "windows": int(len(encoded.inputs["input_ids"])),
               **{k: round(float(scores[k]), 2) for k in
                  ("exact", "f1", "HasAns_f1", "NoAns_exact") if k in scores},
               "answers_equal_to_savedmodel": round(float(np.mean(
                   [predictions[i] == reference[i] for i in ids])), 4)}
        print(json.dumps(row), flush=True)


def train_calibration(train_file, path, count):
    """`count` question + context texts of the training file, one per line."""
    with open(train_file, encoding="utf-8") as f:
        data = json.load(f)["data"]
    texts = [qa["question"] + " " + paragraph["context"] for article in data
             for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts[-count:]) + "\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", default=os.path.join(os.path.dirname(__file__), "..",
                                                           "..", "shared", "data"))
    parser.add_argument("--tasks", default="sst2,squad")
    parser.add_argument("--train_rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--squad_epochs", type=float, default=2.0)
    parser.add_argument("--squad_learning_rate", type=float, default=1e-3)
    parser.add_argument("--calibration_rows", type=int, default=256)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="litert_accuracy_")
    try:
        for task in args.tasks.split(","):
            {"sst2": sst2, "squad": squad}[task](args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
