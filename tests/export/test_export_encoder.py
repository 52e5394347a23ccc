"""Encoder and preprocessing SavedModels, served from a fresh process.

References: ids from the Python `FullTokenizer` with the official packing
(`classifier_features`), numbers from the in-process Keras model.
"""

import json

import numpy as np

from . import export_test_helpers as helpers
from .export_test_helpers import MAX_SEQ_LENGTH, reference_inputs, serving_requests, strings


def _squad_context(shared_data_dir):
    with open(shared_data_dir / "squad" / "v1.1" / "dev-v1.1.part-a.json") as f:
        return json.load(f)["data"][0]["paragraphs"][0]["context"]


def _texts(shared_data_dir):
    context = _squad_context(shared_data_dir)
    # Serving edge cases: empty, whitespace only, longer than max_seq_length,
    # bytes that are not UTF-8 (dropped), accents and a digit-comma.
    return ["Hello, World!", "", "Café au lait costs 1,000 € in Zürich.", context * 2,
            b"ab\xffcd \xc3 ok", " \t\n "]


def _pairs(shared_data_dir):
    context = _squad_context(shared_data_dir)
    texts_a = ["The cat sat.", context, "a", "", "Résumé", "short"]
    # The long pair exercises the official pair truncation; an empty (or
    # undecodable) second text gives the single-text layout.
    texts_b = ["On the mat.", context[::-1], "", "b", b"\xff", context]
    return texts_a, texts_b


def _token_inputs(seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 30000, size=(3, 20)).astype(np.int32)
    mask = np.ones((3, 20), np.int32)
    mask[1, 12:] = 0
    mask[2, 5:] = 0
    segments = np.zeros((3, 20), np.int32)
    segments[:, 8:] = 1
    positions = np.array([[1, 2, 3, 19], [0, 5, 7, 11], [4, 4, 1, 2]], np.int32)
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments}, positions


@serving_requests
def _requests(ctx):
    texts = _texts(ctx.shared_data_dir)
    texts_a, texts_b = _pairs(ctx.shared_data_dir)
    tokens, positions = _token_inputs()
    calls = []
    for export in ("encoder", "preprocess"):
        calls += [
            {"key": f"{export}/text", "export": export, "signature": "serving_default",
             "inputs": {"text": strings(texts)}},
            {"key": f"{export}/pair", "export": export, "signature": "serving_pair",
             "inputs": {"text_a": strings(texts_a), "text_b": strings(texts_b)}},
            {"key": f"{export}/empty_batch", "export": export, "signature": "serving_default",
             "inputs": {"text": np.array([], dtype=object)}},
            {"key": f"{export}/info", "export": export, "signature": "tokenization_info",
             "inputs": {}},
        ]
    calls += [
        {"key": "encoder/tokens", "export": "encoder", "signature": "tokens", "inputs": tokens},
        {"key": "encoder/mlm", "export": "encoder", "signature": "mlm",
         "inputs": dict(tokens, mlm_positions=positions)},
        {"key": "encoder/sop", "export": "encoder", "signature": "sop", "inputs": tokens},
        {"key": "preprocess/tokenize", "export": "preprocess", "signature": "tokenize",
         "inputs": {"text": strings(texts)}},
    ]
    return calls


def _ok(served, key):
    assert key not in served.errors, served.errors[key]
    return served.outputs[key]


def _encode(model, inputs):
    outputs = model.encoder(inputs, training=False)
    return {k: np.asarray(outputs[k]) for k in ("sequence_output", "pooled_output")}


def test_encoder_serves_raw_text_like_python_tokenizer_and_keras(served, tiny_models,
                                                                 full_tokenizer, shared_data_dir):
    out = _ok(served, "encoder/text")
    expected = reference_inputs(full_tokenizer, _texts(shared_data_dir))
    np.testing.assert_array_equal(out["input_ids"], expected["input_ids"])
    np.testing.assert_array_equal(out["input_mask"], expected["input_mask"])
    reference = _encode(tiny_models["encoder"][0], expected)
    np.testing.assert_allclose(out["pooled_output"], reference["pooled_output"], atol=1e-5)
    np.testing.assert_allclose(out["sequence_output"], reference["sequence_output"], atol=1e-5)
    assert out["sequence_output"].shape == (6, MAX_SEQ_LENGTH, helpers.CONFIG["hidden_size"])
    # The long text is cut: full mask, [SEP] last. "" and whitespace: [CLS] [SEP].
    assert out["input_mask"][3].all() and out["input_ids"][3, -1] == full_tokenizer.sep_id
    for row in (1, 5):
        assert out["input_ids"][row, :3].tolist() == [full_tokenizer.cls_id,
                                                      full_tokenizer.sep_id, 0]
    # Undecodable bytes are dropped: b"ab\xffcd \xc3 ok" reads as "abcd  ok".
    np.testing.assert_array_equal(out["input_ids"][4],
                                  reference_inputs(full_tokenizer, ["abcd ok"])["input_ids"][0])


