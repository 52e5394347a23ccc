"""`TextClassifier`: raw text in, the fine-tuning scripts' classifier and logits out."""

import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.tasks.glue import processors as glue
from albert_tf.export.exporter import ExportParams, load_model
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.text import AlbertTextPreprocessor
from albert_tf.tokenization import FullTokenizer
from albert_tf.checkpoints import load_weights
from albert_tf.training.optimizers import AdamW
from albert_tf.training.schedules import WarmupPolyDecay

from custom_test_helpers import sst2_rows, stsb_rows

from finetune_test_helpers import TINY_CONFIG  # noqa: E402

MAX_SEQ_LENGTH = 48


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory, spm_model_file):
    """A fine-tuned-format tiny checkpoint (random weights, 2-label head) with its
    albert_config.json and 30k-clean.model, as a released folder holds them."""
    directory = tmp_path_factory.mktemp("tiny_albert")
    keras.utils.set_random_seed(7)
    config = AlbertConfig.from_dict(TINY_CONFIG)
    model = AlbertClassifier(config, num_labels=2)
    save_official_checkpoint(model, str(directory / "model.ckpt-100"), global_step=100)
    config.to_json_file(str(directory / "albert_config.json"))
    shutil.copy(spm_model_file, directory / "30k-clean.model")
    return str(directory)


def _cli_logits(checkpoint_dir, spm_model_file, examples, num_labels=2, is_regression=False):
    """The run_classifier.py path: InputExamples -> classifier_features -> AlbertClassifier."""
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    label_list = [None] if is_regression else ["0", "1"]
    features = classifier_features.convert_examples_to_features(
        examples, label_list, MAX_SEQ_LENGTH, tokenizer, is_regression)
    inputs = {name: np.array([getattr(f, name) for f in features], np.int32)
              for name in ("input_ids", "input_mask", "segment_ids")}
    config = AlbertConfig.from_json_file(os.path.join(checkpoint_dir, "albert_config.json"))
    model = AlbertClassifier(config, num_labels=num_labels)
    load_weights(model, checkpoint_dir)
    return inputs, model(inputs, training=False)["logits"].numpy()


def test_same_features_and_logits_as_the_cli(checkpoint_dir, spm_model_file, shared_data_dir):
    glue_dir = str(shared_data_dir / "glue_data")
    single = glue.Sst2Processor().get_dev_examples(glue_dir)[:12]
    pairs = glue.MrpcProcessor().get_dev_examples(glue_dir)[:8]
    model = albert_tf.TextClassifier.from_pretrained(checkpoint_dir, num_labels=2,
                                                     max_seq_length=MAX_SEQ_LENGTH)
    assert model.classifier.num_labels == 2
    # Raw texts straight from the tsv files (the processors' are preprocessed).
    raw_single = [row[0] for row in sst2_rows(shared_data_dir, "dev", 12)]
    path = shared_data_dir / "glue_data" / "MRPC" / "dev.tsv"
    mrpc = [line.split("\t") for line in
            path.read_text(encoding="utf-8-sig").splitlines()[1:9]]
    raw_a, raw_b = [r[3] for r in mrpc], [r[4] for r in mrpc]
    for examples, texts in ((single, raw_single), (pairs, (raw_a, raw_b))):
        inputs, expected = _cli_logits(checkpoint_dir, spm_model_file, examples)
        features = model.preprocessor(texts)
        for name in inputs:
            np.testing.assert_array_equal(features[name].numpy(), inputs[name])
        np.testing.assert_allclose(model.predict(texts, verbose=0), expected, atol=2e-5)
        np.testing.assert_allclose(model(texts).numpy(), expected, atol=2e-5)
    # An empty second text packs as a single text, as official `if tokens_b:`.
    np.testing.assert_allclose(model((raw_a[:2], ["", ""])).numpy(),
                               model(raw_a[:2]).numpy(), atol=1e-6)


