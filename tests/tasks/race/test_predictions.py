"""RACE predictions.json: example id -> letter."""

import json

import numpy as np
import pytest

from albert_tf.tasks.classification import prediction_files as pw


def test_predictions_json(tmp_path):
    logits = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0], [9.0, 0.0, 0.0, 0.0]])
    path = pw.write_race_predictions(str(tmp_path / "predictions.json"),
                                     ["middle1234.txt-0", "middle1234.txt-1", "high9.txt-0"],
                                     logits)
    with open(path) as f:
        assert json.load(f) == {"middle1234.txt-0": "B", "middle1234.txt-1": "D",
                                "high9.txt-0": "A"}


def test_prediction_errors():
    with pytest.raises(ValueError, match="duplicate RACE example id high9.txt-0"):
        pw.race_prediction_letters(["high9.txt-0", "high9.txt-0"], [0, 1])
    with pytest.raises(ValueError, match="high9.txt-0: option id 4 is not in 0-3"):
        pw.race_prediction_letters(["high9.txt-0"], [4])
    with pytest.raises(ValueError, match="2 examples but 1 predictions"):
        pw.race_prediction_letters(["a-0", "a-1"], [1])
