"""Real SST-2 / STS-B rows rewritten as a user's own CSV / JSONL / TSV files."""

import csv
import json
import pathlib

SENTIMENT = {"0": "negative", "1": "positive"}


def sst2_rows(shared_data_dir, split="train", count=None):
    """[(sentence, "0"/"1")] of the real SST-2 file, split on the tab by hand."""
    path = pathlib.Path(shared_data_dir) / "glue_data" / "SST-2" / f"{split}.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    rows = [tuple(line.split("\t")) for line in lines if line]
    return rows[:count] if count else rows


def stsb_rows(shared_data_dir, count):
    """[(sentence1, sentence2, score str)] of the real STS-B train file."""
    path = pathlib.Path(shared_data_dir) / "glue_data" / "STS-B" / "train.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()[1:count + 1]
    return [(f[7], f[8], f[9]) for f in (line.split("\t") for line in lines)]


def write_reviews_csv(path, rows):
    """`review,sentiment` CSV (quoted where needed) with negative/positive labels."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for sentence, label in rows:
            writer.writerow([sentence, SENTIMENT[label]])
    return str(path)


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return str(path)
