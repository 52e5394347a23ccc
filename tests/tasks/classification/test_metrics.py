"""GLUE/RACE metrics against hand-worked values."""

import math

import numpy as np
import pytest

from albert_tf.tasks.classification import metrics as cm

# A 12-example binary confusion matrix worked by hand:
#   tp=6 (pred 1, label 1), tn=3, fp=1 (pred 1, label 0), fn=2 (pred 0, label 1).
LABELS = [1] * 6 + [0] * 3 + [0] + [1] * 2
PREDICTIONS = [1] * 6 + [0] * 3 + [1] + [0] * 2


def test_accuracy_f1_mcc_hand_worked():
    assert cm.accuracy(PREDICTIONS, LABELS) == pytest.approx(9 / 12)
    # F1 = 2tp / (2tp + fp + fn) = 12 / 15.
    assert cm.f1_score(PREDICTIONS, LABELS) == pytest.approx(0.8)
    # MCC = (6*3 - 1*2) / sqrt((6+1)(6+2)(3+1)(3+2)) = 16 / sqrt(1120) = 0.4780914...
    assert cm.matthews_corrcoef(PREDICTIONS, LABELS) == pytest.approx(0.47809144373375745)
    assert cm.matthews_corrcoef(PREDICTIONS, LABELS) == pytest.approx(16 / math.sqrt(1120))


def test_mcc_extremes_and_empty_margin():
    assert cm.matthews_corrcoef([0, 1, 1, 0], [0, 1, 1, 0]) == pytest.approx(1.0)
    assert cm.matthews_corrcoef([1, 0, 0, 1], [0, 1, 1, 0]) == pytest.approx(-1.0)
    # Constant predictions: (tp+fp)(tn+fn) has a zero factor -> 0 (official div_no_nan).
    assert cm.matthews_corrcoef([1, 1, 1, 1], [0, 1, 1, 0]) == 0.0
    # No positives anywhere: F1 is 0 rather than 0/0.
    assert cm.f1_score([0, 0], [0, 0]) == 0.0


