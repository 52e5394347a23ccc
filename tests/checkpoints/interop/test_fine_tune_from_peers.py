"""Fine-tuning starts from a transformers folder or keras-hub preset as it does from an
official checkpoint: --albert_config_file and --init_checkpoint take them directly."""

import json
import pathlib

import numpy as np
import pytest

import albert_tf
from albert_tf.checkpoints import read_config
from albert_tf.config import AlbertConfig
from albert_tf.modeling import AlbertPretrainer
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.checkpoints import load_weights

CFG = dict(vocab_size=40, embedding_size=8, hidden_size=16, num_hidden_layers=2,
           num_hidden_groups=1, inner_group_num=1, num_attention_heads=2,
           intermediate_size=24, hidden_act="gelu", hidden_dropout_prob=0.0,
           attention_probs_dropout_prob=0.0, max_position_embeddings=16, type_vocab_size=2,
           initializer_range=0.5)
INPUTS = {"input_ids": np.array([[2, 7, 9, 3, 11, 3], [2, 5, 3, 0, 0, 0]], np.int32),
          "input_mask": np.array([[1] * 6, [1, 1, 1, 0, 0, 0]], np.int32),
          "segment_ids": np.array([[0, 0, 0, 0, 1, 1], [0] * 6], np.int32)}


@pytest.fixture(scope="module")
def pretrained():
    model = AlbertPretrainer(AlbertConfig(**CFG))
    model(dict(INPUTS, masked_lm_positions=np.array([[1], [1]], np.int32)))
    return model


@pytest.mark.parametrize("fmt", ["hf", "keras_hub"])
def test_classifier_starts_from_a_peer_folder(pretrained, tmp_path, fmt):
    folder = tmp_path / fmt
    albert_tf.save_pretrained(pretrained, str(folder), format=fmt)
    # The peer's config.json (or the folder) is the model config.
    config = read_config(str(folder))
    expected_config = AlbertConfig(**CFG).to_dict()
    if fmt == "keras_hub":  # its backbone config has no initializer_range
        expected_config["initializer_range"] = config.initializer_range
    assert config.to_dict() == expected_config
    assert read_config(str(folder / "config.json")).to_dict() == config.to_dict()
    classifier = AlbertClassifier(config, num_labels=3)
    report = load_weights(classifier, str(folder))
    assert report["status"] == "new"  # a pretraining folder has no classifier head
    expected = pretrained.encoder(INPUTS)
    got = classifier.encoder(INPUTS)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(expected[key]))


def test_run_classifier_from_an_hf_folder(pretrained, tmp_path, shared_data_dir,
                                          spm_model_file):
    from albert_tf.tasks.custom.reader import CustomDataParams
    from albert_tf.tasks.glue.task import ClassifierParams, run_classifier

    hf = tmp_path / "hf"
    config = dict(CFG, vocab_size=30000, max_position_embeddings=32)
    model = AlbertPretrainer(AlbertConfig(**config))
    model(dict(INPUTS, masked_lm_positions=np.array([[1], [1]], np.int32)))
    albert_tf.save_pretrained(model, str(hf), format="hf")
    rows = (shared_data_dir / "glue_data" / "SST-2" / "dev.tsv").read_text().splitlines()[:9]
    data = tmp_path / "dev.tsv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    params = ClassifierParams(
        task_name="custom", albert_config_file=str(hf / "config.json"),
        init_checkpoint=str(hf), spm_model_file=spm_model_file,
        output_dir=str(tmp_path / "out"), do_train=True, do_eval=True, max_seq_length=32,
        train_batch_size=4, eval_batch_size=4, train_step=2, save_checkpoints_steps=2,
        iterations_per_loop=1,
        custom=CustomDataParams(train_file=str(data), eval_file=str(data),
                                text_a_column="sentence", label_column="label"))
    results = run_classifier(params)
    assert results["eval"]["num_examples"] == 8
    # The run's own config is written in the official format.
    written = json.loads(pathlib.Path(params.output_dir, "albert_config.json").read_text())
    assert written["vocab_size"] == 30000 and written["hidden_act"] == "gelu"
