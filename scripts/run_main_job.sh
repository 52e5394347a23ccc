#!/usr/bin/env bash
# The main job, end to end on the bundled data (CPU, about 8 minutes on 2 cores):
# train a vocabulary, create pretraining data, pretrain a tiny ALBERT, fine-tune it on
# SQuAD 2.0 questions, export a SavedModel that serves raw text, and ask it a question.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
WORK=${WORK:-work_dirs/main_job}
# A fresh run each time: remove this job's own outputs (run_pretraining.py itself resumes
# after a kill; the main job starts over so that every step is shown).
rm -rf "${WORK:?}"/{spm.model,spm.vocab,pretrain.tfrecord,albert_config.json,pretrained} \
  "${WORK:?}"/{normans-p1-6.json,squad,export_squad}
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

echo "== 4/6 Fine-tune on SQuAD 2.0 questions (the first 6 paragraphs of the bundled Normans article)"
# 36 questions (16 answerable, 20 not). The model is scored on the questions it was tuned on:
# a check that data, head, loss, post-processing and export agree, not a generalisation score.
$PY - "$WORK" <<'PYCODE'
import json, sys
squad = json.load(open("data/squad/normans-dev-v2.0.json", encoding="utf-8"))
squad["data"][0]["paragraphs"] = squad["data"][0]["paragraphs"][:6]
json.dump(squad, open(f"{sys.argv[1]}/normans-p1-6.json", "w", encoding="utf-8"))
PYCODE
$PY run_squad.py --version_2_with_negative --albert_config_file="$WORK/albert_config.json" \
  --spm_model_file="$WORK/spm.model" --init_checkpoint="$WORK/pretrained/model.ckpt-best" \
  --train_file="$WORK/normans-p1-6.json" --predict_file="$WORK/normans-p1-6.json" \
  --output_dir="$WORK/squad" --do_train --do_predict --max_seq_length=256 --doc_stride=128 \
  --max_query_length=32 --train_batch_size=16 --predict_batch_size=32 --learning_rate=0.0005 \
  --train_step=300 --warmup_step=30 --dropout_prob=0 --iterations_per_loop=50 \
  --save_checkpoints_steps=300
echo "SQuAD metrics (official v2.0 evaluation, on the 36 tuned questions):"
cat "$WORK/squad/eval_results.json"; echo
THRESHOLD=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['null_score_diff_threshold'])" \
  "$WORK/squad/eval_results.json")

echo "== 5/6 Export a SavedModel that answers questions from raw text"
$PY export_savedmodel.py --model_kind=squad --version_2_with_negative \
  --init_checkpoint="$WORK/squad" --albert_config_file="$WORK/albert_config.json" \
  --spm_model_file="$WORK/spm.model" --export_dir="$WORK/export_squad" \
  --max_seq_length=256 --doc_stride=128 --max_query_length=32 \
  --null_score_diff_threshold="$THRESHOLD"

echo "== 6/6 Ask the SavedModel (plain TensorFlow + tensorflow_text, no albert_tf)"
CONTEXT=$($PY -c "import json; print(json.load(open('data/squad/normans-dev-v2.0.json', encoding='utf-8'))['data'][0]['paragraphs'][0]['context'])")
# The client imports no albert_tf, so TensorFlow's start-up noise (CUDA probes, oneDNN
# notices) is dropped here by the same stdlib-only filter the albert-* commands use.
$PY scripts/ask_squad_savedmodel.py "$WORK/export_squad" \
  "In what country is Normandy located?" "$CONTEXT" 2> >($PY -I -S albert_tf/quiet_logs.py >&2)
