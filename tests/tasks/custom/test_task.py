"""run_classifier --task_name=custom: the user's own CSV through the one run loop and CLI."""

import csv
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from albert_tf.tasks.custom.reader import CustomDataParams
from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from custom_test_helpers import SENTIMENT, sst2_rows, write_reviews_csv

REPO = pathlib.Path(__file__).resolve().parents[3]
from finetune_test_helpers import write_config  # noqa: E402


def _read_predictions(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter="\t"))


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory, shared_data_dir, spm_model_file):
    """64 real SST-2 rows as `review,sentiment` with negative/positive labels; the same
    file is evaluated and predicted, so the test can score predictions.tsv itself."""
    root = tmp_path_factory.mktemp("custom")
    rows = sst2_rows(shared_data_dir, "train", 64)
    data = write_reviews_csv(root / "reviews.csv", rows)
    params = ClassifierParams(
        task_name="custom", albert_config_file=write_config(root / "albert_config.json"),
        spm_model_file=spm_model_file, output_dir=str(root / "out"), do_train=True,
        do_eval=True, do_predict=True, max_seq_length=64, train_batch_size=16,
        eval_batch_size=24, predict_batch_size=8, learning_rate=3e-3, train_step=200,
        warmup_step=20, save_checkpoints_steps=100, iterations_per_loop=100,
        dropout_prob=0.0,
        custom=CustomDataParams(train_file=data, eval_file=data, predict_file=data,
                                text_a_column="review", label_column="sentiment"))
    return params, rows, run_classifier(params)


def test_custom_csv_trains_evaluates_and_predicts(custom_run):
    params, rows, results = custom_run
    out = pathlib.Path(params.output_dir)
    # Labels: the sorted distinct training labels, saved for prediction runs.
    assert (out / "label_list.txt").read_text().split() == ["negative", "positive"]
    evaluation = json.loads((out / "eval_results.json").read_text())
    assert {"accuracy", "f1", "matthews_corrcoef", "loss", "num_examples"} <= set(evaluation)
    assert evaluation["num_examples"] == 64
    # predictions.tsv: header, then one row per input row in file order.
    table = _read_predictions(out / "predictions.tsv")
    header, body = table[0], table[1:]
    assert header == ["id", "label", "p(negative)", "p(positive)"]
    assert [r[0] for r in body] == [str(i) for i in range(64)]
    probabilities = np.array([[float(r[2]), float(r[3])] for r in body])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert [r[1] for r in body] == [["negative", "positive"][i]
                                    for i in probabilities.argmax(axis=1)]
    # The predictions scored here against the CSV agree with the run's evaluation of
    # the best checkpoint (the one prediction used).
    gold = [SENTIMENT[label] for _, label in rows]
    accuracy = np.mean([r[1] == g for r, g in zip(body, gold)])
    assert accuracy == pytest.approx(evaluation["accuracy"])
    assert accuracy >= 0.9  # 36 of 64 are negative: the majority class scores 0.5625
    assert not (out / "submit_results.tsv").exists()


def test_custom_cli_predicts_with_the_saved_label_list(custom_run, tmp_path, spm_model_file):
    """A second call (predict only, a file without the label column) through the entry
    point: the generated flags, label_list.txt reused, the fine-tuned model used."""
    params, rows, _ = custom_run
    new = tmp_path / "new.csv"
    with open(new, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review"])
        for sentence, _ in rows[:5]:
            writer.writerow([sentence])
    result = subprocess.run(
        [sys.executable, str(REPO / "run_classifier.py"), "--task_name=custom",
         f"--predict_file={new}", "--text_a_column=review", "--do_predict",
         f"--albert_config_file={params.albert_config_file}",
         f"--spm_model_file={spm_model_file}", f"--output_dir={params.output_dir}",
         "--max_seq_length=64", "--predict_batch_size=8"],
        capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    table = _read_predictions(pathlib.Path(params.output_dir) / "predictions.tsv")
    assert len(table) == 6
    assert [r[1] for r in table[1:]] == [SENTIMENT[label] for _, label in rows[:5]]


def test_custom_bad_settings_are_refused(tmp_path, spm_model_file):
    base = dict(task_name="custom", albert_config_file=write_config(tmp_path / "c.json"),
                spm_model_file=spm_model_file, output_dir=str(tmp_path / "out"))
    with pytest.raises(ValueError, match="--do_eval needs --eval_file"):
        run_classifier(ClassifierParams(
            do_train=True, do_eval=True, **base,
            custom=CustomDataParams(train_file=str(tmp_path / "t.csv"),
                                    text_a_column="a", label_column="b")))
    with pytest.raises(ValueError, match="--text_a_column is required"):
        run_classifier(ClassifierParams(
            do_train=True, **base, custom=CustomDataParams(train_file=str(tmp_path / "t.csv"),
                                                           label_column="b")))
    assert not (tmp_path / "out").exists()
