"""benchmarks/transfer_probe.py: the logistic regression against scipy's optimizer, the
features average exactly the text's tokens, and the L2 strength is chosen without dev."""

import importlib.util

import numpy as np
import pytest

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "transfer_probe", REPO_ROOT / "benchmarks" / "transfer_probe.py")
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)


def separable_problem(rows=120, dims=5, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.normal(size=[rows, dims]) * [1, 3, 0.2, 1, 10]
    y = (x @ [1.0, -0.5, 2.0, 0.0, 0.1] + rng.normal(size=rows) > 0).astype(np.float64)
    return x, y


@pytest.mark.parametrize("l2", [1e-3, 0.1, 10.0])
def test_newton_fit_is_the_minimum_scipy_finds(l2):
    optimize = pytest.importorskip("scipy.optimize")
    x, y = separable_problem()
    w, mean, std = probe.fit_logistic(x, y, l2)
    z = np.hstack([(x - mean) / std, np.ones([len(x), 1])])

    def objective(v):  # mean log loss + l2/2 |v without the bias|^2
        logits = z @ v
        return (np.mean(np.logaddexp(0, logits) - y * logits)
                + 0.5 * l2 * np.sum(v[:-1] ** 2))

    reference = optimize.minimize(objective, np.zeros(z.shape[1]), method="BFGS",
                                  options={"gtol": 1e-10}).x
    np.testing.assert_allclose(w, reference, atol=1e-4)
    assert objective(w) <= objective(reference) + 1e-10


def test_l2_is_chosen_on_train_alone():
    x, y = separable_problem(rows=200)
    x_dev, y_dev = separable_problem(rows=80, seed=1)
    chosen = probe.probe(x, y, x_dev, y_dev)
    flipped = probe.probe(x, y, x_dev, 1 - y_dev)
    assert chosen["l2"] == flipped["l2"] and chosen["cv_accuracy"] == \
        flipped["cv_accuracy"]
    assert chosen["dev_accuracy"] == pytest.approx(1 - flipped["dev_accuracy"])
    # The noise makes ~0.85 the best possible; a penalty so strong that the bias alone
    # decides scores ~0.55 (the majority class).
    assert chosen["dev_accuracy"] > 0.7


def test_mean_features_average_only_the_text_tokens():
    import keras
    from albert_tf.modeling import AlbertEncoder
    from tiny_config import tiny_config

    keras.utils.set_random_seed(3)
    encoder = AlbertEncoder(tiny_config())
    # Row 0: [CLS] 7 8 9 [SEP] pad; row 1: [CLS] 5 [SEP] pad pad pad.
    ids = np.array([[2, 7, 8, 9, 3, 0], [2, 5, 3, 0, 0, 0]], np.int32)
    mask = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]], np.int32)
    segments = np.zeros_like(ids)
    feats = probe.features(encoder, ids, mask, segments)
    outputs = encoder({"input_ids": ids, "input_mask": mask, "segment_ids": segments},
                      training=False)
    top = np.asarray(outputs["sequence_output"], np.float64)
    np.testing.assert_allclose(feats["mean_l2"][0], top[0, 1:4].mean(0), atol=1e-6)
    np.testing.assert_allclose(feats["mean_l2"][1], top[1, 1], atol=1e-6)
    np.testing.assert_allclose(feats["cls"], top[:, 0], atol=1e-6)
    np.testing.assert_allclose(feats["pooled"], outputs["pooled_output"], atol=1e-6)
    assert sorted(feats) == ["cls", "mean_emb", "mean_l1", "mean_l2", "pooled"]


class WordTokenizer:
    """Whitespace tokens; ids: [CLS] 2, [SEP] 3, then each new word the next id."""

    cls_id, sep_id = 2, 3

    def __init__(self):
        self.ids = {"[CLS]": 2, "[SEP]": 3}

    def tokenize(self, text):
        return text.split()

    def convert_tokens_to_ids(self, tokens):
        return [self.ids.setdefault(t, len(self.ids) + 2) for t in tokens]


def test_pairs_are_packed_and_truncated_as_the_classifier_packs_them():
    tokenizer = WordTokenizer()
    ids, mask, segments = probe.pack(tokenizer, [("a b c d", "e f"), ("a", "e")], 8)
    # 6 + 2 words + 3 specials > 8: the longer text loses its last word until 5 fit:
    # a b c d | e f -> a b c | e f.
    a, b, c, e, f = tokenizer.convert_tokens_to_ids(["a", "b", "c", "e", "f"])
    np.testing.assert_array_equal(ids, [[2, a, b, c, 3, e, f, 3], [2, a, 3, e, 3, 0, 0, 0]])
    np.testing.assert_array_equal(mask, [[1] * 8, [1] * 5 + [0] * 3])
    np.testing.assert_array_equal(segments, [[0] * 5 + [1] * 3, [0, 0, 0, 1, 1, 0, 0, 0]])


def test_overlap_features_by_hand():
    rows = probe.overlap(WordTokenizer(), [("x x y", "x z"), ("p", "q r")])
    # Sets {x, y} and {x, z}: 1 common of 3 -> Jaccard 1/3, 1/2 of each set; counts
    # (x 2, y 1) . (x 1, z 1) = 2, norms sqrt(5) sqrt(2); lengths 3 and 2.
    np.testing.assert_allclose(rows[0], [1 / 3, 1 / 2, 1 / 2, 2 / np.sqrt(10), 2 / 3])
    np.testing.assert_allclose(rows[1], [0, 0, 0, 0, 1 / 2])


@pytest.mark.parametrize("task", ["MRPC", "RTE"])
def test_pair_rows_read_the_harness_folder(tmp_path, task):
    folder = tmp_path / "tasks" / "pair" / task
    folder.mkdir(parents=True)
    if task == "MRPC":
        header, rows = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String", ["1\t7\t8\tA one\tB one",
                                                                      "0\t9\t10\tA two\tB two"]
    else:
        header, rows = "index\tsentence1\tsentence2\tlabel", ["0\tA one\tB one\tentailment",
                                                           "1\tA two\tB two\tnot_entailment"]
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_text("\n".join([header] + rows) + "\n")
    name, train, dev = probe.pair_rows(str(tmp_path))
    assert name == task
    assert train == dev == [(("A one", "B one"), 1), (("A two", "B two"), 0)]
