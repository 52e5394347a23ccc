"""`albert-export --init_checkpoint` takes what fine-tuning takes: a transformers folder
and a keras-hub preset (written here by our own `save_pretrained`)."""

import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_tf.export import ExportParams, export_savedmodel
from . import export_test_helpers as helpers


@pytest.mark.parametrize("fmt", ["hf", "keras_hub"])
def test_classifier_exports_from_a_peer_folder(tiny_models, spm_model_file, tmp_path, fmt):
    model, _ = tiny_models["classifier"]
    folder = tmp_path / fmt
    albert_tf.save_pretrained(model, str(folder), format=fmt, spm_model_file=spm_model_file)
    export_dir = tmp_path / "export"
    export_savedmodel(ExportParams(
        model_kind="classifier", export_dir=str(export_dir), spm_model_file=spm_model_file,
        init_checkpoint=str(folder), max_seq_length=helpers.MAX_SEQ_LENGTH,
        label_list=helpers.CLASSIFIER_LABELS))
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 60, (2, 9)).astype(np.int32)
    mask = np.array([[1] * 9, [1] * 5 + [0] * 4], np.int32)
    segments = np.array([[0] * 4 + [1] * 5, [0] * 9], np.int32)
    served = tf.saved_model.load(str(export_dir)).signatures["tokens"](
        input_ids=tf.constant(ids * mask), input_mask=tf.constant(mask),
        segment_ids=tf.constant(segments * mask))
    expected = model({"input_ids": ids * mask, "input_mask": mask,
                      "segment_ids": segments * mask}, training=False)["logits"]
    np.testing.assert_allclose(served["logits"].numpy(), np.asarray(expected), atol=1e-5)
    # The model's config travels as the asset (the folder has no albert_config.json).
    config = albert_tf.AlbertConfig.from_json_file(
        str(export_dir / "assets" / "albert_config.json"))
    assert config.hidden_size == model.albert_config.hidden_size
