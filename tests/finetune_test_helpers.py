"""Shared pieces of the fine-tuning tests: tiny configs and samples of the real data."""

import json
import os
import pathlib
import shutil

import numpy as np
from tiny_config import real_vocabulary_config_dict, tiny_config_dict

# The real 30k-clean vocabulary with a tiny network.
TINY_CONFIG = real_vocabulary_config_dict()

# A smaller vocabulary for model tests that compare against the NumPy reference.
REFERENCE_CONFIG = tiny_config_dict()


def write_config(path, **overrides):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(TINY_CONFIG, **overrides)))
    return str(path)


def head_lines(src, dst, count, header=True):
    """Copies the header (if any) and the first `count` rows of a tsv."""
    dst = pathlib.Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as f:
        lines = f.read().split(b"\n")
    dst.write_bytes(b"\n".join(lines[:count + int(header)]) + b"\n")
    return dst


def glue_sample(glue_dir, out_dir, task_dir, train_rows, test_rows, header=True,
                dev_same_as_train=True, dev_rows=None):
    """A GLUE task folder with the first rows of the real files.

    With `dev_same_as_train`, dev.tsv is a copy of the sampled train.tsv, so an
    evaluation measures how well the training rows were fitted.
    """
    src = pathlib.Path(glue_dir) / task_dir
    dst = pathlib.Path(out_dir) / task_dir
    head_lines(src / "train.tsv", dst / "train.tsv", train_rows, header)
    if dev_same_as_train:
        shutil.copy(dst / "train.tsv", dst / "dev.tsv")
    else:
        head_lines(src / "dev.tsv", dst / "dev.tsv", dev_rows, header)
    head_lines(src / "test.tsv", dst / "test.tsv", test_rows, header=True)
    return str(out_dir)


def natural_sorted(names):
    return sorted(names, key=lambda n: int(os.path.splitext(n)[0]))


def race_sample(race_root, out_dir, split_map, files_per_level):
    """Copies the first `files_per_level[level]` passages of real RACE splits.

    Args:
      race_root: the shared `race` folder (holding RACE/).
      split_map: {target split: source split}, e.g. {"train": "train", "dev": "train"}.
    """
    for target, source in split_map.items():
        for level, count in files_per_level.items():
            src = pathlib.Path(race_root) / "RACE" / source / level
            dst = pathlib.Path(out_dir) / "RACE" / target / level
            dst.mkdir(parents=True, exist_ok=True)
            for name in natural_sorted(os.listdir(src))[:count]:
                shutil.copy(src / name, dst / name)
    return str(out_dir)


def softmax(logits):
    logits = np.asarray(logits, np.float64)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
