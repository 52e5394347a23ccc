"""create_pretraining_data.py on Apache Beam: the real DirectRunner against the local writer."""

import collections
import hashlib
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.pretraining_data import PretrainingDataConfig
from albert_tf.pretraining_data import beam as pb
from albert_tf.tasks.pretraining.inputs import pretraining_dataset
from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import workers as pretraining_workers
from albert_tf.pretraining_data import writer as pw
from albert_tf.tokenization import FullTokenizer

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SEQ, PRED = 64, 10
CLS, SEP, MASK = 2, 3, 4
SETTINGS = dict(max_seq_length=SEQ, max_predictions_per_seq=PRED, dupe_factor=2,
                random_seed=99, document_window_mb=0.05, interleave_windows=2)
SETTING_FLAGS = ["--max_seq_length=64", "--max_predictions_per_seq=10", "--dupe_factor=2",
                 "--random_seed=99", "--document_window_mb=0.05", "--interleave_windows=2"]


def subprocess_env():
    # Beam's multi_processing workers are fresh Pythons: they must import this albert_tf.
    paths = [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), TF_CPP_MIN_LOG_LEVEL="2")


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.fixture(scope="module")
def corpus_dir(shared_data_dir, tmp_path_factory):
    """Two files: the first 30 documents of the real WikiText corpus, split 20 + 10."""
    text = (shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt").read_text(
        encoding="utf-8")
    documents = text.split("\n\n")[:30]
    directory = tmp_path_factory.mktemp("beam_corpus")
    (directory / "part-a.txt").write_text("\n\n".join(documents[:20]) + "\n", encoding="utf-8")
    (directory / "part-b.txt").write_text("\n\n".join(documents[20:]) + "\n", encoding="utf-8")
    return directory


def record_hashes(paths):
    return sorted(hashlib.sha256(r.numpy()).hexdigest()
                  for path in paths for r in tf.data.TFRecordDataset(path))


@pytest.fixture(scope="module")
def beam_run(corpus_dir, spm_model_file, tmp_path_factory):
    """The command line on the DirectRunner, multi_processing, 2 workers, 3 shards."""
    pytest.importorskip("apache_beam")
    out = tmp_path_factory.mktemp("beam_out") / "train.tfrecord"
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "create_pretraining_data.py"),
         f"--input_file={corpus_dir}/*.txt", f"--output_file={out}",
         f"--spm_model_file={spm_model_file}", "--runner=DirectRunner",
         "--beam_pipeline_options=direct_num_workers=2,direct_running_mode=multi_processing",
         "--num_output_shards=3"] + SETTING_FLAGS,
        capture_output=True, text=True, env=subprocess_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return out, result.stderr


def test_direct_runner_two_workers_writes_the_local_writers_records(
        beam_run, corpus_dir, tokenizer, tmp_path):
    out, log = beam_run
    shards = sorted(out.parent.iterdir())
    assert [p.name for p in shards] == [f"train.tfrecord-{i:05d}-of-00003" for i in range(3)]
    inputs = pretraining_documents.expand_input_files(f"{corpus_dir}/*.txt")
    local = tmp_path / "local.tfrecord"
    stats = pw.create_pretraining_data(inputs, [str(local)], tokenizer,
                                       PretrainingDataConfig(num_workers=1, **SETTINGS))
    beam_hashes = record_hashes([str(p) for p in shards])
    assert beam_hashes == record_hashes([str(local)])  # the same multiset
    assert len(beam_hashes) == stats.records > 1000 and stats.documents == 30
    assert len(set(beam_hashes)) == len(beam_hashes)
    assert f"documents 30, instances {stats.records}" in log
    # The work was split: several window groups over two files.
    windows = list(pretraining_documents.iter_document_windows(
        inputs, PretrainingDataConfig(**SETTINGS).window_bytes, pretraining_documents.ReadStats()))
    assert len({key[0] for key, _ in windows}) == 2 and len(windows) >= 6


