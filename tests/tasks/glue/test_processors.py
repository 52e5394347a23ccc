"""GLUE processors on the real shared tsv files, synthetic bad input, and tfds sources."""

import collections
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.tasks.glue import processors as glue


# Example counts from shared/data/PROVENANCE.md; dev label counts are the public
# GLUE figures (majority-class baselines CoLA 69.1%, SST-2 50.9%, MRPC 68.4%,
# RTE 52.7%, WNLI 56.3%).
COUNTS = {
    "cola": (8551, 1043, 1063),
    "sst-2": (67349, 872, 1821),
    "mrpc": (3667, 408, 1725),
    "rte": (2490, 277, 3000),
    "sts-b": (5749, 1500, 1379),
    "wnli": (635, 71, 146),
}
DEV_LABEL_COUNTS = {
    "cola": {"1": 721, "0": 322},
    "sst-2": {"1": 444, "0": 428},
    "mrpc": {"1": 279, "0": 129},
    "rte": {"entailment": 146, "not_entailment": 131},
    "wnli": {"0": 40, "1": 31},
}


def _reference_rows(path, header):
    """Independent reader: plain split on tabs and newlines."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().lstrip("\ufeff").splitlines()
    return [line.split("\t") for line in (lines[1:] if header else lines)]


def _reference_preprocess(text):
    """ALBERT's rule: collapse spaces, NFKD, drop accents, lower-case."""
    text = unicodedata.normalize("NFKD", " ".join(text.split()))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@pytest.fixture(scope="module")
def glue_dir(shared_data_dir):
    return str(shared_data_dir / "glue_data")


@pytest.mark.parametrize("task", sorted(COUNTS))
def test_real_counts_and_labels(glue_dir, task):
    processor = glue.get_processor(task)
    for split, expected in zip(("train", "dev", "test"), COUNTS[task]):
        examples = processor.get_examples(glue_dir, split)
        assert len(examples) == expected, (task, split)
        assert len({e.guid for e in examples}) == expected
        if split == "test":
            # Test guids are the file's index column 0..n-1, labels a placeholder.
            assert [e.guid for e in examples] == [str(i) for i in range(expected)]
            assert {e.label for e in examples} == {0.0 if task == "sts-b" else
                                                  processor.get_labels()[0]}
        elif task == "sts-b":
            scores = [e.label for e in examples]
            assert all(isinstance(s, float) and 0.0 <= s <= 5.0 for s in scores)
        else:
            assert set(e.label for e in examples) <= set(processor.get_labels())
        if split == "dev" and task in DEV_LABEL_COUNTS:
            assert dict(collections.Counter(e.label for e in examples)) == DEV_LABEL_COUNTS[task]


def test_real_labels_match_an_independent_reader(glue_dir, shared_data_dir):
    root = shared_data_dir / "glue_data"
    cola = glue.get_processor("cola").get_train_examples(glue_dir)
    rows = _reference_rows(root / "CoLA" / "train.tsv", header=False)
    assert [e.label for e in cola] == [r[1] for r in rows]
    assert [e.text_a for e in cola] == [_reference_preprocess(r[3]) for r in rows]
    stsb = glue.get_processor("sts-b").get_dev_examples(glue_dir)
    rows = _reference_rows(root / "STS-B" / "dev.tsv", header=True)
    np.testing.assert_allclose([e.label for e in stsb], [float(r[9]) for r in rows])
    assert [e.guid for e in stsb] == [r[0] for r in rows]


def test_real_first_examples(glue_dir):
    cola_dev = glue.get_processor("cola").get_dev_examples(glue_dir)
    # CoLA train/dev have no header; official guids count rows from 0.
    assert cola_dev[0] == glue.InputExample(
        guid="dev-0", text_a="the sailors rode the breeze clear of the rocks.",
        text_b=None, label="1")
    mrpc = glue.get_processor("mrpc", do_lower_case=False).get_train_examples(glue_dir)
    # MRPC/train.tsv starts with a UTF-8 BOM; the header is skipped, guids count it.
    assert mrpc[0].guid == "train-1"
    assert mrpc[0].label == "1"
    assert mrpc[0].text_a.startswith('Amrozi accused his brother , whom he called " the')
    assert mrpc[0].text_b.startswith('Referring to him as only " the witness "')
    stsb = glue.get_processor("sts-b").get_dev_examples(glue_dir)
    assert stsb[0] == glue.InputExample(
        guid="0", text_a="a man with a hard hat is dancing.",
        text_b="a man wearing a hard hat is dancing.", label=5.0)
    rte_test = glue.get_processor("rte").get_test_examples(glue_dir)
    assert rte_test[1].guid == "1"
    assert rte_test[1].text_b == "authorities in brazil hold 200 people as hostage."


