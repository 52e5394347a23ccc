"""benchmarks/pretraining_transfer.py: no dev text reaches pretraining, the fine-tuning
samples come from train only, and `--quick` runs end to end (slow)."""

import importlib.util
import json
import os
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
    # The linear probes ran on both tasks, for the checkpoint and a random encoder.
    for task in ("sst2_few", "pair"):
        assert set(results["probe"][task]["results"]) >= {"model.ckpt-1000", "random_seed1"}
    assert "dev accuracy of a linear probe" in done.stdout
    assert (tmp_path / "transfer.png").stat().st_size > 1000


@pytest.mark.parametrize("arm, redrawn", [
    ("pretrained_new_pooler", {"bert/pooler/dense/kernel", "bert/pooler/dense/bias"}),
    ("pretrained_embeddings", None),  # every bert/* variable but bert/embeddings/*
])
def test_redrawn_checkpoint_changes_only_its_part(tmp_path, arm, redrawn):
    import numpy as np
    import tensorflow as tf
    from albert_tf import AlbertConfig, AlbertPretrainer
    from albert_tf.checkpoints import save_official_checkpoint
    from finetune_test_helpers import REFERENCE_CONFIG, write_config

    config_path = write_config(tmp_path / "albert_config.json", **REFERENCE_CONFIG)
    pretrainer = AlbertPretrainer(AlbertConfig(**REFERENCE_CONFIG))
    # Trained-looking values (no zero bias, no unit gamma) so that a re-drawn one shows.
    for variable in pretrainer.weights:
        variable.assign(np.full(variable.shape, 0.5, np.float32))
    source = save_official_checkpoint(pretrainer, str(tmp_path / "pre" / "model.ckpt-7"),
                                      global_step=7)
    prefix = transfer.checkpoint_with_redrawn(config_path, source,
                                              str(tmp_path / "new" / "model.ckpt-0"),
                                              transfer.REDRAWN[arm])
    before, after = tf.train.load_checkpoint(source), tf.train.load_checkpoint(prefix)
    names = set(before.get_variable_to_shape_map()) - {"global_step"}
    assert names <= set(after.get_variable_to_shape_map())
    if redrawn is None:
        redrawn = {n for n in names if n.startswith("bert/")
                   and not n.startswith("bert/embeddings/")}
        assert "bert/encoder/embedding_hidden_mapping_in/kernel" in redrawn
        assert "bert/embeddings/word_embeddings" not in redrawn
    std = REFERENCE_CONFIG["initializer_range"]
    for name in sorted(names):
        value = after.get_tensor(name)
        if name not in redrawn:
            np.testing.assert_array_equal(value, before.get_tensor(name), err_msg=name)
        elif name.endswith("gamma"):
            np.testing.assert_array_equal(value, 1.0, err_msg=name)
        elif name.endswith(("bias", "beta")):
            np.testing.assert_array_equal(value, 0.0, err_msg=name)
        else:
            assert np.abs(value).max() <= 2 * std and value.std() > std / 2, name


# ---------------------------------------------------------------------------------------
# The keras-hub peer (benchmarks/keras_hub_peer.py).

def test_table_puts_each_pretrained_minus_scratch_difference_beside_the_arms():
    arms = ["pretrained", "scratch", "keras_hub_pretrained", "keras_hub_scratch"]
    means = {"pretrained": 0.60, "scratch": 0.55, "keras_hub_pretrained": 0.50,
             "keras_hub_scratch": 0.52}
    row = {"steps": 7}
    for arm, mean in means.items():
        row[arm] = {"learning_rate": 1e-4, "spread": {"mean": mean, "std": 0.0,
                                                       "min": mean, "max": mean}}
    summary = {"args": {"arms": ",".join(arms), "few_rows": 6, "pair_task": "MRPC"},
               "finetune": {"pair": row}}
    header, _, line = transfer.table(summary).split("\n")
    assert header == ("| fine-tuning data (steps, lr) | pretrained | scratch | difference | "
                      "keras_hub_pretrained | keras_hub_scratch | keras-hub difference | ")
    # 60 - 55 = +5.0 and 50 - 52 = -2.0.
    assert line == ("| MRPC (7, 0.0001/0.0001/0.0001/0.0001) | 60.0 ± 0.0 (60.0-60.0) | "
                    "55.0 ± 0.0 (55.0-55.0) | +5.0 | 50.0 ± 0.0 (50.0-50.0) | "
                    "52.0 ± 0.0 (52.0-52.0) | -2.0 | ")


