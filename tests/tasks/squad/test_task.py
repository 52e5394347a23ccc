"""run_squad.py / run_squad(): a few training steps on real questions, the files it
writes, prediction on new data from the saved model, and bad input."""

import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from albert_tf.checkpoints import list_official_variables
from albert_tf.training.runtime import RuntimeParams
from albert_tf.tasks.squad.task import SquadParams, run_squad
from .squad_test_helpers import V1_SOURCE, V2_SOURCE, read_json, write_subset, write_tiny_config

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
SEQ = dict(max_seq_length=96, doc_stride=48, max_query_length=24)
V2_EVAL_KEYS = {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total",
                "NoAns_exact", "NoAns_f1", "NoAns_total", "best_exact", "best_exact_thresh",
                "best_f1", "best_f1_thresh", "null_score_diff_threshold"}
NBEST_KEYS = {"text", "probability", "start_log_prob", "end_log_prob"}


@pytest.fixture(scope="module")
def v2_run(tmp_path_factory, shared_data_dir, spm_model_file):
    """run_squad.py --version_2_with_negative: 3 training steps, then predict and score."""
    work = tmp_path_factory.mktemp("squad_v2_run")
    ids = write_subset(shared_data_dir / V2_SOURCE, work / "questions.json", 8)
    write_tiny_config(work / "config.json")
    out = work / "out"
    command = [
        sys.executable, str(REPO_ROOT / "run_squad.py"), "--version_2_with_negative",
        f"--albert_config_file={work / 'config.json'}", f"--spm_model_file={spm_model_file}",
        f"--train_file={work / 'questions.json'}", f"--predict_file={work / 'questions.json'}",
        f"--output_dir={out}", "--do_train", "--do_predict", "--train_batch_size=4",
        "--predict_batch_size=8", "--train_step=3", "--save_checkpoints_steps=3",
        "--iterations_per_loop=3", "--start_n_top=3", "--end_n_top=2", "--n_best_size=5",
        "--learning_rate=1e-3", *(f"--{k}={v}" for k, v in SEQ.items()),
        "--vocab_file=unused", "--nouse_tpu"]  # official flags, accepted
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(command, cwd=str(REPO_ROOT), env=env, capture_output=True, text=True,
                          timeout=400)
    assert done.returncode == 0, done.stderr[-4000:]
    return {"work": work, "out": out, "ids": ids, "stdout": done.stdout}


def test_v2_run_writes_the_official_files(v2_run):
    out, ids = v2_run["out"], v2_run["ids"]
    predictions = read_json(out / "predictions.json")
    assert list(predictions) == ids
    assert all(isinstance(text, str) for text in predictions.values())
    null_odds = read_json(out / "null_odds.json")
    assert list(null_odds) == ids and all(isinstance(v, float) for v in null_odds.values())
    nbest = read_json(out / "nbest_predictions.json")
    assert list(nbest) == ids
    for entries in nbest.values():
        assert 1 <= len(entries) <= 5 and all(set(e) == NBEST_KEYS for e in entries)
    results = read_json(out / "eval_results.json")
    assert set(results) == V2_EVAL_KEYS
    assert results["total"] == 8
    assert results["HasAns_total"] + results["NoAns_total"] == 8
    assert "SQuAD v2.0 eval: exact" in v2_run["stdout"]


def test_v2_run_saves_an_official_checkpoint_with_its_config(v2_run, tmp_path):
    out = v2_run["out"]
    assert read_json(out / "albert_config.json") == read_json(v2_run["work"] / "config.json")
    state = (out / "checkpoint").read_text()
    assert 'model_checkpoint_path: "model.ckpt-3"' in state
    names = list_official_variables(str(out / "model.ckpt-3"))
    for name in ("bert/embeddings/word_embeddings", "bert/pooler/dense/kernel",
                 "start_logits/dense/kernel", "end_logits/LayerNorm/gamma",
                 "answer_class/dense_1/kernel"):
        assert name in names, name
    assert "answer_class/dense_1/bias" not in names   # official: no bias
    # Every checkpoint was scored; the best (here the only) one is kept as official.
    assert read_json(out / "best_eval.json")["global_step"] == 3
    assert (out / "model.ckpt-best.index").exists()


