"""Shared pytest fixtures."""

import os
import pathlib
import shutil
import sys
import tempfile

import pytest

import albert_tf  # noqa: F401  (before TensorFlow: its CPU kernel choice, as users get it)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
# Test helpers shared across folders (e.g. the NumPy reference ALBERT).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
SHARED_DATA = pathlib.Path(
      os.environ.get("ALBERT_TF_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def session_temporary_directory(tmp_path_factory):
    """The system temporary directory of the session: every temporary file (TensorFlow's
    autograph sources, TFDS's and Beam's folders), in this process and in the commands it
    starts (TMPDIR), goes into one folder of pytest's own, removed at the end. /tmp keeps
    none of it, even where a subprocess is killed before it cleans up."""
    folder = tmp_path_factory.mktemp("tmp")
    saved_tempdir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = os.environ["TMPDIR"] = str(folder)
    yield folder
    tempfile.tempdir = saved_tempdir
    if saved_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved_env
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data_dir():
    """`../shared/data` (real public data, see its PROVENANCE.md); skips if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def squad_texts(shared_data_dir):
    """Every context and question of the shared SQuAD files (v1.1 and v2.0), in order."""
    import json

    texts = []
    for path in sorted((shared_data_dir / "squad").glob("*/*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                texts.append(paragraph["context"])
                texts.extend(qa["question"] for qa in paragraph["qas"])
    return texts


@pytest.fixture(scope="session")
def spm_model_file(shared_data_dir):
    """The official ALBERT 30k-clean SentencePiece model."""
    path = shared_data_dir / "albert_spm" / "30k-clean.model"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return str(path)
