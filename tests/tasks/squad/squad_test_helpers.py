"""Small real SQuAD files and tiny configs for the SQuAD runner tests."""

import json

from albert_tf import AlbertConfig
from tiny_config import real_vocabulary_config_dict

V1_SOURCE = "squad/v1.1/dev-v1.1.part-a.json"
V1_NORMANS_SOURCE = "squad/v1.1/dev-v1.1.part-b.json"   # holds the Normans article
V2_SOURCE = "squad/v2.0/dev-v2.0.3articles.json"        # starts with the Normans article


def write_subset(source, path, num_questions, unlabelled=False, title=None):
    """Writes the first `num_questions` questions of a SQuAD file (file order) to `path`.

    `title` keeps only that article; `unlabelled` drops answers and
    `is_impossible`, like a test set. Returns the question ids.
    """
    with open(source, encoding="utf-8") as f:
        data = json.load(f)
    articles, ids = [], []
    for article in data["data"]:
        if title is not None and article.get("title") != title:
            continue
        paragraphs = []
        for paragraph in article["paragraphs"]:
            qas = paragraph["qas"][:num_questions - len(ids)]
            if not qas:
                break
            if unlabelled:
                qas = [{"id": qa["id"], "question": qa["question"], "answers": []}
                       for qa in qas]
            ids.extend(qa["id"] for qa in qas)
            paragraphs.append(dict(paragraph, qas=qas))
        if paragraphs:
            articles.append(dict(article, paragraphs=paragraphs))
        if len(ids) >= num_questions:
            break
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"version": data.get("version", ""), "data": articles}, f)
    return ids


def write_tiny_config(path, hidden_size=16, max_position_embeddings=128, dropout=0.0):
    """A tiny ALBERT over the real 30k vocabulary (so the real tokenizer fits it)."""
    config = AlbertConfig(**real_vocabulary_config_dict(
        embedding_size=max(8, hidden_size // 2), hidden_size=hidden_size,
        num_attention_heads=4, intermediate_size=2 * hidden_size,
        max_position_embeddings=max_position_embeddings, hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout))
    config.to_json_file(str(path))
    return config


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
