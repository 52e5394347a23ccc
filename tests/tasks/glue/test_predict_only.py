"""A predict-only run (`--do_predict` alone) whose --output_dir holds a fine-tuned run
predicts with that run's model, not with the --init_checkpoint it is also given (which
seeds training only, as in the official run_glue.sh)."""

import json
import logging
import pathlib
import shutil

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
    # What each set of weights predicts: the fine-tuned model at the end of its training
    # run, the init one from a fresh output_dir.
    run_classifier(ClassifierParams(**base, output_dir=str(out), init_checkpoint=init,
                                    do_train=True, do_predict=True))
    assert sorted(p.name for p in out.glob("model.ckpt-*.index")) == ["model.ckpt-6.index"]
    expected = {"fine_tuned": _probabilities(out)}
    (out / "test_results.tsv").unlink()
    run_classifier(ClassifierParams(**base, output_dir=str(root / "init"), init_checkpoint=init,
                                    do_predict=True))
    expected["init"] = _probabilities(root / "init")
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


def test_a_damaged_best_gives_way_to_the_newest_intact_checkpoint(runs, tmp_path, capsys,
                                                                  caplog):
    """Evaluation and prediction alone, whose output_dir's model.ckpt-best (of other
    weights) is cut short and whose checkpoints are all scored: the loaded model and the
    one predicting are model.ckpt-6, each time with a warning naming the damaged best."""
    base, out, init, expected = runs
    run = tmp_path / "out"
    shutil.copytree(out, run)
    for path in pathlib.Path(init).parent.glob("model.ckpt-0.*"):
        shutil.copy(path, run / path.name.replace("ckpt-0", "ckpt-best"))
    data = run / "model.ckpt-best.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:data.stat().st_size // 2])
    (run / "best_eval.json").write_text(json.dumps({"accuracy": 1.0, "global_step": 6}))
    (run / "eval_history.jsonl").write_text("".join(
        json.dumps({"accuracy": 0.5, "global_step": step, "checkpoint": str(prefix)}) + "\n"
        for step, prefix in ((3, run / "training_checkpoints" / "ckpt-3"),
                             (6, run / "model.ckpt-6"))))
    capsys.readouterr()
    with caplog.at_level(logging.WARNING):
        run_classifier(ClassifierParams(**base, output_dir=str(run), init_checkpoint=init,
                                        do_eval=True, do_predict=True))
    np.testing.assert_allclose(_probabilities(run), expected["fine_tuned"], atol=1e-6)
    printed = capsys.readouterr().out
    assert f"Loaded the fine-tuned model {run}/model.ckpt-6" in printed
    assert f"Using {run}/model.ckpt-6: model.ckpt-best (step 6) is damaged" in printed
    warnings = [r.getMessage() for r in caplog.records
                if "the newest checkpoint that reads" in r.getMessage()]
    assert warnings and all(
        w.startswith(f"{run}: using {run}/model.ckpt-6, ") and
        f"checkpoint {run}/model.ckpt-best: cannot read tensor" in w for w in warnings), \
        warnings
