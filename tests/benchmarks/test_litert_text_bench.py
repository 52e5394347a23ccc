"""benchmarks/litert_text_bench.py runs end to end on a tiny model: its check holds
(raw-text file == Python tokenizer + ids-in file, all three tokenizers agree) and it
prints a median and a ratio per measure."""

import importlib.util
import json
import sys

import pytest

from conftest import REPO_ROOT
from tiny_config import real_vocabulary_config_dict

pytest.importorskip("ai_edge_litert.interpreter")
spec = importlib.util.spec_from_file_location(
    "litert_text_bench", REPO_ROOT / "benchmarks" / "litert_text_bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_one_round_on_a_tiny_classifier(spm_model_file, tmp_path, monkeypatch, capsys):
    config = tmp_path / "albert_config.json"
    config.write_text(json.dumps(real_vocabulary_config_dict()))
    monkeypatch.setattr(sys, "argv", [
        "litert_text_bench.py", f"--work_dir={tmp_path / 'work'}", f"--config={config}",
        f"--spm_model_file={spm_model_file}", "--max_seq_length=64", "--rounds=1",
        "--requests=8"])
    medians = bench.main()
    assert sorted(medians) == sorted(
        [f"{name} texts/s" for name in ("tflite_tokenize", "full_tokenizer", "tf_tokenizer")]
        + [f"{name} b{batch} ms" for batch in (1, 32) for name in ("litert_text", "litert_ids")])
    assert all(value > 0 for value in medians.values())
    out = capsys.readouterr().out
    assert '"round": 0' in out and "x litert_ids' speed" in out
    assert json.loads(out.splitlines()[0])["lines"] > 2000


def test_check_fails_when_the_arms_disagree(spm_model_file):
    lines = ["In 1990, the Café.", "Another line."]
    arms = {"full_tokenizer": lambda texts: [[1, 2]] * len(texts),
            "tflite_tokenize": lambda texts: [[1, 2]] * len(texts),
            "tf_tokenizer": lambda texts: [[1, 3]] * len(texts)}
    with pytest.raises(AssertionError, match="tf_tokenizer: 2 of 2"):
        bench.check(arms, lines)
