"""Hub ids resolve through huggingface_hub and keras-hub/kagglehub, offline, from caches
laid out as those libraries lay them (never the network); a local path wins."""

import os
import subprocess
import sys

import pytest

import albert_tf
from .interop_helpers import CFG

pytest.importorskip("huggingface_hub")
pytest.importorskip("keras_hub")
pytest.importorskip("kagglehub")

COMMIT = "0123456789abcdef0123456789abcdef01234567"
KAGGLE_HANDLE = "keras/albert/keras/albert_base_en_uncased/5"  # keras-hub's, for the name

SCRIPT = """
import sys
sys.modules["triton"] = None
import kagglehub.cache, kagglehub.handle
kagglehub.cache.Cache().mark_as_complete(kagglehub.handle.parse_model_handle(sys.argv[1]))
import albert_tf

def report(name):
    try:
        model = albert_tf.load_pretrained(name)
        print("LOADED", name, type(model).__name__, model.encoder.albert_config.hidden_size,
              model.spm_model_file is not None)
    except Exception as e:
        print("ERROR", name, type(e).__name__, str(e).replace("\\n", " "))

for name in sys.argv[2:]:
    report(name)
"""


def test_hub_ids_resolve_from_the_libraries_caches_offline(tmp_path, spm_model_file):
    hf_cache, kaggle_cache, work = tmp_path / "hf", tmp_path / "kaggle", tmp_path / "work"
    # huggingface_hub's layout: models--{org}--{name}/refs/main -> snapshots/{commit}/.
    repo = hf_cache / "models--albert--albert-tiny-v2"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    albert_tf.save_pretrained(albert_tf.AlbertPretrainer(dict(CFG, vocab_size=30000)),
                              str(repo / "snapshots" / COMMIT), format="hf",
                              spm_model_file=spm_model_file)
    # kagglehub's layout: models/{owner}/{model}/{framework}/{variation}/{version}/ (its
    # completion marker is written by kagglehub itself in the subprocess).
    albert_tf.save_pretrained(albert_tf.AlbertPretrainer(dict(CFG, vocab_size=30000,
                                                              hidden_size=24)),
                              str(kaggle_cache / "models" / KAGGLE_HANDLE), format="keras_hub",
                              spm_model_file=spm_model_file)
    # A local folder named like a hub id wins over the id.
    work.mkdir()
    albert_tf.save_pretrained(albert_tf.AlbertPretrainer(dict(CFG, hidden_size=6,
                                                              num_attention_heads=2)),
                              str(work / "albert_large_en_uncased"), format="hf")

    env = dict(os.environ, HF_HUB_CACHE=str(hf_cache), HF_HUB_OFFLINE="1",
               KAGGLEHUB_CACHE=str(kaggle_cache), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("HF_HOME", None)
    names = ["albert/albert-tiny-v2", "hf://albert/albert-tiny-v2", "albert_base_en_uncased",
             f"kaggle://{KAGGLE_HANDLE}", "albert_large_en_uncased", "albert/not-cached",
             "no_such_thing"]
    out = subprocess.run([sys.executable, "-c", SCRIPT, KAGGLE_HANDLE] + names,
                         capture_output=True, text=True, env=env, cwd=str(work), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = {line.split(" ")[1]: line for line in out.stdout.splitlines()
             if line.startswith(("LOADED", "ERROR"))}
    assert lines["albert/albert-tiny-v2"] == "LOADED albert/albert-tiny-v2 AlbertPretrainer 12 True"
    assert lines["hf://albert/albert-tiny-v2"].endswith("AlbertPretrainer 12 True")
    assert lines["albert_base_en_uncased"].endswith("AlbertPretrainer 24 True")
    assert lines[f"kaggle://{KAGGLE_HANDLE}"].endswith("AlbertPretrainer 24 True")
    assert lines["albert_large_en_uncased"].endswith("AlbertPretrainer 6 False")
    assert lines["albert/not-cached"].startswith("ERROR albert/not-cached FileNotFoundError")
    assert "huggingface-cli download albert/not-cached" in lines["albert/not-cached"]
    assert "not a hub id" in lines["no_such_thing"]
