"""Graph building blocks of the exports against the Python code they mirror.

Row cutting (`tokenization.packing`), the RACE cloze rule vs `race.RaceProcessor`,
SQuAD windows vs `squad_features.convert_examples_to_features`, answer
selection vs a brute-force reading of `squad_postprocess`.
"""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import features as squad_features
from albert_tf.export import squad_answers
from albert_tf.export.race_module import fill_cloze
from albert_tf.export.squad_windows import squad_windows
from albert_tf.tokenization import FullTokenizer, packing


def _ragged(rows):
    return tf.ragged.constant(rows, dtype=tf.int32, row_splits_dtype=tf.int64,
                              ragged_rank=1, inner_shape=())


def test_keep_first_and_last():
    rows = _ragged([[1, 2, 3], [], [4, 5], [6]])
    assert packing.keep_first(rows, tf.constant([2, 1, 0, 5])).to_list() == [
        [1, 2], [], [], [6]]
    assert packing.keep_last(rows, 2).to_list() == [[2, 3], [], [4, 5], [6]]


def test_fill_cloze_follows_the_official_rule():
    questions = ["John is a great _ singer.", "Where is _ or _?", "What?", "", "_"]
    options = ["country", "x", "here", "", "all"]
    expected = [q.replace("_", o) if "_" in q else q + " " + o
                for q, o in zip(questions, options)]
    got = fill_cloze(tf.constant(questions), tf.constant(options)).numpy()
    assert [g.decode() for g in got] == expected


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.mark.parametrize("max_seq_length,doc_stride,max_query_length",
                         [(64, 16, 16), (40, 1, 8), (48, 7, 30), (128, 128, 64)])
def test_windows_equal_python_features(tokenizer, shared_data_dir, max_seq_length, doc_stride,
                                       max_query_length):
    examples = squad_examples.read_squad_examples(
        str(shared_data_dir / "squad" / "v2.0" / "dev-v2.0.3articles.json"), False)[::25][:8]
    examples.append(squad_examples.SquadExample("empty", "Why?", ""))
    features = list(squad_features.convert_examples_to_features(
        examples, tokenizer, False, max_seq_length=max_seq_length, doc_stride=doc_stride,
        max_query_length=max_query_length))
    query = [tokenizer.encode(e.question_text)[:max_query_length] for e in examples]
    doc = [tokenizer.encode(e.context_text) for e in examples]
    windows = squad_windows(_ragged(query), _ragged(doc), max_seq_length, doc_stride,
                            tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)
    # Python skips the empty context; the graph gives it one empty window.
    assert windows["example_index"].numpy()[-1] == len(examples) - 1
    assert windows["doc_length"].numpy()[-1] == 0
    assert len(features) == len(windows["example_index"]) - 1
    for w, feature in enumerate(features):
        assert windows["example_index"][w] == feature.meta.example_index
        assert windows["doc_start"][w] == feature.doc_start
        assert windows["doc_offset"][w] == feature.meta.doc_offset
        length = len(feature.meta.token_is_max_context)
        assert windows["doc_length"][w] == length
        for name in ("input_ids", "input_mask", "segment_ids", "p_mask"):
            assert windows[name][w].numpy().tolist() == getattr(feature, name), name
        assert windows["token_is_max_context"][w, :length].numpy().tolist() == \
            feature.meta.token_is_max_context
        assert not windows["token_is_max_context"][w, length:].numpy().any()


def test_best_span_follows_the_python_candidate_order():
    """Ties go to the earlier window, then the earlier candidate; invalid ones never win."""
    windows = {
        "example_index": tf.constant([0, 0, 1], tf.int64),
        "doc_start": tf.constant([0, 2, 0], tf.int64),
        "doc_length": tf.constant([4, 4, 3], tf.int64),
        "doc_offset": tf.constant([3, 3, 3], tf.int64),
        "token_is_max_context": tf.constant(np.array([[1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
                                                      [0, 1, 1, 1, 0, 0, 0, 0, 0, 0],
                                                      [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]], bool)),
    }
    # Window 0: (3,4) valid score 5; (4,6) valid score 5 (tie, later). Window 1:
    # (4,5) valid score 5 (tie, later window); (3,3) not max-context, score 9.
    # Window 2: only invalid candidates (start before the context, end < start).
    start = tf.constant([[3, 4], [3, 4], [1, 5]])
    end = tf.constant([[4, 6], [3, 5], [4, 4]])
    score = tf.constant([[5.0, 5.0], [9.0, 5.0], [7.0, 8.0]], tf.float64)
    spans = squad_answers.best_spans(windows, start, end, score, max_answer_length=30,
                                     num_examples=tf.constant(2, tf.int64))
    assert spans["has_answer"].numpy().tolist() == [True, False]
    assert spans["start_token"].numpy().tolist() == [0, 0]
    assert spans["end_token"].numpy().tolist() == [1, 0]
    assert spans["score"].numpy().tolist() == [5.0, -np.inf]
    # With max_answer_length 1 every candidate above is too long.
    spans = squad_answers.best_spans(windows, start, end, score, max_answer_length=1,
                                     num_examples=tf.constant(2, tf.int64))
    assert spans["has_answer"].numpy().tolist() == [False, False]


def test_answer_text_strips_like_python():
    contexts = ["  hello world \n", "abc", "x"]
    text, start, end = squad_answers.answer_text(
        tf.constant(contexts), tf.constant([0, 1, 0]), tf.constant([7, 1, 0]),
        tf.constant([True, True, False]))
    assert [t.decode() for t in text.numpy()] == ["hello", "b", ""]
    assert start.numpy().tolist() == [2, 1, -1]
    assert end.numpy().tolist() == [7, 2, -1]
    assert contexts[0][0:8].strip() == "hello"