def test_without_matplotlib_the_picture_is_skipped_not_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    path = tmp_path / "transfer.png"
    assert transfer.plot({"args": {"arms": "pretrained,scratch"}, "finetune": {}}, str(path)) \
        is False
    assert not path.exists()
    assert "matplotlib is not installed" in capsys.readouterr().out


def test_unknown_arm_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        transfer.parse_args(["--output_dir", str(tmp_path), "--arms", "pretrained,keras"])


@pytest.fixture
def keras_hub():
    """The peer tests need keras-hub (the `interop` extra)."""
    return pytest.importorskip("keras_hub")


PEER_CONFIG = dict(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                   num_hidden_groups=1, inner_group_num=1, num_attention_heads=2,
                   intermediate_size=32, max_position_embeddings=128, type_vocab_size=2,
                   hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def test_peer_classifier_starts_from_the_pretrained_backbone(tmp_path, spm_model_file,
                                                             keras_hub):
    import keras
    import numpy as np
    from synthetic_pretraining_data import write_records
    peer = transfer.keras_hub_peer
    records = write_records(tmp_path / "pretrain.tfrecord", 16, vocab_size=60)
    masked_lm, history, _ = peer.pretrain_masked_lm(
        PEER_CONFIG, records, records, steps=2, batch_size=4, learning_rate=1e-2,
        eval_every=2, max_seq_length=32, max_predictions_per_seq=5, seed=7)
    assert [h["global_step"] for h in history] == [2]
    pretrained = masked_lm.backbone.token_embedding.embeddings.numpy()
    weights = str(tmp_path / "backbone.weights.h5")
    masked_lm.backbone.save_weights(weights)
    keras.utils.set_random_seed(7)  # the draw pretraining started from
    initial = peer.backbone_from_config(PEER_CONFIG).token_embedding.embeddings.numpy()
    assert not np.array_equal(pretrained, initial)  # pretraining moved it

    tuned = peer.build_classifier(PEER_CONFIG, spm_model_file, 2, 32, weights)
    fresh = peer.build_classifier(PEER_CONFIG, spm_model_file, 2, 32)
    np.testing.assert_array_equal(tuned.backbone.token_embedding.embeddings.numpy(),
                                  pretrained)
    for a, b in zip(tuned.backbone.weights, masked_lm.backbone.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(fresh.backbone.token_embedding.embeddings.numpy(), pretrained)


def test_peer_text_reaches_the_preprocessor_as_one_or_two_segments(spm_model_file, keras_hub):
    import numpy as np
    from albert_tf.tasks.glue.processors import InputExample
    peer = transfer.keras_hub_peer
    classifier = peer.build_classifier(PEER_CONFIG, spm_model_file, 2, 16)
    sep = classifier.preprocessor.tokenizer.token_to_id("[SEP]")
    for text_b, separators in ((None, 1), ("the second one", 2)):
        examples = [InputExample("g", "a first sentence", text_b, "1")] * 3
        x, y = next(iter(peer.text_dataset(examples, np.array([1, 1, 1])).batch(3)
                         .map(classifier.preprocess_samples)))
        assert x["token_ids"].shape == (3, 16) and list(y.numpy()) == [1, 1, 1]
        assert int(np.sum(x["token_ids"].numpy()[0] == sep)) == separators
        assert int(x["segment_ids"].numpy()[0].max()) == separators - 1


def peer_run_flags(out, glue_dir, corpus, spm_model_file, settings):
    return [f"--output_dir={out}", f"--glue_dir={glue_dir}", f"--corpus={corpus}",
            "--heldout_documents=1", "--vocab_size=0", f"--spm_model_file={spm_model_file}",
            "--arms=keras_hub_pretrained,keras_hub_scratch", f"--settings={settings}",
            "--few_rows=6", "--seeds=1,2", "--learning_rates=1e-3", "--embedding_size=8",
            "--hidden_size=16", "--num_hidden_layers=2", "--num_attention_heads=2",
            "--intermediate_size=32", "--max_seq_length=32", "--max_predictions_per_seq=5",
            "--pretrain_steps=4", "--eval_every=2", "--pretrain_batch_size=4",
            "--few_steps=2", "--pair_steps=3", "--finetune_batch_size=4"]


def test_peer_arms_are_wired_to_the_peer_with_the_harness_settings(tmp_path, glue_dir,
                                                                   monkeypatch, capsys):
    """The harness's part, with the peer's training replaced by records of its calls."""
    peer, calls = transfer.keras_hub_peer, []
    out, corpus = tmp_path / "out", tmp_path / "corpus.txt"
    out.mkdir()
    corpus.write_text("".join(f"doc {d} line 1\ndoc {d} line 2\n\n" for d in range(4)))
    for name in ("pretrain.tfrecord", "heldout.tfrecord"):
        (out / name).write_bytes(b"")
    spm = tmp_path / "spm.model"
    spm.write_bytes(b"")
    monkeypatch.setattr(transfer, "model_config", lambda args, spm_model, work: (
        "config.json", {"vocab_size": 30}))
    monkeypatch.setattr(peer, "pretrain", lambda config, train, heldout, out_dir, **kw: (
        calls.append(("pretrain", train, heldout, out_dir, kw)) or (
            "weights.h5", {"history": [{"global_step": 2, "masked_lm_accuracy": 0.5,
                                        "masked_lm_loss": 1.0}]})))
    monkeypatch.setattr(peer, "check_loading", lambda *a: {
        "missing": [], "max_abs_difference": 0.0, "token_embedding_differs_from_fresh": True})

    def finetune(config, spm_model, task_name, data_dir, init, seed, rate, steps, batch,
                 seq, out_dir, **kw):
        calls.append(("finetune", task_name, init, seed, rate, steps, batch, seq))
        return {"accuracy": 0.5 + seed / 10 + (init is not None) / 100, "f1": 0.1}
    monkeypatch.setattr(peer, "finetune", finetune)
    transfer.main(peer_run_flags(out, glue_dir, corpus, spm, "sst2_few,pair"))
    kw = calls[0][4]
    assert calls[0][:4] == ("pretrain", str(out / "pretrain.tfrecord"),
                            str(out / "heldout.tfrecord"), str(out / "keras_hub"))
    assert (kw["steps"], kw["batch_size"], kw["learning_rate"], kw["eval_every"],
            kw["seed"], kw["optimizer"]) == (4, 4, 0.001, 2, 12345, "adamw")  # its own rate
    assert sorted(map(str, (c[1:] for c in calls[1:]))) == sorted(
        str((task, init, seed, 1e-3, steps, 4, 32))
        for task, steps in (("SST-2", 2), ("MRPC", 3)) for init in ("weights.h5", None)
        for seed in (1, 2))
    results = json.loads((out / "results.json").read_text())
    assert "pretraining" not in results and results["keras_hub"]["backbone_weights"] == \
        "weights.h5"
    row = results["finetune"]["pair"]
    assert row["keras_hub_pretrained"]["accuracies"] == [0.61, 0.71]
    assert row["keras_hub_scratch"]["accuracies"] == [0.6, 0.7]
    # +1.0: the pretrained arm's 0.01 over scratch, in points.
    assert "| MRPC (3, 0.001/0.001) | 66.0 ± 7.1 (61.0-71.0) | 65.0 ± 7.1 (60.0-70.0) | +1.0 |" \
        in capsys.readouterr().out
    assert (out / "transfer.png").stat().st_size > 1000


@pytest.mark.slow
def test_peer_arms_land_in_results_table_and_picture(tmp_path, glue_dir, spm_model_file,
                                                     keras_hub, capsys):
    from synthetic_pretraining_data import write_records
    out = tmp_path / "out"
    out.mkdir()
    # The harness reuses records already in its folder: tiny ones over the 30k vocabulary.
    write_records(out / "pretrain.tfrecord", 24, vocab_size=60, seed=0)
    write_records(out / "heldout.tfrecord", 10, vocab_size=60, seed=1)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"doc {d} line 1\ndoc {d} line 2\n\n" for d in range(4)))
    # Both settings: one text segment (SST-2) and two (MRPC); argparse keeps the last --seeds.
    summary = transfer.main(peer_run_flags(out, glue_dir, corpus, spm_model_file,
                                           "sst2_few,pair") + ["--seeds=1"])
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["finetune"] == summary["finetune"]
    assert "pretraining" not in results  # no arm of ours asked for our pretraining
    peer = results["keras_hub"]
    assert [h["global_step"] for h in peer["pretraining"]["history"]] == [2, 4]
    for h in peer["pretraining"]["history"]:
        assert 0.0 <= h["masked_lm_accuracy"] <= 1.0 and h["masked_lm_loss"] > 0
    assert peer["loading_check"]["max_abs_difference"] == 0.0
    assert peer["loading_check"]["missing"] == []
    assert peer["loading_check"]["token_embedding_differs_from_fresh"]
    for setting, dev_rows, steps in (("sst2_few", 20, 2), ("pair", 10, 3)):
        row = results["finetune"][setting]
        assert row["steps"] == steps
        for arm in ("keras_hub_pretrained", "keras_hub_scratch"):
            assert row[arm]["learning_rate"] == 1e-3
            assert len(row[arm]["accuracies"]) == 1
            # Accuracy over the fixture's dev rows: a multiple of 1 / dev_rows.
            hits = row[arm]["accuracies"][0] * dev_rows
            assert abs(hits - round(hits)) < 1e-9
    assert len(results["finetune"]["pair"]["keras_hub_scratch"]["f1"]) == 1
    assert "| keras_hub_pretrained | keras_hub_scratch | keras-hub difference |" in printed
    assert "keras-hub peer, held-out MLM accuracy by step: 2: " in printed
    assert (out / "transfer.png").stat().st_size > 1000


