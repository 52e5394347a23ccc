"""GLUE submission TSVs and the probabilities file, byte for byte."""

import numpy as np
import pytest

from albert_tf.tasks.classification import prediction_files as pw


def test_submission_file_names():
    assert pw.glue_submission_file_name("CoLA") == "CoLA.tsv"
    assert pw.glue_submission_file_name("mnli") == "MNLI-m.tsv"
    assert pw.glue_submission_file_name("mismnli") == "MNLI-mm.tsv"
    assert pw.glue_submission_file_name("sts-b") == "STS-B.tsv"
    assert pw.glue_submission_file_name("ax") == "AX.tsv"
    with pytest.raises(ValueError, match="unknown GLUE task 'squad'"):
        pw.glue_submission_file_name("squad")


def test_classification_submission_bytes(tmp_path):
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 9.0]])
    path = pw.write_glue_submission(str(tmp_path), "mnli", ["0", "1", "2"], logits,
                                    ["contradiction", "entailment", "neutral"])
    assert path == str(tmp_path / "MNLI-m.tsv")
    with open(path, "rb") as f:
        assert f.read() == (b"index\tprediction\n0\tentailment\n1\tcontradiction\n"
                            b"2\tneutral\n")
    pw.write_glue_submission(str(tmp_path), "cola", ["5", "6"], [1, 0], ["0", "1"])
    with open(tmp_path / "CoLA.tsv", "rb") as f:
        assert f.read() == b"index\tprediction\n5\t1\n6\t0\n"


def test_regression_submission_and_count_check(tmp_path):
    pw.write_glue_submission(str(tmp_path), "sts-b", ["0", "1"],
                             np.array([[3.25], [0.1]], dtype=np.float32), [None],
                             is_regression=True)
    with open(tmp_path / "STS-B.tsv", "rb") as f:
        assert f.read() == b"index\tprediction\n0\t3.25\n1\t0.1\n"
    with pytest.raises(ValueError, match="3 examples but 2 predictions; drop padding"):
        pw.write_glue_submission(str(tmp_path), "rte", ["0", "1", "2"], [0, 1],
                                 ["entailment", "not_entailment"])
    with pytest.raises(ValueError, match="class id 2 out of range"):
        pw.format_glue_predictions([2], ["0", "1"])


def test_probabilities_file(tmp_path):
    path = pw.write_probabilities(str(tmp_path / "out" / "test_results.tsv"),
                                  np.array([[0.25, 0.75], [0.5, 0.5]]))
    with open(path, "rb") as f:
        assert f.read() == b"0.25\t0.75\n0.5\t0.5\n"