def test_predict_only_on_new_data_reuses_the_saved_model(v2_run, tmp_path, spm_model_file):
    new_data = tmp_path / "new.json"
    ids = write_subset(pathlib.Path(v2_run["work"]) / "questions.json", new_data, 8,
                       unlabelled=True)
    out = tmp_path / "predict"
    result = run_squad(SquadParams(
        albert_config_file=str(v2_run["work"] / "config.json"), spm_model_file=spm_model_file,
        output_dir=str(out), version_2_with_negative=True,
        init_checkpoint=str(v2_run["out"]), predict_file=str(new_data), do_predict=True,
        predict_batch_size=3, start_n_top=3, end_n_top=2, n_best_size=5, **SEQ))
    assert result["predict"] is None and result["train"] is None   # nothing to score
    assert list(read_json(out / "predictions.json")) == ids
    assert list(read_json(out / "null_odds.json")) == ids
    assert not (out / "eval_results.json").exists()
    # Same weights, same windows: the n-best lists of the trained run come back.
    got, want = read_json(out / "nbest_predictions.json"), read_json(
        v2_run["out"] / "nbest_predictions.json")
    for qid in ids:
        assert [e["text"] for e in got[qid]] == [e["text"] for e in want[qid]], qid
        np.testing.assert_allclose([e["probability"] for e in got[qid]],
                                   [e["probability"] for e in want[qid]], atol=1e-5)
    np.testing.assert_allclose([read_json(out / "null_odds.json")[q] for q in ids],
                               [read_json(v2_run["out"] / "null_odds.json")[q] for q in ids],
                               atol=1e-5)


def test_predict_only_in_the_training_output_dir_ignores_init_checkpoint(v2_run, tmp_path,
                                                                          spm_model_file):
    """As official run_squad_v2: a second call with --do_predict alone scores the
    fine-tuned checkpoints in output_dir (gold answers at hand), keeps the best and
    predicts with it; --init_checkpoint (here one that does not exist) seeds training only."""
    import shutil
    out = tmp_path / "out"
    shutil.copytree(v2_run["out"], out)
    # As a train-only run leaves it: no predictions, no scores, no best.
    for name in ("predictions.json", "nbest_predictions.json", "null_odds.json",
                 "eval_history.jsonl", "best_eval.json"):
        (out / name).unlink()
    for path in out.glob("model.ckpt-best.*"):
        path.unlink()
    params = SquadParams(
        albert_config_file=str(v2_run["work"] / "config.json"), spm_model_file=spm_model_file,
        output_dir=str(out), version_2_with_negative=True,
        init_checkpoint=str(tmp_path / "pretrained" / "model.ckpt-1"),
        predict_file=str(v2_run["work"] / "questions.json"), do_predict=True,
        predict_batch_size=3, start_n_top=3, end_n_top=2, n_best_size=5, **SEQ)
    result = run_squad(params)
    history = [json.loads(x) for x in (out / "eval_history.jsonl").read_text().splitlines()]
    assert [h["global_step"] for h in history] == [3]   # ckpt-3 in both formats: once
    assert history[0]["checkpoint"].endswith("model.ckpt-3")
    assert result["best"] == read_json(out / "best_eval.json") == {
        "f1": history[0]["f1"], "global_step": 3}
    assert (out / "model.ckpt-best.index").exists()
    assert result["predict"]["f1"] == pytest.approx(read_json(v2_run["out"] /
                                                              "eval_results.json")["f1"])
    got, want = read_json(out / "null_odds.json"), read_json(v2_run["out"] / "null_odds.json")
    assert list(got) == list(want)
    np.testing.assert_allclose(list(got.values()), list(want.values()), atol=1e-5)
    run_squad(params)  # nothing new to score
    assert len((out / "eval_history.jsonl").read_text().splitlines()) == 1


def test_v1_train_and_predict_in_process(tmp_path, shared_data_dir, spm_model_file):
    ids = write_subset(shared_data_dir / V1_SOURCE, tmp_path / "q.json", 6)
    write_tiny_config(tmp_path / "config.json")
    out = tmp_path / "out"
    result = run_squad(SquadParams(
        albert_config_file=str(tmp_path / "config.json"), spm_model_file=spm_model_file,
        output_dir=str(out), train_file=str(tmp_path / "q.json"),
        predict_file=str(tmp_path / "q.json"), do_train=True, do_predict=True,
        train_batch_size=4, predict_batch_size=4, train_step=2, save_checkpoints_steps=2,
        iterations_per_loop=2, runtime=RuntimeParams(seed=3), **SEQ))
    assert result["num_train_steps"] == 2 and result["train"]["step"] == 2
    assert set(result["predict"]) == {"exact_match", "f1"}
    assert read_json(out / "eval_results.json") == result["predict"]
    assert list(read_json(out / "predictions.json")) == ids
    assert not (out / "null_odds.json").exists()
    names = list_official_variables(str(out / "model.ckpt-2"))
    assert names["cls/squad/output_weights"] == (2, 16)


