"""Label names travel: a custom classifier's label_list.txt goes into every format we
write (official, transformers id2label, keras-hub, .keras, SavedModel) and comes back.

Checked with the peers' own readers: transformers' `pipeline("text-classification")`
answers the names, a fresh process's `keras.saving.load_model` returns them.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import albert_tf
from albert_tf.checkpoints import convert_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.tasks.custom.reader import write_label_list
from .interop_helpers import random_array

LABELS = ["negative", "positive"]
TEXTS = ["a gripping, funny film", "dull and far too long", "fine.", "i loved every minute"]
CONFIG = dict(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)


@pytest.fixture
def custom_run(tmp_path):
    """What `run_classifier.py --task_name=custom` leaves: model.ckpt-best,
    albert_config.json and label_list.txt (written by the runner's own writer)."""
    model = AlbertClassifier(AlbertConfig(**CONFIG), num_labels=2)
    rng = np.random.default_rng(3)
    for variable in model.weights:
        variable.assign(random_array(rng, tuple(variable.shape), variable.path))
    directory = tmp_path / "custom"
    albert_tf.save_official_checkpoint(model, str(directory / "model.ckpt-best"),
                                       write_state_file=True)
    model.albert_config.to_json_file(str(directory / "albert_config.json"))
    write_label_list(str(directory), LABELS)
    return model, directory


def test_official_checkpoint_loads_with_its_label_list(custom_run):
    _, directory = custom_run
    assert albert_tf.load_pretrained(str(directory)).label_list == LABELS


def test_transformers_pipeline_answers_the_label_names(custom_run, tmp_path, spm_model_file):
    from transformers import AlbertForSequenceClassification, pipeline
    import torch

    model, directory = custom_run
    hf_dir = tmp_path / "hf"
    convert_checkpoint(str(directory), str(hf_dir), "hf", spm_model_file=spm_model_file)
    values = json.loads((hf_dir / "config.json").read_text())
    assert values["id2label"] == {"0": "negative", "1": "positive"}
    assert values["label2id"] == {"negative": 0, "positive": 1}

    classify = pipeline("text-classification", model=str(hf_dir), device="cpu")
    answers = [a["label"] for a in classify(TEXTS)]
    encoded = classify.tokenizer(TEXTS, padding=True, return_tensors="np")
    logits = model({"input_ids": encoded["input_ids"].astype(np.int32),
                    "input_mask": encoded["attention_mask"].astype(np.int32),
                    "segment_ids": np.zeros_like(encoded["input_ids"], np.int32)})["logits"]
    logits = np.asarray(logits)
    assert answers == [LABELS[i] for i in np.argmax(logits, -1)]
    # Every name's score is the probability of its own id: the mapping, not just argmax.
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for row, scores in zip(probabilities, classify(TEXTS, top_k=None)):
        by_name = {s["label"]: s["score"] for s in scores}
        np.testing.assert_allclose([by_name[name] for name in LABELS], row, atol=1e-5)
    # transformers' own reader takes the names from the same fields.
    hf_model = AlbertForSequenceClassification.from_pretrained(str(hf_dir))
    assert hf_model.config.id2label == {0: "negative", 1: "positive"}
    del torch

    loaded = albert_tf.load_pretrained(str(hf_dir))
    assert loaded.label_list == LABELS
    # Default names from transformers mean "unnamed".
    back = tmp_path / "back"
    convert_checkpoint(str(hf_dir), str(back), "official")
    assert (back / "label_list.txt").read_text() == "negative\npositive\n"


def test_hf_default_and_broken_id2label(tmp_path):
    from albert_tf.checkpoints.hf import label_list_from_hf

    assert label_list_from_hf({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}, 2, "c") is None
    assert label_list_from_hf({}, 2, "c") is None
    with pytest.raises(ValueError, match=r"config.json: id2label has ids \[0, 2\]"):
        label_list_from_hf({"id2label": {"0": "a", "2": "b"}}, 2, "config.json")


def test_keras_hub_preset_and_keras_file_carry_the_labels(custom_run, tmp_path):
    model, directory = custom_run
    preset = tmp_path / "preset"
    convert_checkpoint(str(directory), str(preset), "keras_hub")
    assert (preset / "label_list.txt").read_text() == "negative\npositive\n"
    loaded = albert_tf.load_pretrained(str(preset))
    assert loaded.label_list == LABELS

    path = tmp_path / "custom.keras"
    loaded.save(str(path))
    # A fresh process: only `import albert_tf`, then Keras' own loader.
    script = ("import albert_tf, keras, sys; "
              "m = keras.saving.load_model(sys.argv[1]); print(type(m).__name__, m.label_list)")
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "AlbertClassifier ['negative', 'positive']"


def test_savedmodel_answers_the_label_names(custom_run, tmp_path, spm_model_file):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    from albert_tf.export import ExportParams, export_savedmodel

    model, directory = custom_run
    export_dir = tmp_path / "export"
    export_savedmodel(ExportParams(model_kind="classifier", export_dir=str(export_dir),
                                   spm_model_file=spm_model_file, task_name="custom",
                                   init_checkpoint=str(directory / "model.ckpt-best"),
                                   max_seq_length=32))
    config = json.loads((export_dir / "assets" / "export_config.json").read_text())
    assert config["label_list"] == LABELS
    served = tf.saved_model.load(str(export_dir)).signatures["serving_default"](
        text=tf.constant(TEXTS))
    labels = [label.decode() for label in served["label"].numpy()]
    assert labels == [LABELS[i] for i in served["label_id"].numpy()]
    assert set(labels) <= set(LABELS)


def test_save_pretrained_takes_a_text_classifier(custom_run, tmp_path, spm_model_file):
    from transformers import pipeline

    from albert_tf.text import AlbertTextPreprocessor, TextClassifier

    model, _ = custom_run
    model.label_list = LABELS
    text_classifier = TextClassifier(model, AlbertTextPreprocessor(spm_model_file,
                                                                   max_seq_length=24))
    hf_dir = tmp_path / "hf"
    albert_tf.save_pretrained(text_classifier, str(hf_dir), format="hf")
    assert (hf_dir / "spiece.model").is_file()
    classify = pipeline("text-classification", model=str(hf_dir), device="cpu")
    logits = text_classifier.predict(TEXTS, verbose=0)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for row, scores in zip(probabilities, classify(TEXTS, top_k=None)):
        by_name = {s["label"]: s["score"] for s in scores}
        np.testing.assert_allclose([by_name[name] for name in LABELS], row, atol=1e-5)
    official = tmp_path / "official"
    albert_tf.save_pretrained(text_classifier, str(official))
    back = TextClassifier.from_pretrained(str(official), num_labels=2, max_seq_length=24)
    assert back.label_list == LABELS
    np.testing.assert_allclose(back.predict(TEXTS, verbose=0), logits, atol=1e-5)