def test_fit_compiles_the_official_recipe_and_saves(checkpoint_dir, shared_data_dir, tmp_path):
    rows = sst2_rows(shared_data_dir, count=40)
    texts, labels = [r[0] for r in rows], [int(r[1]) for r in rows]
    model = albert_tf.TextClassifier.from_pretrained(checkpoint_dir, num_labels=2,
                                                     max_seq_length=MAX_SEQ_LENGTH)
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels))   # Unbatched.
    history = model.fit(dataset, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    optimizer = model.optimizer
    assert isinstance(optimizer, AdamW)
    schedule = optimizer.learning_rate if isinstance(optimizer.learning_rate,
                                                     WarmupPolyDecay) else optimizer._learning_rate
    assert (schedule.num_train_steps, schedule.num_warmup_steps) == (10, 1)  # 2 x 5 batches.
    assert schedule.learning_rate == 5e-5 and optimizer.global_clipnorm == 1.0
    assert model.classifier.dropout_prob == 0.1
    assert int(optimizer.iterations) == 10
    before = model.predict(texts[:6], verbose=0)
    results = model.evaluate(texts, labels, verbose=0, return_dict=True)
    expected_accuracy = np.mean(np.argmax(model.predict(texts, verbose=0), -1) == labels)
    assert results["accuracy"] == pytest.approx(expected_accuracy)
    path = str(tmp_path / "classifier.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, albert_tf.TextClassifier)
    np.testing.assert_allclose(restored.predict(texts[:6], verbose=0), before, atol=1e-6)
    # The SentencePiece model travels inside the file: gone from disk, it still loads.
    moved_spm = str(tmp_path / "moved.model")
    shutil.copy(model.preprocessor.spm_model_file, moved_spm)
    moved = albert_tf.TextClassifier(model.classifier, AlbertTextPreprocessor(
        moved_spm, max_seq_length=MAX_SEQ_LENGTH))
    moved.save(str(tmp_path / "moved.keras"))
    os.remove(moved_spm)
    reloaded = keras.saving.load_model(str(tmp_path / "moved.keras"))
    np.testing.assert_allclose(reloaded.predict(texts[:6], verbose=0), before, atol=1e-6)
    clone = albert_tf.TextClassifier.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(texts[:6], verbose=0), before, atol=1e-6)


def test_fitted_model_as_official_checkpoint_reads_in_the_exporter(
        checkpoint_dir, spm_model_file, shared_data_dir, tmp_path):
    rows = sst2_rows(shared_data_dir, count=16)
    texts, labels = [r[0] for r in rows], np.array([int(r[1]) for r in rows])
    model = albert_tf.TextClassifier.from_pretrained(checkpoint_dir, num_labels=2,
                                                     max_seq_length=MAX_SEQ_LENGTH)
    model.fit(texts, labels, batch_size=8, verbose=0)
    prefix = save_official_checkpoint(model, str(tmp_path / "fitted" / "model.ckpt-2"))
    model.albert_config.to_json_file(str(tmp_path / "fitted" / "albert_config.json"))
    exported, _ = load_model(ExportParams(model_kind="classifier", export_dir="unused",
                                          spm_model_file=spm_model_file,
                                          init_checkpoint=prefix, max_seq_length=MAX_SEQ_LENGTH))
    assert isinstance(exported, AlbertClassifier) and exported.num_labels == 2
    features = model.preprocessor(texts)
    np.testing.assert_allclose(exported(features)["logits"].numpy(),
                               model.predict(texts, verbose=0), atol=1e-5)
    # And back: from_pretrained on that folder (spm passed: none beside it).
    again = albert_tf.TextClassifier.from_pretrained(
        str(tmp_path / "fitted"), 2, spm_model_file=spm_model_file,
        max_seq_length=MAX_SEQ_LENGTH)
    np.testing.assert_allclose(again.predict(texts, verbose=0),
                               model.predict(texts, verbose=0), atol=1e-5)


def test_regression_on_sentence_pairs(checkpoint_dir, shared_data_dir):
    rows = stsb_rows(shared_data_dir, 16)
    text_a, text_b = [r[0] for r in rows], [r[1] for r in rows]
    scores = np.array([float(r[2]) for r in rows], np.float32)
    model = albert_tf.TextClassifier.from_pretrained(checkpoint_dir, num_labels=1,
                                                     max_seq_length=MAX_SEQ_LENGTH)
    assert model.is_regression
    model.fit((text_a, text_b), scores, batch_size=8, verbose=0)
    values = model.predict({"text_a": text_a, "text_b": text_b}, verbose=0)
    assert values.shape == (16, 1)
    mse = model.evaluate((text_a, text_b), scores, verbose=0, return_dict=True)["loss"]
    assert mse == pytest.approx(float(np.mean((values[:, 0] - scores) ** 2)), rel=1e-4)


def test_mixed_precision_and_distribution_scope(checkpoint_dir, shared_data_dir):
    rows = sst2_rows(shared_data_dir, count=16)
    texts, labels = [r[0] for r in rows], [int(r[1]) for r in rows]
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
        with strategy.scope():
            model = albert_tf.TextClassifier.from_pretrained(
                checkpoint_dir, num_labels=2, max_seq_length=MAX_SEQ_LENGTH)
        history = model.fit(texts, labels, batch_size=8, verbose=0)
        logits = model.predict(texts, verbose=0)
    finally:
        keras.config.set_dtype_policy("float32")
    assert np.isfinite(history.history["loss"][0])
    assert logits.dtype == np.float32 and np.all(np.isfinite(logits))
    assert model.classifier.encoder.pooler.compute_dtype == "bfloat16"
    assert model.distribute_strategy is strategy
    assert {keras.backend.standardize_dtype(w.dtype) for w in model.trainable_weights} == {
        "float32"}
    # float16 gets Keras' dynamic loss scaling around the official AdamW.
    keras.config.set_dtype_policy("mixed_float16")
    try:
        half = albert_tf.TextClassifier.from_pretrained(checkpoint_dir, num_labels=2,
                                                        max_seq_length=MAX_SEQ_LENGTH)
        half.compile_official(num_train_steps=10)
    finally:
        keras.config.set_dtype_policy("float32")
    assert isinstance(half.optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(half.optimizer.inner_optimizer, AdamW)


def test_errors(checkpoint_dir, spm_model_file, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in os.listdir(checkpoint_dir):
        if name != "30k-clean.model":
            shutil.copy(os.path.join(checkpoint_dir, name), bare / name)
    with pytest.raises(FileNotFoundError, match="no SentencePiece model beside"):
        albert_tf.TextClassifier.from_pretrained(str(bare), 2)
    with pytest.raises(ValueError, match=r"max_seq_length \(512\) exceeds"):
        albert_tf.TextClassifier.from_pretrained(checkpoint_dir, 2, max_seq_length=512)
    model = albert_tf.TextClassifier.from_pretrained(checkpoint_dir, 2,
                                                     max_seq_length=MAX_SEQ_LENGTH)
    endless = tf.data.Dataset.from_tensor_slices((["a b"], [1])).repeat()
    with pytest.raises(ValueError, match="number of training steps is unknown"):
        model.fit(endless)
