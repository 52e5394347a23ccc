"""AlbertConfig: the official JSON read and written back unchanged; clear errors."""

import json
import pathlib

import pytest

from albert_tf import AlbertConfig

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs"
RELEASED = sorted(p.name for p in CONFIG_DIR.glob("albert_*_v[12].json"))

# The official config/base/albert_config.json of google-research/albert, verbatim.
OFFICIAL_BASE_TEXT = """{
  "attention_probs_dropout_prob": 0,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0,
  "embedding_size": 128,
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "max_position_embeddings": 512,
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "num_hidden_groups": 1,
  "net_structure_type": 0,
  "gap_size": 0,
  "num_memory_blocks": 0,
  "inner_group_num": 1,
  "down_scale_factor": 1,
  "type_vocab_size": 2,
  "vocab_size": 30000
}
"""


def test_eight_released_configs_are_shipped():
    assert RELEASED == [f"albert_{size}_{v}.json" for size in ("base", "large", "xlarge", "xxlarge")
                        for v in ("v1", "v2")]
    assert (CONFIG_DIR / "albert_base_v2.json").read_text() == OFFICIAL_BASE_TEXT


@pytest.mark.parametrize("name", RELEASED + ["albert_tiny_test.json"])
def test_json_round_trip_is_byte_identical(tmp_path, name):
    text = (CONFIG_DIR / name).read_text()
    config = AlbertConfig.from_json_file(str(CONFIG_DIR / name))
    out = tmp_path / "albert_config.json"
    config.to_json_file(str(out))
    assert out.read_text() == text


def test_unused_and_unknown_fields_are_kept(tmp_path):
    values = json.loads(OFFICIAL_BASE_TEXT)
    values["layers_to_keep"] = [0, 3]
    values["my_note"] = {"a": 1}
    with pytest.warns(UserWarning, match="unknown field\\(s\\) 'my_note' kept"):
        config = AlbertConfig.from_dict(values)
    assert config.extra["layers_to_keep"] == [0, 3]
    assert config.extra["net_structure_type"] == 0
    assert config.to_dict() == values
    assert list(config.to_dict()) == list(values)


def test_fields_and_defaults():
    config = AlbertConfig.from_json_file(str(CONFIG_DIR / "albert_xxlarge_v2.json"))
    assert (config.hidden_size, config.num_attention_heads, config.head_size) == (4096, 64, 64)
    minimal = AlbertConfig.from_dict({"vocab_size": 10})
    # Official defaults (modeling.AlbertConfig): the xxlarge shape.
    assert (minimal.hidden_size, minimal.intermediate_size, minimal.num_attention_heads) == \
        (4096, 16384, 64)
    # Written back with the given key first, then every default explicitly.
    written = minimal.to_dict()
    assert list(written)[0] == "vocab_size" and written["hidden_act"] == "gelu"
    assert len(written) == 14
    changed = config.replace(hidden_dropout_prob=0.1)
    assert changed.hidden_dropout_prob == 0.1 and config.hidden_dropout_prob == 0


def test_group_assignment_is_official():
    config = AlbertConfig(vocab_size=10, hidden_size=8, num_attention_heads=2,
                          intermediate_size=8, num_hidden_layers=12, num_hidden_groups=5)
    # int(i / 12 * 5) worked out by hand.
    assert [config.group_of_layer(i) for i in range(12)] == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4]


@pytest.mark.parametrize("change, message", [
    ({"hidden_act": "swish"}, "hidden_act must be one of .* got 'swish'"),
    ({"hidden_size": 770}, r"hidden_size \(770\) must be divisible by num_attention_heads \(12\)"),
    ({"num_hidden_groups": 13}, r"num_hidden_groups \(13\) must not exceed num_hidden_layers \(12\)"),
    ({"num_hidden_layers": 0}, "num_hidden_layers must be a positive integer, got 0"),
    ({"vocab_size": "30000"}, "vocab_size must be a positive integer, got '30000'"),
    ({"hidden_dropout_prob": 1.5}, r"hidden_dropout_prob must be a probability in \[0, 1\), got 1.5"),
])
def test_bad_configs_name_field_and_value(tmp_path, change, message):
    values = json.loads(OFFICIAL_BASE_TEXT)
    values.update(change)
    path = tmp_path / "albert_config.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ValueError, match=message) as info:
        AlbertConfig.from_json_file(str(path))
    assert str(path) in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        AlbertConfig.from_json_file(str(tmp_path / "nowhere.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"vocab_size": 10,\n  "hidden_size": }')
    with pytest.raises(ValueError, match=r"bad.json: not valid JSON \(line 2"):
        AlbertConfig.from_json_file(str(bad))
    no_vocab = tmp_path / "no_vocab.json"
    no_vocab.write_text('{"hidden_size": 8}')
    with pytest.raises(ValueError, match="missing required field 'vocab_size'"):
        AlbertConfig.from_json_file(str(no_vocab))


@pytest.mark.parametrize("empty", ["", None])
def test_empty_hidden_act_means_linear_as_official(empty):
    """Official get_activation: `if not activation_string: return None` (linear)."""
    from albert_tf.modeling.activations import get_activation

    values = dict(json.loads(OFFICIAL_BASE_TEXT), hidden_act=empty)
    config = AlbertConfig.from_dict(values)
    assert config.hidden_act == empty and get_activation(config.hidden_act) is None
    assert json.loads(config.to_json_string())["hidden_act"] == empty
