"""Shared pytest fixtures."""

import os
import pathlib

import sys

import pytest

import albert_tf  # noqa: F401  (before TensorFlow: its CPU kernel choice, as users get it)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
# Test helpers shared across folders (e.g. the NumPy reference ALBERT).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
SHARED_DATA = pathlib.Path(
      os.environ.get("ALBERT_TF_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data_dir():
    """`../shared/data` (real public data, see its PROVENANCE.md); skips if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def spm_model_file(shared_data_dir):
    """The official ALBERT 30k-clean SentencePiece model."""
    path = shared_data_dir / "albert_spm" / "30k-clean.model"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return str(path)
