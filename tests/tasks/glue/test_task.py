"""run_classifier: a tiny model learns a real GLUE sample; outputs, reuse, bad input."""

import json
import logging
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from albert_tf.training.runtime import RuntimeParams
from finetune_test_helpers import glue_sample, write_config

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    return write_config(tmp_path_factory.mktemp("config") / "albert_config.json")


@pytest.fixture(scope="module")
def sst2_run(tmp_path_factory, shared_data_dir, spm_model_file, tiny_config):
    """64 real SST-2 training sentences (dev = the same rows), 200 steps from scratch."""
    root = tmp_path_factory.mktemp("sst2")
    data_dir = glue_sample(shared_data_dir / "glue_data", root / "glue", "SST-2",
                           train_rows=64, test_rows=10)
    params = ClassifierParams(
        task_name="SST-2", data_dir=data_dir, albert_config_file=tiny_config,
        spm_model_file=spm_model_file, output_dir=str(root / "out"), do_train=True,
        do_eval=True, do_predict=True, max_seq_length=64, train_batch_size=16,
        eval_batch_size=24, predict_batch_size=4, learning_rate=3e-3, train_step=200,
        warmup_step=20, save_checkpoints_steps=100, iterations_per_loop=100,
        dropout_prob=0.0)
    return params, run_classifier(params)


def read_tsv(path):
    return [line.split("\t") for line in pathlib.Path(path).read_text().splitlines()]


def test_tiny_model_fits_a_real_sst2_sample(sst2_run):
    params, results = sst2_run
    out = pathlib.Path(params.output_dir)
    evaluation = json.loads((out / "eval_results.json").read_text())
    # 36 of the 64 rows are negative: always answering "0" scores 0.5625.
    print("SST-2 sample fit:", evaluation)
    assert evaluation["accuracy"] >= 0.9
    assert evaluation["num_examples"] == 64
    assert set(evaluation) == {"accuracy", "num_examples", "loss", "global_step"}
    assert evaluation["loss"] < 0.5  # ln 2 = 0.69 is a coin flip
    assert results["eval"] == pytest.approx(evaluation)
    # Every evaluation is logged; the best one is the kept checkpoint.
    history = [json.loads(line) for line in (out / "eval_history.jsonl").read_text().splitlines()]
    assert [h["global_step"] for h in history] == [100, 200]
    assert evaluation["accuracy"] == max(h["accuracy"] for h in history)
    for name in ("model.ckpt-200.index", "model.ckpt-best.index", "checkpoint",
                 "albert_config.json", "sst-2_train.tf_record", "sst-2_eval.tf_record"):
        assert (out / name).exists(), name