def test_peer_refuses_a_folder_pretrained_with_other_settings(tmp_path, keras_hub):
    settings = dict(steps=4, batch_size=4, learning_rate=1e-3, eval_every=2,
                    max_seq_length=32, max_predictions_per_seq=5, optimizer="adamw")
    (tmp_path / "history.json").write_text(json.dumps({
        "history": [], "last_train_metrics": {},
        "settings": dict(settings, optimizer="lamb", config=PEER_CONFIG,
                         train_records="a", eval_records="b")}))
    with pytest.raises(ValueError, match="pretrained with other settings"):
        transfer.keras_hub_peer.pretrain(PEER_CONFIG, "a", "b", str(tmp_path), **settings)
    # The same settings are reused without training.
    _, done = transfer.keras_hub_peer.pretrain(PEER_CONFIG, "a", "b", str(tmp_path),
                                               **dict(settings, optimizer="lamb"))
    assert done["history"] == []
    # A folder that does not say how it was pretrained is not reused either.
    (tmp_path / "history.json").write_text(json.dumps({"history": []}))
    with pytest.raises(ValueError, match="pretrained with other settings"):
        transfer.keras_hub_peer.pretrain(PEER_CONFIG, "a", "b", str(tmp_path), **settings)


def test_peer_arms_without_keras_hub_stop_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(transfer.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit):
        transfer.parse_args(["--output_dir", str(tmp_path),
                             "--arms", "pretrained,keras_hub_scratch"])
    assert "need keras-hub" in capsys.readouterr().err
    transfer.parse_args(["--output_dir", str(tmp_path), "--arms", "pretrained,scratch"])


