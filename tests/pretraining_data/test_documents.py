"""Reading the corpus: globs, lines, bad bytes, documents, windows, tokens."""

import logging
import unittest.mock

import hypothesis
import hypothesis.strategies as st
import pytest

from albert_tf.pretraining_data import documents as pd
from albert_tf.tokenization import FullTokenizer


def write(path, data):
    path.write_bytes(data)
    return str(path)


def test_expand_input_files(tmp_path):
    b = write(tmp_path / "b.txt", b"x\n")
    a = write(tmp_path / "a.txt", b"x\n")
    assert pd.expand_input_files(f"{tmp_path}/*.txt, ,{b}") == [a, b, b]
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        pd.expand_input_files(f"{a},{tmp_path}/nothing-here*.txt")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        pd.expand_input_files(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="empty"):
        pd.expand_input_files(" , ")


def test_line_endings_blank_lines_and_last_line(tmp_path, monkeypatch):
    monkeypatch.setattr(pd, "_READ_BLOCK_BYTES", 3)  # lines straddle blocks
    # As TensorFlow's GFile.readline (the official reader): lines end at "\n" only and
    # every "\r" is dropped, so "\r\r\n" ends one line and a lone "\r" joins.
    path = write(tmp_path / "c.txt", b"one\r\ntwo\rthree\n \t\nfour\r\r\n\r\nfive\r")
    stats = pd.ReadStats()
    assert list(pd.read_lines(path, stats)) == ["one", "twothree", None, "four", None, "five"]
    assert (stats.files, stats.lines, stats.undecodable_lines) == (1, 6, 0)
    # The reference itself: TensorFlow's GFile, read line by line.
    import tensorflow as tf
    reader, reference = tf.io.gfile.GFile(path, "r"), []
    while line := reader.readline():
        reference.append(line.strip() or None)
    assert reference == ["one", "twothree", None, "four", None, "five"]


def test_invalid_utf8_line_is_skipped_counted_and_logged(tmp_path, caplog):
    path = write(tmp_path / "bad.txt", b"good one\nbad \xff\xfe line\n\ngood two\n")
    stats = pd.ReadStats()
    with caplog.at_level(logging.WARNING):
        lines = list(pd.read_lines(path, stats))
    assert lines == ["good one", None, "good two"]
    assert stats.undecodable_lines == 1
    assert f"{path}:2" in caplog.text and "UTF-8" in caplog.text


def test_windows_are_byte_ranges_cut_at_blank_lines(tmp_path):
    # Offsets: aaaa@0 bbbb@5 ""@10 cccc@11 ""@16 ""@17 ""@18 dddd@19 (24 bytes).
    f1 = write(tmp_path / "1.txt", b"aaaa\nbbbb\n\ncccc\n\n\n\ndddd\n")
    f2 = write(tmp_path / "2.txt", b"eeee\n\nffff\n")  # 11 bytes
    stats = pd.ReadStats()
    windows = list(pd.iter_document_windows([f1, f2], 8, stats))
    assert windows == [
        ((0, 0), [["aaaa", "bbbb"]]),   # up to the first blank line at byte >= 8 (@10)
        ((0, 1), [["cccc"]]),           # after @10, up to the first blank at >= 16 (@16)
        ((0, 2), [["dddd"]]),           # after @16; the file end closes "dddd"
        ((1, 0), [["eeee"], ["ffff"]]),  # no blank line at >= 8: window (1, 1) is empty
    ]
    assert (stats.files, stats.lines) == (2, 8 + 3)  # every line counted once
    whole = list(pd.iter_document_windows([f1, f2], 1 << 20, pd.ReadStats()))
    assert whole == [((0, 0), [["aaaa", "bbbb"], ["cccc"], ["dddd"]]),
                     ((1, 0), [["eeee"], ["ffff"]])]
    # A document longer than a window leaves that window empty.
    assert pd.read_window(f1, 1, 4, pd.ReadStats()) == []
    assert pd.read_window(f1, 0, 4, pd.ReadStats()) == [["aaaa", "bbbb"]]