def test_labels_and_registry():
    assert glue.get_processor("MNLI").get_labels() == ["contradiction", "entailment", "neutral"]
    assert glue.get_processor("sts-b").get_labels() == [None]
    assert glue.get_processor("sts-b").num_labels == 1
    assert glue.get_processor("qnli").get_labels() == ["entailment", "not_entailment"]
    assert glue.get_processor("cola").get_labels() == ["0", "1"]
    assert sorted(glue.PROCESSORS) == sorted([
        "cola", "mnli", "mismnli", "mrpc", "rte", "sst-2", "sts-b", "qqp", "qnli",
        "wnli", "ax"])
    with pytest.raises(ValueError, match="unknown GLUE task 'squad'"):
        glue.get_processor("squad")
    with pytest.raises(ValueError, match="ax has no train set"):
        glue.get_processor("ax").get_train_examples("/nonexistent")


def _write(path, lines, bom=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + "".join(line + "\n" for line in lines),
                    encoding="utf-8")
    return path


def test_mnli_columns_and_matched_files(tmp_path):
    header = "\t".join(["index", "promptID", "pairID", "genre", "s1bp", "s2bp", "s1p",
                        "s2p", "sentence1", "sentence2", "label1", "gold_label"])
    row = "\t".join(["7", "p", "q", "fiction", "x", "y", "x", "y", "The Cat sat.",
                     "A cat sat.", "neutral", "entailment"])
    _write(tmp_path / "MNLI" / "train.tsv", [header, row])
    dev_header = header.replace("gold_label", "l2\tl3\tl4\tl5\tgold_label")
    dev_row = row.replace("\tentailment", "\tneutral\tneutral\tneutral\tneutral\tcontradiction")
    _write(tmp_path / "MNLI" / "dev_matched.tsv", [dev_header, dev_row])
    _write(tmp_path / "MNLI" / "dev_mismatched.tsv", [dev_header, dev_row.replace("7", "8", 1)])
    _write(tmp_path / "MNLI" / "test_matched.tsv", [header[:-len("\tlabel1\tgold_label")],
                                                    row[:-len("\tneutral\tentailment")]])
    mnli = glue.get_processor("mnli")
    assert mnli.get_train_examples(str(tmp_path)) == [glue.InputExample(
        "7", "the cat sat.", "a cat sat.", "entailment")]
    assert mnli.get_dev_examples(str(tmp_path))[0].label == "contradiction"
    assert mnli.get_test_examples(str(tmp_path))[0].label == "contradiction"
    assert glue.get_processor("mismnli").get_dev_examples(str(tmp_path))[0].guid == "8"


def test_qqp_skips_malformed_rows_with_a_count(tmp_path):
    _write(tmp_path / "QQP" / "train.tsv", [
        "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate",
        "1\t11\t12\tWhat is x?\tWhat's x?\t1",
        "2\t21\t22\tA broken row without its pair",
        "3\t31\t32\tIs y?\tIs z?\t0",
    ])
    qqp = glue.get_processor("qqp")
    examples = qqp.get_train_examples(str(tmp_path))
    assert [(e.guid, e.label) for e in examples] == [("1", "1"), ("3", "0")]
    assert qqp.num_skipped == 1
    _write(tmp_path / "QQP" / "test.tsv", ["id\tquestion1\tquestion2", "0\tonly one"])
    with pytest.raises(ValueError, match=r"QQP/test.tsv:2: expected at least 3"):
        qqp.get_test_examples(str(tmp_path))


def test_missing_columns_name_file_and_line(tmp_path):
    _write(tmp_path / "RTE" / "dev.tsv", [
        "index\tsentence1\tsentence2\tlabel",
        "0\tA man sleeps.\tSomeone sleeps.\tentailment",
        "1\tA man sleeps.\tNobody sleeps.",   # label missing
    ])
    with pytest.raises(ValueError, match=r"RTE/dev.tsv:3: expected at least 4 tab-separated "
                                         r"columns for rte dev, got 3"):
        glue.get_processor("rte").get_dev_examples(str(tmp_path))
    _write(tmp_path / "CoLA" / "train.tsv", ["gj04\t1\t\tGood.", "gj04\t0"])
    with pytest.raises(ValueError, match=r"CoLA/train.tsv:2: expected at least 4"):
        glue.get_processor("cola").get_train_examples(str(tmp_path))


def test_bad_label_and_missing_file(tmp_path):
    _write(tmp_path / "SST-2" / "train.tsv", ["sentence\tlabel", "fine\t1", "odd\t2"])
    with pytest.raises(ValueError, match=r"SST-2/train.tsv:3: label '2' is not one of"):
        glue.get_processor("sst-2").get_train_examples(str(tmp_path))
    _write(tmp_path / "STS-B" / "train.tsv", ["h" + "\th" * 9,
                                              "0\tg\tf\ty\to\ts\tt\ta\tb\tfive"])
    with pytest.raises(ValueError, match=r"STS-B/train.tsv:2: expected a float score"):
        glue.get_processor("sts-b").get_train_examples(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"WNLI/dev.tsv not found"):
        glue.get_processor("wnli").get_dev_examples(str(tmp_path))


