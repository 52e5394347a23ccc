"""Shared pieces of the cross-checks against transformers and keras-hub."""

import json

import numpy as np
from tiny_config import tiny_config_dict

# E != H, two groups of two inner layers: every part of the mapping shows.
CFG = tiny_config_dict(vocab_size=37, embedding_size=6, hidden_size=12, num_hidden_layers=4,
                       num_hidden_groups=2, inner_group_num=2, num_attention_heads=3,
                       intermediate_size=20, max_position_embeddings=16)


def random_array(rng, shape, name):
    """LayerNorm scales 1 +- [0.3, 0.6], every other value away from 0."""
    magnitude = rng.uniform(0.3, 0.6, shape) * rng.choice([-1.0, 1.0], shape)
    if name.endswith(("gamma", "LayerNorm.weight", "layer_norm/vars/0")):
        return (1.0 + magnitude).astype(np.float32)
    return magnitude.astype(np.float32)


def padded_inputs(vocab_size, batch=3, seq_len=9, seed=0):
    """ids, mask (rows of 9, 6 and 3 tokens), segments, MLM positions."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, (batch, seq_len)).astype(np.int32)
    lengths = [seq_len, 6, 3][:batch]
    mask = np.array([[1] * n + [0] * (seq_len - n) for n in lengths], np.int32)
    segments = np.array([[0] * (n // 2) + [1] * (seq_len - n // 2) for n in lengths], np.int32)
    ids, segments = ids * mask, segments * mask
    positions = np.array([[1, 2, 4], [0, 3, 5], [0, 1, 2]][:batch], np.int32)
    return ids, mask, segments, positions


def expected_tokenizer_cases(shared_data_dir):
    path = shared_data_dir / "albert_spm" / "albert_base_v2_tokenizer_expected.json"
    return json.loads(path.read_text(encoding="utf-8"))["integration_cases"]
