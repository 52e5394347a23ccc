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


def test_tokenizer_json_alone_is_read_as_transformers_5_saves_it(tmp_path, spm_model_file,
                                                                 shared_data_dir):
    """transformers 5 re-saves a tokenizer as tokenizer.json only: the SentencePiece model
    is rebuilt from it and tokenizes as the original, in Python and in the graph."""
    import shutil

    import sentencepiece as spm

    from albert_tf.text.loading import find_spm_model
    from albert_tf.tokenization import FullTokenizer, TFTokenizer

    model = albert_tf.AlbertPretrainer(dict(CFG, vocab_size=30000))
    albert_tf.save_pretrained(model, str(tmp_path / "hf"), format="hf",
                              spm_model_file=spm_model_file)
    resaved = tmp_path / "resaved"
    transformers.AutoTokenizer.from_pretrained(str(tmp_path / "hf")).save_pretrained(
        str(resaved))
    assert not (resaved / "spiece.model").exists()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tmp_path / "hf" / name, resaved / name)

    rebuilt = albert_tf.load_pretrained(str(resaved)).spm_model_file
    assert rebuilt and find_spm_model(str(resaved))
    original = spm.SentencePieceProcessor(model_file=spm_model_file)
    again = spm.SentencePieceProcessor(model_file=rebuilt)
    assert [again.id_to_piece(i) for i in range(again.get_piece_size())] == \
        [original.id_to_piece(i) for i in range(original.get_piece_size())]
    texts = [case["text"] for case in expected_tokenizer_cases(shared_data_dir)]
    texts += ['Symbols (user-defined) "quoted" – £5 €3 - end.', "café ｆｕｌｌ  width"]
    with open(shared_data_dir / "glue_data" / "SST-2" / "dev.tsv", encoding="utf-8") as f:
        texts += [line.split("\t")[0] for line in f.read().splitlines()[1:200]]
    for text in texts:
        assert again.encode(text) == original.encode(text), text
    python, graph = FullTokenizer(rebuilt), TFTokenizer(rebuilt)
    reference = FullTokenizer(spm_model_file)
    for case in expected_tokenizer_cases(shared_data_dir):
        ids = reference.convert_tokens_to_ids(reference.tokenize(case["text"]))
        assert python.convert_tokens_to_ids(python.tokenize(case["text"])) == ids
        assert graph.tokenize([case["text"]]).to_list()[0] == ids
        assert [2] + ids + [3] == case["expected_input_ids_with_cls_sep"]


def test_a_tokenizer_json_that_is_not_sentencepiece_is_refused(tmp_path):
    from albert_tf.checkpoints.hf_tokenizer import spm_model_from_tokenizer_json

    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"model": {"type": "WordPiece", "vocab": {"a": 0}}}))
    with pytest.raises(ValueError, match=r"tokenizer.json: model.type is 'WordPiece'.*"
                                         r"spm_model_file"):
        spm_model_from_tokenizer_json(str(path))


def test_masked_lm_folder_without_pooler_loads(tmp_path, caplog):
    """transformers' AlbertForMaskedLM has no pooler: it loads, the pooler initialised
    and said so; the MLM logits are transformers' own."""
    import numpy as np
    import torch

    from .test_hf import hf_config, randomise, torch_inputs
    from .interop_helpers import padded_inputs

    hf_model = randomise(transformers.AlbertForMaskedLM(hf_config(CFG)), seed=2)
    hf_model.save_pretrained(str(tmp_path / "mlm"))
    with caplog.at_level("WARNING"):
        model = albert_tf.load_pretrained(str(tmp_path / "mlm"))
    assert "no pooler" in caplog.text
    ids, mask, segments, positions = padded_inputs(CFG["vocab_size"])
    with torch.no_grad():
        logits = hf_model(**torch_inputs(ids, mask, segments)).logits.numpy()
    ours = model(dict(input_ids=ids, input_mask=mask, segment_ids=segments,
                      masked_lm_positions=positions), training=False)["mlm_logits"]
    np.testing.assert_allclose(np.asarray(ours),
                               np.take_along_axis(logits, positions[:, :, None], 1),
                               atol=1e-4)