def reference_documents(data):
    """Documents of a whole file, written out independently of the reader."""
    documents, document = [], []
    for raw in data.split(b"\n"):
        try:
            line = raw.replace(b"\r", b"").decode("utf-8")
        except UnicodeDecodeError:
            continue
        if line.strip():
            document.append(line)
        elif document:
            documents.append(document)
            document = []
    return documents + ([document] if document else [])


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\n\n", b"\r", b" ", b"\xff"]),
                  max_size=60).map(b"".join),
    window_bytes=st.integers(1, 12), block=st.integers(1, 5))
def test_windows_partition_a_file_for_any_window_size(tmp_path_factory, data, window_bytes,
                                                      block):
    path = tmp_path_factory.mktemp("w") / "f.txt"
    path.write_bytes(data)
    with unittest.mock.patch.object(pd, "_READ_BLOCK_BYTES", block):
        stats = pd.ReadStats()
        documents = []
        for _, window in pd.iter_document_windows([str(path)], window_bytes, stats):
            documents.extend(window)
    assert documents == reference_documents(data)
    assert stats.lines == len(data.split(b"\n")) - (1 if data.endswith(b"\n") or not data
                                                     else 0)


def test_tokenize_window(spm_model_file):
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    raw = [["This is a test.", "\u0301", "Hello  World"], ["\u0301"], ["Another one"]]
    window = pd.tokenize_window(raw, tokenizer)
    # A line that preprocesses to nothing ends the document, like a blank line;
    # the document made only of it disappears.
    assert window.num_documents == 3
    documents = window.documents()
    expected = [[tokenizer.convert_tokens_to_ids(tokenizer.tokenize(t))] for t in
                ("this is a test.", "hello world", "another one")]
    assert [[documents[i][j] for j in range(len(documents[i]))]
            for i in range(len(documents))] == expected
    assert documents[0][0] == [48, 25, 21, 1289, 9]  # ▁this ▁is ▁a ▁test .
    with pytest.raises(IndexError):
        documents[3]


def test_binary_files_in_the_text_glob_are_skipped_with_one_warning(tmp_path, caplog):
    import tensorflow as tf

    text = write(tmp_path / "corpus.txt", b"One sentence.\nAnother one.\n\nNew document.\n")
    outputs = []
    for i in range(3):  # Earlier outputs of the writer, matched by the same glob.
        path = str(tmp_path / f"corpus_{i}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for _ in range(50):
                writer.write(b"x" * 100)
        outputs.append(path)
    with caplog.at_level(logging.WARNING):
        assert pd.expand_input_files(f"{tmp_path}/*") == [text]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "skipping 3 binary file(s)" in warnings[0]
    assert all(path in warnings[0] for path in outputs)
    with pytest.raises(FileNotFoundError, match=r"only 3 binary file\(s\), never read as text"):
        pd.expand_input_files(f"{tmp_path}/*.tfrecord")


def test_symlinked_text_is_read_and_a_link_to_a_temp_output_is_not(tmp_path, caplog):
    store = tmp_path / "store"
    store.mkdir()
    text = write(store / "wiki.txt", b"One sentence.\n")
    # A killed writer's output (it may even start without a NUL byte).
    temp = write(store / "out.txt.tmp-4242", b"half a line")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").symlink_to(text)
    (corpus / "b.txt").symlink_to(temp)
    with caplog.at_level(logging.WARNING):
        assert pd.expand_input_files(f"{corpus}/*.txt") == [str(corpus / "a.txt")]
    assert "skipping 1 unfinished output file(s) of a killed run" in caplog.text
    assert str(corpus / "b.txt") in caplog.text
    with pytest.raises(FileNotFoundError, match=r"only 1 unfinished \*.tmp-PID"):
        pd.expand_input_files(f"{corpus}/b.txt")
