"""SQuAD example -> window features: real-data round trip, layout, alignment, bad input."""

import unicodedata

import pytest

from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.tasks.squad import features as squad_features
from albert_tf.tasks.squad.examples import SquadExample
from albert_tf.tasks.squad import metrics as squad_metrics
from albert_tf.tasks.squad.metrics import normalize_answer
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization import preprocess_text


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


def _convert(examples, tokenizer, is_training, **kwargs):
    stats = squad_features.SquadConversionStats()
    features = list(squad_features.convert_examples_to_features(
        examples, tokenizer, is_training, stats=stats, **kwargs))
    return features, stats


def _answer_of(feature, examples):
    """Original text between the labelled tokens, through the window's char maps."""
    meta = feature.meta
    start = meta.tok_start_to_orig_index[feature.start_position - meta.doc_offset]
    end = meta.tok_end_to_orig_index[feature.end_position - meta.doc_offset]
    return start, end


def _squash(text):
    """Normalised answer without spaces or format characters (SentencePiece drops U+FEFF)."""
    return "".join(c for c in normalize_answer(text)
                   if not c.isspace() and unicodedata.category(c) != "Cf")


def _round_trip(examples, features, tokenizer):
    """Checks every labelled window; returns (#exact, #piece-granularity supersets)."""
    exact = superset = 0
    for feature in features:
        if feature.is_impossible:
            assert feature.start_position == feature.end_position == 0
            continue
        example = examples[feature.meta.example_index]
        text, answer_start = example.answers[0]
        answer_end = answer_start + len(text) - 1
        start, end = _answer_of(feature, examples)
        # Independent of the char maps: the labelled pieces (ids checked against the
        # paragraph's pieces) join to text that contains the preprocessed answer.
        first = feature.doc_start + feature.start_position - feature.meta.doc_offset
        last = feature.doc_start + feature.end_position - feature.meta.doc_offset
        pieces = tokenizer.tokenize(example.context_text)[first:last + 1]
        assert tokenizer.convert_tokens_to_ids(pieces) == feature.input_ids[
            feature.start_position:feature.end_position + 1]
        joined = "".join(pieces).replace("\u2581", " ")
        assert _squash(preprocess_text(text, lower=True)) in _squash(joined)
        if normalize_answer(example.context_text[start:end + 1]) == normalize_answer(text):
            exact += 1
        else:
            # Only allowed when the answer starts or ends inside a piece: the span
            # then covers the answer plus the rest of those words, nothing more.
            assert start <= answer_start and answer_end <= end, example.qas_id
            assert not example.context_text[start:answer_start].isspace()
            assert " " not in example.context_text[start:answer_start]
            assert " " not in example.context_text[answer_end + 1:end + 1]
            superset += 1
    return exact, superset


def test_round_trip_real_v2_file(shared_data_dir, tokenizer):
    path = str(shared_data_dir / "squad/v2.0/dev-v2.0.3articles.json")
    examples = squad_examples.read_squad_examples(path, is_training=True)
    features, stats = _convert(examples, tokenizer, is_training=True)
    assert stats.skipped == {}
    exact, superset = _round_trip(examples, features, tokenizer)
    answerable = {e.qas_id for e in examples if not e.is_impossible}
    labelled = {examples[f.meta.example_index].qas_id for f in features if not f.is_impossible}
    print(f"v2.0 3 articles: {len(answerable)} answerable, {exact} windows exact, "
          f"{superset} piece-granularity supersets, {len(answerable - labelled)} unlabelled")
    assert labelled == answerable  # every answer lies inside some window
    assert superset <= 0.01 * exact
    # Every unanswerable question is labelled 0/0 and is_impossible in all windows.
    impossible = {e.qas_id for e in examples if e.is_impossible}
    for f in features:
        if examples[f.meta.example_index].qas_id in impossible:
            assert f.is_impossible and f.start_position == 0


def test_round_trip_real_v1_articles(shared_data_dir, tokenizer):
    path = str(shared_data_dir / "squad/v1.1/dev-v1.1.part-b.json")
    dataset = squad_metrics.read_json(path)
    dataset["data"] = dataset["data"][:2]
    examples = squad_examples.examples_from_json(dataset, is_training=True)
    features, stats = _convert(examples, tokenizer, is_training=True)
    assert stats.skipped == {}
    exact, superset = _round_trip(examples, features, tokenizer)
    print(f"v1.1 2 articles: {len(examples)} questions, {exact} windows exact, "
          f"{superset} piece-granularity supersets")
    assert exact > 0 and superset <= 0.01 * exact


ACCENTED = (
    "  Café Müller\u00a0in  São Paulo\t— naïve\u200b résumé;\n東京 is Tokyo. Ωmega "
    "weighs 12,000 ﬁne tons, \ufeffÅngström said ``quoted'' …end in Ⅻ ＦＵＬＬ years. "
    "İstanbul and Straße are ΣΊΣΥΦΟΣ words.")
ACCENTED_ANSWERS = ["Café Müller", "São Paulo", "naïve", "résumé", "東京", "Tokyo",
                    "Ωmega", "12,000", "ﬁne", "Ångström", "``quoted''", "Ⅻ", "ＦＵＬＬ",
                    "İstanbul", "Straße", "ΣΊΣΥΦΟΣ"]


@pytest.mark.parametrize("do_lower_case", [True, False])
def test_accented_and_non_latin_answers_map_back_exactly(spm_model_file, do_lower_case):
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=do_lower_case)
    examples = [SquadExample(f"acc-{i}", "Which word?", ACCENTED,
                             [(text, ACCENTED.index(text))])
                for i, text in enumerate(ACCENTED_ANSWERS)]
    features, stats = _convert(examples, tokenizer, is_training=True)
    assert stats.skipped == {}
    assert len(features) == len(examples)
    for feature, text in zip(features, ACCENTED_ANSWERS):
        start, end = _answer_of(feature, examples)
        assert ACCENTED[start:end + 1] == text


