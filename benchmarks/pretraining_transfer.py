"""Does pretraining with albert_tf help fine-tuning? One command, end to end (issue 27).

    PYTHONPATH=. .venv/bin/python benchmarks/pretraining_transfer.py --quick \
        --output_dir=out/transfer_quick

1. Pretraining text, without leakage: the corpus (`--corpus`, default the bundled
   WikiText-2 sample) plus the TRAINING text of the downstream tasks, never their dev or
   test rows. This is "self-pretraining" (Krishna et al. 2023, "Downstream datasets make
   surprisingly good pretraining corpora"): the unlabelled train sentences are pretraining
   text; their labels are not. SST-2 train sentences are grouped `--sentences_per_document`
   to a document; a pair-task row is a two-sentence document. `--heldout_documents` corpus
   documents are kept out of pretraining to measure MLM/SOP accuracy on unseen text.
2. A vocabulary trained on that text with `albert-vocab` (`--vocab_size`; 0 uses
   `--spm_model_file`, e.g. the official 30k-clean.model): a small vocabulary makes the MLM
   head far cheaper. Records by `create_pretraining_data.py` (the project's command, run as
   a subprocess), pretraining by `run_pretraining` with held-out evaluation every
   `--eval_every` steps (`eval_history.jsonl`).
3. Loading check: one fine-tuning step at a vanishing learning rate from the pretrained
   checkpoint, then every `bert/*` variable of its saved model (pooler included) is compared
   with the pretraining checkpoint. A mismatch is a defect on our path, so it stops the run.
   Then (`--probe`, on by default) linear probes on the few SST-2 rows: an L2 logistic
   regression on the frozen pretrained encoder's features ([CLS], pooled, the mean over
   tokens of each layer), on the same encoder at random weights, and on a bag of words
   (`benchmarks/transfer_probe.py`): do the weights hold what the task needs?
4. Fine-tuning by `run_classifier`, from the checkpoint and from scratch (same config,
   seeds, steps, learning rate, dropout): SST-2 full, SST-2 `--few_rows` (a seeded sample of
   train), and `--pair_task` (MRPC or RTE), `--seeds` each. Only the last checkpoint is
   scored on dev (no best-on-dev selection). The learning rate is one a-priori value for
   both arms, or, with several `--learning_rates`, chosen per arm and task on a 10 % split
   of train (seed 0), never on dev.
   AdamW as official, or LAMB for both arms (`--finetune_optimizer`). A candidate may name
   its optimizer (`--learning_rates=1e-4,3e-4,lamb:1e-3,lamb:3e-3`): the split then chooses
   each arm's optimizer with its rate, so each arm is scored with its own best recipe.
5. `results.json`, a printed table (mean, sample std, min-max over seeds), and
   `transfer.png` (held-out MLM/SOP accuracy over steps; dev accuracy per arm and task).
6. The keras-hub peer, when `--arms` names `keras_hub_pretrained` / `keras_hub_scratch`
   (`benchmarks/keras_hub_peer.py`): keras-hub's own `AlbertBackbone` with the same sizes,
   pretrained as `AlbertMaskedLM` by Keras `fit` on the same records, steps, batch size,
   peak learning rate and seed (Keras AdamW, `--keras_hub_optimizer`), held-out MLM on
   the same held-out records.
   MLM only: keras-hub has no sentence-order head (so its pooler stays as drawn). Then
   keras-hub's `AlbertTextClassifier` (its preprocessor from an `AlbertTokenizer` over the
   same SentencePiece file, the same sequence length) fine-tuned from that backbone and
   from scratch with the same rows, seeds, steps, batch size, learning-rate rule and
   dropout (Keras AdamW), scored the same way. Loading check: every backbone variable of
   a classifier built from the saved weights equals the trained one. Its arms are columns
   of the table (with a "keras-hub difference"), bars and an MLM curve in the picture,
   `keras_hub` and `finetune/*/keras_hub_*` in results.json. `--pretrain_steps` must be a
   multiple of `--eval_every` for the peer. Our pretraining runs only for the arms that
   need it, and finished runs in `--output_dir` are reused, so the peer can be added to
   a finished run's folder:

    PYTHONPATH=. .venv/bin/python benchmarks/pretraining_transfer.py --quick \
        --output_dir=out/transfer_quick \
        --arms=pretrained,scratch,keras_hub_pretrained,keras_hub_scratch

`--ablation` changes one setting of the model or data, as the paper's ablations:
`unshared` (one group per layer), `e_eq_h` (embedding_size = hidden_size), `nsp` (the
sentence task is BERT's next-sentence prediction instead of SOP), `no_sentence_task`
(masked LM alone: run_pretraining's `sentence_order_loss_weight=0`, so the pooler and the
SOP head stay as drawn; the SOP curve is then an untrained head's).
Any `--albert_config_file` (its vocab_size is replaced by the vocabulary's),
`--distribution_strategy`, `--mixed_precision` and `--jit_compile` pass through, so the
default budget runs unchanged on a GPU or TPU.
"""

