"""The one head policy (`load_weights`, `load_pretrained`): pretrained checkpoints,
fine-tuned ones with or without a fitting head, into task models and the pretrainer."""

import logging

import numpy as np
import pytest

from albert_reference import random_official_weights, write_tf1_checkpoint
from albert_tf import AlbertConfig, AlbertPretrainer
from albert_tf.checkpoints import CheckpointMismatchError, save_official_checkpoint
from albert_tf.modeling.models import AlbertClassifier, AlbertMultipleChoice
from albert_tf.checkpoints import load_pretrained, load_weights
from finetune_test_helpers import REFERENCE_CONFIG

CFG = REFERENCE_CONFIG
H = CFG["hidden_size"]


def checkpoint(tmp_path, name, head_rows=None, with_pretraining_heads=False, seed=0):
    weights = random_official_weights(CFG, seed=seed, with_heads=with_pretraining_heads)
    if head_rows is not None:
        rng = np.random.default_rng(seed + 1)
        weights["output_weights"] = rng.standard_normal((head_rows, H)).astype(np.float32)
        weights["output_bias"] = rng.standard_normal(head_rows).astype(np.float32)
    prefix = str(tmp_path / name / "model.ckpt-100")
    (tmp_path / name).mkdir()
    write_tf1_checkpoint(prefix, weights)
    return prefix, weights


def initialise_task_model(model, prefix):
    return load_weights(model, prefix)["status"]


def assert_encoder_loaded(model, weights):
    np.testing.assert_array_equal(model.encoder.embeddings.word_embeddings.numpy(),
                                  weights["bert/embeddings/word_embeddings"])
    np.testing.assert_array_equal(model.encoder.pooler.kernel.numpy(),
                                  weights["bert/pooler/dense/kernel"])


def test_pretraining_checkpoint_gives_a_new_head(tmp_path):
    prefix, weights = checkpoint(tmp_path, "pretrained", with_pretraining_heads=True)
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=2)
    before = model.classifier.output_weights.numpy().copy()
    assert initialise_task_model(model, prefix) == "new"
    assert_encoder_loaded(model, weights)
    np.testing.assert_array_equal(model.classifier.output_weights.numpy(), before)


def test_fine_tuned_head_of_the_same_size_is_loaded(tmp_path):
    # E.g. MNLI -> AX, or one of our own fine-tuned checkpoints reused.
    prefix, weights = checkpoint(tmp_path, "mnli", head_rows=3)
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=3)
    assert initialise_task_model(model, prefix) == "loaded"
    assert_encoder_loaded(model, weights)
    np.testing.assert_array_equal(model.classifier.output_weights.numpy(),
                                  weights["output_weights"])
    np.testing.assert_array_equal(model.classifier.output_bias.numpy(), weights["output_bias"])
    # Our own save of that model loads back into a fresh one (directory form too).
    ours = save_official_checkpoint(model, tmp_path / "ours" / "model.ckpt-9", global_step=9,
                                    write_state_file=True)
    again = AlbertClassifier(AlbertConfig(**CFG), num_labels=3)
    assert initialise_task_model(again, str(tmp_path / "ours")) == "loaded"
    np.testing.assert_array_equal(again.classifier.output_weights.numpy(),
                                  weights["output_weights"])
    assert ours.endswith("model.ckpt-9")


def test_head_of_another_size_is_reinitialised_with_a_clear_warning(tmp_path, caplog):
    # The paper's MNLI (3 labels) -> RTE (2 labels) start.
    prefix, weights = checkpoint(tmp_path, "mnli", head_rows=3)
    model = AlbertClassifier(AlbertConfig(**CFG), num_labels=2)
    before = model.classifier.output_weights.numpy().copy()
    with caplog.at_level(logging.WARNING):
        assert initialise_task_model(model, prefix) == "reinitialised"
    assert "re-initialising the head" in caplog.text
    assert f"output_weights: checkpoint [3, {H}], this task [2, {H}]" in caplog.text
    assert_encoder_loaded(model, weights)
    np.testing.assert_array_equal(model.classifier.output_weights.numpy(), before)


