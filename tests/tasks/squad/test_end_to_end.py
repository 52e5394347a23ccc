"""A tiny ALBERT trained from scratch on 50 real SQuAD questions answers them back:
proof that labels, heads, loss and post-processing agree end to end.

Both runs use the Normans article (SQuAD dev): the v1.1 questions are all
answerable; the v2.0 ones mix 21 answerable and 29 unanswerable questions
about the same paragraphs. (The Super_Bowl_50 article is avoided: it asks the
same question twice with answers at different places, which no model can
memorise both ways.)
"""

import json
import time

import pytest

from albert_tf.training.runtime import RuntimeParams
from albert_tf.tasks.squad.task import SquadParams, run_squad
from .squad_test_helpers import V1_NORMANS_SOURCE, V2_SOURCE, read_json, write_subset, \
    write_tiny_config

NUM_QUESTIONS = 50
TRAIN_STEPS = 300


def train_and_predict(tmp_path, source, spm_model_file, version_2_with_negative):
    ids = write_subset(source, tmp_path / "questions.json", NUM_QUESTIONS, title="Normans")
    assert len(ids) == NUM_QUESTIONS
    write_tiny_config(tmp_path / "config.json", hidden_size=64, max_position_embeddings=256)
    out = tmp_path / "out"
    started = time.time()
    result = run_squad(SquadParams(
        albert_config_file=str(tmp_path / "config.json"), spm_model_file=spm_model_file,
        output_dir=str(out), version_2_with_negative=version_2_with_negative,
        train_file=str(tmp_path / "questions.json"),
        predict_file=str(tmp_path / "questions.json"), do_train=True, do_predict=True,
        max_seq_length=256, doc_stride=128, max_query_length=32, train_batch_size=16,
        predict_batch_size=32, learning_rate=2e-3, train_step=TRAIN_STEPS,
        warmup_step=TRAIN_STEPS // 10, save_checkpoints_steps=TRAIN_STEPS,
        iterations_per_loop=50, dropout_prob=0.0, runtime=RuntimeParams(seed=1)))
    seconds = time.time() - started
    print(f"\n{'v2.0' if version_2_with_negative else 'v1.1'}: {NUM_QUESTIONS} questions, "
          f"{TRAIN_STEPS} steps, {seconds:.0f} s, train loss {result['train']['loss']:.4f}, "
          f"eval {json.dumps(result['predict'])}")
    assert result["predict"] == read_json(out / "eval_results.json")
    assert list(read_json(out / "predictions.json")) == ids
    return result


@pytest.mark.slow
def test_tiny_model_reproduces_v1_questions(tmp_path, shared_data_dir, spm_model_file):
    result = train_and_predict(tmp_path, shared_data_dir / V1_NORMANS_SOURCE, spm_model_file,
                               version_2_with_negative=False)
    assert result["predict"]["f1"] >= 90.0
    assert result["train"]["loss"] < 0.5


@pytest.mark.slow
def test_tiny_model_reproduces_v2_questions(tmp_path, shared_data_dir, spm_model_file):
    result = train_and_predict(tmp_path, shared_data_dir / V2_SOURCE, spm_model_file,
                               version_2_with_negative=True)
    metrics = result["predict"]
    assert metrics["HasAns_total"] > 15 and metrics["NoAns_total"] > 15
    assert metrics["f1"] >= 90.0
    # Both halves are learnt, not only "no answer".
    assert metrics["HasAns_f1"] >= 80.0 and metrics["NoAns_exact"] >= 80.0
    assert result["train"]["loss"] < 0.5