import argparse
import csv
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_hub_peer  # noqa: E402  (benchmarks/keras_hub_peer.py; imports keras-hub lazily)
import transfer_probe  # noqa: E402  (benchmarks/transfer_probe.py: linear probes)
# As tests/conftest.py: $ALBERT_TF_SHARED_DATA, else ../shared/data beside the checkout.
SHARED_GLUE = os.path.join(os.environ.get("ALBERT_TF_SHARED_DATA",
                                          os.path.join(os.path.dirname(REPO), "shared", "data")),
                           "glue_data")

# The default: the recipe measured best on held-out MLM at this size (LAMB at 0.01 rather
# than the official 0.00176, which is tuned for batch 4096; fresh masks every epoch), its
# pretraining 75 min on 2 loaded cores (estimated ~40 quiet), fine-tuning on top (see
# benchmarks/RESULTS.md); --quick: minutes.
DEFAULT = dict(
    embedding_size=64, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
    intermediate_size=512, vocab_size=4000, max_seq_length=64, max_predictions_per_seq=10,
    dupe_factor=2, pretrain_steps=10000, pretrain_batch_size=64, pretrain_learning_rate=0.01,
    dynamic_masking=True, keras_hub_learning_rate=0.001, eval_every=1000,
    sst2_full_steps=1500, few_steps=300, pair_steps=300, few_rows=2000, seeds="1,2,3",
    learning_rates="1e-4", corpus_documents=0)
# keras_hub_learning_rate: the peer's AdamW (1e-3 measured best of AdamW 1e-3 / LAMB 0.01
# and 0.00176 at 1,000 steps; Keras's LAMB trust-ratios biases: see keras_hub_peer.py).
QUICK = dict(
    embedding_size=32, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
    intermediate_size=256, vocab_size=2000, max_seq_length=64, max_predictions_per_seq=10,
    dupe_factor=1, pretrain_steps=1000, pretrain_batch_size=64, pretrain_learning_rate=0.00176,
    dynamic_masking=False, keras_hub_learning_rate=0.001, eval_every=250, sst2_full_steps=300,
    few_steps=200, pair_steps=200, few_rows=1000, seeds="1,2", learning_rates="1e-4",
    corpus_documents=0)


ARMS = ("pretrained", "scratch", "pretrained_new_pooler", "pretrained_embeddings",
        "keras_hub_pretrained", "keras_hub_scratch")
# The arms that start from our pretraining checkpoint.
OUR_PRETRAINED_ARMS = ("pretrained", "pretrained_new_pooler", "pretrained_embeddings")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output_dir", required=True)
    p.add_argument("--quick", action="store_true", help="Small settings (minutes on 2 cores).")
    p.add_argument("--corpus", default=os.path.join(REPO, "data/corpus/wikitext2_sample.txt"),
                   help="Pretraining text: one sentence per line, blank line between documents.")
    p.add_argument("--glue_dir", default=SHARED_GLUE, help="glue_data folder (SST-2, MRPC/RTE).")
    p.add_argument("--pair_task", default="MRPC", choices=["MRPC", "RTE"])
    p.add_argument("--sentences_per_document", type=int, default=8)
    p.add_argument("--heldout_documents", type=int, default=6,
                   help="Corpus documents kept out of pretraining for held-out MLM/SOP.")
    p.add_argument("--spm_model_file", default=None, help="With --vocab_size=0.")
    p.add_argument("--albert_config_file", default=None,
                   help="Model config (vocab_size replaced); default from the size flags.")
    p.add_argument("--ablation", default="none", choices=["none", "unshared", "e_eq_h", "nsp", "no_sentence_task"])
    p.add_argument("--distribution_strategy", default="one_device")
    p.add_argument("--mixed_precision", default="none")
    p.add_argument("--jit_compile", action="store_true")
    p.add_argument("--finetune_batch_size", type=int, default=32)
    p.add_argument("--keras_hub_optimizer", default="adamw", choices=["adamw", "lamb"],
                   help="The keras-hub peer's pretraining optimizer (Keras's; its LAMB "
                        "trust-ratios biases and LayerNorm too: see keras_hub_peer.py).")
    p.add_argument("--finetune_optimizer", default="adamw", choices=["adamw", "lamb"],
                   help="run_classifier's optimizer, both arms (official: adamw). LAMB "
                        "scales each update to its variable's norm, so weights pretraining "
                        "has grown move as far, relatively, as freshly drawn ones.")
    p.add_argument("--pretrain_optimizer", default="lamb", choices=["lamb", "adamw"],
                   help="Our run_pretraining --optimizer.")
    p.add_argument("--skip_finetune", action="store_true")
    p.add_argument("--probe", action=argparse.BooleanOptionalAction, default=True,
                   help="After pretraining, linear probes of the frozen pretrained and "
                        "random encoders and a bag of words on the few SST-2 rows "
                        "(benchmarks/transfer_probe.py).")
    p.add_argument("--settings", default="sst2_few,pair,sst2_full",
                   help="Comma-separated fine-tuning settings to run.")
    p.add_argument("--arms", default="pretrained,scratch",
                   help="Comma-separated: " + ", ".join(ARMS) + ". pretrained_new_pooler: "
                        "the checkpoint with a freshly initialised pooler (is the "
                        "SOP-trained pooler in the way?). pretrained_embeddings: only its "
                        "embedding tables, the rest drawn anew. keras_hub_*: the peer, keras-hub's "
                        "AlbertMaskedLM pretrained (MLM only) on the same records, and "
                        "AlbertTextClassifier fine-tuned from it or from scratch.")
    for name, value in DEFAULT.items():
        if isinstance(value, bool):  # e.g. --dynamic_masking / --no-dynamic_masking
            p.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None,
                           help=f"default {value} ({QUICK[name]} with --quick)")
        else:
            p.add_argument(f"--{name}", type=type(value), default=None,
                           help=f"default {value} ({QUICK[name]} with --quick)")
    args = p.parse_args(argv)
    unknown = [a for a in args.arms.split(",") if a not in ARMS]
    if unknown:
        p.error(f"--arms: unknown {unknown}; expected some of {list(ARMS)}")
    if "keras_hub_" in args.arms and importlib.util.find_spec("keras_hub") is None:
        p.error("--arms: the keras_hub_* arms need keras-hub (pip install -e '.[interop]')")
    base = QUICK if args.quick else DEFAULT
    for name, value in base.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    try:
        args.recipes = parse_recipes(args.learning_rates, args.finetune_optimizer)
    except ValueError as e:
        p.error(f"--learning_rates: {e}")
    if "keras_hub_" in args.arms and any(o != "adamw" for o, _ in args.recipes):
        p.error("--finetune_optimizer / --learning_rates: the keras_hub_* arms fine-tune with "
                "Keras AdamW only")
    return args


