"""benchmarks/litert_accuracy.py: the SQuAD training file it makes from the bundled v1.1
dev articles keeps the scored v2.0 articles out, and its unanswerable questions really
lack their answer (real data from ../shared)."""

import importlib.util
import json

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "litert_accuracy", REPO_ROOT / "benchmarks" / "litert_accuracy.py")
accuracy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(accuracy)


def test_squad_training_file(shared_data_dir, tmp_path):
    with open(shared_data_dir / "squad" / "v2.0" / "dev-v2.0.3articles.json") as f:
        heldout = {article["title"] for article in json.load(f)["data"]}
    assert heldout == {"Normans", "Computational_complexity_theory", "Rhine"}
    path = tmp_path / "train.json"
    total, impossible = accuracy.squad_training_file(str(shared_data_dir), heldout, str(path))
    with open(path) as f:
        data = json.load(f)["data"]
    titles = {article["title"] for article in data}
    # 48 articles of v1.1 dev, less the three scored ones.
    assert len(titles) == 45 and not titles & heldout
    originals, negatives = {}, []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa["is_impossible"]:
                    assert qa["answers"] == []
                    negatives.append((qa, paragraph["context"]))
                else:
                    assert qa["answers"] and all(
                        paragraph["context"][a["answer_start"]:].startswith(a["text"])
                        for a in qa["answers"])
                    originals[qa["id"]] = qa
    # Every v1.1 dev question outside the scored articles, once, answerable.
    expected = 0
    for part in ("a", "b"):
        with open(shared_data_dir / "squad" / "v1.1" / f"dev-v1.1.part-{part}.json") as f:
            expected += sum(len(p["qas"]) for a in json.load(f)["data"]
                            if a["title"] not in heldout for p in a["paragraphs"])
    assert len(originals) == expected and expected > 9000
    assert len(originals) + len(negatives) == total and len(negatives) == impossible
    assert 0.25 < impossible / len(originals) < 0.42
    for qa, context in negatives:
        source = originals[qa["id"][:-len("_neg")]]
        assert qa["question"] == source["question"]
        assert not any(answer["text"] in context for answer in source["answers"])
