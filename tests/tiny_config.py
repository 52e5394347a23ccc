"""The one tiny ALBERT config of the model tests, and its variants by override.

Vocabulary tens, hidden 16: every model test builds in well under a second. A test
that needs another shape (several groups, E == H, dropout) names only what differs.
"""

from albert_tf.config import AlbertConfig

TINY_CONFIG = dict(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                   num_hidden_groups=1, inner_group_num=1, num_attention_heads=2,
                   intermediate_size=32, hidden_act="gelu", max_position_embeddings=24,
                   type_vocab_size=2, initializer_range=0.02, hidden_dropout_prob=0.0,
                   attention_probs_dropout_prob=0.0)


def tiny_config_dict(**overrides):
    """`TINY_CONFIG` with `overrides` (unknown field names fail: a typo is not a variant)."""
    unknown = set(overrides) - set(TINY_CONFIG)
    if unknown:
        raise KeyError(f"not AlbertConfig fields of TINY_CONFIG: {sorted(unknown)}")
    return dict(TINY_CONFIG, **overrides)


def real_vocabulary_config_dict(**overrides):
    """`TINY_CONFIG` over the real 30k SentencePiece vocabulary (so the real tokenizer
    fits it), wider and with 128 positions: the fine-tuning, SQuAD and export tests."""
    return tiny_config_dict(**dict(dict(vocab_size=30000, embedding_size=16, hidden_size=32,
                                        intermediate_size=64, max_position_embeddings=128),
                                   **overrides))


def tiny_config(**overrides):
    """An `AlbertConfig` of `tiny_config_dict(**overrides)`."""
    return AlbertConfig(**tiny_config_dict(**overrides))