def test_predictions_are_a_glue_submission(sst2_run):
    params, results = sst2_run
    out = pathlib.Path(params.output_dir)
    rows = read_tsv(out / "SST-2.tsv")
    assert rows[0] == ["index", "prediction"]
    # The test file's `index` column, in file order; labels as strings.
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(10)]
    assert {r[1] for r in rows[1:]} <= {"0", "1"}
    probabilities = np.array(read_tsv(out / "test_results.tsv"), dtype=np.float64)
    assert probabilities.shape == (10, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert [str(int(p)) for p in probabilities.argmax(axis=1)] == [r[1] for r in rows[1:]]
    assert results["predict"]["num_examples"] == 10


def test_fine_tuned_output_dir_is_a_valid_init_checkpoint(sst2_run, tmp_path):
    params, _ = sst2_run
    best = json.loads((pathlib.Path(params.output_dir) / "eval_results.json").read_text())
    again = ClassifierParams(**dict(vars(params), output_dir=str(tmp_path / "eval_only"),
                                    init_checkpoint=params.output_dir, do_train=False,
                                    do_predict=False, eval_batch_size=7))
    evaluation = run_classifier(again)["eval"]
    # A directory means its model.ckpt-best (not the final model.ckpt-200 that its
    # `checkpoint` state file names), as for every command.
    out = pathlib.Path(params.output_dir)
    best_step = json.loads((out / "best_eval.json").read_text())["global_step"]
    scored = {entry["global_step"]: entry for entry in map(
        json.loads, (out / "eval_history.jsonl").read_text().splitlines())}
    assert evaluation["accuracy"] == scored[best_step]["accuracy"]
    assert evaluation["loss"] == pytest.approx(scored[best_step]["loss"], abs=1e-5)
    assert evaluation["global_step"] == best_step
    assert best["num_examples"] == evaluation["num_examples"] == 64


def test_trimmed_padding_changes_no_eval_or_test_output(sst2_run, tmp_path):
    """Eval and predict at the full max_seq_length (the official shapes) against the
    default, where every batch is cut to its longest sentence."""
    from unittest import mock
    from albert_tf.data import padding

    params, _ = sst2_run
    outputs = {}
    for trim in (False, True):
        out = tmp_path / f"trim_{trim}"
        again = ClassifierParams(**dict(vars(params), output_dir=str(out), do_train=False,
                                        init_checkpoint=params.output_dir, trim_padding=trim))
        with mock.patch.object(padding, "trim_padding", wraps=padding.trim_padding) as spy:
            evaluation = run_classifier(again)["eval"]
        assert spy.called == trim
        outputs[trim] = (evaluation, np.array(read_tsv(out / "test_results.tsv"), np.float64))
    (full_eval, full_probs), (cut_eval, cut_probs) = outputs[False], outputs[True]
    assert cut_eval["accuracy"] == full_eval["accuracy"]
    assert cut_eval["loss"] == pytest.approx(full_eval["loss"], abs=1e-6)
    np.testing.assert_allclose(cut_probs, full_probs, atol=1e-6)


def test_sts_b_regression_from_a_classifier_checkpoint(sst2_run, shared_data_dir,
                                                       spm_model_file, tiny_config, tmp_path,
                                                       caplog):
    sst2_params, _ = sst2_run
    data_dir = glue_sample(shared_data_dir / "glue_data", tmp_path / "glue", "STS-B",
                           train_rows=24, test_rows=6)
    params = ClassifierParams(
        task_name="sts-b", data_dir=data_dir, albert_config_file=tiny_config,
        spm_model_file=spm_model_file, output_dir=str(tmp_path / "out"),
        init_checkpoint=sst2_params.output_dir, do_train=True, do_eval=True, do_predict=True,
        max_seq_length=64, train_batch_size=8, eval_batch_size=8, predict_batch_size=8,
        learning_rate=1e-3, train_step=4, save_checkpoints_steps=4, iterations_per_loop=4)
    with caplog.at_level(logging.WARNING):
        results = run_classifier(params)
    # SST-2's [2, 32] head cannot serve STS-B's single score.
    assert "re-initialising the head" in caplog.text
    evaluation = json.loads((tmp_path / "out" / "eval_results.json").read_text())
    assert set(evaluation) == {"pearson", "spearman", "num_examples", "loss", "global_step"}
    assert evaluation["num_examples"] == 24
    assert -1.0 <= evaluation["pearson"] <= 1.0
    rows = read_tsv(tmp_path / "out" / "STS-B.tsv")
    assert rows[0] == ["index", "prediction"] and len(rows) == 7
    scores = [float(r[1]) for r in rows[1:]]
    probabilities = np.array(read_tsv(tmp_path / "out" / "test_results.tsv"), np.float64)
    assert probabilities.shape == (6, 1)
    np.testing.assert_allclose(probabilities[:, 0], scores, rtol=1e-6)
    assert results["train"]["step"] == 4


def test_entry_point_on_real_mrpc_rows_in_bfloat16(tmp_path, shared_data_dir, spm_model_file,
                                                   tiny_config):
    data_dir = glue_sample(shared_data_dir / "glue_data", tmp_path / "glue", "MRPC",
                           train_rows=16, test_rows=5, dev_same_as_train=False, dev_rows=12)
    out = tmp_path / "out"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(REPO / "run_classifier.py"), "--task_name=MRPC",
         f"--data_dir={data_dir}", f"--albert_config_file={tiny_config}",
         f"--spm_model_file={spm_model_file}", f"--output_dir={out}",
         f"--cached_dir={tmp_path / 'cache'}", "--do_train", "--do_eval", "--do_predict",
         "--max_seq_length=64", "--train_batch_size=8", "--eval_batch_size=5",
         "--train_step=2", "--warmup_step=1", "--save_checkpoints_steps=2",
         "--iterations_per_loop=2", "--hidden_dropout_prob=0.1",
         "--attention_probs_dropout_prob=0.1", "--dropout_prob=0.1",
         "--mixed_precision=bfloat16",
         # Official flags of run_glue.sh / the TPU set-up, accepted as official.
         "--vocab_file=./data/vocab.txt", "--albert_hub_module_handle=", "--nouse_tpu",
         "--num_tpu_cores=8"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    evaluation = json.loads((out / "eval_results.json").read_text())
    assert set(evaluation) == {"accuracy", "f1", "num_examples", "loss", "global_step"}
    assert evaluation["num_examples"] == 12
    rows = read_tsv(out / "MRPC.tsv")
    assert rows[0] == ["index", "prediction"] and len(rows) == 6
    assert {r[1] for r in rows[1:]} <= {"0", "1"}
    assert (tmp_path / "cache" / "mrpc_train.tf_record").exists()
    assert (out / "model.ckpt-2.index").exists()


def test_tfds_source(tmp_path, spm_model_file, tiny_config):
    tfds = pytest.importorskip("tensorflow_datasets")
    params = ClassifierParams(
        task_name="cola", use_tfds=True, albert_config_file=tiny_config,
        spm_model_file=spm_model_file, output_dir=str(tmp_path / "out"), do_train=True,
        do_eval=True, max_seq_length=32, train_batch_size=4, eval_batch_size=4, train_step=2,
        save_checkpoints_steps=2, iterations_per_loop=2)
    # Offline there is no real glue/cola: tfds' mock data (random text, real structure).
    with tfds.testing.mock_data(num_examples=6):
        results = run_classifier(params)
    evaluation = json.loads((tmp_path / "out" / "eval_results.json").read_text())
    assert set(evaluation) == {"accuracy", "matthews_corrcoef", "num_examples", "loss",
                               "global_step"}
    assert evaluation["num_examples"] == 6 and results["train"]["step"] == 2


def base_params(tmp_path, spm_model_file, tiny_config, **overrides):
    settings = dict(task_name="rte", data_dir=str(tmp_path / "glue"),
                    albert_config_file=tiny_config, spm_model_file=spm_model_file,
                    output_dir=str(tmp_path / "out"), do_train=True, max_seq_length=64,
                    runtime=RuntimeParams())
    settings.update(overrides)
    return ClassifierParams(**settings)


def test_unknown_task_lists_the_valid_ones(tmp_path, spm_model_file, tiny_config):
    with pytest.raises(ValueError, match=r"unknown GLUE task 'sst2'; expected one of "
                                         r"\['ax', 'cola', 'mismnli', 'mnli', 'mrpc', 'qnli', "
                                         r"'qqp', 'rte', 'sst-2', 'sts-b', 'wnli'\]"):
        run_classifier(base_params(tmp_path, spm_model_file, tiny_config, task_name="sst2"))


def test_bad_settings_fail_before_training(tmp_path, spm_model_file, tiny_config):
    with pytest.raises(ValueError, match="at least one of do_train, do_eval or do_predict"):
        run_classifier(base_params(tmp_path, spm_model_file, tiny_config, do_train=False))
    with pytest.raises(ValueError, match="ax .* has only a test set"):
        run_classifier(base_params(tmp_path, spm_model_file, tiny_config, task_name="AX"))
    with pytest.raises(ValueError, match="max_seq_length 512 exceeds max_position_embeddings "
                                         "128"):
        run_classifier(base_params(tmp_path, spm_model_file, tiny_config, max_seq_length=512,
                                   data_dir=str(tmp_path)))
    with pytest.raises(ValueError, match=r"--warmup_step \(50\) must be in \[0, train_step = "
                                         r"10\]"):
        run_classifier(base_params(tmp_path, spm_model_file, tiny_config, train_step=10,
                                   warmup_step=50))


def test_glue_row_with_missing_columns_names_file_and_line(tmp_path, shared_data_dir,
                                                           spm_model_file, tiny_config):
    data_dir = glue_sample(shared_data_dir / "glue_data", tmp_path / "glue", "RTE",
                           train_rows=5, test_rows=2)
    train = pathlib.Path(data_dir) / "RTE" / "train.tsv"
    lines = train.read_text().splitlines()
    lines[3] = "\t".join(lines[3].split("\t")[:2])  # drop sentence2 and the label
    train.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{train}:4: expected at least 4 tab-separated "
                                         r"columns for rte train, got 2"):
        run_classifier(base_params(tmp_path, spm_model_file, tiny_config))
    assert not (tmp_path / "out" / "rte_train.tf_record").exists()