def test_finetune_optimizer_reaches_run_classifier_and_names_its_own_folder(tmp_path,
                                                                           monkeypatch):
    from albert_tf.tasks.glue import task as glue_task

    seen = []

    def fake_run_classifier(params):
        seen.append(params)
        (tmp_path / "run").mkdir(exist_ok=True)
        (tmp_path / "run" / "eval_results.json").write_text('{"accuracy": 0.5}')

    monkeypatch.setattr(glue_task, "run_classifier", fake_run_classifier)
    args = transfer.parse_args(["--output_dir", str(tmp_path), "--quick",
                                "--finetune_optimizer", "lamb"])
    assert args.recipes == [("lamb", 1e-4)]
    transfer.finetune_arm(args, "config.json", None, "spm.model", "scratch", "SST-2",
                          str(tmp_path), None, 1, args.recipes[0], 10, str(tmp_path / "run"))
    assert seen[0].optimizer == "lamb" and seen[0].learning_rate == 1e-4
    # AdamW and LAMB runs at one rate never share a folder (a finished one is reused).
    assert transfer.run_tag("adamw", 1e-3) == "lr0.001"
    assert transfer.run_tag("lamb", 1e-3) == "lr0.001_lamb"
    with pytest.raises(SystemExit):
        transfer.parse_args(["--output_dir", str(tmp_path), "--finetune_optimizer", "lamb",
                             "--arms", "pretrained,keras_hub_scratch"])