def test_pearson_hand_worked():
    # x=[1,2,3], y=[2,4,7]: dx=[-1,0,1], dy=[-7/3,-1/3,8/3]; cov=5, sxx=2, syy=114/9.
    assert cm.pearson_corrcoef([1, 2, 3], [2, 4, 7]) == pytest.approx(5 / math.sqrt(2 * 114 / 9))
    assert cm.pearson_corrcoef([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(cm.pearson_corrcoef([1, 1, 1], [1, 2, 3]))


def test_average_ranks_with_ties():
    np.testing.assert_allclose(cm.average_ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4])
    np.testing.assert_allclose(cm.average_ranks([3, 1, 3, 3, 2]), [4, 1, 4, 4, 2])
    np.testing.assert_allclose(cm.average_ranks([5.0]), [1])


def test_spearman_with_ties_hand_worked():
    # ranks x = [1, 2.5, 2.5, 4], ranks y = [1, 3, 2, 4]; centred: [-1.5,0,0,1.5]
    # and [-1.5,.5,-.5,1.5]: cov 4.5, sxx 4.5, syy 5 -> 4.5/sqrt(22.5) = 3/sqrt(10).
    assert cm.spearman_corrcoef([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / math.sqrt(10))
    # Monotone but non-linear: spearman 1, pearson < 1.
    x = [1, 2, 3, 4, 5]
    y = [1, 4, 9, 16, 100]
    assert cm.spearman_corrcoef(x, y) == pytest.approx(1.0)
    assert cm.pearson_corrcoef(x, y) < 0.95


def test_input_errors():
    with pytest.raises(ValueError, match="3 predictions but 2 labels"):
        cm.accuracy([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="no examples"):
        cm.accuracy([], [])
    with pytest.raises(ValueError, match="0/1 labels"):
        cm.f1_score([0, 1], [0, 2])
    with pytest.raises(ValueError, match="finite"):
        cm.spearman_corrcoef([0.0, np.nan], [1.0, 2.0])


def test_glue_metrics_per_task():
    cola = cm.glue_metrics("CoLA", PREDICTIONS, LABELS)
    assert cola == pytest.approx({"accuracy": 0.75, "matthews_corrcoef": 16 / math.sqrt(1120),
                                  "num_examples": 12})
    for task in ("mrpc", "qqp"):
        assert cm.glue_metrics(task, PREDICTIONS, LABELS) == pytest.approx(
            {"accuracy": 0.75, "f1": 0.8, "num_examples": 12})
    for task in ("mnli", "mismnli", "rte", "sst-2", "qnli", "wnli"):
        assert cm.glue_metrics(task, PREDICTIONS, LABELS) == pytest.approx(
            {"accuracy": 0.75, "num_examples": 12})
    stsb = cm.glue_metrics("sts-b", np.array([[1.0], [2.0], [2.0], [3.0]]), [1, 3, 2, 4])
    assert set(stsb) == {"pearson", "spearman", "num_examples"}
    assert stsb["spearman"] == pytest.approx(3 / math.sqrt(10))
    # pearson of x=[1,2,2,3], y=[1,3,2,4]: dx=[-1,0,0,1],
    # dy=[-1.5,.5,-.5,1.5] -> cov=3, sxx=2, syy=5 -> 3/sqrt(10).
    assert stsb["pearson"] == pytest.approx(3 / math.sqrt(10))
    with pytest.raises(ValueError, match="test-only"):
        cm.glue_metrics("ax", [0], [0])
    with pytest.raises(ValueError, match="unknown GLUE task"):
        cm.glue_metrics("squad", [0], [0])


def test_glue_metrics_takes_logits_and_drops_padding():
    logits = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0], [5.0, 0.0]])
    labels = [1, 0, 0, 1]
    # argmax = [1, 0, 1, 0] -> 2 of 4 right; dropping the last (padding) -> 2 of 3.
    assert cm.glue_metrics("rte", logits, labels)["accuracy"] == pytest.approx(0.5)
    result = cm.glue_metrics("rte", logits, labels, is_real_example=[1, 1, 1, 0])
    assert result == pytest.approx({"accuracy": 2 / 3, "num_examples": 3})


def test_race_metrics_by_level():
    levels = ["middle", "middle", "middle", "high", "high"]
    labels = [0, 1, 2, 3, 0]
    predictions = [0, 1, 0, 3, 1]       # middle 2/3 right, high 1/2 right
    result = cm.race_metrics(predictions, labels, levels)
    assert result == pytest.approx({
        "accuracy": 3 / 5, "accuracy_middle": 2 / 3, "accuracy_high": 1 / 2,
        "num_examples": 5, "num_examples_middle": 3, "num_examples_high": 2})
    # Logits with a padding row at the end.
    logits = np.eye(4)[[0, 1, 0, 3, 1, 2]]
    padded = cm.race_metrics(logits, labels + [0], levels + ["high"],
                             is_real_example=[1, 1, 1, 1, 1, 0])
    assert padded == pytest.approx(result)
    high_only = cm.race_metrics([3, 1], [3, 0], ["high", "high"])
    assert high_only["accuracy_middle"] is None
    assert high_only["accuracy_high"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown RACE levels"):
        cm.race_metrics([0], [0], ["college"])


def test_length_mismatches_are_named():
    with pytest.raises(ValueError, match="length mismatch: 2 predictions, 3 labels"):
        cm.glue_metrics("rte", [0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="3 labels, 2 levels"):
        cm.race_metrics([0, 1, 2], [0, 1, 2], ["high", "high"])
    with pytest.raises(ValueError, match="2 is_real_example flags"):
        cm.race_metrics([0, 1, 2], [0, 1, 2], ["high"] * 3, is_real_example=[1, 0])
