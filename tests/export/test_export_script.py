"""`export_savedmodel.py` flags, and the atomic write of the export directory."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from albert_tf.checkpoints import CheckpointMismatchError
from albert_tf.export import ExportParams, export_savedmodel
from . import export_test_helpers as helpers

REPO = pathlib.Path(__file__).resolve().parents[2]


def _leftovers(parent):
    return [n for n in os.listdir(parent) if ".tmp-" in n or ".old-" in n]


def test_script_exports_a_fine_tuned_classifier(tiny_models, spm_model_file, tmp_path):
    export_dir = tmp_path / "mnli" / "1"
    completed = subprocess.run(
        [sys.executable, str(REPO / "export_savedmodel.py"), "--model_kind=classifier",
         f"--init_checkpoint={tiny_models['classifier'][1]}",
         f"--spm_model_file={spm_model_file}", f"--export_dir={export_dir}",
         "--max_seq_length=32", "--task_name=MNLI"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (export_dir / "saved_model.pb").is_file()
    with open(export_dir / "assets" / "export_config.json") as f:
        config = json.load(f)
    # Official MNLI label order; the config came from beside the checkpoint.
    assert config["label_list"] == ["contradiction", "entailment", "neutral"]
    assert config["max_seq_length"] == 32 and config["model_kind"] == "classifier"
    assert (export_dir / "assets" / "albert_config.json").is_file()
    assert _leftovers(export_dir.parent) == []


def test_existing_export_dir_needs_overwrite(spm_model_file, tmp_path):
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    (export_dir / "keep.txt").write_text("old")
    params = dict(model_kind="preprocess", export_dir=str(export_dir),
                  spm_model_file=spm_model_file, max_seq_length=16)
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_savedmodel(ExportParams(**params))
    assert (export_dir / "keep.txt").read_text() == "old"
    # --overwrite replaces an export, never a folder of other files (a checkpoint dir).
    with pytest.raises(FileExistsError, match="is not a SavedModel"):
        export_savedmodel(ExportParams(overwrite=True, **params))
    assert sorted(os.listdir(export_dir)) == ["keep.txt"]
    (export_dir / "keep.txt").unlink()
    export_savedmodel(ExportParams(**dict(params, export_dir=str(export_dir / "sm"))))
    export_savedmodel(ExportParams(overwrite=True, **dict(params,
                                                          export_dir=str(export_dir / "sm"))))
    assert sorted(os.listdir(export_dir / "sm")) == ["assets", "fingerprint.pb",
                                                     "saved_model.pb", "variables"]
    assert _leftovers(tmp_path) == [] and _leftovers(export_dir) == []


def test_failed_export_leaves_nothing(tiny_models, spm_model_file, tmp_path):
    export_dir = tmp_path / "export"
    # A SQuAD checkpoint has no classifier head.
    with pytest.raises(CheckpointMismatchError, match="output_weights"):
        export_savedmodel(ExportParams(
            model_kind="classifier", export_dir=str(export_dir), num_labels=3,
            spm_model_file=spm_model_file, init_checkpoint=tiny_models["squad_v1"][1],
            max_seq_length=16))
    assert os.listdir(tmp_path) == []
    # A SQuAD checkpoint of the other version: the error says which flag to change.
    for version, other, hint in (("squad_v2", False, "add --version_2_with_negative"),
                                 ("squad_v1", True, "drop --version_2_with_negative")):
        with pytest.raises(CheckpointMismatchError, match=hint):
            export_savedmodel(ExportParams(
                model_kind="squad", export_dir=str(export_dir), version_2_with_negative=other,
                spm_model_file=spm_model_file, init_checkpoint=tiny_models[version][1],
                max_seq_length=32, max_query_length=8))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("changes,error", [
    (dict(model_kind="bert"), "model_kind must be one of"),
    (dict(model_kind="encoder", init_checkpoint=None),
     "--model_kind=encoder needs --init_checkpoint"),
    (dict(model_kind="encoder", max_seq_length=512),
     "--max_seq_length=512 exceeds max_position_embeddings 128 of the model"),
    (dict(model_kind="squad", max_seq_length=32, max_query_length=64),
     "greater than max_query_length"),
    (dict(model_kind="race", max_seq_length=64), "max_qa_length"),
])
def test_bad_settings_are_named(tiny_models, spm_model_file, tmp_path, changes, error):
    kind = changes.get("model_kind")
    params = dict(export_dir=str(tmp_path / "x"), spm_model_file=spm_model_file,
                  init_checkpoint=tiny_models.get(
                      {"squad": "squad_v1"}.get(kind, kind), (None, None))[1],
                  max_seq_length=helpers.MAX_SEQ_LENGTH)
    params.update(changes)
    with pytest.raises(ValueError, match=error):
        export_savedmodel(ExportParams(**params))
    assert not (tmp_path / "x").exists() and _leftovers(tmp_path) == []


def test_load_model_reads_trainer_checkpoints_and_keras_files(tiny_models, spm_model_file,
                                                              tmp_path):
    """Besides the official format: our Trainer's object checkpoints and .keras files.

    An object checkpoint that lacks some of the model's variables (tf.train.Checkpoint
    does not reach layers that Keras keeps in nested lists) must be refused, not
    loaded in part.
    """
    import numpy as np
    import tensorflow as tf

    from albert_tf.export import exporter

    model, official_dir = tiny_models["classifier"]
    train_dir = tmp_path / "train"
    prefix = tf.train.Checkpoint(model=model).save(str(train_dir / "ckpt"))
    (train_dir / "albert_config.json").write_text(
        (pathlib.Path(official_dir) / "albert_config.json").read_text())
    keras_file = str(tmp_path / "classifier.keras")
    model.save(keras_file)
    saved = [n for n, _ in tf.train.list_variables(prefix)
             if n.startswith("model/") and n.endswith("VARIABLE_VALUE")]
    complete = len(saved) >= len(model.trainable_weights)
    for checkpoint in (prefix, keras_file):
        params = ExportParams(model_kind="classifier", export_dir=str(tmp_path / "x"),
                              spm_model_file=spm_model_file, init_checkpoint=checkpoint,
                              num_labels=len(helpers.CLASSIFIER_LABELS),
                              max_seq_length=helpers.MAX_SEQ_LENGTH)
        params.validate()
        if checkpoint == prefix and not complete:
            with pytest.raises(ValueError, match=f"holds only {len(saved)} variables"):
                exporter.load_model(params)
            continue
        loaded, _ = exporter.load_model(params)
        assert type(loaded) is type(model)
        assert len(loaded.weights) == len(model.weights)
        for theirs, ours in zip(model.weights, loaded.weights):
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs),
                                          err_msg=ours.path)


def test_encoder_from_a_fine_tuned_checkpoint_has_no_pretraining_signatures(
        tiny_models, spm_model_file, tmp_path):
    """A fine-tuned checkpoint has no cls/predictions: the encoder is exported alone."""
    import numpy as np

    from albert_tf.export import exporter
    from albert_tf.export.encoder_module import AlbertEncoderModule
    from albert_tf.modeling import AlbertEncoder
    from albert_tf.tokenization import TFTokenizer

    classifier, checkpoint = tiny_models["classifier"]
    params = ExportParams(model_kind="encoder", export_dir=str(tmp_path / "x"),
                          spm_model_file=spm_model_file, init_checkpoint=checkpoint,
                          max_seq_length=helpers.MAX_SEQ_LENGTH)
    params.validate()
    encoder, _ = exporter.load_model(params)
    assert type(encoder) is AlbertEncoder
    for theirs, ours in zip(classifier.encoder.weights, encoder.weights):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    module = AlbertEncoderModule(encoder, TFTokenizer(spm_model_file), helpers.MAX_SEQ_LENGTH,
                                 {"spm.model": spm_model_file})
    assert module.signature_names() == ["serving_default", "serving_pair",
                                        "tokenization_info", "tokens"]


def _first_v2_question(shared_data_dir):
    with open(shared_data_dir / "squad" / "v2.0" / "dev-v2.0.3articles.json") as f:
        paragraph = json.load(f)["data"][0]["paragraphs"][0]
    return paragraph["qas"][0]["question"], paragraph["context"]


@helpers.serving_requests
def _requests(ctx):
    question, context = _first_v2_question(ctx.shared_data_dir)
    return [{"key": "script/squad_v2", "export": "squad_v2", "signature": "serving_default",
             "inputs": {"question": helpers.strings([question]),
                        "context": helpers.strings([context])}}]


def test_query_cli_answers_from_raw_text(served, exports, shared_data_dir, tmp_path, capsys):
    """`python -m albert_tf.export.query` gives the serving process's answer."""
    from albert_tf.export import query

    question, context = _first_v2_question(shared_data_dir)
    context_file = tmp_path / "context.txt"
    context_file.write_text(context, encoding="utf-8")
    result = query.main(["--export_dir", exports["squad_v2"], f"--input=question={question}",
                         f"--input=context@={context_file}"])
    expected = served.outputs["script/squad_v2"]
    assert result["answer_text"] == [expected["answer_text"][0].decode("utf-8")]
    assert result["start_char"] == [int(expected["start_char"][0])]
    assert json.loads(capsys.readouterr().out)["is_answerable"] == [
        bool(expected["is_answerable"][0])]
    with pytest.raises(ValueError, match="missing"):
        query.main(["--export_dir", exports["squad_v2"], "--input=question=x"])


