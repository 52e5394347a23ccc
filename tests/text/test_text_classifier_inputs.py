"""`TextClassifier` takes one documented input form and refuses the rest naming the row.

Before: `predict(['a', None])` scored the word "None", a list of pairs was
tokenised as tuple reprs (or, with exactly two rows, read column-wise),
`fit(x, [0.5, 1.7])` trained on 0 and 1, string labels failed in `int()`,
`predict([])` raised UnboundLocalError and non-UTF-8 bytes raised where the
SavedModel drops them.
"""

import shutil

import keras
import numpy as np
import pytest

import albert_tf
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.export.classifier_module import AlbertClassifierModule
from albert_tf.modeling.models import AlbertClassifier

from finetune_test_helpers import TINY_CONFIG

MAX_SEQ_LENGTH = 24


@pytest.fixture(scope="module")
def model(tmp_path_factory, spm_model_file):
    directory = tmp_path_factory.mktemp("tiny_albert_inputs")
    keras.utils.set_random_seed(11)
    config = AlbertConfig.from_dict(TINY_CONFIG)
    save_official_checkpoint(AlbertClassifier(config, num_labels=3),
                             str(directory / "model.ckpt-1"), global_step=1)
    config.to_json_file(str(directory / "albert_config.json"))
    shutil.copy(spm_model_file, directory / "30k-clean.model")
    return albert_tf.TextClassifier.from_pretrained(
        str(directory), num_labels=3, max_seq_length=MAX_SEQ_LENGTH,
        label_list=["neg", "neutral", "pos"])


@pytest.mark.parametrize("texts, message", [
    (["a good film", None], r"texts\[1\] is None, not a str"),
    (["a good film", float("nan")], r"texts\[1\] is NaN, not a str"),
    (["a", 3], r"texts\[1\] is a int \(3\), not a str"),
    ([("a", "b"), "c"], r"texts\[0\] is a tuple, not a str: give pairs as two equal-length"),
    ([["a", "b"], ["c", "d"]], r"texts\[0\] is a list, not a str: give pairs"),
    (np.array([["a", "b"], ["c", "d"]]), r"texts must be a 1-D batch of strings, got an array "
                                         r"of shape \(2, 2\)"),
    ((["a", "b"], ["c"]), r"two equal-length sequences; got 2 and 1 texts"),
    ((["a", "b"], ["c", None]), r"text_b\[1\] is None"),
    ({"text_a": ["a"], "txt_b": ["b"]}, r"take 'text_a' and 'text_b', got also \['txt_b'\]"),
])
def test_predict_refuses_rows_that_are_not_text(model, texts, message):
    with pytest.raises((TypeError, ValueError), match=message):
        model.predict(texts, verbose=0)


def test_pandas_missing_value_names_the_row(model):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"sentence": ["fine", None, "good"]})
    with pytest.raises(TypeError, match=r"texts\[1\] is (None|NaN), not a str"):
        model.predict(frame["sentence"], verbose=0)
    np.testing.assert_allclose(model.predict(frame["sentence"].fillna(""), verbose=0),
                               model.predict(["fine", "", "good"], verbose=0), atol=1e-6)


def test_pairs_are_two_columns(model):
    texts_a, texts_b = ["the cat sat", "a dog"], ["on the mat", "barked loud"]
    pairs = model.predict((texts_a, texts_b), verbose=0)
    as_dict = model.predict({"text_a": texts_a, "text_b": texts_b}, verbose=0)
    np.testing.assert_allclose(pairs, as_dict, atol=1e-6)
    # A row of a pair, alone, is the same as in the batch (no column/row mix-up).
    first = model.predict((texts_a[:1], texts_b[:1]), verbose=0)
    np.testing.assert_allclose(first, pairs[:1], atol=1e-5)
    single = model.predict(texts_a, verbose=0)
    assert not np.allclose(single, pairs, atol=1e-4)


def test_predict_of_nothing_is_empty(model):
    for empty in ([], np.array([], dtype=object), ([], [])):
        out = model.predict(empty, verbose=0)
        assert out.shape == (0, 3) and out.dtype == np.float32


def test_bytes_that_are_not_utf8_as_the_saved_model(model, spm_model_file):
    texts = [b"caf\xe9 au lait \xff\xfe was good", "caf\u00e9 au lait".encode("utf-8")]
    got = model.predict(texts, verbose=0)
    module = AlbertClassifierModule(model.classifier, model.preprocessor.tokenizer,
                                    MAX_SEQ_LENGTH, {"spm.model": spm_model_file},
                                    label_list=model.label_list)
    served = module.signature("serving_default")(np.array(texts, dtype=object))
    np.testing.assert_allclose(got, served["logits"].numpy(), atol=1e-5)
    # The invalid bytes are dropped, not decoded as some other text.
    dropped = model.predict([b"caf au lait  was good"], verbose=0)
    np.testing.assert_allclose(got[:1], dropped, atol=1e-5)


def _labels_dataset_first_batch(model, texts, labels):
    dataset = model.text_dataset(texts, labels, batch_size=len(texts))
    return next(iter(dataset))[1].numpy()


def test_labels_go_through_the_label_list_and_whole_numbers_only(model):
    texts = ["w x", "y z", "a b", "c d"]
    # The first row is not the first label: ids come from the list's order.
    np.testing.assert_array_equal(
        _labels_dataset_first_batch(model, texts, ["pos", "neg", "neutral", "pos"]),
        [2, 0, 1, 2])
    np.testing.assert_array_equal(
        _labels_dataset_first_batch(model, texts, np.array([2.0, 0.0, 1.0, 2.0])), [2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"labels\[1\] is 1.7: a classification label must "
                                         r"be an integer class id"):
        model.fit(texts, [0, 1.7, 2, 1], verbose=0)
    with pytest.raises(ValueError, match=r"labels\[2\] is 'positive', not in label_list"):
        model.fit(texts, ["pos", "neg", "positive", "pos"], verbose=0)
    with pytest.raises(ValueError, match=r"labels\[3\] is 3: class ids must be in \[0, "
                                         r"num_labels=3\)"):
        model.evaluate(texts, [0, 1, 2, 3], verbose=0)
    with pytest.raises(ValueError, match=r"labels\[0\] is nan"):
        model.fit(texts, [float("nan"), 1, 2, 0], verbose=0)
    with pytest.raises(ValueError, match="4 texts but 3 labels"):
        model.fit(texts, [0, 1, 2], verbose=0)


def test_string_labels_need_a_label_list(model):
    # Label names live on the classifier (they travel into every format): a bare one.
    unlabelled = AlbertClassifier.from_config(dict(model.classifier.get_config(),
                                                   label_list=None))
    bare = albert_tf.TextClassifier(unlabelled, model.preprocessor)
    with pytest.raises(ValueError, match=r"labels\[0\] is 'pos', not in no label_list "
                                         r"\(pass label_list= to take string labels\)"):
        bare.fit(["a", "b"], ["pos", "neg"], verbose=0)
    with pytest.raises(ValueError, match=r"label_list: labels \['a'\] appear more than once"):
        albert_tf.TextClassifier(model.classifier, model.preprocessor, label_list=["a", "a", "b"])
    restored = albert_tf.TextClassifier.from_config(model.get_config())
    assert restored.label_list == ["neg", "neutral", "pos"]