def test_race_head_loads_into_the_multiple_choice_model(tmp_path):
    prefix, weights = checkpoint(tmp_path, "race", head_rows=1)
    model = AlbertMultipleChoice(AlbertConfig(**CFG))
    assert initialise_task_model(model, prefix) == "loaded"
    np.testing.assert_array_equal(model.classifier.output_weights.numpy(),
                                  weights["output_weights"])
    # A 2-label GLUE head does not fit the [1, H] RACE head.
    prefix, _ = checkpoint(tmp_path, "sst2", head_rows=2)
    assert initialise_task_model(AlbertMultipleChoice(AlbertConfig(**CFG)), prefix) == \
        "reinitialised"


def test_checkpoint_of_another_model_size_fails_clearly(tmp_path):
    prefix, _ = checkpoint(tmp_path, "pretrained")
    bigger = AlbertClassifier(AlbertConfig(**dict(CFG, hidden_size=32, num_attention_heads=4)))
    with pytest.raises(CheckpointMismatchError, match="shape mismatches"):
        initialise_task_model(bigger, prefix)


def test_pretrainer_loads_its_heads_and_a_task_checkpoint_leaves_them_new(tmp_path):
    prefix, weights = checkpoint(tmp_path, "pretrained", with_pretraining_heads=True)
    pretrainer = AlbertPretrainer(AlbertConfig(**CFG))
    report = load_weights(pretrainer, prefix)
    assert report["status"] == "loaded" and not report["missing"]
    assert "cls/predictions/output_bias" in report["loaded"]
    # A fine-tuned RTE checkpoint has no pretraining heads: they stay as initialised.
    rte, _ = checkpoint(tmp_path, "rte", head_rows=2, seed=3)
    again = AlbertPretrainer(AlbertConfig(**CFG))
    report = load_weights(again, rte)
    assert report["status"] == "new"
    assert "output_weights" in report["unused"]


def test_fresh_head_report_names_the_missing_head_variables(tmp_path):
    prefix, _ = checkpoint(tmp_path, "pretrained", with_pretraining_heads=True)
    report = load_weights(AlbertClassifier(AlbertConfig(**CFG), num_labels=3), prefix)
    assert report["missing"] == ["output_bias", "output_weights"]
    assert "cls/predictions/output_bias" in report["unused"]


def test_encoder_mismatch_fails_even_when_the_head_misfits_too(tmp_path):
    wide = dict(CFG, hidden_size=32, num_attention_heads=4)
    other = AlbertClassifier(AlbertConfig(**wide), num_labels=2)
    prefix = save_official_checkpoint(other, str(tmp_path / "model.ckpt-1"))
    with pytest.raises(CheckpointMismatchError, match="bert/pooler/dense/kernel"):
        load_weights(AlbertClassifier(AlbertConfig(**CFG), num_labels=2), prefix)


def test_load_pretrained_builds_the_asked_model_by_the_same_policy(tmp_path):
    prefix, weights = checkpoint(tmp_path, "pretrained", with_pretraining_heads=True)
    # Export's strictness: a classifier needs its head from the checkpoint.
    with pytest.raises(CheckpointMismatchError, match=r"missing from the checkpoint \(2\)"):
        load_pretrained(prefix, CFG, task="classifier", num_labels=2)
    # TextClassifier's: the head is new, bert/* loaded.
    model = load_pretrained(prefix, CFG, task="classifier", num_labels=2,
                            new_heads=True)
    assert type(model) is AlbertClassifier and model.num_labels == 2
    assert_encoder_loaded(model, weights)
    # Without a task: the model the checkpoint holds, every variable of it used.
    pretrainer = load_pretrained(prefix, CFG)
    assert type(pretrainer) is AlbertPretrainer
    np.testing.assert_array_equal(pretrainer.masked_lm.output_bias.numpy(),
                                  weights["cls/predictions/output_bias"])
