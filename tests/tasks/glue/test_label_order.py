"""GLUE label ids come from the task's fixed list, not from the rows' order.

Real RTE's first training row is `not_entailment`, the second of RTE's list
(`entailment`, `not_entailment`): the train records must hold 1 for it, and the
submission file must name each test row by that list at its most probable class.
"""

import csv
import pathlib

import numpy as np
import tensorflow as tf

from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from finetune_test_helpers import glue_sample, write_config


def test_rte_ids_and_submission_names_follow_the_fixed_list(shared_data_dir, spm_model_file,
                                                             tmp_path):
    data_dir = glue_sample(shared_data_dir / "glue_data", tmp_path / "glue", "RTE",
                           train_rows=10, test_rows=6)
    with open(pathlib.Path(data_dir) / "RTE" / "train.tsv", encoding="utf-8",
              newline="") as f:
        gold = [row["label"] for row in csv.DictReader(f, delimiter="\t",
                                                       quoting=csv.QUOTE_NONE)]
    assert gold[0] == "not_entailment" and "entailment" in gold
    out = tmp_path / "out"
    run_classifier(ClassifierParams(
        task_name="RTE", data_dir=data_dir, albert_config_file=write_config(tmp_path / "c.json"),
        spm_model_file=spm_model_file, output_dir=str(out), do_train=True, do_predict=True,
        max_seq_length=32, train_batch_size=5, predict_batch_size=4, learning_rate=1e-3,
        train_step=2, warmup_step=1, save_checkpoints_steps=2, iterations_per_loop=2))
    ids = [tf.train.Example.FromString(r.numpy()).features.feature["label_ids"]
           .int64_list.value[0] for r in tf.data.TFRecordDataset(str(out / "rte_train.tf_record"))]
    assert ids == [{"entailment": 0, "not_entailment": 1}[label] for label in gold]
    probabilities = np.loadtxt(out / "test_results.tsv", delimiter="\t", ndmin=2)
    submission = (out / "RTE.tsv").read_text(encoding="utf-8").splitlines()
    assert submission[0] == "index\tprediction" and len(submission) == 7
    assert [line.split("\t")[1] for line in submission[1:]] == [
        ["entailment", "not_entailment"][i] for i in probabilities.argmax(axis=1)]