def test_quotes_are_literal_and_bom_is_stripped(tmp_path):
    # Official `_read_tsv(quotechar=None)`: a quote never starts a quoted field.
    path = _write(tmp_path / "quotes.tsv", ['h1\th2', '"a\tb"\t0'], bom=True)
    assert glue.read_tsv(str(path)) == [(1, ["h1", "h2"]), (2, ['"a', 'b"', "0"])]
    _write(tmp_path / "SST-2" / "dev.tsv", ['sentence\tlabel', '" unbalanced quote\t1'],
           bom=True)
    examples = glue.get_processor("sst-2").get_dev_examples(str(tmp_path))
    assert examples[0].text_a == '" unbalanced quote'
    _write(tmp_path / "diagnostic" / "diagnostic.tsv",
           ["index\tsentence1\tsentence2", "0\tThe cat sat.\tNo cat sat."], bom=True)
    ax = glue.get_processor("ax").get_test_examples(str(tmp_path))
    assert ax == [glue.InputExample("0", "the cat sat.", "no cat sat.", "contradiction")]


# ---------------------------------------------------------------------------
# tensorflow-datasets sources.

def test_tfds_mock_data_structure():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=3):
        cola = glue.get_processor("cola").get_tfds_examples("train")
        stsb = glue.get_processor("sts-b").get_tfds_examples("dev")
        mnli_test = glue.get_processor("mnli").get_tfds_examples("test")
    assert len(cola) == 3 and all(e.text_b is None and e.label in ("0", "1") for e in cola)
    assert all(e.guid.startswith("train-") for e in cola)
    assert len(stsb) == 3 and all(isinstance(e.label, float) and e.text_b for e in stsb)
    assert all(e.label == "contradiction" and e.guid.isdigit() for e in mnli_test)


def _fixed_glue_dataset(rows):
    def as_dataset(self, split, **kwargs):
        del kwargs
        keys = rows[0].keys()
        return tf.data.Dataset.from_tensor_slices({k: [r[k] for r in rows] for k in keys})
    return as_dataset


def test_tfds_label_names_map_to_official_labels():
    tfds = pytest.importorskip("tensorflow_datasets")
    # tfds glue/mnli ClassLabel order is entailment, neutral, contradiction; the
    # official label ids are contradiction, entailment, neutral.
    rows = [{"premise": "P%d" % i, "hypothesis": "H", "label": i, "idx": 10 + i}
            for i in range(3)]
    with tfds.testing.mock_data(as_dataset_fn=_fixed_glue_dataset(rows)):
        mnli = glue.get_processor("mnli").get_tfds_examples("dev")
    assert [(e.guid, e.text_a, e.label) for e in mnli] == [
        ("dev-10", "p0", "entailment"), ("dev-11", "p1", "neutral"),
        ("dev-12", "p2", "contradiction")]
    # tfds stores rows shuffled: examples come back in the official files' row order.
    rows = [{"sentence": "Row %d ." % i, "label": 0, "idx": i} for i in (2, 0, 3, 1)]
    with tfds.testing.mock_data(as_dataset_fn=_fixed_glue_dataset(rows)):
        test = glue.get_processor("cola").get_tfds_examples("test")
    assert [(e.guid, e.text_a) for e in test] == [(str(i), "row %d ." % i) for i in range(4)]
    # glue/cola names its classes unacceptable/acceptable for the tsv's 0/1.
    rows = [{"sentence": "Good .", "label": 1, "idx": 0},
            {"sentence": "Bad .", "label": 0, "idx": 1}]
    with tfds.testing.mock_data(as_dataset_fn=_fixed_glue_dataset(rows)):
        cola = glue.get_processor("cola").get_tfds_examples("train")
    assert [e.label for e in cola] == ["1", "0"]
    rows = [{"sentence": "Good .", "label": -1, "idx": 0}]
    with tfds.testing.mock_data(as_dataset_fn=_fixed_glue_dataset(rows)):
        with pytest.raises(ValueError, match="unlabelled example in the dev split"):
            glue.get_processor("cola").get_tfds_examples("dev")


def test_tfds_not_prepared_says_how_to_prepare(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(FileNotFoundError, match=r"glue/rte is not prepared in .*: run `tfds "
                                                r"build glue/rte --data_dir="):
        glue.get_processor("rte").get_tfds_examples("dev", data_dir=str(tmp_path))


def test_stsb_nan_score_names_the_row(tmp_path, shared_data_dir):
    lines = (shared_data_dir / "glue_data" / "STS-B" / "train.tsv").read_text(
        encoding="utf-8").splitlines()[:6]
    fields = lines[4].split("\t")
    fields[-1] = "NaN"  # A score pandas wrote for a missing value.
    lines[4] = "\t".join(fields)
    (tmp_path / "STS-B").mkdir()
    (tmp_path / "STS-B" / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    processor = glue.StsbProcessor()
    with pytest.raises(ValueError, match=r"STS-B/train.tsv:5: expected a finite float score, "
                                         r"got 'NaN'"):
        processor.get_train_examples(str(tmp_path))
