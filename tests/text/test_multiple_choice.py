"""`MultipleChoice`: RACE on raw text, the ids of `tasks/race/features.py` and the answers
of the exported RACE SavedModel, on real RACE rows."""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_tf.checkpoints import save_official_checkpoint, save_pretrained
from albert_tf.config import AlbertConfig
from albert_tf.export import ExportParams, export
from albert_tf.modeling.models import AlbertMultipleChoice
from albert_tf.tasks.race import features as race_features
from albert_tf.tasks.race.reader import RaceExample, RaceProcessor
from albert_tf.tokenization import FullTokenizer

from finetune_test_helpers import TINY_CONFIG

MAX_SEQ_LENGTH = 64
MAX_QA_LENGTH = 24  # Short enough that real questions+options are cut (from the front).
# RACE dev/middle 1011 has cloze questions ("_"), dev/high 75 plain ones.
PASSAGES = (("dev", "middle", "1011.txt"), ("dev", "high", "75.txt"))


def _passages(shared_data_dir, parts=PASSAGES):
    out = []
    for split, level, name in parts:
        with open(shared_data_dir / "race" / "RACE" / split / level / name) as f:
            out.append((level, json.load(f)))
    return out


def _rows(passages):
    """Raw (articles, questions, options, answers), one row per question."""
    articles, questions, options, answers = [], [], [], []
    for _, passage in passages:
        for question, choices, answer in zip(passage["questions"], passage["options"],
                                             passage["answers"]):
            articles.append(passage["article"])
            questions.append(question)
            options.append(list(choices))
            answers.append(answer)
    return articles, questions, options, answers