MIRRORED_TRIM_SCRIPT = """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
    from albert_tf.training.runtime import RuntimeParams
    data_dir, config, spm, out = sys.argv[1:5]
    report = {}
    for strategy, trim in (("one_device", False), ("mirrored", True)):
        params = ClassifierParams(
            task_name="SST-2", data_dir=data_dir, albert_config_file=config,
            spm_model_file=spm, output_dir=out + "/" + strategy, do_train=True,
            do_eval=True, do_predict=True, max_seq_length=64, train_batch_size=8,
            eval_batch_size=6, predict_batch_size=4, learning_rate=1e-3, train_step=3,
            save_checkpoints_steps=3, iterations_per_loop=3, dropout_prob=0.0,
            trim_padding=trim, runtime=RuntimeParams(distribution_strategy=strategy))
        results = run_classifier(params)
        probabilities = np.loadtxt(out + "/" + strategy + "/test_results.tsv")
        report[strategy] = {"loss": results["eval"]["loss"],
                            "train_loss": results["train"]["loss"],
                            "probabilities": probabilities.tolist()}
    print(json.dumps(report))
"""


def test_mirrored_trimmed_batches_match_one_device_full_batches(tmp_path, shared_data_dir,
                                                                 spm_model_file, tiny_config):
    """Two replicas, each cutting its own half of the batch to its own length, train and
    evaluate like one device on the official fixed-length batches."""
    data_dir = glue_sample(shared_data_dir / "glue_data", tmp_path / "glue", "SST-2",
                           train_rows=24, test_rows=8)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get(
        "PYTHONPATH", "")]), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(MIRRORED_TRIM_SCRIPT), data_dir, tiny_config,
         spm_model_file, str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    one, two = report["one_device"], report["mirrored"]
    assert two["train_loss"] == pytest.approx(one["train_loss"], abs=1e-5)
    assert two["loss"] == pytest.approx(one["loss"], abs=1e-5)
    np.testing.assert_allclose(two["probabilities"], one["probabilities"], atol=1e-5)


