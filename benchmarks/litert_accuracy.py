"""int8 vs fp32 LiteRT on real data: SST-2 dev accuracy and label agreement (issue 26).

A full check fine-tunes ALBERT-base on SST-2 (GPU hours) and scores the exported
.tflite files on the 872 dev rows; this machine cannot. What it does instead: a
tiny ALBERT from random weights (no pretrained tiny model exists), fine-tuned on
`--train_rows` SST-2 training rows with `TextClassifier.fit`, exported with
`albert-export --format=tflite` at each quantization (int8 calibrated on
training texts), and every file scored on all of SST-2 dev through
`ai_edge_litert`, next to the Keras model.

  PYTHONPATH=. python benchmarks/litert_accuracy.py --data_dir=../shared/data

Prints one JSON line per model: accuracy, agreement with Keras, max |delta p|.
"""

import argparse
import csv
import json
import os
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

import albert_tf
from albert_tf.config import AlbertConfig
from albert_tf.export import ExportParams, export
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


def read_sst2(path, count=None):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[:count]
    return [row["sentence"] for row in rows], np.array([int(row["label"]) for row in rows])


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def tflite_logits(path, inputs, batch_size=32):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner("serving_default")
    out = []
    for start in range(0, len(inputs["input_ids"]), batch_size):
        batch = {k: v[start:start + batch_size] for k, v in inputs.items()}
        length = int(batch["input_mask"].sum(1).max())  # As the SavedModel: trim padding.
        out.append(runner(**{k: v[:, :length] for k, v in batch.items()})["logits"])
    return np.concatenate(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", default=os.path.join(os.path.dirname(__file__), "..",
                                                           "..", "shared", "data"))
    parser.add_argument("--train_rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--calibration_rows", type=int, default=256)
    args = parser.parse_args()
    spm = os.path.join(args.data_dir, "albert_spm", "30k-clean.model")
    sst2 = os.path.join(args.data_dir, "glue_data", "SST-2")
    train_texts, train_ids = read_sst2(os.path.join(sst2, "train.tsv"), args.train_rows)
    dev_texts, dev_ids = read_sst2(os.path.join(sst2, "dev.tsv"))
    work = tempfile.mkdtemp(prefix="litert_accuracy_")
    try:
        keras.utils.set_random_seed(1)
        config = AlbertConfig.from_dict(TINY_CONFIG)
        ckpt = os.path.join(work, "pretrained")
        albert_tf.save_official_checkpoint(AlbertEncoder(config),
                                           os.path.join(ckpt, "model.ckpt-0"))
        config.to_json_file(os.path.join(ckpt, "albert_config.json"))
        shutil.copy(spm, os.path.join(ckpt, "30k-clean.model"))
        model = albert_tf.TextClassifier.from_pretrained(
            ckpt, num_labels=2, max_seq_length=MAX_SEQ_LENGTH, learning_rate=3e-4)
        start = time.time()
        model.fit(train_texts, train_ids, epochs=args.epochs, batch_size=32, verbose=0)
        train_s = time.time() - start
        keras_probs = softmax(np.asarray(model.predict(dev_texts, verbose=0)))
        keras_pred = keras_probs.argmax(-1)
        print(json.dumps({"model": "keras fp32", "train_rows": args.train_rows,
                          "epochs": args.epochs, "train_s": round(train_s, 1),
                          "dev_accuracy": round(float(np.mean(keras_pred == dev_ids)), 4),
                          "majority": round(float(max(dev_ids.mean(), 1 - dev_ids.mean())),
                                            4)}), flush=True)
        finetuned = os.path.join(work, "finetuned")
        albert_tf.save_official_checkpoint(model.classifier,
                                           os.path.join(finetuned, "model.ckpt-1"))
        config.to_json_file(os.path.join(finetuned, "albert_config.json"))
        calibration = os.path.join(work, "calibration.txt")
        with open(calibration, "w", encoding="utf-8") as f:
            f.write("\n".join(train_texts[-args.calibration_rows:]) + "\n")
        tokenizer = TFTokenizer(spm)
        packed = pack_texts(tokenizer, tokenizer.tokenize, tf.constant(dev_texts), None,
                            MAX_SEQ_LENGTH)
        inputs = {k: packed[k].numpy() for k in ENCODER_INPUTS}
        for quantization in ("none", "float16", "dynamic_int8", "int8"):
            path = export(ExportParams(
                model_kind="classifier", export_dir=os.path.join(work, quantization),
                spm_model_file=spm, init_checkpoint=finetuned, task_name="SST-2",
                max_seq_length=MAX_SEQ_LENGTH, format="tflite", quantization=quantization,
                representative_data=calibration if quantization == "int8" else None))
            probs = softmax(tflite_logits(path, inputs))
            pred = probs.argmax(-1)
            print(json.dumps({
                "model": f"tflite {quantization}", "bytes": os.path.getsize(path),
                "dev_accuracy": round(float(np.mean(pred == dev_ids)), 4),
                "agreement_with_keras": round(float(np.mean(pred == keras_pred)), 4),
                "max_abs_delta_p": float(np.abs(probs - keras_probs).max())}), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
