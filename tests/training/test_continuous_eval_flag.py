"""--do_continuous_eval: an evaluator beside a training run on one output_dir.

A live trainer is played by a `sleep` process named in the lock files (the lock only
asks whether the pid runs on this host)."""

import csv
import json
import os
import socket
import subprocess
import sys
import pathlib

import pytest

from albert_tf.run_lock import EVAL_LOCK_NAME, LOCK_NAME, OutputInUseError
from albert_tf.tasks.custom.reader import CustomDataParams
from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from finetune_test_helpers import write_config

REPO = pathlib.Path(__file__).resolve().parents[2]
ROWS = [("wonderful lovely great", "pos"), ("awful terrible dreadful", "neg")] * 4


@pytest.fixture
def live_process():
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()


def write_lock(path, pid, command):
    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "command": command,
                                "started": "2026-12-07T10:00:00+00:00"}) + "\n")


def test_an_evaluator_scores_the_checkpoint_then_times_out_beside_a_trainer(
        tmp_path, spm_model_file, live_process, capsys):
    data = tmp_path / "train.csv"
    with open(data, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["text", "label"]] + ROWS)
    out = tmp_path / "out"
    common = dict(task_name="custom", albert_config_file=write_config(tmp_path / "c.json"),
                  spm_model_file=spm_model_file, output_dir=str(out), max_seq_length=16,
                  eval_batch_size=8, warmup_step=0, save_checkpoints_steps=2,
                  iterations_per_loop=2,
                  custom=CustomDataParams(train_file=str(data), eval_file=str(data),
                                          text_a_column="text", label_column="label"))
    run_classifier(ClassifierParams(do_train=True, train_step=2, train_batch_size=4, **common))
    assert (out / "model.ckpt-2.index").exists() and not (out / "best_eval.json").exists()

    # The training run goes on (its last step is 4) and holds output_dir.
    write_lock(out / LOCK_NAME, live_process.pid, "run_classifier.py --do_train")
    run_classifier(ClassifierParams(do_eval=True, do_continuous_eval=True, eval_timeout=1,
                                    train_step=4, **common))
    printed = capsys.readouterr().out
    assert "eval custom at step 2" in printed
    assert f"No new checkpoint in {out} for 1s: evaluation ends" in printed
    assert json.loads((out / "best_eval.json").read_text())["global_step"] == 2
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == live_process.pid  # untouched
    assert not (out / EVAL_LOCK_NAME).exists()  # released


def second_evaluator_setup(tmp_path, live_process):
    out = tmp_path / "out"
    out.mkdir()
    write_lock(out / EVAL_LOCK_NAME, live_process.pid,
               "run_classifier.py --do_eval --do_continuous_eval")
    holder = (f"the evaluation of {out} is in use by pid {live_process.pid} on "
              f"{socket.gethostname()} (command: run_classifier.py --do_eval "
              f"--do_continuous_eval, started 2026-12-07T10:00:00+00:00)")
    return out, holder, write_config(tmp_path / "c.json")


def test_a_second_evaluator_is_refused_naming_the_first(tmp_path, spm_model_file,
                                                        live_process):
    """Refused before any data is read (the files named here do not exist), and so is a
    run that evaluates as it trains: it would write the same evaluation files."""
    out, holder, config = second_evaluator_setup(tmp_path, live_process)
    common = dict(task_name="custom", albert_config_file=config,
                  spm_model_file=spm_model_file, output_dir=str(out), max_seq_length=16,
                  custom=CustomDataParams(train_file=str(tmp_path / "t.csv"),
                                          eval_file=str(tmp_path / "e.csv"),
                                          text_a_column="text", label_column="label"))
    for modes in (dict(do_eval=True, do_continuous_eval=True, eval_timeout=1),
                  dict(do_train=True, do_eval=True)):
        with pytest.raises(OutputInUseError) as refusal:
            run_classifier(ClassifierParams(**modes, **common))
        assert str(refusal.value).startswith(holder)
    assert json.loads((out / EVAL_LOCK_NAME).read_text())["pid"] == live_process.pid
    assert not (out / LOCK_NAME).exists()  # the training lock it took is given back


@pytest.mark.slow
def test_the_command_line_refuses_a_second_evaluator_in_one_line(tmp_path, spm_model_file,
                                                                 live_process):
    out, holder, config = second_evaluator_setup(tmp_path, live_process)
    command = [sys.executable, str(REPO / "run_classifier.py"), "--task_name=custom",
               f"--albert_config_file={config}", f"--spm_model_file={spm_model_file}",
               f"--output_dir={out}", f"--eval_file={tmp_path / 'missing.csv'}",
               "--text_a_column=text", "--label_column=label", "--max_seq_length=16",
               "--do_eval", "--do_continuous_eval", "--eval_timeout=1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode != 0
    assert holder in result.stderr.splitlines()[-1], result.stderr[-2000:]


def test_continuous_eval_is_refused_with_do_train_or_without_do_eval(tmp_path,
                                                                      spm_model_file):
    common = dict(task_name="custom", albert_config_file=write_config(tmp_path / "c.json"),
                  spm_model_file=spm_model_file, output_dir=str(tmp_path / "out"),
                  do_continuous_eval=True,
                  custom=CustomDataParams(train_file="t.csv", eval_file="e.csv",
                                          predict_file="p.csv", text_a_column="text",
                                          label_column="label"))
    with pytest.raises(ValueError, match="start that run with --do_train and this one "
                                         "without it"):
        run_classifier(ClassifierParams(do_train=True, do_eval=True, **common))
    with pytest.raises(ValueError, match="--do_continuous_eval needs --do_eval"):
        run_classifier(ClassifierParams(do_predict=True, **common))
    assert not (tmp_path / "out").exists()