def test_tfds_source_predicts(v2_run, tmp_path, spm_model_file):
    tfds = pytest.importorskip("tensorflow_datasets")
    out = tmp_path / "tfds"
    with tfds.testing.mock_data(num_examples=4):
        result = run_squad(SquadParams(
            albert_config_file=str(v2_run["work"] / "config.json"),
            spm_model_file=spm_model_file, output_dir=str(out), version_2_with_negative=True,
            init_checkpoint=str(v2_run["out"]), tfds_name="squad/v2.0", do_predict=True,
            start_n_top=3, end_n_top=2, **SEQ))
    assert len(read_json(out / "predictions.json")) == 4
    if result["predict"] is not None:
        assert result["predict"]["total"] == 4


# ----------------------------------------------------------------- bad input

def params(tmp_path, spm_model_file, **overrides):
    config = tmp_path / "config.json"
    if not config.exists():
        write_tiny_config(config)
    values = dict(albert_config_file=str(config), spm_model_file=spm_model_file,
                  output_dir=str(tmp_path / "out"), **SEQ)
    values.update(overrides)
    return SquadParams(**values)


def test_missing_predict_file_is_named(tmp_path, spm_model_file):
    missing = tmp_path / "nowhere" / "dev-v2.0.json"
    with pytest.raises(FileNotFoundError,
                       match=re.escape(f"--predict_file not found: {missing}")):
        run_squad(params(tmp_path, spm_model_file, do_predict=True, predict_file=str(missing),
                         init_checkpoint="unused"))


@pytest.mark.parametrize("overrides, message", [
    (dict(), "at least one of --do_train and --do_predict"),
    (dict(do_predict=True), "--do_predict needs --predict_file"),
    (dict(do_train=True), "--do_train needs --train_file"),
    (dict(do_predict=True, tfds_name="squad/v2.0"), "does not match"),
    (dict(do_predict=True, predict_file="x", max_query_length=93), "max_query_length"),
])
def test_bad_settings_fail_before_any_work(tmp_path, spm_model_file, overrides, message):
    with pytest.raises(ValueError, match=message):
        run_squad(params(tmp_path, spm_model_file, **overrides))


def test_predict_only_needs_a_model(tmp_path, shared_data_dir, spm_model_file):
    write_subset(shared_data_dir / V2_SOURCE, tmp_path / "q.json", 2)
    with pytest.raises(ValueError, match="--init_checkpoint"):
        run_squad(params(tmp_path, spm_model_file, version_2_with_negative=True,
                         do_predict=True, predict_file=str(tmp_path / "q.json")))


def test_v1_refuses_unanswerable_training_questions(tmp_path, shared_data_dir, spm_model_file):
    write_subset(shared_data_dir / V2_SOURCE, tmp_path / "q.json", 6)
    with pytest.raises(ValueError, match="is_impossible.*--version_2_with_negative"):
        run_squad(params(tmp_path, spm_model_file, do_train=True,
                         train_file=str(tmp_path / "q.json")))


def test_sequence_longer_than_the_model_is_refused(tmp_path, spm_model_file):
    write_tiny_config(tmp_path / "config.json", max_position_embeddings=64)
    with pytest.raises(ValueError, match="max_position_embeddings 64"):
        run_squad(params(tmp_path, spm_model_file, do_predict=True, predict_file=str(
            tmp_path / "config.json"), init_checkpoint="unused"))


def test_v2_run_writes_eval_curves_at_the_scored_step(v2_run):
    from tensorboard.backend.event_processing import event_accumulator
    import tensorflow as tf

    results = read_json(v2_run["out"] / "eval_results.json")
    events = event_accumulator.EventAccumulator(str(v2_run["out"] / "summaries" / "eval"))
    events.Reload()
    for tag in ("exact", "f1", "HasAns_f1", "NoAns_exact", "best_f1", "best_f1_thresh"):
        values = {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)}
        assert values == {3: pytest.approx(results[tag], rel=1e-6)}, tag


def test_v2_run_writes_the_official_eval_log(v2_run):
    """run_squad_v2.py's eval_results.txt: the scored keys, the save of the best, the best
    F1 and a rule, per scored checkpoint."""
    results = read_json(v2_run["out"] / "eval_results.json")
    lines = (v2_run["out"] / "eval_results.txt").read_text().splitlines()
    assert lines[:len(results)] == [f"{k} = {results[k]}" for k in sorted(results)]
    assert lines[len(results):] == [
        f"saved step 3 to {v2_run['out'] / 'model.ckpt-best'}",
        f"best f1 = {results['f1']}", "=" * 50]
