"""benchmarks/pretraining_transfer.py: no dev text reaches pretraining, the fine-tuning
samples come from train only, and `--quick` runs end to end (slow)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "pretraining_transfer", REPO_ROOT / "benchmarks" / "pretraining_transfer.py")
transfer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(transfer)


def tsv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(["\t".join(header)] + ["\t".join(r) for r in rows]) + "\n",
                    encoding="utf-8")


@pytest.fixture
def glue_dir(tmp_path):
    glue = tmp_path / "glue"
    for split in ("train", "dev"):
        tsv(glue / "SST-2" / f"{split}.tsv", ["sentence", "label"],
            [[f"sst {split} sentence {i}", str(i % 2)] for i in range(20)])
        tsv(glue / "MRPC" / f"{split}.tsv",
            ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
            [[str(i % 2), str(i), str(100 + i), f"mrpc {split} first {i}",
              f"mrpc {split} second {i}"] for i in range(10)])
    return glue


def test_pretraining_text_holds_train_text_and_no_dev_text(tmp_path, glue_dir):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"doc {d} line 1\ndoc {d} line 2\n\n" for d in range(5)))
    args = transfer.parse_args(["--output_dir", str(tmp_path / "out"), "--quick",
                                "--corpus", str(corpus), "--glue_dir", str(glue_dir),
                                "--heldout_documents", "2", "--sentences_per_document", "8"])
    paths, stats = transfer.build_text(args, str(tmp_path))
    text = open(paths["train"], encoding="utf-8").read()
    heldout = open(paths["heldout"], encoding="utf-8").read()
    assert "dev" not in text and "dev" not in heldout
    for i in range(20):
        assert f"sst train sentence {i}\n" in text
    for i in range(10):
        assert f"mrpc train first {i}\nmrpc train second {i}\n\n" in text
    # The last 2 corpus documents are held out, and only there.
    assert "doc 3" not in text and "doc 4" not in text and "doc 0" not in heldout
    assert "doc 3 line 1" in heldout and "doc 4 line 2" in heldout
    # 20 SST-2 sentences, 8 to a document: 3 documents; 10 MRPC pairs.
    assert stats == dict(stats, corpus_documents=3, task_train_documents=13,
                         heldout_documents=2)


def test_fine_tuning_samples_come_from_train(tmp_path, glue_dir):
    args = transfer.parse_args(["--output_dir", str(tmp_path), "--glue_dir", str(glue_dir),
                                "--few_rows", "6"])
    folders = transfer.task_folders(args, str(tmp_path))
    rows = lambda folder, task, split: transfer.read_tsv(  # noqa: E731
        f"{folders[folder][1]}/{task}/{split}.tsv")[1:]
    few = rows("sst2_few", "SST-2", "train")
    assert len(few) == 6 and len({r[0] for r in few}) == 6
    assert all(r[0].startswith("sst train") for r in few)
    assert rows("sst2_few", "SST-2", "dev") == transfer.read_tsv(
        f"{glue_dir}/SST-2/dev.tsv")[1:]
    # The learning-rate split: train only, its two parts disjoint and complete.
    fit, held = rows("pair/lr_split", "MRPC", "train"), rows("pair/lr_split", "MRPC", "dev")
    assert len(held) == 1 and len(fit) == 9
    assert sorted(map(tuple, fit + held)) == sorted(
        map(tuple, transfer.read_tsv(f"{glue_dir}/MRPC/train.tsv")[1:]))


@pytest.mark.slow
def test_quick_run_prints_the_table(tmp_path, shared_data_dir):
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "pretraining_transfer.py"), "--quick",
         f"--output_dir={tmp_path}", f"--glue_dir={shared_data_dir / 'glue_data'}"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| SST-2 1000 train rows (200, 0.0001/0.0001) |" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["loading_check"]["max_abs_difference"] == 0.0
    assert results["loading_check"]["pooler_included"]
    assert set(results["finetune"]) == {"sst2_few", "pair", "sst2_full"}
    assert len(results["pretraining"]["history"]) == 4
    assert (tmp_path / "transfer.png").stat().st_size > 1000


def test_new_pooler_checkpoint_changes_only_the_pooler(tmp_path):
    import numpy as np
    import tensorflow as tf
    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.checkpoints import save_official_checkpoint
    from finetune_test_helpers import REFERENCE_CONFIG, write_config

    config_path = write_config(tmp_path / "albert_config.json", **REFERENCE_CONFIG)
    source = save_official_checkpoint(AlbertPretrainer(AlbertConfig(**REFERENCE_CONFIG)),
                                      str(tmp_path / "pre" / "model.ckpt-7"), global_step=7)
    prefix = transfer.checkpoint_with_new_pooler(config_path, source,
                                                 str(tmp_path / "new" / "model.ckpt-0"))
    before, after = tf.train.load_checkpoint(source), tf.train.load_checkpoint(prefix)
    names = set(before.get_variable_to_shape_map()) - {"global_step"}
    assert names <= set(after.get_variable_to_shape_map())
    pooler = {"bert/pooler/dense/kernel", "bert/pooler/dense/bias"}
    for name in names - pooler:
        np.testing.assert_array_equal(after.get_tensor(name), before.get_tensor(name))
    kernel = after.get_tensor("bert/pooler/dense/kernel")
    assert not np.array_equal(kernel, before.get_tensor("bert/pooler/dense/kernel"))
    assert np.abs(kernel).max() <= 2 * REFERENCE_CONFIG["initializer_range"]
    np.testing.assert_array_equal(after.get_tensor("bert/pooler/dense/bias"), 0.0)