def test_direct_runner_output_schema_and_statistics(beam_run):
    out, _ = beam_run
    paths = sorted(str(p) for p in out.parent.iterdir())
    examples = [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(paths)]
    lengths = collections.Counter()
    for example in examples:
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            lengths[name, kind, len(getattr(feature, kind).value)] += 1
    n = len(examples)
    assert lengths == {
        ("input_ids", "int64_list", SEQ): n, ("input_mask", "int64_list", SEQ): n,
        ("segment_ids", "int64_list", SEQ): n, ("token_boundary", "int64_list", SEQ): n,
        ("masked_lm_positions", "int64_list", PRED): n, ("masked_lm_ids", "int64_list", PRED): n,
        ("masked_lm_weights", "float_list", PRED): n, ("next_sentence_labels", "int64_list", 1): n}
    # Read back with the trainer's own reader; official statistics.
    data = collections.defaultdict(list)
    for batch in pretraining_dataset(paths, SEQ, PRED, 256, is_training=False):
        for name, value in batch.items():
            data[name].append(value.numpy())
    data = {name: np.concatenate(values) for name, values in data.items()}
    weights = data["masked_lm_weights"]
    rows, slots = np.nonzero(weights > 0)
    positions = data["masked_lm_positions"][rows, slots]
    shown = data["input_ids"][rows, positions]
    truth = data["masked_lm_ids"][rows, slots]
    lengths = data["input_mask"].sum(axis=1)
    budgets = np.minimum(PRED, np.maximum(1, np.round(lengths * 0.15).astype(int)))
    assert ((weights > 0).sum(axis=1) <= budgets).all()
    assert abs(np.mean(shown == MASK) - 0.8) < 0.03  # 80 / 10 / 10
    assert abs(np.mean(shown == truth) - 0.1) < 0.03
    assert not np.isin(truth, [CLS, SEP]).any()
    assert (data["input_ids"][:, 0] == CLS).all()
    assert 0.4 < data["next_sentence_labels"].mean() < 0.65


def test_group_records_run_round_major(tokenizer, corpus_dir):
    """A window group's rounds go round 0 of each window, round 1, ... as in the local writer."""
    config = PretrainingDataConfig(**SETTINGS)
    pretraining_workers.init_worker(tokenizer, config)
    inputs = [(str(p), p.stat().st_size) for p in sorted(corpus_dir.glob("*.txt"))]
    group = pb.window_groups(inputs, config)[0]
    assert len(group) == 2
    expected = []
    for dupe_index in range(config.dupe_factor):
        for file_index, path, window_index in group:
            raw = pretraining_documents.read_window(path, window_index, config.window_bytes,
                                                    pretraining_documents.ReadStats())
            expected += pretraining_workers.instances_task(
                pretraining_workers.tokenize_task(raw), (file_index, window_index), dupe_index)
    assert list(pb.group_records(group, config)) == expected


