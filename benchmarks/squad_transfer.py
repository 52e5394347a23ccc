"""Does our pretraining help SQuAD? A `pretraining_transfer.py` checkpoint and the same
model from scratch, fine-tuned by `run_squad` (v2.0 head) the same way (issue 27).

Reading comprehension over Wikipedia is where a small pretraining on (mostly)
Wikipedia text should show first. Training questions: the bundled SQuAD v1.1 dev
articles other than the three v2.0 ones, a third also paired with a paragraph of their
article that lacks the answer, as unanswerable (`litert_accuracy.squad_training_file`);
scored with the official v2.0 metric on the 1,124 bundled v2.0 dev questions (three
articles no pretraining or training text holds). Both arms: the harness's config and
vocabulary, the same questions, windows, steps, batch, learning rate (one a-priori
value) and seeds (`--seeds`, each arm's mean printed); only the final checkpoint is
scored (no best-on-dev choice), and the no-answer threshold is fixed at 0 (not tuned on
dev). Besides the official scores (and
its `best_f1`, whose threshold the official script tunes on dev), `span_f1` scores the
best non-empty answer of each answerable question: the spans' quality, whatever the
no-answer head does.

  PYTHONPATH=. python benchmarks/squad_transfer.py --work_dir=/work/out/default10k

Prints one JSON line per arm and seed, and each arm's mean; writes squad_transfer.json
in --work_dir.
"""

import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import litert_accuracy  # noqa: E402  (the SQuAD training file)
from pretraining_transfer import SHARED_GLUE  # noqa: E402

SCORES = ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "best_f1")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work_dir", required=True, help="A pretraining_transfer.py output folder.")
    p.add_argument("--data_dir", default=os.path.dirname(SHARED_GLUE))
    p.add_argument("--checkpoint", default=None,
                   help="Default: the newest model.ckpt-N in <work_dir>/pretrain.")
    p.add_argument("--arms", default="pretrained,scratch")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--learning_rate", type=float, default=5e-4)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--max_seq_length", type=int, default=128)
    p.add_argument("--doc_stride", type=int, default=64)
    p.add_argument("--max_query_length", type=int, default=32)
    p.add_argument("--seeds", default="1,2,3")
    return p.parse_args(argv)


def newest_checkpoint(folder):
    prefixes = [p[:-len(".index")] for p in glob.glob(os.path.join(folder, "model.ckpt-*.index"))
                if p[:-len(".index")].rsplit("-", 1)[1].isdigit()]
    if not prefixes:
        raise FileNotFoundError(f"no model.ckpt-<step> in {folder}")
    return max(prefixes, key=lambda p: int(p.rsplit("-", 1)[1]))


def span_scores(out_dir, dev_file):
    """EM and F1 (percent) on the answerable questions of the best non-empty answer of
    `nbest_predictions.json`: the spans' quality whatever the no-answer threshold. Scored
    by the official v2.0 metric's per-question scores (`metrics.get_raw_scores`)."""
    from albert_tf.tasks.squad import metrics
    with open(dev_file, encoding="utf-8") as f:
        dev = json.load(f)
    with open(os.path.join(out_dir, "nbest_predictions.json"), encoding="utf-8") as f:
        nbest = json.load(f)
    answerable = [qid for qid, has in metrics.make_qid_to_has_ans(dev).items() if has]
    predictions = {qid: next((c["text"] for c in nbest[qid] if c["text"]), "")
                   for qid in answerable}
    exact, f1 = metrics.get_raw_scores(dev, predictions)
    return {"answered_questions": len(answerable),
            "span_exact": 100.0 * sum(exact[q] for q in answerable) / len(answerable),
            "span_f1": 100.0 * sum(f1[q] for q in answerable) / len(answerable)}


def main(argv=None):
    args = parse_args(argv)
    from albert_tf.tasks.squad.task import SquadParams, run_squad
    from albert_tf.training.runtime import RuntimeParams

    work = os.path.join(args.work_dir, "squad_transfer")
    os.makedirs(work, exist_ok=True)
    dev_file = os.path.join(args.data_dir, "squad", "v2.0", "dev-v2.0.3articles.json")
    with open(dev_file, encoding="utf-8") as f:
        heldout = {article["title"] for article in json.load(f)["data"]}
    train_file = os.path.join(work, "train.json")
    if not os.path.exists(train_file):
        litert_accuracy.squad_training_file(args.data_dir, heldout, train_file)
    config_path = os.path.join(args.work_dir, "albert_config.json")
    spm_model = sorted(glob.glob(os.path.join(args.work_dir, "spm*.model")))[0]
    inits = {"pretrained": args.checkpoint or newest_checkpoint(
        os.path.join(args.work_dir, "pretrain")), "scratch": None}
    summary = {"args": vars(args), "init": inits, "arms": {}}
    for arm in args.arms.split(","):
        runs = {}
        for seed in [int(s) for s in args.seeds.split(",")]:
            out = os.path.join(work, f"{arm}_lr{args.learning_rate:g}_seed{seed}")
            results = os.path.join(out, "eval_results.json")
            if not os.path.exists(results):
                run_squad(SquadParams(
                    version_2_with_negative=True, train_file=train_file, predict_file=dev_file,
                    do_train=True, do_predict=True, output_dir=out,
                    albert_config_file=config_path, spm_model_file=spm_model,
                    init_checkpoint=inits[arm], max_seq_length=args.max_seq_length,
                    doc_stride=args.doc_stride, max_query_length=args.max_query_length,
                    train_batch_size=args.batch_size, learning_rate=args.learning_rate,
                    num_train_epochs=args.epochs, null_score_diff_threshold=0.0,
                    # One checkpoint, the last: no best-on-dev choice.
                    save_checkpoints_steps=10 ** 9, runtime=RuntimeParams(seed=seed)))
            with open(results) as f:
                scores = json.load(f)
            runs[seed] = {k: scores[k] for k in SCORES if k in scores}
            runs[seed].update(span_scores(out, dev_file))
            print(json.dumps({"arm": arm, "seed": seed, **runs[seed]}), flush=True)
        mean = {k: sum(r[k] for r in runs.values()) / len(runs) for k in next(
            iter(runs.values()))}
        summary["arms"][arm] = {"seeds": runs, "mean": mean}
        print(json.dumps({"arm": arm, "mean": {k: round(v, 2) for k, v in mean.items()}}),
              flush=True)
    with open(os.path.join(args.work_dir, "squad_transfer.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main()
