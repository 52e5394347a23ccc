"""End-to-end writer: determinism, workers, streaming, bad input, the CLI."""

import collections
import hashlib
import logging
import os
import pathlib
import random
import subprocess
import sys
import time

import pytest
import sentencepiece as spm
import tensorflow as tf

from albert_tf.pretraining_data import PretrainingDataConfig
from albert_tf.pretraining_data import config as pretraining_config
from albert_tf.pretraining_data import workers as pretraining_workers
from albert_tf.pretraining_data import writer as pw
from albert_tf.tokenization import FullTokenizer

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.fixture(scope="module")
def small_corpus(shared_data_dir, tmp_path_factory):
    """The first 12 documents of the real corpus (about 200 KB)."""
    text = (shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt").read_text(
        encoding="utf-8")
    documents = text.split("\n\n")[:12]
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    return str(path)


def small_config(**overrides):
    values = dict(max_seq_length=64, max_predictions_per_seq=10, dupe_factor=2,
                  document_window_mb=0.03, shuffle_buffer_size=100)
    values.update(overrides)
    return PretrainingDataConfig(**values)


def run(tokenizer, inputs, out_dir, config, names=("a.tfrecord", "b.tfrecord")):
    outputs = [str(out_dir / n) for n in names]
    stats = pw.create_pretraining_data(inputs, outputs, tokenizer, config)
    return stats, [pathlib.Path(p).read_bytes() for p in outputs]


def read_records(path):
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]


def test_same_seed_same_bytes_for_any_worker_count(tokenizer, small_corpus, tmp_path):
    stats1, bytes1 = run(tokenizer, [small_corpus], tmp_path / "w1", small_config())
    _, again = run(tokenizer, [small_corpus], tmp_path / "again", small_config())
    stats2, bytes2 = run(tokenizer, [small_corpus], tmp_path / "w2",
                         small_config(num_workers=2))
    _, other = run(tokenizer, [small_corpus], tmp_path / "seed", small_config(random_seed=1))
    assert stats1.documents == 12 and stats1.records > 500
    assert bytes1 == again == bytes2
    assert stats2.records == stats1.records
    assert other[0] != bytes1[0]
    # Several windows were used (0.03 MB each), so order across windows matters.
    assert os.path.getsize(small_corpus) > 3 * 0.03 * (1 << 20)


def test_records_follow_the_schema_round_robin(tokenizer, small_corpus, tmp_path):
    stats, _ = run(tokenizer, [small_corpus], tmp_path, small_config(dupe_factor=1))
    records = [read_records(str(tmp_path / n)) for n in ("a.tfrecord", "b.tfrecord")]
    assert abs(len(records[0]) - len(records[1])) <= 1
    assert len(records[0]) + len(records[1]) == stats.records
    lengths = collections.Counter()
    for example in records[0] + records[1]:
        feature = example.features.feature
        assert sorted(feature) == sorted([
            "input_ids", "input_mask", "segment_ids", "token_boundary",
            "masked_lm_positions", "masked_lm_ids", "masked_lm_weights",
            "next_sentence_labels"])
        for name in ("input_ids", "input_mask", "segment_ids", "token_boundary"):
            lengths[name, len(feature[name].int64_list.value)] += 1
        for name in ("masked_lm_positions", "masked_lm_ids"):
            lengths[name, len(feature[name].int64_list.value)] += 1
        lengths["masked_lm_weights", len(feature["masked_lm_weights"].float_list.value)] += 1
    assert set(lengths) == {("input_ids", 64), ("input_mask", 64), ("segment_ids", 64),
                            ("token_boundary", 64), ("masked_lm_positions", 10),
                            ("masked_lm_ids", 10), ("masked_lm_weights", 10)}
    assert not list(tmp_path.glob("*.tmp-*"))


def test_windows_are_streamed_not_read_ahead(tokenizer):
    config = small_config(dupe_factor=3, interleave_windows=4)
    pretraining_workers.init_worker(tokenizer, config)
    consumed = []

    def windows():
        for i in range(50):
            consumed.append(i)
            yield (0, i), [[f"window {i} sentence one.", "and sentence two here."]]

    records = pretraining_workers.ordered_records(
        pretraining_workers.InlineExecutor(), windows(), config, pw.PretrainingDataStats())
    next(records)
    assert len(consumed) <= 2 * 4  # the current group and the one being tokenized
    assert sum(1 for _ in records) + 1 >= 50 * 3


