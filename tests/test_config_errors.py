"""Every field of an albert_config.json is checked where the file is read: the error
names the file, the field and what was expected."""

import json
import pathlib
import warnings

import pytest

from albert_tf import AlbertConfig

TINY = pathlib.Path(__file__).resolve().parents[1] / "configs" / "albert_tiny_test.json"

BAD_FIELDS = [
    ("vocab_size", 0, "vocab_size must be a positive integer, got 0"),
    ("vocab_size", "30000", "vocab_size must be a positive integer, got '30000'"),
    ("hidden_size", 32.0, "hidden_size must be a positive integer, got 32.0"),
    ("num_hidden_layers", True, "num_hidden_layers must be a positive integer, got True"),
    ("embedding_size", -16, "embedding_size must be a positive integer, got -16"),
    ("max_position_embeddings", None, "max_position_embeddings must be a positive integer"),
    ("type_vocab_size", 0, "type_vocab_size must be a positive integer, got 0"),
    ("num_attention_heads", 3,
     r"hidden_size \(32\) must be divisible by num_attention_heads \(3\)"),
    ("num_hidden_groups", 3, r"num_hidden_groups \(3\) must not exceed num_hidden_layers \(2\)"),
    ("num_hidden_layers", 10 ** 12, "num_hidden_layers must be at most 1048576, got 10{12}$"),
    ("hidden_dropout_prob", 1.0, r"hidden_dropout_prob must be a probability in \[0, 1\), got 1.0"),
    ("attention_probs_dropout_prob", -0.1, "attention_probs_dropout_prob must be a probability"),
    ("hidden_dropout_prob", True, "hidden_dropout_prob must be a probability in .*got True"),
    ("hidden_dropout_prob", "0.1", "hidden_dropout_prob must be a probability in .*got '0.1'"),
    ("initializer_range", 0, "initializer_range must be a positive number, got 0"),
    ("initializer_range", float("nan"), "initializer_range must be a positive number, got nan"),
    ("initializer_range", float("inf"), "initializer_range must be a positive number, got inf"),
    ("hidden_act", "swish", "hidden_act must be one of .*'gelu'.*got 'swish'"),
    ("hidden_act", 1, "hidden_act must be one of .*got 1"),
]


@pytest.mark.parametrize("field,value,message", BAD_FIELDS,
                         ids=[f"{f}={v!r}" for f, v, _ in BAD_FIELDS])
def test_bad_field_names_the_file_and_the_field(tmp_path, field, value, message):
    values = json.loads(TINY.read_text())
    values[field] = value
    path = tmp_path / "albert_config.json"
    path.write_text(json.dumps(values))  # NaN/Infinity as Python's json writes them
    with pytest.raises(ValueError, match=f"^{path}: {message}"):
        AlbertConfig.from_json_file(str(path))


def test_missing_vocab_size_and_bad_json_name_the_file(tmp_path):
    values = json.loads(TINY.read_text())
    del values["vocab_size"]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ValueError, match=f"^{path}: missing required field 'vocab_size'"):
        AlbertConfig.from_json_file(str(path))
    path.write_text('{"vocab_size": 30000,\n "hidden_size": }')
    with pytest.raises(ValueError, match=f"^{path}: not valid JSON \\(line 2, column"):
        AlbertConfig.from_json_file(str(path))
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=f"^{path}: expected a JSON object, got list"):
        AlbertConfig.from_json_file(str(path))


def test_unknown_fields_are_kept_with_a_warning_naming_them(tmp_path):
    values = json.loads(TINY.read_text())
    values["my_run_note"] = "tried on 2 GPUs"  # not close to any field
    path = tmp_path / "albert_config.json"
    path.write_text(json.dumps(values, indent=2))
    with pytest.warns(UserWarning, match=f"^{path}: unknown field\\(s\\) 'my_run_note' kept"):
        config = AlbertConfig.from_json_file(str(path))
    assert config.extra["my_run_note"] == "tried on 2 GPUs"
    assert config.to_dict() == values


@pytest.mark.parametrize("typo, field", [("hiden_size", "hidden_size"),
                                         ("num_attention_head", "num_attention_heads"),
                                         ("hidden_dropout", "hidden_dropout_prob"),
                                         ("Hidden_Act", "hidden_act")])
def test_a_key_close_to_a_field_is_refused_with_did_you_mean(tmp_path, typo, field):
    values = json.loads(TINY.read_text())
    values[typo] = values.pop(field)
    path = tmp_path / "albert_config.json"
    path.write_text(json.dumps(values, indent=2))
    with pytest.raises(ValueError, match=f"^{path}: unknown field '{typo}': did you mean "
                                         f"'{field}'\\?$"):
        AlbertConfig.from_json_file(str(path))


@pytest.mark.parametrize("field", ["hidden_size", "num_attention_heads", "embedding_size",
                                   "num_hidden_layers", "intermediate_size",
                                   "max_position_embeddings"])
def test_a_missing_shape_field_names_the_file_and_field(tmp_path, field):
    values = json.loads(TINY.read_text())
    del values[field]
    path = tmp_path / "albert_config.json"
    path.write_text(json.dumps(values, indent=2))
    with pytest.raises(ValueError, match=f"^{path}: missing required field '{field}': "):
        AlbertConfig.from_json_file(str(path))


def test_every_released_config_has_the_shape_fields():
    for path in sorted(TINY.parent.glob("*.json")):
        AlbertConfig.from_json_file(str(path))


def test_released_unused_fields_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = AlbertConfig.from_json_file(str(TINY))
    assert config.extra["net_structure_type"] == 0