def test_official_two_call_workflow_evaluates_every_checkpoint(sst2_run, tmp_path):
    """run_glue.sh trains (--do_train --nodo_eval), then evaluates and predicts in a
    second call that still passes the pretrained --init_checkpoint: every checkpoint of
    the first call is scored, the best kept as model.ckpt-best and used for the test set."""
    params, _ = sst2_run
    out = tmp_path / "two_calls"
    train = ClassifierParams(**dict(vars(params), output_dir=str(out), do_eval=False,
                                    do_predict=False, train_step=40,
                                    save_checkpoints_steps=20, iterations_per_loop=20,
                                    learning_rate=1e-3, warmup_step=0))
    run_classifier(train)
    assert not (out / "eval_history.jsonl").exists()
    # The "pretrained" init checkpoint: another model, which must not be what is scored.
    second = ClassifierParams(**dict(vars(train), do_train=False, do_eval=True,
                                     do_predict=True, init_checkpoint=params.output_dir))
    results = run_classifier(second)
    history = [json.loads(line) for line in (out / "eval_history.jsonl").read_text().splitlines()]
    assert [h["global_step"] for h in history] == [20, 40]
    assert history[0]["checkpoint"].endswith(os.path.join("training_checkpoints", "ckpt-20"))
    assert history[1]["checkpoint"].endswith("model.ckpt-40")
    best = max(history, key=lambda h: h["accuracy"])  # first of equals, as strict >
    assert results["eval"]["global_step"] == best["global_step"]
    assert json.loads((out / "best_eval.json").read_text())["accuracy"] == best["accuracy"]
    # Each score is that checkpoint's: step 40 scored on its own in a fresh directory.
    alone = run_classifier(ClassifierParams(**dict(
        vars(second), output_dir=str(tmp_path / "alone"), do_predict=False,
        init_checkpoint=str(out / "model.ckpt-40"))))["eval"]
    assert alone["accuracy"] == history[1]["accuracy"]
    assert alone["loss"] == pytest.approx(history[1]["loss"], abs=1e-6)
    # Official logs: eval_results.txt blocks and best_trial.txt.
    blocks = (out / "eval_results.txt").read_text().split("=" * 50 + "\n")
    assert len(blocks) == 3 and blocks[2] == ""
    assert f"eval_accuracy = {history[1]['accuracy']}" in blocks[1].splitlines()
    assert "global_step = 40" in blocks[1].splitlines()
    assert blocks[1].splitlines()[-1] == f"best = {best['accuracy']}"
    assert (out / "best_trial.txt").read_text() == (
        f"40:{best['global_step']}:{best['accuracy']}")
    # The test predictions come from model.ckpt-best.
    predicted = np.array(read_tsv(out / "test_results.tsv"), np.float64)
    run_classifier(ClassifierParams(**dict(
        vars(second), output_dir=str(tmp_path / "from_best"), do_eval=False,
        init_checkpoint=str(out / "model.ckpt-best"))))
    np.testing.assert_allclose(
        predicted, np.array(read_tsv(tmp_path / "from_best" / "test_results.tsv"),
                            np.float64), atol=1e-6)
    # A third call finds nothing new to score.
    again = run_classifier(ClassifierParams(**dict(vars(second), do_predict=False)))
    assert len((out / "eval_history.jsonl").read_text().splitlines()) == 2
    assert again["eval"]["global_step"] == best["global_step"]