def test_dupe_rounds_run_round_major_within_window_groups(tokenizer):
    """A document's copies (one per round) are a group of windows apart in the output."""
    config = small_config(dupe_factor=3, interleave_windows=4)
    pretraining_workers.init_worker(tokenizer, config)
    tasks = []

    class RecordingExecutor(pretraining_workers.InlineExecutor):
        def submit(self, fn, *args):
            if fn is pretraining_workers.instances_task:
                tasks.append((args[1][1], args[2]))  # (window index, round)
            return super().submit(fn, *args)

    windows = (((0, i), [[f"window {i} sentence one.", "and sentence two here."]])
               for i in range(10))
    list(pretraining_workers.ordered_records(RecordingExecutor(), windows, config,
                                             pw.PretrainingDataStats()))
    groups = [range(0, 4), range(4, 8), range(8, 10)]
    assert tasks == [(w, r) for group in groups for r in range(3) for w in group]


def test_shuffle_buffer_is_a_bounded_seeded_permutation():
    buffer = pw.ShuffleBuffer(10, random.Random(0))
    out = [x for x in (buffer.push(i) for i in range(100)) if x is not None]
    assert len(out) == 90 and len(buffer.drain()) == 10
    buffer = pw.ShuffleBuffer(10, random.Random(0))
    out = [x for x in (buffer.push(i) for i in range(100)) if x is not None] + buffer.drain()
    assert sorted(out) == list(range(100)) and out != list(range(100))
    # An item can only leave after the buffer filled behind it.
    assert all(position >= item - 10 for position, item in enumerate(out))


def test_progress_line_and_undecodable_lines(tokenizer, tmp_path, caplog):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"The first sentence is fine.\nThis one has \xff bad bytes.\n"
                     b"The last sentence is fine too.\n\nA second document.\n")
    with caplog.at_level(logging.INFO, logger="absl"):  # whatever set absl's level before
        stats, _ = run(tokenizer, [str(path)], tmp_path, small_config(), names=("o.tf",))
    assert stats.undecodable_lines == 1 and stats.lines == 5 and stats.documents == 2
    assert f"{path}: skipping the line at byte 28" in caplog.text
    assert "documents 2" in caplog.text and "records/s" in caplog.text