FINETUNE_OPTIMIZERS = ("adamw", "lamb")


def parse_recipes(text, default_optimizer):
    """`--learning_rates` -> [(optimizer, rate)], in the given order (a tie on the train
    split goes to the first): "1e-4" uses `default_optimizer`, "lamb:3e-3" names its own."""
    recipes = []
    for entry in str(text).split(","):
        optimizer, _, rate = entry.strip().rpartition(":")
        optimizer = optimizer or default_optimizer
        if optimizer not in FINETUNE_OPTIMIZERS:
            raise ValueError(f"{entry!r}: unknown optimizer {optimizer!r}; expected one of "
                             f"{list(FINETUNE_OPTIMIZERS)}, as in 'lamb:3e-3'")
        try:
            rate = float(rate)
        except ValueError:
            raise ValueError(f"{entry!r}: expected a learning rate such as 1e-4 or "
                             f"lamb:3e-3") from None
        if not rate > 0:
            raise ValueError(f"{entry!r}: the learning rate must be > 0")
        if (optimizer, rate) in recipes:
            raise ValueError(f"{entry!r} is named twice")
        recipes.append((optimizer, rate))
    return recipes


def recipe_label(optimizer, rate):
    """'0.0001' for AdamW (the official optimizer), 'lamb 0.003' otherwise."""
    return f"{rate:g}" if optimizer == "adamw" else f"{optimizer} {rate:g}"