def test_pipeline_options_shards_and_bad_outputs(corpus_dir, tokenizer):
    assert pb.parse_pipeline_options(
        "direct_num_workers=2, direct_running_mode=multi_processing,") == [
        "--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    with pytest.raises(ValueError, match="beam_pipeline_options.*'project'"):
        pb.parse_pipeline_options("project")
    assert pb.default_num_shards(0, 40) == 1
    assert pb.default_num_shards(100 << 20, 40) == 32  # 4000 MB / 128 MB, rounded up
    assert pb.shard_names("o/x", 2) == ["o/x-00000-of-00002", "o/x-00001-of-00002"]
    pytest.importorskip("apache_beam")
    config = PretrainingDataConfig(runner="DirectRunner", num_output_shards=1, **SETTINGS)
    with pytest.raises(ValueError, match="one path and --num_output_shards"):
        pb.create_pretraining_data_beam(str(corpus_dir), "a,b", tokenizer, config)
    with pytest.raises(ValueError, match="this is the local writer"):
        pw.create_pretraining_data([str(corpus_dir / "part-a.txt")], ["o"], tokenizer, config)
    victim = corpus_dir / "out-00000-of-00001"
    victim.write_text("not to be overwritten\n", encoding="utf-8")
    try:
        with pytest.raises(ValueError, match="out-00000-of-00001.*is the input file"):
            pb.create_pretraining_data_beam(f"{corpus_dir}/*", str(corpus_dir / "out"),
                                            tokenizer, config)
        assert victim.read_text(encoding="utf-8") == "not to be overwritten\n"
    finally:
        victim.unlink()
    other = corpus_dir / "out-old-of-00001"  # Beam's sink deletes <prefix>-*-of-00001
    other.write_text("not to be deleted\n", encoding="utf-8")
    try:
        with pytest.raises(ValueError, match="out-old-of-00001.*matches the output shards"):
            pb.create_pretraining_data_beam(f"{corpus_dir}/*", str(corpus_dir / "out"),
                                            tokenizer, config)
        assert other.read_text(encoding="utf-8") == "not to be deleted\n"
    finally:
        other.unlink()
    with pytest.raises(ValueError, match="runner"):
        PretrainingDataConfig(runner="SparkRunnr")


_BLOCK_BEAM = """
import importlib.abc, runpy, sys
class BlockBeam(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "apache_beam" or name.startswith("apache_beam."):
            print("IMPORTED apache_beam", file=sys.stderr)
            raise ImportError("No module named 'apache_beam' (blocked by the test)")
sys.meta_path.insert(0, BlockBeam())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_local_path_never_imports_beam_and_errors_name_the_fix(corpus_dir, spm_model_file,
                                                               tmp_path):
    common = [str(REPO_ROOT / "create_pretraining_data.py"), f"--input_file={corpus_dir}/*.txt",
              f"--spm_model_file={spm_model_file}"] + SETTING_FLAGS

    def run(*flags):
        return subprocess.run([sys.executable, "-c", _BLOCK_BEAM] + common + list(flags),
                              capture_output=True, text=True, env=subprocess_env(),
                              timeout=300)

    local = run(f"--output_file={tmp_path / 'local.tfrecord'}")
    assert local.returncode == 0, local.stderr[-3000:]
    assert "IMPORTED apache_beam" not in local.stderr
    assert (tmp_path / "local.tfrecord").stat().st_size > 0
    missing = run(f"--output_file={tmp_path / 'beam'}", "--runner=DirectRunner")
    assert missing.returncode != 0
    assert "pip install 'albert_tf[beam]'" in missing.stderr
    unknown = run(f"--output_file={tmp_path / 'x'}", "--runner=SparkRunnr")
    assert unknown.returncode != 0
    assert "--runner=SparkRunnr: value should be one of <local|DirectRunner|" in unknown.stderr
    assert "DirectRunner|DataflowRunner|FlinkRunner|SparkRunner|PrismRunner>" in unknown.stderr
    assert not list(tmp_path.glob("beam*")) and not list(tmp_path.glob("x*"))


def test_direct_runner_prints_no_worker_start_up_and_no_line_twice(beam_run):
    """Issue 25: Beam's INFO set-up lines stay quiet and workers' lines are not relayed
    a second time through the job service."""
    _, stderr = beam_run
    assert "local_job_service" not in stderr and "Worker: severity" not in stderr, stderr
    assert "Logging handler created" not in stderr and "apitools" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), stderr
    assert "done: documents" in stderr, stderr


def test_a_misspelt_beam_option_is_refused_before_the_run(corpus_dir, tokenizer, tmp_path):
    pytest.importorskip("apache_beam")
    config = PretrainingDataConfig(runner="DirectRunner", num_output_shards=1,
                                   beam_pipeline_options="direct_num_worker=2", **SETTINGS)
    with pytest.raises(ValueError, match=r"--beam_pipeline_options: 'direct_num_worker' is not "
                                         r"a Beam pipeline option; did you mean "
                                         r"'direct_num_workers'\?"):
        pb.create_pretraining_data_beam(f"{corpus_dir}/*", str(tmp_path / "out"), tokenizer,
                                        config)
    assert list(tmp_path.iterdir()) == []
    assert pb.check_pipeline_options(["--direct_num_workers=2"]) == ["--direct_num_workers=2"]


def test_a_relative_glob_matches_under_beam_as_locally(corpus_dir, monkeypatch):
    pytest.importorskip("apache_beam")
    monkeypatch.chdir(corpus_dir)
    local = pretraining_documents.expand_input_files("*.txt")
    beam_files = pb.match_input_files("*.txt")
    assert local and [os.path.basename(p) for p, _ in beam_files] == [
        os.path.basename(p) for p in local]
    assert [size for _, size in beam_files] == [os.path.getsize(p) for p in local]


def test_an_uneven_last_window_group_and_shards_keep_every_windows_records(
        shared_data_dir, tokenizer, tmp_path):
    """5 windows in groups of 3 (the last group holds 2) and 3 shards for a record count
    that 3 does not divide: Beam writes exactly the local writer's records, and both hold
    each (window, dupe round)'s records once, built here window by window."""
    pytest.importorskip("apache_beam")
    text = (shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt").read_text(
        encoding="utf-8")
    documents = ["\n".join(document.split("\n")[:6]) for document in text.split("\n\n")[:12]]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("\n\n".join(documents[:7]) + "\n", encoding="utf-8")
    (corpus / "b.txt").write_text("\n\n".join(documents[7:]) + "\n", encoding="utf-8")
    settings = dict(max_seq_length=SEQ, max_predictions_per_seq=PRED, dupe_factor=2,
                    random_seed=7, document_window_mb=0.002, interleave_windows=3)
    config = PretrainingDataConfig(**settings)
    inputs = pretraining_documents.expand_input_files(f"{corpus}/*.txt")
    sizes = [os.path.getsize(path) for path in inputs]
    keys = pretraining_documents.window_keys(sizes, config.window_bytes)
    assert [file_index for file_index, _ in keys] == [0, 0, 0, 1, 1]

    # The expectation: every window on its own, every round, no grouping involved.
    pretraining_workers.init_worker(tokenizer, config)
    expected, per_window = [], {}
    for file_index, window_index in keys:
        raw = pretraining_documents.read_window(inputs[file_index], window_index,
                                                config.window_bytes,
                                                pretraining_documents.ReadStats())
        assert raw, f"window {(file_index, window_index)} is empty"
        window = pretraining_workers.tokenize_task(raw)
        for dupe_index in range(config.dupe_factor):
            records = pretraining_workers.instances_task(window, (file_index, window_index),
                                                         dupe_index)
            per_window[file_index, window_index, dupe_index] = len(records)
            expected += records
    assert min(per_window.values()) > 0
    expected_hashes = sorted(hashlib.sha256(r).hexdigest() for r in expected)
    assert len(set(expected_hashes)) == len(expected_hashes)  # a repeat would show
    assert len(expected) % 3 != 0

    local = tmp_path / "local.tfrecord"
    stats = pw.create_pretraining_data(inputs, [str(local)], tokenizer,
                                       PretrainingDataConfig(num_workers=1, **settings))
    assert stats.records == len(expected) and stats.documents == 12
    assert record_hashes([str(local)]) == expected_hashes

    beam_config = PretrainingDataConfig(runner="DirectRunner", num_output_shards=3,
                                        **settings)
    beam_stats = pb.create_pretraining_data_beam(f"{corpus}/*.txt",
                                                 str(tmp_path / "beam" / "train.tfrecord"),
                                                 tokenizer, beam_config)
    shards = sorted((tmp_path / "beam").iterdir())
    assert [p.name for p in shards] == [f"train.tfrecord-{i:05d}-of-00003" for i in range(3)]
    assert record_hashes([str(p) for p in shards]) == expected_hashes
    assert beam_stats.records == len(expected) and beam_stats.documents == 12
