"""The official 30k-clean.model through transformers' AlbertTokenizer, as save_pretrained writes it."""

import json

import pytest

import albert_tf
from .interop_helpers import CFG, expected_tokenizer_cases

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")


def test_official_spm_survives_the_hf_tokenizer_round_trip(tmp_path, spm_model_file,
                                                         shared_data_dir):
    model = albert_tf.AlbertPretrainer(CFG)
    albert_tf.save_pretrained(model, str(tmp_path / "hf"), format="hf",
                              spm_model_file=spm_model_file)
    config = json.loads((tmp_path / "hf" / "tokenizer_config.json").read_text())
    assert (config["do_lower_case"], config["keep_accents"], config["remove_space"]) == \
        (True, False, True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "hf"))
    assert type(tokenizer).__name__.startswith("AlbertTokenizer")
    fast = tokenizers.Tokenizer.from_file(str(tmp_path / "hf" / "tokenizer.json"))
    for case in expected_tokenizer_cases(shared_data_dir):
        assert tokenizer(case["text"])["input_ids"] == case["expected_input_ids_with_cls_sep"]
        assert fast.encode(case["text"]).ids == case["expected_input_ids_with_cls_sep"]
    assert albert_tf.load_pretrained(str(tmp_path / "hf")).spm_model_file == \
        str(tmp_path / "hf" / "spiece.model")
    # And back to the official layout, byte for byte.
    albert_tf.checkpoints.convert_checkpoint(str(tmp_path / "hf"), str(tmp_path / "official"),
                                             "official")
    with open(spm_model_file, "rb") as f:
        assert (tmp_path / "official" / "30k-clean.model").read_bytes() == f.read()
