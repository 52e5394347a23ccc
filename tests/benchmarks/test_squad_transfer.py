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
