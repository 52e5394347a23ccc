"""init_from_checkpoint: pretraining checkpoints, fitting heads, heads of another size."""

import numpy as np
import pytest

from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.checkpoints import CheckpointMismatchError, save_official_checkpoint
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.training.finetuning import init_from_checkpoint

CONFIG = AlbertConfig(vocab_size=40, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                      num_attention_heads=2, intermediate_size=24, max_position_embeddings=16)


def test_pretraining_checkpoint_loads_the_encoder_and_leaves_a_new_head(tmp_path):
    pretrainer = AlbertPretrainer(CONFIG)
    prefix = save_official_checkpoint(pretrainer, str(tmp_path / "model.ckpt-1"))
    classifier = AlbertClassifier(CONFIG, num_labels=3)
    head_before = np.asarray(classifier.official_head_variables()["output_weights"])
    report = init_from_checkpoint(classifier, prefix)
    assert "output_weights" in report["missing"]
    np.testing.assert_array_equal(np.asarray(classifier.encoder.pooler.kernel),
                                  np.asarray(pretrainer.encoder.pooler.kernel))
    np.testing.assert_array_equal(
        np.asarray(classifier.official_head_variables()["output_weights"]), head_before)


def test_head_of_another_size_is_reinitialised_and_a_fitting_one_loaded(tmp_path):
    mnli = AlbertClassifier(CONFIG, num_labels=3)
    mnli_prefix = save_official_checkpoint(mnli, str(tmp_path / "mnli" / "model.ckpt-1"))
    rte = AlbertClassifier(CONFIG, num_labels=2)
    report = init_from_checkpoint(rte, mnli_prefix)
    assert "output_weights" not in report["loaded"]
    np.testing.assert_array_equal(np.asarray(rte.encoder.pooler.kernel),
                                  np.asarray(mnli.encoder.pooler.kernel))
    again = AlbertClassifier(CONFIG, num_labels=3)
    init_from_checkpoint(again, mnli_prefix)
    np.testing.assert_array_equal(np.asarray(again.official_head_variables()["output_weights"]),
                                  np.asarray(mnli.official_head_variables()["output_weights"]))


def test_encoder_mismatch_is_still_an_error(tmp_path):
    other = AlbertClassifier(CONFIG.replace(hidden_size=32, intermediate_size=24), num_labels=2)
    prefix = save_official_checkpoint(other, str(tmp_path / "model.ckpt-1"))
    with pytest.raises(CheckpointMismatchError, match="bert/pooler/dense/kernel"):
        init_from_checkpoint(AlbertClassifier(CONFIG, num_labels=2), prefix)