def test_encoder_pair_packing_and_outputs(served, tiny_models, full_tokenizer, shared_data_dir):
    out = _ok(served, "encoder/pair")
    texts_a, texts_b = _pairs(shared_data_dir)
    expected = reference_inputs(full_tokenizer, texts_a, texts_b)
    for name in ("input_ids", "input_mask", "segment_ids"):
        np.testing.assert_array_equal(out[name], expected[name], err_msg=name)
    # Row 2 has an empty text_b: one [SEP], no segment 1, as official.
    assert (expected["input_ids"][2] == full_tokenizer.sep_id).sum() == 1
    assert expected["segment_ids"][2].sum() == 0
    # Row 1 is truncated to 31 + 30 tokens (official pop-from-the-longer rule).
    assert expected["input_mask"][1].sum() == MAX_SEQ_LENGTH
    reference = _encode(tiny_models["encoder"][0], expected)
    np.testing.assert_allclose(out["pooled_output"], reference["pooled_output"], atol=1e-5)


def test_encoder_token_signatures_match_keras(served, tiny_models):
    model = tiny_models["encoder"][0]
    tokens, positions = _token_inputs()
    reference = model(dict(tokens, masked_lm_positions=positions), training=False)
    out = _ok(served, "encoder/tokens")
    np.testing.assert_allclose(out["sequence_output"], reference["sequence_output"], atol=1e-5)
    np.testing.assert_allclose(out["pooled_output"], reference["pooled_output"], atol=1e-5)
    mlm = _ok(served, "encoder/mlm")
    assert mlm["mlm_logits"].shape == (3, 4, 30000)
    np.testing.assert_allclose(mlm["mlm_logits"], reference["mlm_logits"], atol=1e-4,
                               rtol=1e-5)
    sop = _ok(served, "encoder/sop")
    logits = np.asarray(reference["sop_logits"], np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(sop["sop_log_probs"], log_probs, atol=1e-5)


def test_empty_batch_is_served(served):
    for export in ("encoder", "preprocess"):
        out = _ok(served, f"{export}/empty_batch")
        assert out["input_ids"].shape == (0, MAX_SEQ_LENGTH)
    assert served.outputs["encoder/empty_batch"]["pooled_output"].shape == (
        0, helpers.CONFIG["hidden_size"])


def test_preprocess_export_gives_python_ids(served, full_tokenizer, shared_data_dir):
    texts = _texts(shared_data_dir)
    expected = reference_inputs(full_tokenizer, texts)
    out = _ok(served, "preprocess/text")
    for name in ("input_ids", "input_mask", "segment_ids"):
        np.testing.assert_array_equal(out[name], expected[name], err_msg=name)
    texts_a, texts_b = _pairs(shared_data_dir)
    expected = reference_inputs(full_tokenizer, texts_a, texts_b)
    out = _ok(served, "preprocess/pair")
    for name in ("input_ids", "input_mask", "segment_ids"):
        np.testing.assert_array_equal(out[name], expected[name], err_msg=name)
    tokenized = _ok(served, "preprocess/tokenize")
    for row, text in enumerate(texts):
        ids = full_tokenizer.encode(text)
        assert tokenized["num_tokens"][row] == len(ids)
        assert tokenized["token_ids"][row, :len(ids)].tolist() == ids
        assert (tokenized["token_ids"][row, len(ids):] == -1).all()


def test_tokenization_info_points_at_the_spm_asset(served, spm_model_file):
    for export in ("encoder", "preprocess"):
        info = _ok(served, f"{export}/info")
        assert bool(info["do_lower_case"]) is True
        assert int(info["max_seq_length"]) == MAX_SEQ_LENGTH
        path = info["spm_model_file"].decode()
        assert path.endswith("assets/spm.model")
        with open(path, "rb") as f, open(spm_model_file, "rb") as g:
            assert f.read() == g.read()
