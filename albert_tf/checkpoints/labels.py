"""`label_list.txt`: the label names of a classifier, one a line (position = label id).

`run_classifier.py --task_name=custom` writes it beside its checkpoints; official
and keras-hub folders we write carry it too (transformers' `config.json` holds the
same list as `id2label`). Checkpoint readers look for it here, below `tasks/`.
"""

import os

LABEL_LIST_FILE = "label_list.txt"


def check_label_list(labels, num_labels, where):
    """`labels` as a list of str, checked: distinct, non-empty, one line, `num_labels` long."""
    labels = [str(label) for label in labels]
    if num_labels is not None and len(labels) != num_labels:
        raise ValueError(f"{where}: {len(labels)} labels ({', '.join(labels)}) but the "
                         f"classifier has num_labels {num_labels}")
    for label in labels:
        if not label or "\n" in label or "\r" in label or label != label.strip():
            raise ValueError(f"{where}: label {label!r} must be non-empty, on one line, "
                             "without surrounding spaces")
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"{where}: labels {duplicates} appear more than once")
    return labels


def checkpoint_directory(path):
    """The folder of a checkpoint path (a folder itself, or a prefix / file inside one)."""
    path = str(path)
    return path if os.path.isdir(path) else os.path.dirname(path) or "."


def read_label_list(directory, num_labels=None):
    """The labels of `directory/label_list.txt`, or None when there is no such file."""
    path = os.path.join(str(directory), LABEL_LIST_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        labels = f.read().decode("utf-8").splitlines()
    return check_label_list(labels, num_labels, path)


def write_label_list(directory, labels):
    """Writes `directory/label_list.txt` (UTF-8, one label a line)."""
    labels = check_label_list(labels, None, "label_list")
    with open(os.path.join(str(directory), LABEL_LIST_FILE), "w", encoding="utf-8") as f:
        f.write("".join(f"{label}\n" for label in labels))
