"""STS-B end to end on a hand-worked case: the first four real dev rows go through the
eval pipeline (processor -> padded TFRecord -> ordered batches of 3) and fixed
predictions are scored by `glue_metrics`; pearson and spearman are worked out below."""

import math

import numpy as np
import pytest

from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.glue import processors as glue
from albert_tf.tasks.classification.metrics import glue_metrics
from albert_tf.tokenization.full_tokenizer import FullTokenizer

# Gold scores of STS-B dev rows 0-3 (dev.tsv, last column).
GOLD = [5.0, 4.75, 5.0, 2.4]
PREDICTED = [4.0, 3.5, 4.5, 1.0]
# Pearson: dx = [.75, .25, 1.25, -2.25] (mean 3.25), dy = [.7125, .4625, .7125, -1.8875]
# (mean 4.2875); cov 5.7875, sxx 7.25, syy 4.791875.
PEARSON = 5.7875 / math.sqrt(7.25 * 4.791875)  # 0.98190
# Spearman: ranks x = [3, 2, 4, 1], ranks y = [3.5, 2, 3.5, 1] (tie shares 3 and 4);
# centred [.5, -.5, 1.5, -1.5] and [1, -.5, 1, -1.5]: cov 4.5, sxx 5, syy 4.5.
SPEARMAN = 4.5 / math.sqrt(5 * 4.5)  # 3 / sqrt(10) = 0.94868


def test_stsb_pearson_spearman_through_the_eval_pipeline(tmp_path, shared_data_dir,
                                                         spm_model_file):
    data_dir = tmp_path / "glue"
    (data_dir / "STS-B").mkdir(parents=True)
    lines = (shared_data_dir / "glue_data" / "STS-B" / "dev.tsv").read_text(
        encoding="utf-8").splitlines(keepends=True)
    (data_dir / "STS-B" / "dev.tsv").write_text("".join(lines[:5]), encoding="utf-8")

    processor = glue.get_processor("sts-b")
    examples = processor.get_dev_examples(str(data_dir))
    assert [float(e.label) for e in examples] == GOLD
    padded = classifier_features.pad_to_batch_multiple(examples, 3)  # 4 real + 2 padding
    record = str(tmp_path / "sts-b_eval.tf_record")
    classifier_features.ensure_classifier_tfrecord(
        padded, processor.get_labels(), 32, FullTokenizer(spm_model_file), record,
        is_regression=True)
    batches = list(classifier_features.classifier_dataset(
        record, 32, 3, is_training=False, is_regression=True).as_numpy_iterator())
    labels = np.concatenate([b["label_ids"] for b in batches])
    is_real = np.concatenate([b["is_real_example"] for b in batches])
    np.testing.assert_array_equal(is_real, [1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(labels, np.float32(GOLD + [0.0, 0.0]))

    # A fixed-prediction model: its [n, 1] scores in record order, padding rows far off
    # so that counting them would move both coefficients.
    logits = np.array(PREDICTED + [9.0, -9.0], np.float32)[:, None]
    metrics = glue_metrics("STS-B", logits, labels, is_real_example=is_real)
    assert metrics["num_examples"] == 4
    assert metrics["pearson"] == pytest.approx(PEARSON, rel=1e-6)
    assert metrics["spearman"] == pytest.approx(SPEARMAN, rel=1e-6)
