"""A predict-only run (`--do_predict` alone) whose --output_dir holds a fine-tuned run
predicts with that run's model, not with the --init_checkpoint it is also given (which
seeds training only, as in the official run_glue.sh)."""

import pathlib

import keras
import numpy as np
import pytest

from albert_tf import AlbertConfig
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from finetune_test_helpers import glue_sample, write_config


def _probabilities(output_dir):
    rows = pathlib.Path(output_dir, "test_results.tsv").read_text().splitlines()
    return np.array([[float(x) for x in row.split("\t")] for row in rows])


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_data_dir, spm_model_file):
    root = tmp_path_factory.mktemp("predict_only")
    config = write_config(root / "albert_config.json")
    data_dir = glue_sample(shared_data_dir / "glue_data", root / "glue", "SST-2",
                           train_rows=16, test_rows=6)
    # The "pretrained" --init_checkpoint: an SST-2 model of other (random) weights.
    keras.utils.set_random_seed(7)
    init = save_official_checkpoint(
        AlbertClassifier(AlbertConfig.from_json_file(config), num_labels=2),
        str(root / "init" / "model.ckpt-0"))
    AlbertConfig.from_json_file(config).to_json_file(str(root / "init" / "albert_config.json"))
    base = dict(task_name="SST-2", data_dir=data_dir, albert_config_file=config,
                spm_model_file=spm_model_file, max_seq_length=32, train_batch_size=8,
                predict_batch_size=4, learning_rate=1e-2, train_step=6, warmup_step=0,
                save_checkpoints_steps=3, iterations_per_loop=3, dropout_prob=0.0)
    out = root / "out"
    run_classifier(ClassifierParams(**base, output_dir=str(out), init_checkpoint=init,
                                    do_train=True))
    assert sorted(p.name for p in out.glob("model.ckpt-*.index")) == ["model.ckpt-6.index"]
    # What each set of weights predicts, each from a fresh output_dir.
    expected = {}
    for name, checkpoint in (("fine_tuned", str(out / "model.ckpt-6")), ("init", init)):
        run_classifier(ClassifierParams(**base, output_dir=str(root / name),
                                        init_checkpoint=checkpoint, do_predict=True))
        expected[name] = _probabilities(root / name)
    return base, out, init, expected


def test_predict_only_uses_the_fine_tuned_model_in_output_dir(runs, capsys):
    base, out, init, expected = runs
    assert not np.allclose(expected["fine_tuned"], expected["init"], atol=1e-3)
    capsys.readouterr()
    run_classifier(ClassifierParams(**base, output_dir=str(out), init_checkpoint=init,
                                    do_predict=True))
    predicted = _probabilities(out)
    assert predicted.shape == (6, 2)
    np.testing.assert_allclose(predicted, expected["fine_tuned"], atol=1e-6)
    assert not np.allclose(predicted, expected["init"], atol=1e-3)
    assert f"Loaded the fine-tuned model {out}/model.ckpt-6" in capsys.readouterr().out
