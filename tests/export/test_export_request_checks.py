"""Ids-in signatures refuse requests the model cannot take, in the graph.

A gather reads id -1 as the last row of its table, so before these checks
`tokens` answered `input_ids=-1` as id 29999 and took segment id 2 (exit 0 in
`saved_model_cli run`). Every bad request below is made through the TF2 loader
and the TF1 session loader (TF Serving's) in the serving process, and must fail
there with a message naming the input; one is made through `saved_model_cli run`.
"""

import numpy as np

from .export_test_helpers import CONFIG, MAX_SEQ_LENGTH, run_saved_model_cli, serving_requests

VOCAB = CONFIG["vocab_size"]
MAX_POSITIONS = CONFIG["max_position_embeddings"]
SEQ = 10


def _good(shape=(2, SEQ)):
    ids = np.full(shape, 7, np.int32)
    mask = np.ones(shape, np.int32)
    segments = np.zeros(shape, np.int32)
    segments[..., 5:] = 1
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments}


def _with(inputs, name, row_value):
    inputs = {k: v.copy() for k, v in inputs.items()}
    inputs[name][1, ..., 3] = row_value  # One value of the second row.
    return inputs


def _bad_requests(shape=(2, SEQ)):
    """case -> (inputs, text the error must contain)."""
    good = _good(shape)
    seq = shape[-1]
    short = _good(shape[:-1] + (seq - 1,))
    return {
        "ids_minus_one": (_with(good, "input_ids", -1),
                          f"input_ids must be in [0, vocab_size={VOCAB}); got min] [-1]"),
        "ids_vocab_size": (_with(good, "input_ids", VOCAB),
                           f"input_ids must be in [0, vocab_size={VOCAB}); got min] [7] "
                           f"[max] [{VOCAB}]"),
        "segment_two": (_with(good, "segment_ids", 2),
                        "segment_ids must be in [0, type_vocab_size=2); got min] [0] [max] [2]"),
        "segment_minus_one": (_with(good, "segment_ids", -1),
                              "segment_ids must be in [0, type_vocab_size=2); got min] [-1]"),
        "mask_two": (_with(good, "input_mask", 2), "input_mask must be in [0, 2) (0 or 1)"),
        "mask_shorter": (dict(good, input_mask=short["input_mask"]),
                         "input_mask must have the shape of input_ids"),
        "segments_shorter": (dict(good, segment_ids=short["segment_ids"]),
                             "segment_ids must have the shape of input_ids"),
        "too_long": (_good(shape[:-1] + (MAX_POSITIONS + 1,)),
                     f"sequence length (last axis) must be in [1, max_position_embeddings="
                     f"{MAX_POSITIONS}]; got] [{MAX_POSITIONS + 1}]"),
        "length_zero": (_good(shape[:-1] + (0,)),
                        "sequence length (last axis) must be in [1, max_position_embeddings"),
    }


# export, signature -> extra inputs of a good request.
_SIGNATURES = {
    ("classifier", "tokens"): {},
    ("encoder", "tokens"): {},
    ("encoder", "sop"): {},
    ("encoder", "mlm"): {"mlm_positions": np.array([[1, 2], [0, 5]], np.int32)},
    ("squad_v1", "tokens"): {},
    ("squad_v2", "tokens"): {"p_mask": np.zeros((2, SEQ), np.int32)},
    ("race", "tokens"): {},
}


def _extra(extra, inputs):
    """`extra` inputs fitted to the request's ids (same shape for p_mask)."""
    out = dict(extra)
    if "p_mask" in out:
        out["p_mask"] = np.zeros(inputs["input_ids"].shape, np.int32)
    return out


def _cases():
    cases = {}
    for (export, signature), extra in _SIGNATURES.items():
        shape = (2, 4, SEQ) if export == "race" else (2, SEQ)
        for case, (inputs, expected) in _bad_requests(shape).items():
            if case == "length_zero" and signature == "mlm":
                expected = "sequence length (last axis)"  # mlm_positions 1, 2 also fail.
            cases[f"checks/{export}/{signature}/{case}"] = (
                export, signature, dict(inputs, **_extra(extra, inputs)), expected)
    good = _good()
    cases["checks/encoder/mlm/position_past_end"] = (
        "encoder", "mlm", dict(good, mlm_positions=np.array([[1, SEQ], [0, 5]], np.int32)),
        f"mlm_positions must be in [0, the sequence length of input_ids); got min] [0] "
        f"[max] [{SEQ}]")
    cases["checks/encoder/mlm/position_batch"] = (
        "encoder", "mlm", dict(good, mlm_positions=np.array([[1]], np.int32)),
        "mlm_positions must have the batch size of input_ids")
    p_mask = np.zeros((2, SEQ), np.int32)
    p_mask[1, 3] = 2
    cases["checks/squad_v2/tokens/p_mask_two"] = (
        "squad_v2", "tokens", dict(good, p_mask=p_mask),
        "p_mask must be in [0, 2) (0 or 1)")
    cases["checks/squad_v2/tokens/p_mask_shape"] = (
        "squad_v2", "tokens", dict(good, p_mask=np.zeros((2, SEQ + 1), np.int32)),
        "p_mask must have the shape of input_ids")
    return cases


def _examples(input_ids):
    import tensorflow as tf  # Only to write tf.Example protos.

    return np.array([tf.train.Example(features=tf.train.Features(feature={
        "input_ids": tf.train.Feature(int64_list=tf.train.Int64List(value=row)),
        "input_mask": tf.train.Feature(int64_list=tf.train.Int64List(value=[1] * len(row))),
        "segment_ids": tf.train.Feature(int64_list=tf.train.Int64List(value=[0] * len(row))),
    })).SerializeToString() for row in input_ids], dtype=object)