def _randomize(model, seed):
    """Weights far from the initial ones, so the four options score apart."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_weights:
        scale = 0.1 if variable.path.endswith(("bias", "beta", "gamma")) else 0.2
        base = 1.0 if variable.path.endswith("gamma") else 0.0
        variable.assign((base + rng.normal(0.0, scale, tuple(variable.shape))).astype("float32"))


@pytest.fixture(scope="module")
def race_dir(tmp_path_factory, spm_model_file):
    """A RACE-fine-tuned-format tiny checkpoint (random weights) with its config and
    30k-clean.model, as `run_race.py` leaves it."""
    directory = tmp_path_factory.mktemp("tiny_race")
    keras.utils.set_random_seed(5)
    config = AlbertConfig.from_dict(TINY_CONFIG)
    model = AlbertMultipleChoice(config, num_choices=4)
    _randomize(model, 5)
    save_official_checkpoint(model, str(directory / "model.ckpt-1"), global_step=1,
                             write_state_file=True)
    config.to_json_file(str(directory / "albert_config.json"))
    shutil.copy(spm_model_file, directory / "30k-clean.model")
    return str(directory)


@pytest.fixture(scope="module")
def choice(race_dir):
    return albert_tf.MultipleChoice.from_pretrained(race_dir, max_seq_length=MAX_SEQ_LENGTH,
                                                    max_qa_length=MAX_QA_LENGTH)


@pytest.fixture(scope="module")
def savedmodel(race_dir, spm_model_file, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("race_export") / "race")
    export(ExportParams(model_kind="race", export_dir=directory, spm_model_file=spm_model_file,
                        init_checkpoint=race_dir, max_seq_length=MAX_SEQ_LENGTH,
                        max_qa_length=MAX_QA_LENGTH))
    return tf.saved_model.load(directory).signatures["serving_default"]


def test_same_ids_as_race_features_and_answers_as_the_savedmodel(
        choice, savedmodel, spm_model_file, shared_data_dir):
    passages = _passages(shared_data_dir)
    articles, questions, options, _ = _rows(passages)
    # Edge rows: everything empty (`[CLS] [SEP] [SEP]`), and no article.
    articles += ["", ""]
    questions += ["", "Which is right?"]
    options += [["", "", "", ""], ["yes", "no", "maybe _", "1,000 ways"]]
    examples = []
    processor = RaceProcessor(do_lower_case=True)
    for level, passage in passages:
        examples += processor.passage_examples(passage, level)
    examples += [RaceExample("empty-0", "middle", "", ["", "", "", ""], 0),
                 processor.passage_examples({"id": "x", "article": "", "questions": [
                     questions[-1]], "options": [options[-1]], "answers": ["A"]}, "high")[0]]
    tokenizer = FullTokenizer(spm_model_file, do_lower_case=True)
    expected = [race_features.convert_race_example(e, MAX_SEQ_LENGTH, tokenizer,
                                                   max_qa_length=MAX_QA_LENGTH)
                for e in examples]
    features = choice.preprocessor((articles, questions, options))
    for name in ("input_ids", "input_mask", "segment_ids"):
        np.testing.assert_array_equal(features[name].numpy(),
                                      np.array([getattr(f, name) for f in expected]))
    # The official qa cut kept the end of a long option, and long articles were cut.
    assert any(len(tokenizer.tokenize(q)) > MAX_QA_LENGTH for e in examples
               for q in e.qa_texts)

    out = choice.predict(articles, questions, options, verbose=0)
    served = savedmodel(article=tf.constant(articles), question=tf.constant(questions),
                        options=tf.constant(options))
    np.testing.assert_allclose(out["logits"], served["logits"].numpy(), atol=1e-5)
    np.testing.assert_allclose(out["probabilities"], served["probabilities"].numpy(),
                               atol=1e-6)
    np.testing.assert_array_equal(out["answer_index"], served["answer_index"].numpy())
    assert list(out["answer"]) == [a.decode() for a in served["answer"].numpy()]
    assert len(set(out["answer"])) > 1  # The options really score apart.
    # Probabilities, computed here: softmax over the four options of each row.
    logits = out["logits"].astype(np.float64)
    np.testing.assert_allclose(out["probabilities"],
                               np.exp(logits) / np.exp(logits).sum(-1, keepdims=True),
                               atol=1e-6)
    np.testing.assert_allclose(choice((articles, questions, options)).numpy(), out["logits"],
                               atol=1e-5)
    one = choice.predict(articles[0], questions[0], options[0], verbose=0)
    assert one["answer"].tolist() == out["answer"][:1].tolist()


def test_any_checkpoint_format(choice, race_dir, shared_data_dir, tmp_path):
    articles, questions, options, _ = _rows(_passages(shared_data_dir)[:1])
    expected = choice.predict(articles, questions, options, verbose=0)["logits"]
    hf_dir = str(tmp_path / "hf")
    save_pretrained(choice, hf_dir, format="hf")  # Its SentencePiece model goes with it.
    from_hf = albert_tf.MultipleChoice.from_pretrained(hf_dir, max_seq_length=MAX_SEQ_LENGTH,
                                                       max_qa_length=MAX_QA_LENGTH)
    np.testing.assert_allclose(from_hf.predict(articles, questions, options,
                                               verbose=0)["logits"], expected, atol=1e-5)
    # Without max_seq_length: official 512, cut to the model's 128 positions.
    default = albert_tf.MultipleChoice.from_pretrained(race_dir, max_qa_length=64)
    assert default.preprocessor.max_seq_length == 128
    with pytest.raises(ValueError, match=r"max_seq_length \(512\) exceeds the model's "
                                         r"max_position_embeddings \(128\)"):
        albert_tf.MultipleChoice.from_pretrained(race_dir, max_seq_length=512)
    with pytest.raises(ValueError, match=r"max_qa_length \(128\) must be an integer in "
                                         r"\[1, max_seq_length - 3 = 61\]"):
        albert_tf.MultipleChoice.from_pretrained(race_dir, max_seq_length=MAX_SEQ_LENGTH)


@pytest.mark.parametrize("inputs, message", [
    ((["a", "b"], ["q"], [["1", "2", "3", "4"]] * 2),
     r"2 articles, 1 questions and 2 option lists: give one question and one list of 4"),
    ((["a", "b"], ["q", "r"], [["1", "2", "3", "4"], ["1", "2", "3"]]),
     r"options\[1\] has 3 options, expected 4"),
    ((["a", "b"], ["q", None], [["1", "2", "3", "4"]] * 2), r"questions\[1\] is None, not a str"),
    ((["a", float("nan")], ["q", "r"], [["1", "2", "3", "4"]] * 2),
     r"articles\[1\] is NaN, not a str"),
    ((["a"], ["q"], [["1", "2", None, "4"]]), r"options\[0\]\[2\] is None, not a str"),
    ((["a"], ["q"], ["1 2 3 4"]), r"options\[0\] is a str, not a list of 4 option texts"),
    (["article one", "article two", "article three"],
     r"inputs are a tuple \(articles, questions, options\) or a dict .* got list"),
    ({"article": ["a"], "question": ["q"], "choices": [["1", "2", "3", "4"]]},
     r"missing \['options'\], unknown \['choices'\]"),
])
def test_inputs_are_checked_naming_the_row(choice, inputs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        choice.predict(inputs, verbose=0)


@pytest.mark.parametrize("answers, message", [
    (["A", "E"], r"answers\[1\] is 'E', not one of A, B, C, D"),
    ([0, 4], r"answers\[1\] is 4: give a letter \(A, B, C, D\) or an option id in \[0, 4\)"),
    ([0, None], r"answers\[1\] is None"),
])
def test_answers_are_checked_naming_the_row(choice, answers, message):
    with pytest.raises(ValueError, match=message):
        choice.fit((["a", "b"], ["q", "r"], [["1", "2", "3", "4"]] * 2), answers, verbose=0)


def test_fit_and_keras_file_in_a_fresh_process(race_dir, shared_data_dir, tmp_path):
    train = _passages(shared_data_dir, [("train", "middle", "2.txt"),
                                        ("train", "middle", "3.txt")])
    articles, questions, options, answers = _rows(train)
    model = albert_tf.MultipleChoice.from_pretrained(race_dir, max_seq_length=MAX_SEQ_LENGTH,
                                                     max_qa_length=MAX_QA_LENGTH)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit((articles, questions, options), answers, batch_size=4, epochs=2,
                        verbose=0)
    steps = 2 * -(-len(answers) // 4)
    assert int(model.optimizer.iterations) == steps and np.isfinite(history.history["loss"]).all()
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    out = model.predict(articles, questions, options, verbose=0)
    accuracy = model.evaluate((articles, questions, options), answers, verbose=0,
                              return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(np.mean(out["answer"] == np.array(answers)))
    # The same from an unbatched tf.data.Dataset of (inputs dict, answer id).
    dataset = tf.data.Dataset.from_tensor_slices((
        {"article": articles, "question": questions, "options": options},
        model.answer_ids(answers)))
    assert model.evaluate(dataset, batch_size=3, verbose=0, return_dict=True)[
        "accuracy"] == pytest.approx(accuracy)
    np.testing.assert_allclose(model.predict(dataset.map(lambda x, y: x), verbose=0)["logits"],
                               out["logits"], atol=1e-5)

    # Fine-tuned here, exported as run_race.py's checkpoints are: the same answers.
    fitted = str(tmp_path / "fitted")
    save_pretrained(model, fitted)
    export(ExportParams(model_kind="race", export_dir=str(tmp_path / "export"),
                        init_checkpoint=fitted, max_seq_length=MAX_SEQ_LENGTH,
                        spm_model_file=os.path.join(fitted, "30k-clean.model"),
                        max_qa_length=MAX_QA_LENGTH))
    served = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"](
        article=tf.constant(articles), question=tf.constant(questions),
        options=tf.constant(options))
    np.testing.assert_allclose(served["probabilities"].numpy(), out["probabilities"],
                               atol=1e-6)

    path = str(tmp_path / "race.keras")
    model.save(path)
    clone = albert_tf.MultipleChoice.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(articles, questions, options, verbose=0)["logits"],
                               out["logits"], atol=1e-6)
    script = """
import json, sys
import albert_tf, keras
model = keras.saving.load_model(sys.argv[1])
rows = json.loads(sys.argv[2])
out = model.predict(*rows, verbose=0)
print("RESULT", type(model).__name__, json.dumps(out["probabilities"].tolist()))
"""
    done = subprocess.run([sys.executable, "-c", script, path,
                           json.dumps([articles, questions, options])],
                          capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    line = [l for l in done.stdout.splitlines() if l.startswith("RESULT")][-1]
    _, name, probabilities = line.split(" ", 2)
    assert name == "MultipleChoice"
    np.testing.assert_allclose(np.array(json.loads(probabilities)), out["probabilities"],
                               atol=1e-6)