def test_learning_rates_may_name_their_optimizer(tmp_path, capsys):
    args = transfer.parse_args(["--output_dir", str(tmp_path),
                                "--learning_rates", "1e-4, lamb:3e-3,adamw:3e-4"])
    assert args.recipes == [("adamw", 1e-4), ("lamb", 3e-3), ("adamw", 3e-4)]
    for bad, says in (("sgd:1e-3", "unknown optimizer 'sgd'"), ("lamb:fast", "'lamb:fast'"),
                      ("1e-4,0", "must be > 0"), ("1e-4,adamw:1e-4", "named twice")):
        with pytest.raises(SystemExit):
            transfer.parse_args(["--output_dir", str(tmp_path), "--learning_rates", bad])
        assert says in capsys.readouterr().err
    # The peer fine-tunes with Keras AdamW only: a LAMB candidate is refused for it.
    with pytest.raises(SystemExit):
        transfer.parse_args(["--output_dir", str(tmp_path), "--learning_rates",
                             "1e-4,lamb:3e-3", "--arms", "pretrained,keras_hub_scratch"])


def test_each_arm_gets_the_recipe_its_train_split_scores_best(tmp_path, monkeypatch):
    """Optimizer and rate are chosen together per arm on the split (never on dev), then
    every seed runs with the chosen optimizer, and the table names it."""
    from albert_tf.tasks.glue import task as glue_task

    # Split accuracy by (arm, optimizer, rate): scratch is best with AdamW 3e-4, the
    # pretrained arm with LAMB 3e-3; dev accuracy says which recipe ran.
    split = {("scratch", "adamw", 3e-4): 0.7, ("pretrained", "lamb", 3e-3): 0.8}
    dev = {("adamw", 3e-4): 0.61, ("lamb", 3e-3): 0.72}
    seen = []

    def fake_run_classifier(params):
        arm = "pretrained" if params.init_checkpoint else "scratch"
        recipe = (params.optimizer, params.learning_rate)
        on_split = "lr_split" in params.data_dir
        seen.append((arm, on_split) + recipe)
        accuracy = split.get((arm,) + recipe, 0.5) if on_split else dev.get(recipe, 0.1)
        os.makedirs(params.output_dir, exist_ok=True)
        with open(os.path.join(params.output_dir, "eval_results.json"), "w") as f:
            json.dump({"accuracy": accuracy}, f)

    monkeypatch.setattr(glue_task, "run_classifier", fake_run_classifier)
    args = transfer.parse_args(["--output_dir", str(tmp_path), "--quick", "--seeds=1,2",
                                "--learning_rates=1e-4,3e-4,lamb:3e-3"])
    folders = {"pair": ("MRPC", str(tmp_path / "pair")),
               "pair/lr_split": ("MRPC", str(tmp_path / "pair_lr_split"))}
    row = {"steps": 7}
    for arm, init in (("pretrained", "ckpt"), ("scratch", None)):
        recipe, scores = transfer.choose_recipe(args, "c.json", {}, "spm.model", folders,
                                                "pair", arm, init, str(tmp_path))
        row[arm] = {"optimizer": recipe[0], "learning_rate": recipe[1],
                    "spread": transfer.spread([dev[recipe]] * 2)}
        assert scores == {"0.0001": 0.5, "0.0003": split.get((arm, "adamw", 3e-4), 0.5),
                          "lamb 0.003": split.get((arm, "lamb", 3e-3), 0.5)}
    assert row["pretrained"]["optimizer"] == "lamb" and row["scratch"]["optimizer"] == "adamw"
    assert {s for s in seen if s[1]} == {
        (a, True, o, r) for a in ("pretrained", "scratch")
        for o, r in (("adamw", 1e-4), ("adamw", 3e-4), ("lamb", 3e-3))}
    for arm in row:
        if arm != "steps":
            row[arm]["accuracies"] = [row[arm]["spread"]["mean"]] * 2
    summary = {"args": {"arms": "pretrained,scratch", "few_rows": 6, "pair_task": "MRPC",
                        "ablation": "none"}, "finetune": {"pair": row}}
    line = transfer.table(summary)
    assert line.split("\n")[2] == ("| MRPC (7, lamb 0.003/0.0003) | 72.0 ± 0.0 (72.0-72.0) | "
                                   "61.0 ± 0.0 (61.0-61.0) | +11.0 | ")
    # The picture names each arm's recipe under its setting.
    pytest.importorskip("matplotlib")
    import matplotlib.axes
    labels = []
    original = matplotlib.axes.Axes.set_xticklabels
    monkeypatch.setattr(matplotlib.axes.Axes, "set_xticklabels",
                        lambda ax, names, **kw: labels.extend(names) or original(ax, names,
                                                                                 **kw))
    assert transfer.plot(summary, str(tmp_path / "transfer.png"))
    assert labels == ["MRPC\nlr lamb 0.003/0.0003"]


@pytest.mark.parametrize("ablation,weight", [("none", 1.0), ("nsp", 1.0),
                                             ("no_sentence_task", 0.0)])
def test_sentence_task_ablation_reaches_run_pretraining(tmp_path, monkeypatch, ablation,
                                                        weight):
    from albert_tf.tasks.pretraining import task as pretraining_task
    seen = []
    monkeypatch.setattr(pretraining_task, "run_pretraining", seen.append)
    args = transfer.parse_args(["--output_dir", str(tmp_path), "--quick",
                                f"--ablation={ablation}"])
    transfer.pretrain(args, "config.json", "train.tfrecord", "heldout.tfrecord",
                      str(tmp_path / "pretrain"))
    assert seen[0].sentence_order_loss_weight == weight
    assert (seen[0].learning_rate, seen[0].num_train_steps) == (0.00176, 1000)