def log(message):
    print(f"[transfer {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ----------------------------------------------------------------------------------------
# 1. Text.

def read_documents(path):
    documents, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                current.append(line)
            elif current:
                documents.append(current)
                current = []
    if current:
        documents.append(current)
    return documents


def read_tsv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def task_train_text(glue_dir, pair_task, sentences_per_document):
    """Documents from the TRAIN files only: SST-2 sentences grouped, pair-task rows."""
    rows = read_tsv(os.path.join(glue_dir, "SST-2", "train.tsv"))[1:]
    sentences = [r[0] for r in rows]
    documents = [sentences[i:i + sentences_per_document]
                 for i in range(0, len(sentences), sentences_per_document)]
    rows = read_tsv(os.path.join(glue_dir, pair_task, "train.tsv"))[1:]
    columns = (3, 4) if pair_task == "MRPC" else (1, 2)
    documents += [[r[columns[0]], r[columns[1]]] for r in rows]
    return documents


def write_documents(path, documents):
    with open(path, "w", encoding="utf-8") as f:
        for document in documents:
            f.write("\n".join(document) + "\n\n")


def build_text(args, work):
    corpus = read_documents(args.corpus)
    if args.corpus_documents:
        corpus = corpus[:args.corpus_documents]
    heldout, corpus = corpus[-args.heldout_documents:], corpus[:-args.heldout_documents]
    tasks = task_train_text(args.glue_dir, args.pair_task, args.sentences_per_document)
    paths = {"train": os.path.join(work, "pretrain_text.txt"),
             "heldout": os.path.join(work, "heldout_text.txt")}
    write_documents(paths["train"], corpus + tasks)
    write_documents(paths["heldout"], heldout)
    stats = {"corpus_documents": len(corpus), "task_train_documents": len(tasks),
             "heldout_documents": len(heldout),
             "train_text_mb": round(os.path.getsize(paths["train"]) / 1e6, 2)}
    log(f"pretraining text: {stats}")
    return paths, stats


# ----------------------------------------------------------------------------------------
# 2. Vocabulary, records, config, pretraining.

def run_command(command, log_path):
    log(" ".join(command[:3]) + " ...")
    with open(log_path, "w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                              env=dict(os.environ, PYTHONPATH=REPO))
    if done.returncode:
        raise RuntimeError(f"{command[1]} failed ({done.returncode}); see {log_path}")


def vocabulary(args, text_path, work):
    if not args.vocab_size:
        if not args.spm_model_file:
            raise ValueError("--vocab_size=0 needs --spm_model_file")
        return args.spm_model_file
    prefix = os.path.join(work, f"spm{args.vocab_size}")
    if not os.path.exists(prefix + ".model"):
        run_command([sys.executable, "-m", "albert_tf.tokenization.vocab_trainer",
                     f"--input={text_path}", f"--model_prefix={prefix}",
                     f"--vocab_size={args.vocab_size}"], prefix + ".log")
    return prefix + ".model"


def records(args, text_path, spm_model, out_path, dupe_factor):
    if not os.path.exists(out_path):
        command = [sys.executable, "create_pretraining_data.py", f"--input_file={text_path}",
                   f"--output_file={out_path}", f"--spm_model_file={spm_model}",
                   f"--max_seq_length={args.max_seq_length}",
                   f"--max_predictions_per_seq={args.max_predictions_per_seq}",
                   f"--dupe_factor={dupe_factor}", "--num_workers=1"]
        if args.ablation == "nsp":
            command.append("--random_next_sentence")
        run_command(command, out_path + ".log")
    return out_path


def model_config(args, spm_model, work):
    import sentencepiece as spm
    vocab_size = spm.SentencePieceProcessor(model_file=spm_model).get_piece_size()
    if args.albert_config_file:
        with open(args.albert_config_file) as f:
            config = json.load(f)
    else:
        config = dict(embedding_size=args.embedding_size, hidden_size=args.hidden_size,
                      num_hidden_layers=args.num_hidden_layers, num_hidden_groups=1,
                      inner_group_num=1, num_attention_heads=args.num_attention_heads,
                      intermediate_size=args.intermediate_size, hidden_act="gelu",
                      max_position_embeddings=max(128, args.max_seq_length),
                      type_vocab_size=2, initializer_range=0.02,
                      # ALBERT v2 pretrains without dropout.
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config["vocab_size"] = vocab_size
    if args.ablation == "unshared":
        config["num_hidden_groups"] = config["num_hidden_layers"]
    if args.ablation == "e_eq_h":
        config["embedding_size"] = config["hidden_size"]
    path = os.path.join(work, "albert_config.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    return path, config


def runtime(args, seed):
    from albert_tf.training.runtime import RuntimeParams
    return RuntimeParams(distribution_strategy=args.distribution_strategy,
                         mixed_precision=args.mixed_precision, jit_compile=args.jit_compile,
                         seed=seed)


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def sentence_label_balance(path):
    """Share of label 1 (swapped or random B) in the records: the majority-class baseline
    of held-out SOP accuracy. At short sequences many chunks hold one sentence, whose B is
    then always a random segment (label 1), as in official create_pretraining_data.py."""
    import tensorflow as tf
    labels = [int(tf.train.Example.FromString(r.numpy()).features
                  .feature["next_sentence_labels"].int64_list.value[0])
              for r in tf.data.TFRecordDataset(path)]
    return {"records": len(labels), "label_1_share": sum(labels) / max(1, len(labels))}


def pretrain(args, config_path, train_records, eval_records, out_dir):
    import tensorflow as tf
    from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
    final = os.path.join(out_dir, f"model.ckpt-{args.pretrain_steps}")
    if not tf.io.gfile.exists(final + ".index"):
        log(f"pretraining {args.pretrain_steps} steps, batch {args.pretrain_batch_size}")
        run_pretraining(PretrainingParams(
            albert_config_file=config_path, input_file=train_records, eval_file=eval_records,
            output_dir=out_dir, max_seq_length=args.max_seq_length,
            max_predictions_per_seq=args.max_predictions_per_seq, do_train=True, do_eval=True,
            train_batch_size=args.pretrain_batch_size, eval_batch_size=64,
            learning_rate=args.pretrain_learning_rate, num_train_steps=args.pretrain_steps,
            optimizer=args.pretrain_optimizer, dynamic_masking=args.dynamic_masking,
            num_warmup_steps=max(1, args.pretrain_steps // 10),
            save_checkpoints_steps=args.eval_every, iterations_per_loop=args.eval_every,
            max_eval_steps=50, runtime=runtime(args, 12345),
            sentence_order_loss_weight=0.0 if args.ablation == "no_sentence_task" else 1.0))
        tf.keras.backend.clear_session()
    history = [{k: row[k] for k in ("global_step", "masked_lm_accuracy", "masked_lm_loss",
                                    "sentence_order_accuracy") if k in row}
               for row in read_jsonl(os.path.join(out_dir, "eval_history.jsonl"))]
    train = read_jsonl(os.path.join(out_dir, "train_metrics.jsonl"))
    return final, history, train[-1] if train else {}


# ----------------------------------------------------------------------------------------
# 3-4. Fine-tuning.

def task_folders(args, work):
    """{setting: (task_name, data_dir)}: SST-2 full, SST-2 few rows, the pair task; plus
    the train-split folders that choose a learning rate (train 90 % / "dev" 10 %)."""
    folders = {}

    def folder(name, task_dir, train_rows, dev_rows, header):
        data_dir = os.path.join(work, "tasks", name)
        os.makedirs(os.path.join(data_dir, task_dir), exist_ok=True)
        for split, rows in (("train", train_rows), ("dev", dev_rows)):
            with open(os.path.join(data_dir, task_dir, f"{split}.tsv"), "w",
                      encoding="utf-8", newline="") as f:
                f.write("\t".join(header) + "\n")
                f.writelines("\t".join(r) + "\n" for r in rows)
        return data_dir

    rng = random.Random(0)
    for setting, task_dir in (("sst2_full", "SST-2"), ("sst2_few", "SST-2"),
                              ("pair", args.pair_task)):
        table = read_tsv(os.path.join(args.glue_dir, task_dir, "train.tsv"))
        header, train = table[0], table[1:]
        dev = read_tsv(os.path.join(args.glue_dir, task_dir, "dev.tsv"))[1:]
        if setting == "sst2_few":
            train = rng.sample(train, args.few_rows)
        folders[setting] = (task_dir, folder(setting, task_dir, train, dev, header))
        shuffled = random.Random(0).sample(train, len(train))
        cut = len(train) // 10
        folders[setting + "/lr_split"] = (task_dir, folder(
            setting + "_lr_split", task_dir, shuffled[cut:], shuffled[:cut], header))
    return folders


def steps_for(args, setting):
    return {"sst2_full": args.sst2_full_steps, "sst2_few": args.few_steps,
            "pair": args.pair_steps}[setting.split("/")[0]]


def finetune(args, config_path, spm_model, task_name, data_dir, init, seed, learning_rate,
             steps, out_dir, optimizer="adamw"):
    import tensorflow as tf
    from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
    results = os.path.join(out_dir, "eval_results.json")
    if not os.path.exists(results):
        run_classifier(ClassifierParams(
            task_name=task_name, data_dir=data_dir, output_dir=out_dir,
            cached_dir=os.path.join(data_dir, "cache"), albert_config_file=config_path,
            spm_model_file=spm_model, init_checkpoint=init, max_seq_length=args.max_seq_length,
            do_train=True, do_eval=True, train_batch_size=args.finetune_batch_size,
            eval_batch_size=64, learning_rate=learning_rate, optimizer=optimizer,
            train_step=steps, warmup_step=max(1, steps // 10),
            # Only the last checkpoint is scored: no best-on-dev selection.
            save_checkpoints_steps=steps, iterations_per_loop=min(steps, 100),
            runtime=runtime(args, seed)))
        tf.keras.backend.clear_session()
    with open(results) as f:
        return json.load(f)


def check_loading(args, config_path, spm_model, folders, checkpoint, work):
    """Every bert/* variable of a model fine-tuned one step at lr 1e-12 from `checkpoint`
    equals the checkpoint's (the pooler included): the initial weights really arrive."""
    import numpy as np
    import tensorflow as tf
    task_name, data_dir = folders["pair/lr_split"]
    out_dir = os.path.join(work, "loading_check")
    finetune(args, config_path, spm_model, task_name, data_dir, checkpoint, 1, 1e-12, 1,
             out_dir)
    pretrained = tf.train.load_checkpoint(checkpoint)
    tuned = tf.train.load_checkpoint(tf.train.latest_checkpoint(out_dir))
    names = sorted(n for n in pretrained.get_variable_to_shape_map() if n.startswith("bert/"))
    tuned_names = set(tuned.get_variable_to_shape_map())
    worst, missing = 0.0, [n for n in names if n not in tuned_names]
    for name in names:
        if name in tuned_names:
            worst = max(worst, float(np.max(np.abs(pretrained.get_tensor(name)
                                                   - tuned.get_tensor(name)))))
    report = {"bert_variables": len(names), "missing_in_fine_tuned": missing,
              "max_abs_difference": worst,
              "pooler_included": "bert/pooler/dense/kernel" in names}
    log(f"loading check: {report}")
    if missing or worst > 1e-6:
        raise RuntimeError(f"pretrained weights did not arrive in the fine-tuned model: {report}")
    return report


# Arms that start from the pretraining checkpoint with part of the encoder drawn anew,
# and which part: pretrained_new_pooler (is the SOP-trained pooler in the way?),
# pretrained_embeddings (only the embedding tables kept: do the word vectors transfer
# where the layers do not?).
REDRAWN = {
    "pretrained_new_pooler": lambda encoder: encoder.pooler.weights,
    "pretrained_embeddings": lambda encoder: [
        w for w in encoder.weights
        if not any(w is kept for kept in encoder.embeddings.weights)],
}


def checkpoint_with_redrawn(config_path, checkpoint, prefix, redrawn):
    """`checkpoint` with the encoder variables `redrawn(encoder)` drawn as a new model
    draws them (kernels and tables truncated normal, stddev initializer_range; biases
    and LayerNorm betas 0, gammas 1), in the official format."""
    import numpy as np
    import tensorflow as tf
    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.checkpoints import load_weights, save_official_checkpoint
    if tf.io.gfile.exists(prefix + ".index"):
        return prefix
    config = AlbertConfig.from_json_file(config_path)
    model = AlbertPretrainer(config)
    load_weights(model, checkpoint, new_heads=False)
    rng = np.random.default_rng(0)
    std = config.initializer_range
    for variable in redrawn(model.encoder):
        if variable.path.endswith("gamma"):
            value = np.ones(variable.shape)
        elif variable.path.endswith(("bias", "beta")):
            value = np.zeros(variable.shape)
        else:
            value = rng.normal(0.0, std, variable.shape)
            while np.any(np.abs(value) > 2 * std):
                redraw = np.abs(value) > 2 * std
                value[redraw] = rng.normal(0.0, std, int(redraw.sum()))
        variable.assign(value.astype(np.float32))
    save_official_checkpoint(model, prefix, global_step=0)
    tf.keras.backend.clear_session()
    return prefix


def finetune_arm(args, config_path, config, spm_model, arm, task_name, data_dir, init, seed,
                 recipe, steps, out_dir):
    """`finetune` (our run_classifier) or, for a keras_hub_* arm, the keras-hub peer's
    (AdamW only), with the same data folder, seed, steps, batch size, recipe
    (optimizer, learning rate) and dropout."""
    optimizer, learning_rate = recipe
    if arm.startswith("keras_hub_"):
        return keras_hub_peer.finetune(
            config, spm_model, task_name, data_dir, init, seed, learning_rate, steps,
            args.finetune_batch_size, args.max_seq_length, out_dir,
            jit_compile=args.jit_compile, mixed_precision=args.mixed_precision)
    return finetune(args, config_path, spm_model, task_name, data_dir, init, seed,
                    learning_rate, steps, out_dir, optimizer=optimizer)


def pretrain_peer(args, config, spm_model, train_records, eval_records, out_dir):
    """keras-hub's AlbertMaskedLM pretrained on our records with our steps, batch, peak
    rate and seed (MLM only: keras-hub has no SOP head), then its loading check."""
    started = time.time()
    log(f"keras-hub peer: pretraining {args.pretrain_steps} steps, batch "
        f"{args.pretrain_batch_size} (MLM only)")
    weights, record = keras_hub_peer.pretrain(
        config, train_records, eval_records, out_dir, steps=args.pretrain_steps,
        batch_size=args.pretrain_batch_size,
        learning_rate=args.keras_hub_learning_rate,
        eval_every=args.eval_every, max_seq_length=args.max_seq_length,
        max_predictions_per_seq=args.max_predictions_per_seq, seed=12345,
        eval_batch_size=64, max_eval_steps=50, jit_compile=args.jit_compile,
        mixed_precision=args.mixed_precision, optimizer=args.keras_hub_optimizer)
    report = keras_hub_peer.check_loading(config, spm_model, out_dir)
    log(f"keras-hub peer: held-out MLM {record['history']}; loading check {report}")
    if report["missing"] or report["max_abs_difference"] > 1e-6 or not report[
            "token_embedding_differs_from_fresh"]:
        raise RuntimeError(f"keras-hub peer: the pretrained backbone did not arrive in the "
                           f"classifier: {report}")
    return {"pretraining": dict(record, objective="MLM only (keras-hub has no SOP head)",
                                optimizer=f"Keras {args.keras_hub_optimizer}",
                                minutes=round((time.time() - started) / 60, 1)),
            "loading_check": report, "backbone_weights": weights}


def run_tag(optimizer, rate):
    """A fine-tuning run's folder name: its rate, and its optimizer when not AdamW (runs at
    one rate with two optimizers never share a folder; a finished one is reused)."""
    return f"lr{rate:g}" + ("" if optimizer == "adamw" else f"_{optimizer}")


def choose_recipe(args, config_path, config, spm_model, folders, setting, arm, init, work):
    """(optimizer, rate) for one arm and setting: the only candidate, or the best on the
    setting's train split (seed 0; a tie goes to the first candidate), never on dev."""
    if len(args.recipes) == 1:
        return args.recipes[0], {}
    task_name, data_dir = folders[setting + "/lr_split"]
    scores = {}
    for recipe in args.recipes:
        out = os.path.join(work, "lr_choice", setting, arm, run_tag(*recipe))
        scores[recipe] = finetune_arm(args, config_path, config, spm_model, arm, task_name,
                                      data_dir, init, 0, recipe, steps_for(args, setting),
                                      out)["accuracy"]
    best = max(args.recipes, key=lambda r: scores[r])
    labelled = {recipe_label(*r): s for r, s in scores.items()}
    log(f"{setting} {arm}: {recipe_label(*best)} chosen on the train split {labelled}")
    return best, labelled


# ----------------------------------------------------------------------------------------
# 5. Summary and picture.

SETTING_NAMES = {"sst2_full": "SST-2 full train", "sst2_few": "SST-2 {few} train rows",
                 "pair": "{pair}"}


def spread(values):
    return {"mean": statistics.mean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


# (column, pretrained arm, scratch arm): a difference column when both arms ran.
DIFFERENCES = (("difference", "pretrained", "scratch"),
               ("keras-hub difference", "keras_hub_pretrained", "keras_hub_scratch"))


def row_recipes(row, arms):
    """Each arm's fine-tuning recipe in `arms` order: 'lamb 0.001/0.0003'."""
    return "/".join(recipe_label(row[a].get("optimizer", "adamw"), row[a]["learning_rate"])
                    for a in arms)


def table(summary):
    """One row per setting: each arm's dev accuracy in `--arms` order (the first two
    followed by our difference when they are pretrained, scratch), then the other
    pretrained - scratch differences."""
    arms = summary["args"]["arms"].split(",")
    diffs = [d for d in DIFFERENCES if d[1] in arms and d[2] in arms]
    columns = list(arms)
    if arms[:2] == ["pretrained", "scratch"]:
        columns.insert(2, diffs.pop(0))
    columns += diffs
    lines = ["| fine-tuning data (steps, lr) | "
             + "".join(f"{c if isinstance(c, str) else c[0]} | " for c in columns),
             "|---|" + "---|" * len(columns)]
    for setting, row in summary["finetune"].items():
        cells = []
        for column in columns:
            if isinstance(column, str):
                s = row[column]["spread"]
                cells.append(f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f} "
                             f"({100 * s['min']:.1f}-{100 * s['max']:.1f})")
            else:
                _, pre, scratch = column
                diff = row[pre]["spread"]["mean"] - row[scratch]["spread"]["mean"]
                cells.append(f"{100 * diff:+.1f}")
        name = SETTING_NAMES[setting].format(few=summary["args"]["few_rows"],
                                             pair=summary["args"]["pair_task"])
        lines.append(f"| {name} ({row['steps']}, {row_recipes(row, arms)}) | "
                     + "".join(f"{c} | " for c in cells))
    return "\n".join(lines)


def plot(summary, path):
    """Draws `path`; without matplotlib (the `transfer` extra) says so and draws nothing:
    results.json and the printed table hold the same numbers. Returns whether it drew."""
    try:
        import matplotlib
    except ImportError:
        log(f"matplotlib is not installed (pip install -e '.[transfer]'): no {path}; "
            "results.json and the table above hold the numbers")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    history = (summary.get("pretraining") or {}).get("history", [])
    steps = [h["global_step"] for h in history]
    if history:
        left.plot(steps, [h["masked_lm_accuracy"] for h in history], "o-",
                  label="MLM accuracy")
        left.plot(steps, [h["sentence_order_accuracy"] for h in history], "s-",
                  label={"nsp": "NSP accuracy",
                         "no_sentence_task": "SOP accuracy (head not trained)"}.get(
                             summary["args"]["ablation"], "SOP accuracy"))
    peer = (summary.get("keras_hub") or {}).get("pretraining", {}).get("history", [])
    if peer:
        left.plot([h["global_step"] for h in peer], [h["masked_lm_accuracy"] for h in peer],
                  "^--", color="tab:green", label="keras-hub MLM accuracy (MLM only)")
    balance = (summary.get("pretraining") or {}).get("heldout_records")
    if balance:
        share = balance["label_1_share"]
        left.axhline(max(share, 1 - share), color="tab:orange", linestyle=":",
                     label="sentence task: majority class")
    left.set_xlabel("pretraining step")
    left.set_ylabel("held-out accuracy")
    left.set_ylim(0, 1)
    left.legend()
    left.set_title("pretraining (held-out text)")
    settings = list(summary["finetune"])
    arms = summary["args"]["arms"].split(",")
    width = 0.8 / len(arms)
    colours = {"pretrained": "tab:blue", "scratch": "tab:grey",
               "keras_hub_pretrained": "tab:green", "keras_hub_scratch": "tab:olive"}
    for k, arm in enumerate(arms):
        offset, colour = (k - (len(arms) - 1) / 2) * width, colours.get(arm, f"C{k + 2}")
        for i, setting in enumerate(settings):
            values = [100 * v for v in summary["finetune"][setting][arm]["accuracies"]]
            right.scatter([i + offset] * len(values), values, color=colour, s=14)
            right.bar(i + offset, statistics.mean(values), width=width, color=colour, alpha=0.4,
                      label=arm if i == 0 else None)
    right.set_xticks(range(len(settings)))
    right.set_xticklabels([SETTING_NAMES[s].format(few=summary["args"]["few_rows"],
                                                   pair=summary["args"]["pair_task"])
                           + "\nlr " + row_recipes(summary["finetune"][s], arms)
                           for s in settings], fontsize=8)
    lows = [100 * v for s in settings for a in arms
            for v in summary["finetune"][s][a]["accuracies"]]
    right.set_ylim(max(0, min(lows) - 5), min(100, max(lows) + 5))
    right.set_ylabel("dev accuracy (%), seeds as dots")
    right.legend()
    right.set_title("fine-tuning: pretrained vs scratch")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def machine():
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "load_average": os.getloadavg()}


def main(argv=None):
    args = parse_args(argv)
    work = os.path.abspath(args.output_dir)
    os.makedirs(work, exist_ok=True)
    started = time.time()
    summary = {"args": vars(args), "machine_at_start": machine()}
    text, summary["text"] = build_text(args, work)
    spm_model = vocabulary(args, text["train"], work)
    train_records = records(args, text["train"], spm_model,
                            os.path.join(work, "pretrain.tfrecord"), args.dupe_factor)
    eval_records = records(args, text["heldout"], spm_model,
                           os.path.join(work, "heldout.tfrecord"), 1)
    config_path, config = model_config(args, spm_model, work)
    summary["config"] = config
    arms = args.arms.split(",")
    folders = task_folders(args, work)
    inits = {"scratch": None, "keras_hub_scratch": None}
    history = []
    if any(arm in OUR_PRETRAINED_ARMS for arm in arms):
        checkpoint, history, last_train = pretrain(args, config_path, train_records,
                                                   eval_records, os.path.join(work, "pretrain"))
        summary["pretraining"] = {"history": history, "last_train_metrics": last_train,
                                  "heldout_records": sentence_label_balance(eval_records),
                                  "minutes": round((time.time() - started) / 60, 1)}
        log(f"held-out pretraining curve: {history}")
        summary["loading_check"] = check_loading(args, config_path, spm_model, folders,
                                                 checkpoint, work)
        inits["pretrained"] = checkpoint
        if args.probe:
            seeds = [int(s) for s in str(args.seeds).split(",")]
            summary["probe"] = transfer_probe.run_probe(  # --quick: one random encoder
                work, [checkpoint], seeds[:1] if args.quick else seeds, args.max_seq_length)
    for arm in REDRAWN:
        if arm in arms:
            inits[arm] = checkpoint_with_redrawn(
                config_path, checkpoint,
                os.path.join(work, arm.replace("pretrained_", ""), "model.ckpt-0"),
                REDRAWN[arm])
    if "keras_hub_pretrained" in arms:
        summary["keras_hub"] = pretrain_peer(args, config, spm_model, train_records,
                                             eval_records, os.path.join(work, "keras_hub"))
        inits["keras_hub_pretrained"] = summary["keras_hub"]["backbone_weights"]
    summary["finetune"] = {}
    if not args.skip_finetune:
        seeds = [int(s) for s in str(args.seeds).split(",")]
        for setting in args.settings.split(","):
            task_name, data_dir = folders[setting]
            row = {"steps": steps_for(args, setting)}
            for arm in arms:
                init = inits[arm]
                recipe, scores = choose_recipe(args, config_path, config, spm_model,
                                               folders, setting, arm, init, work)
                results = [finetune_arm(args, config_path, config, spm_model, arm, task_name,
                                        data_dir, init, seed, recipe, row["steps"],
                                        os.path.join(work, "finetune", setting, arm,
                                                     f"{run_tag(*recipe)}_seed{seed}"))
                           for seed in seeds]
                accuracies = [r["accuracy"] for r in results]
                row[arm] = {"optimizer": recipe[0], "learning_rate": recipe[1],
                            "lr_choice_scores": scores,
                            "accuracies": accuracies, "spread": spread(accuracies),
                            "f1": [r["f1"] for r in results if "f1" in r]}
                log(f"{setting} {arm}: {accuracies}")
            summary["finetune"][setting] = row
    summary["minutes"] = round((time.time() - started) / 60, 1)
    summary["machine_at_end"] = machine()
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if summary["finetune"]:
        print(table(summary), flush=True)
        plot(summary, os.path.join(work, "transfer.png"))
    if history:
        print("held-out MLM/SOP accuracy by step: " + ", ".join(
            f"{h['global_step']}: {h['masked_lm_accuracy']:.3f}/"
            f"{h['sentence_order_accuracy']:.3f}" for h in history), flush=True)
    if "probe" in summary:
        print(transfer_probe.table(summary["probe"]), flush=True)
    if "keras_hub" in summary:
        print("keras-hub peer, held-out MLM accuracy by step: " + ", ".join(
            f"{h['global_step']}: {h['masked_lm_accuracy']:.3f}"
            for h in summary["keras_hub"]["pretraining"]["history"]), flush=True)
    log(f"done in {summary['minutes']} min; {work}/results.json")
    return summary


if __name__ == "__main__":
    main()