def test_empty_corpus_is_an_error_and_leaves_no_file(tokenizer, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty corpus.*empty.txt"):
        run(tokenizer, [str(path)], tmp_path / "out", small_config(), names=("o.tf",))
    assert not list((tmp_path / "out").iterdir())


def test_missing_input_file(tokenizer, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such.txt"):
        run(tokenizer, [str(tmp_path / "no-such.txt")], tmp_path, small_config())


def test_failure_halfway_leaves_no_output(tokenizer, small_corpus, tmp_path, monkeypatch):
    calls = []
    real_task = pretraining_workers.instances_task

    def failing_task(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker died")
        return real_task(*args)

    monkeypatch.setattr(pretraining_workers, "instances_task", failing_task)
    with pytest.raises(RuntimeError, match="worker died"):
        run(tokenizer, [small_corpus], tmp_path / "out", small_config(shuffle_buffer_size=1))
    assert not list((tmp_path / "out").iterdir())


def test_spm_model_without_special_tokens(tmp_path, small_corpus):
    prefix = str(tmp_path / "plain")
    spm.SentencePieceTrainer.train(input=small_corpus, model_prefix=prefix, vocab_size=200,
                                   model_type="unigram", minloglevel=2)
    with pytest.raises(ValueError, match=r"\[CLS\]"):
        FullTokenizer(prefix + ".model")
    plain = FullTokenizer(prefix + ".model", require_special_tokens=False)
    with pytest.raises(ValueError, match=r"plain.model.*cls_id, sep_id, mask_id"):
        run(plain, [small_corpus], tmp_path / "out", small_config(), names=("o.tf",))


def test_config_validation():
    with pytest.raises(ValueError, match="dupe_factor"):
        PretrainingDataConfig(dupe_factor=0)
    with pytest.raises(ValueError, match="num_workers"):
        PretrainingDataConfig(num_workers=0)


def test_derive_seed_is_stable_across_processes():
    # A sha256 of the key path (Python's hash() would change per process).
    digest = hashlib.sha256(b"12345/instances/3/7").digest()
    expected = int.from_bytes(digest[:8], "little") >> 1
    assert pretraining_config.derive_seed(12345, "instances", 3, 7) == expected
    assert pretraining_config.derive_seed(12345, "instances", 3, 8) != expected


def test_command_line(spm_model_file, small_corpus, tmp_path):
    output = tmp_path / "cli.tfrecord"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "create_pretraining_data.py"),
         f"--input_file={small_corpus}", f"--output_file={output}",
         f"--spm_model_file={spm_model_file}", "--vocab_file=unused.vocab",
         "--max_seq_length=64", "--max_predictions_per_seq=10", "--dupe_factor=1",
         "--num_workers=2", "--do_lower_case", "--do_whole_word_mask",
         "--nodo_permutation", "--favor_shorter_ngram", "--norandom_next_sentence",
         "--ngram=3", "--random_seed=7", "--masked_lm_prob=0.15", "--short_seq_prob=0.1",
         "--input_file_mode=r", "--noparallel"],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "records/s" in result.stderr
    stats = pw.create_pretraining_data(
        [small_corpus], [str(tmp_path / "lib.tfrecord")],
        FullTokenizer(spm_model_file),
        PretrainingDataConfig(max_seq_length=64, max_predictions_per_seq=10,
                                 dupe_factor=1, random_seed=7))
    assert output.read_bytes() == (tmp_path / "lib.tfrecord").read_bytes()
    assert stats.records > 0



def test_output_that_is_an_input_is_refused_before_writing(tokenizer, small_corpus, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(pathlib.Path(small_corpus).read_bytes())
    link = tmp_path / "link.txt"
    link.symlink_to(corpus)
    original = corpus.read_bytes()
    folder = tmp_path / "folder"
    folder.symlink_to(tmp_path, target_is_directory=True)
    for output in (corpus, link, tmp_path / "sub" / ".." / "corpus.txt",
                   folder / "corpus.txt"):
        with pytest.raises(ValueError, match=f"output_file '{output}' is the input file"):
            pw.create_pretraining_data([str(corpus)], [str(output)], tokenizer, small_config())
    # The input given through the links, the output as its real path.
    for given in (link, folder / "corpus.txt"):
        with pytest.raises(ValueError, match=f"output_file '{corpus}' is the input file "
                                             f"'{given}'"):
            pw.create_pretraining_data([str(given)], [str(corpus)], tokenizer, small_config())
    assert corpus.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "folder", "link.txt"]


def test_same_output_twice_is_refused_and_nothing_is_written(tokenizer, small_corpus,
                                                             tmp_path):
    first = str(tmp_path / "a.tfrecord")
    for second in (first, str(tmp_path / "." / "a.tfrecord")):
        with pytest.raises(ValueError, match="names .*a.tfrecord.* twice"):
            pw.create_pretraining_data([small_corpus], [first, second], tokenizer,
                                       small_config())
    assert not list(tmp_path.iterdir())


def dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_temp_files_are_never_read_and_are_cleaned(tokenizer, small_corpus, tmp_path):
    corpus_dir, out_dir = tmp_path / "corpus", tmp_path / "out"
    corpus_dir.mkdir()
    out_dir.mkdir()
    (corpus_dir / "doc.txt").write_bytes(pathlib.Path(small_corpus).read_bytes())
    pid = dead_pid()
    # What a killed run leaves: a half-written TFRecord under a temp name.
    (corpus_dir / f"old.tfrecord.tmp-{pid}").write_bytes(b"\x00\x01 partial record")
    stale = out_dir / f"a.tfrecord.tmp-{pid}"
    stale.write_bytes(b"partial")
    inputs = pw.pretraining_documents.expand_input_files(f"{corpus_dir}/*")
    assert inputs == [str(corpus_dir / "doc.txt")]
    with pytest.raises(FileNotFoundError, match=r"only 1 unfinished \*.tmp-PID"):
        pw.pretraining_documents.expand_input_files(f"{corpus_dir}/*.tmp-*")
    (out_dir / "a.tfrecord.tmp-notapid").write_bytes(b"user file")
    stats, _ = run(tokenizer, inputs, out_dir, small_config(dupe_factor=1),
                   names=("a.tfrecord",))
    assert stats.documents == 12
    assert not stale.exists()
    assert (out_dir / "a.tfrecord.tmp-notapid").exists()  # not our name: left alone


def child_pids(pid):
    children = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def running(pid):
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (its reaper may be slow)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_writer_is_killed(spm_model_file, shared_data_dir, tmp_path):
    corpus = shared_data_dir / "corpus" / "wikitext2_valid_test.pretrain.txt"
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "create_pretraining_data.py"),
         f"--input_file={corpus}", f"--output_file={tmp_path / 'o.tfrecord'}",
         f"--spm_model_file={spm_model_file}", "--num_workers=2", "--dupe_factor=40",
         "--max_seq_length=128"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    try:
        deadline = time.time() + 120
        workers = set()
        while time.time() < deadline and process.poll() is None:
            # The pool's workers are forks of the writer: its children that stay (a
            # short-lived helper that TensorFlow may start at import does not).
            seen = set(child_pids(process.pid))
            if len(seen) >= 2:
                time.sleep(1.0)
                workers = seen & set(child_pids(process.pid))
                if len(workers) >= 2:
                    break
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert len(workers) >= 2
    finally:
        process.kill()
        process.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(running(pid) for pid in workers):
        time.sleep(0.1)
    left = [pid for pid in workers if running(pid)]
    for pid in left:
        os.kill(pid, 9)
    assert not left, f"worker processes {left} outlived the killed writer"
    assert not (tmp_path / "o.tfrecord").exists()
