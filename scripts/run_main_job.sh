#!/usr/bin/env bash
# The main job, end to end on the bundled data (CPU, about 10-15 minutes on 2 cores):
# train a vocabulary, create pretraining data, pretrain a tiny ALBERT, fine-tune it on
# SQuAD 2.0 questions, export a SavedModel that serves raw text, and ask it a question.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
WORK=${WORK:-work_dirs/main_job}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
mkdir -p "$WORK"

echo "== 1/6 Train a SentencePiece vocabulary (official ALBERT settings) on the bundled corpus"
$PY -m albert_tf.tokenization.vocab_trainer --input=data/corpus/wikitext2_sample.txt \
  --model_prefix="$WORK/spm" --vocab_size=7000

echo "== 2/6 Create pretraining data (whole-word n-gram masking + sentence order)"
$PY create_pretraining_data.py --input_file=data/corpus/wikitext2_sample.txt \
  --output_file="$WORK/pretrain.tfrecord" --spm_model_file="$WORK/spm.model" \
  --max_seq_length=128 --max_predictions_per_seq=20 --dupe_factor=3

echo "== 3/6 Pretrain a tiny ALBERT (MLM + SOP, LAMB)"
$PY - "$WORK" <<'PYCODE'
import json, sys
work = sys.argv[1]
config = json.load(open("configs/albert_tiny_test.json"))
config.update(vocab_size=7000, embedding_size=64, hidden_size=128, num_hidden_layers=4,
              num_attention_heads=2, intermediate_size=512, max_position_embeddings=512,
              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
json.dump(config, open(f"{work}/albert_config.json", "w"), indent=2)
PYCODE
$PY run_pretraining.py --albert_config_file="$WORK/albert_config.json" \
  --input_file="$WORK/pretrain.tfrecord" --output_dir="$WORK/pretrained" \
  --do_train --do_eval --train_batch_size=32 --eval_batch_size=32 \
  --max_seq_length=128 --max_predictions_per_seq=20 --num_train_steps=300 \
  --num_warmup_steps=30 --learning_rate=0.00176 --save_checkpoints_steps=150 \
  --iterations_per_loop=50 --max_eval_steps=10

echo "== 4/6 Fine-tune on SQuAD 2.0 questions (the bundled Normans article)"
$PY run_squad.py --version_2_with_negative --albert_config_file="$WORK/albert_config.json" \
  --spm_model_file="$WORK/spm.model" --init_checkpoint="$WORK/pretrained/model.ckpt-best" \
  --train_file=data/squad/normans-dev-v2.0.json --predict_file=data/squad/normans-dev-v2.0.json \
  --train_feature_file="$WORK/squad_train.tfrecord" \
  --predict_feature_file="$WORK/squad_predict.tfrecord" \
  --output_dir="$WORK/squad" --do_train --do_predict --max_seq_length=192 --doc_stride=64 \
  --train_batch_size=16 --predict_batch_size=32 --learning_rate=0.001 \
  --num_train_epochs=3 --warmup_proportion=0.1 --iterations_per_loop=50 \
  --save_checkpoints_steps=1000
echo "SQuAD metrics (official v2.0 evaluation):"
cat "$WORK/squad/eval_results.json"; echo

echo "== 5/6 Export a SavedModel that answers questions from raw text"
rm -rf "$WORK/export_squad"
$PY export_savedmodel.py --model_kind=squad --version_2_with_negative \
  --init_checkpoint="$WORK/squad" --albert_config_file="$WORK/albert_config.json" \
  --spm_model_file="$WORK/spm.model" --export_dir="$WORK/export_squad" \
  --max_seq_length=192 --doc_stride=64

echo "== 6/6 Ask the SavedModel (plain TensorFlow + tensorflow_text, no albert_tf)"
$PY scripts/ask_squad_savedmodel.py "$WORK/export_squad" \
  "In what country is Normandy located?" \
  "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France."