def _long_example(shared_data_dir):
    path = str(shared_data_dir / "squad/v1.1/dev-v1.1.part-a.json")
    examples = squad_examples.read_squad_examples(path, is_training=True)
    return max(examples, key=lambda e: len(e.context_text))


def test_window_layout_and_max_context(shared_data_dir, tokenizer):
    example = _long_example(shared_data_dir)
    example.question_text = "What " + "very " * 20 + "long question is this?"
    max_seq_length, doc_stride, max_query_length = 64, 16, 8
    features, _ = _convert([example], tokenizer, is_training=True,
                           max_seq_length=max_seq_length, doc_stride=doc_stride,
                           max_query_length=max_query_length)
    question = tokenizer.encode(example.question_text)[:max_query_length]
    paragraph = tokenizer.encode(example.context_text)
    window = max_seq_length - len(question) - 3
    assert len(question) == max_query_length
    # Windows start doc_stride apart and the last one reaches the end.
    starts = [f.doc_start for f in features]
    assert starts == list(range(0, doc_stride * len(features), doc_stride))
    assert starts[-1] + window >= len(paragraph) > starts[-2] + window
    for f in features:
        n = min(window, len(paragraph) - f.doc_start)
        expected_ids = ([tokenizer.cls_id] + question + [tokenizer.sep_id]
                        + paragraph[f.doc_start:f.doc_start + n] + [tokenizer.sep_id])
        pad = max_seq_length - len(expected_ids)
        assert f.input_ids == expected_ids + [0] * pad
        assert f.input_mask == [1] * len(expected_ids) + [0] * pad
        assert f.segment_ids == [0] * (len(question) + 2) + [1] * (n + 1) + [0] * pad
        # p_mask (official): 0 for [CLS] and the paragraph, 1 elsewhere.
        assert f.p_mask == [0] + [1] * (len(question) + 1) + [0] * n + [1] * (1 + pad)
        assert f.meta.doc_offset == len(question) + 2
        assert len(f.meta.token_is_max_context) == n
    assert [f.unique_id for f in features] == list(
        range(1000000000, 1000000000 + len(features)))
    # Max context: each paragraph token has it in exactly one window, the one that
    # maximises min(left, right) + 0.01 * length (computed here independently).
    for position in range(len(paragraph)):
        scores = []
        for f in features:
            n = len(f.meta.token_is_max_context)
            if f.doc_start <= position < f.doc_start + n:
                left, right = position - f.doc_start, f.doc_start + n - 1 - position
                scores.append((min(left, right) + 0.01 * n, -f.meta.doc_span_index, f))
        best = max(scores, key=lambda s: s[:2])[2]
        for _, _, f in scores:
            assert f.meta.token_is_max_context[position - f.doc_start] == (f is best)
    # Labels: the answer is inside some windows (positions there) and outside others (0).
    text, answer_start = example.answers[0]
    inside = [f for f in features if not f.is_impossible]
    assert inside and len(inside) < len(features)
    for f in features:
        if f.is_impossible:
            assert (f.start_position, f.end_position) == (0, 0)
        else:
            start, end = _answer_of(f, [example])
            assert normalize_answer(example.context_text[start:end + 1]) == normalize_answer(text)


def test_bad_answers_are_counted_skips_naming_the_question(tokenizer):
    context = "The quick brown fox jumps over the lazy dog."
    examples = [
        SquadExample("ok", "What jumps?", context, [("brown fox", 10)]),
        SquadExample("shifted", "What jumps?", context, [("brown fox", 12)]),
        SquadExample("empty-context", "What?", "   ", [("x", 0)]),
        SquadExample("blank-answer", "What?", context, [("  ", 3)]),
        SquadExample("impossible", "Who sleeps?", context, [], is_impossible=True),
    ]
    features, stats = _convert(examples, tokenizer, is_training=True)
    assert set(stats.skipped) == {"shifted", "empty-context", "blank-answer"}
    assert stats.skipped["shifted"].startswith("answer_start mismatch")
    assert stats.skipped["empty-context"].startswith("empty context")
    assert stats.num_examples == 5 and stats.num_features == 2
    assert (stats.num_positive_features, stats.num_negative_features) == (1, 1)
    ok, impossible = features
    assert examples[ok.meta.example_index].qas_id == "ok"
    start, end = _answer_of(ok, examples)
    assert context[start:end + 1] == "brown fox"
    assert impossible.is_impossible and impossible.start_position == 0
    # Prediction mode skips only the empty context (no labels are needed).
    features, stats = _convert(examples, tokenizer, is_training=False)
    assert set(stats.skipped) == {"empty-context"} and len(features) == 4


def test_settings_are_checked(tokenizer):
    with pytest.raises(ValueError, match=r"max_seq_length \(67\) must be greater"):
        _convert([SquadExample("q", "Q?", "Context.")], tokenizer, False,
                 max_seq_length=67, max_query_length=64)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dev-v1.1.part-a.json", "dev-v1.1.part-b.json"])
def test_round_trip_full_v1_dev_half(shared_data_dir, tokenizer, name):
    path = str(shared_data_dir / "squad/v1.1" / name)
    examples = squad_examples.read_squad_examples(path, is_training=True)
    features, stats = _convert(examples, tokenizer, is_training=True)
    assert stats.skipped == {}
    exact, superset = _round_trip(examples, features, tokenizer)
    print(f"{name}: {len(examples)} questions, {exact} windows exact, "
          f"{superset} piece-granularity supersets")
    assert superset <= 0.01 * exact