def test_scan_logs_an_evaluation_only_after_the_best_has_seen_it(sst2_run, tmp_path):
    """A kill during a long checkpoint scan never leaves a scored step that the best
    checkpoint did not consider: eval_history.jsonl (what a restarted scan skips) is
    written after model.ckpt-best / best_eval.json."""
    import shutil
    from unittest import mock
    from albert_tf.training import best_checkpoint

    params, _ = sst2_run
    out = tmp_path / "scan"
    shutil.copytree(params.output_dir, out / "source")
    # A train-only output dir: the trainer's checkpoints and the final official one.
    (out / "run").mkdir()
    shutil.copytree(out / "source" / "training_checkpoints", out / "run" / "training_checkpoints")
    for f in (out / "source").glob("model.ckpt-200.*"):
        shutil.copy(f, out / "run" / f.name)
    scan = ClassifierParams(**dict(vars(params), output_dir=str(out / "run"), do_train=False,
                                   do_eval=True, do_predict=False, init_checkpoint=None))
    seen = []
    real_update = best_checkpoint.BestCheckpoint.update

    def update_then_die(self, model, step, results, checkpoint=None, write=True):
        history = pathlib.Path(self.output_dir) / "eval_history.jsonl"
        seen.append(history.exists() and str(step) in history.read_text())
        real_update(self, model, step, results, checkpoint, write)
        if step == 100:
            raise KeyboardInterrupt("killed after the first checkpoint")

    with mock.patch.object(best_checkpoint.BestCheckpoint, "update", update_then_die):
        with pytest.raises(KeyboardInterrupt):
            run_classifier(scan)
    assert seen == [False]  # not yet in the history when the best looked at it
    history = [json.loads(x) for x in (out / "run" / "eval_history.jsonl").read_text().splitlines()]
    assert [h["global_step"] for h in history] == [100]
    resumed = run_classifier(scan)["eval"]   # the restart scores only step 200
    history = [json.loads(x) for x in (out / "run" / "eval_history.jsonl").read_text().splitlines()]
    assert [h["global_step"] for h in history] == [100, 200]
    assert resumed["accuracy"] == max(h["accuracy"] for h in history)


def test_official_submission_file_and_eval_curves(sst2_run):
    """GLUE's official name (submit_results.tsv) beside ours, and every evaluation in
    TensorBoard at the step of the checkpoint it scored."""
    import tensorflow as tf
    from tensorboard.backend.event_processing import event_accumulator

    params, _ = sst2_run
    out = pathlib.Path(params.output_dir)
    assert (out / "submit_results.tsv").read_bytes() == (out / "SST-2.tsv").read_bytes()
    history = [json.loads(line) for line in (out / "eval_history.jsonl").read_text().splitlines()]
    events = event_accumulator.EventAccumulator(str(out / "summaries" / "eval"))
    events.Reload()
    for tag in ("accuracy", "loss"):
        curve = {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)}
        assert curve == {h["global_step"]: pytest.approx(h[tag], rel=1e-6) for h in history}