def test_default_length_is_cut_to_the_model_and_a_longer_one_refused_in_one_line(
        tiny_models, spm_model_file, tmp_path):
    """A 128-position model: the encoder's default 512 becomes 128; --max_seq_length=512
    ends the command with one line naming the flag and the model's positions."""
    assert helpers.CONFIG["max_position_embeddings"] == 128
    checkpoint = tiny_models["encoder"][1]
    refused = subprocess.Popen(
        [sys.executable, str(REPO / "export_savedmodel.py"), "--model_kind=encoder",
         f"--init_checkpoint={checkpoint}", f"--spm_model_file={spm_model_file}",
         f"--export_dir={tmp_path / 'long'}", "--max_seq_length=512"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    export_savedmodel(ExportParams(model_kind="encoder", init_checkpoint=checkpoint,
                                   spm_model_file=spm_model_file,
                                   export_dir=str(tmp_path / "default")))
    with open(tmp_path / "default" / "assets" / "export_config.json") as f:
        assert json.load(f)["max_seq_length"] == 128
    _, err = refused.communicate(timeout=600)
    assert refused.returncode == 1 and "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("albert-export: error: --max_seq_length=512 exceeds "
                           "max_position_embeddings 128 of the model ("), last
    assert not (tmp_path / "long").exists() and _leftovers(tmp_path) == []