CASES = _cases()
_EXAMPLE_IDS = np.full((2, MAX_SEQ_LENGTH), 7, np.int64)
_EXAMPLE_IDS[1, 4] = -5


@serving_requests
def _requests(ctx):
    calls = [{"key": key, "export": export, "signature": signature, "inputs": inputs}
             for key, (export, signature, inputs, _) in CASES.items()]
    calls.append({"key": "checks/classifier/serving_examples/ids", "export": "classifier",
                  "signature": "serving_examples", "inputs": {"examples": _examples(_EXAMPLE_IDS)}})
    # Good requests at the edges: the last id, segment 1, the longest sequence, no batch.
    edge = _good((1, MAX_POSITIONS))
    edge["input_ids"][0, -1] = VOCAB - 1
    calls.append({"key": "checks/encoder/tokens/edges", "export": "encoder",
                  "signature": "tokens", "inputs": edge})
    calls.append({"key": "checks/encoder/tokens/empty_batch", "export": "encoder",
                  "signature": "tokens", "inputs": _good((0, SEQ))})
    return calls


# Raw-text signatures: a text batch of another shape is refused naming the input
# before tokenization (before, it failed inside the tokenizer's DynamicStitch).
_TEXTS = np.array(["a fine film", "dull"], dtype=object)
TEXT_CASES = {
    "checks/classifier/serving_default/text_2d": (
        "classifier", "serving_default", {"text": np.array([["a", "b"], ["c", "d"]], object)},
        "request input text must be a batch of strings of shape [batch]; got shape] [2 2]"),
    "checks/classifier/serving_default/text_scalar": (
        "classifier", "serving_default", {"text": np.array("a fine film", object)},
        "request input text must be a batch of strings of shape [batch]; got shape] []"),
    "checks/classifier/serving_pair/text_b_2d": (
        "classifier", "serving_pair", {"text_a": _TEXTS, "text_b": _TEXTS.reshape(2, 1)},
        "request input text_b must be a batch of strings of shape [batch]; got shape] [2 1]"),
    "checks/race/serving_default/options_3": (
        "race", "serving_default",
        {"article": _TEXTS, "question": _TEXTS, "options": np.full((2, 3), "x", object)},
        "request input options must be a batch of strings of shape [batch, 4]; got shape] "
        "[2 3]"),
}


@serving_requests
def _text_requests(ctx):
    return [{"key": key, "export": export, "signature": signature, "inputs": inputs}
            for key, (export, signature, inputs, _) in TEXT_CASES.items()]


def test_a_text_batch_of_another_shape_fails_naming_the_input(served):
    for key, (_, _, inputs, expected) in TEXT_CASES.items():
        assert key in served.errors, (key, served.outputs.get(key))
        assert "InvalidArgumentError" in served.errors[key], (key, served.errors[key][:500])
        assert expected in served.errors[key], (key, served.errors[key][:800])
        # The session loader (TF Serving's) refuses the feed itself, naming the input.
        assert key in served.session_errors, key
        name = next(n for n, v in inputs.items() if np.shape(v) not in ((2,), (2, 4)))
        assert name in served.session_errors[key], (key, served.session_errors[key][:500])


def test_bad_ids_requests_fail_naming_the_input_in_both_loaders(served):
    for key, (_, _, _, expected) in CASES.items():
        for errors in (served.errors, served.session_errors):
            assert key in errors, (key, served.outputs.get(key))
            assert "InvalidArgumentError" in errors[key], (key, errors[key][:500])
            assert expected in errors[key], (key, errors[key][:800])


def test_tf_example_ids_are_checked(served):
    for errors in (served.errors, served.session_errors):
        error = errors["checks/classifier/serving_examples/ids"]
        assert "tf.Example feature input_ids must be in [0, vocab_size=30000); got min] [-5]" \
            in error, error[:800]


def test_requests_at_the_edges_are_served(served):
    for key in ("checks/encoder/tokens/edges", "checks/encoder/tokens/empty_batch"):
        assert key not in served.errors, served.errors[key][:800]
        assert key not in served.session_errors, served.session_errors[key][:800]
    edge = served.outputs["checks/encoder/tokens/edges"]
    assert edge["sequence_output"].shape == (1, MAX_POSITIONS, CONFIG["hidden_size"])
    assert served.outputs["checks/encoder/tokens/empty_batch"]["pooled_output"].shape == (
        0, CONFIG["hidden_size"])


def test_saved_model_cli_run_refuses_id_minus_one(exports, tmp_path):
    good = "input_ids=[[5,6,7]];input_mask=[[1,1,1]];segment_ids=[[0,0,1]]"
    bad = "input_ids=[[5,-1,7]];input_mask=[[1,1,1]];segment_ids=[[0,0,1]]"
    argv = [["run", "--dir", exports["classifier"], "--tag_set", "serve", "--signature_def",
             "tokens", "--input_exprs", exprs, "--outdir", str(tmp_path / name)]
            for name, exprs in (("good", good), ("bad", bad))]
    statuses, _, stderr = run_saved_model_cli(argv, True, str(tmp_path))
    assert statuses[0] == 0, stderr[-3000:]
    assert statuses[1] != 0
    assert f"request input input_ids must be in [0, vocab_size={VOCAB})" in stderr, \
        stderr[-3000:]
    assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())
