"""benchmarks/squad_transfer.py: the pretrained arm starts from the newest numbered
checkpoint of the harness folder (by step, not by name; never model.ckpt-best)."""

import importlib.util
import sys

import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
spec = importlib.util.spec_from_file_location(
    "squad_transfer", REPO_ROOT / "benchmarks" / "squad_transfer.py")
squad_transfer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(squad_transfer)


def test_newest_checkpoint_is_the_highest_step(tmp_path):
    for name in ("model.ckpt-9000", "model.ckpt-10000", "model.ckpt-best", "model.ckpt-200"):
        (tmp_path / f"{name}.index").write_text("")
    assert squad_transfer.newest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-10000")


def test_no_numbered_checkpoint_is_an_error(tmp_path):
    (tmp_path / "model.ckpt-best.index").write_text("")
    with pytest.raises(FileNotFoundError, match="no model.ckpt-<step> in"):
        squad_transfer.newest_checkpoint(str(tmp_path))


def test_span_scores_take_the_best_non_empty_answer_of_answerable_questions(tmp_path):
    import json
    dev = {"data": [{"title": "t", "paragraphs": [{"context": "the red fox ran", "qas": [
        {"id": "a", "question": "?", "answers": [{"text": "red fox", "answer_start": 4},
                                                 {"text": "fox", "answer_start": 8}]},
        {"id": "b", "question": "?", "answers": [{"text": "ran", "answer_start": 12}]},
        {"id": "c", "question": "?", "answers": [], "is_impossible": True}]}]}]}
    nbest = {"a": [{"text": ""}, {"text": "The red fox"}, {"text": "ran"}],
             "b": [{"text": "fox ran"}],
             "c": [{"text": "fox"}]}
    (tmp_path / "dev.json").write_text(json.dumps(dev))
    (tmp_path / "nbest_predictions.json").write_text(json.dumps(nbest))
    scores = squad_transfer.span_scores(str(tmp_path), str(tmp_path / "dev.json"))
    # a: "The red fox" matches "red fox" (articles dropped), not "fox": the best gold
    # counts; b: "fox ran" vs "ran": F1 2/3.
    assert scores["answered_questions"] == 2
    assert scores["span_exact"] == pytest.approx(50.0)
    assert scores["span_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
