"""Every task export serves through `encoder_graph` (issue 26): the classifier, RACE
and SQuAD signatures run the fused encoder and the model's `head_outputs`, give the
Keras model's outputs (to 1e-5, padded rows of different lengths included), in
process and through the TF1 session loader; LiteRT keeps the Keras graph
(`test_litert`)."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from albert_tf.export import ExportParams, exporter
from albert_tf.tokenization import TFTokenizer
from . import export_test_helpers as helpers
from .test_export_session_loader import CONTEXT, QUESTION

TASKS = ("classifier", "race", "squad_v1", "squad_v2")
# One FusedBatchNormV3 per LayerNorm: the embeddings' and two per layer.
FUSED_NORMS = 2 * helpers.CONFIG["num_hidden_layers"] + 1
SQUAD_TEXTS = {"question": [QUESTION, "Who?", ""], "context": [CONTEXT, "", CONTEXT * 3]}
TEXTS = {
    "classifier": {"text": ["The movie was great, I think.", "", "Bad."]},
    "race": {"article": [CONTEXT, "", "A short one."],
             "question": ["The cat was _ .", "Who?", ""],
             "options": [["happy", "sad", "angry", "tired"], ["a", "b", "c", "d"],
                         ["", "x", "yes", "no"]]},
    "squad_v1": SQUAD_TEXTS,
    "squad_v2": SQUAD_TEXTS,
}


def _module(name, model, spm_model_file, use_encoder_graph):
    kind, settings = helpers.EXPORTS[name]
    params = ExportParams(model_kind=kind, export_dir="unused", spm_model_file=spm_model_file,
                          init_checkpoint="unused", max_seq_length=helpers.MAX_SEQ_LENGTH,
                          **settings)
    return exporter.build_module(params, model, TFTokenizer(spm_model_file),
                                 {"spm.model": spm_model_file},
                                 use_encoder_graph=use_encoder_graph)


def _token_inputs(name, seed=0):
    """Rows of 20, 9 and 3 tokens padded to 20 (RACE: per choice, 4 choices)."""
    rng = np.random.default_rng(seed)
    shape = (3, 4, 20) if name == "race" else (3, 20)
    ids = rng.integers(5, helpers.CONFIG["vocab_size"], size=shape).astype(np.int32)
    lengths = np.array([20, 9, 3]).reshape((3,) + (1,) * (len(shape) - 1))
    mask = np.broadcast_to(np.arange(20) < lengths, shape).astype(np.int32)
    segments = ((np.arange(20) >= 5) * mask).astype(np.int32)
    inputs = {"input_ids": ids * mask, "input_mask": mask, "segment_ids": segments}
    if name == "squad_v2":
        p_mask = (1 - segments) * (np.arange(20) > 0)
        inputs["p_mask"] = p_mask.astype(np.int32)
    return inputs


def _keras_reference(name, model, inputs):
    """What the `tokens` signature returns, from the Keras model and numpy."""
    outputs = {k: np.asarray(v) for k, v in model(inputs, training=False).items()}
    if name.startswith("squad"):
        return outputs
    logits = outputs["logits"].astype(np.float64)
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    return {"logits": logits, "probabilities": probabilities}


def _assert_close(got, expected, context):
    for key, want in expected.items():
        want = np.asarray(want)
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got[key], want, atol=1e-5, err_msg=f"{context} {key}")
        else:
            np.testing.assert_array_equal(got[key], want, err_msg=f"{context} {key}")


def _op_types(function):
    return [op.type for op in function.get_concrete_function().graph.get_operations()]


@pytest.mark.parametrize("name", TASKS)
def test_fused_tokens_signature_equals_keras_and_is_the_fused_graph(
        name, tiny_models, spm_model_file):
    model = tiny_models[name][0]
    fused = _module(name, model, spm_model_file, use_encoder_graph=True)
    keras_graph = _module(name, model, spm_model_file, use_encoder_graph=False)
    assert fused.uses_encoder_graph and not keras_graph.uses_encoder_graph
    inputs = _token_inputs(name)
    reference = _keras_reference(name, model, inputs)
    out = fused.signature("tokens")(**{k: tf.constant(v) for k, v in inputs.items()})
    _assert_close(out, reference, name)
    fused_ops, keras_ops = _op_types(fused.signature("tokens")), \
        _op_types(keras_graph.signature("tokens"))
    assert fused_ops.count("FusedBatchNormV3") == FUSED_NORMS
    assert keras_ops.count("FusedBatchNormV3") == 0
    assert len(fused_ops) < 0.6 * len(keras_ops), (len(fused_ops), len(keras_ops))


def test_fused_mlm_and_sop_signatures_equal_keras(tiny_models, spm_model_file):
    """The encoder export's pretraining signatures: the fused encoder and the
    pretrainer's `head_outputs`, equal to the Keras pretrainer on padded rows."""
    model = tiny_models["encoder"][0]
    fused = _module("encoder", model, spm_model_file, use_encoder_graph=True)
    keras_graph = _module("encoder", model, spm_model_file, use_encoder_graph=False)
    inputs = _token_inputs("encoder")
    positions = np.array([[3, 0, 17], [8, 1, 1], [2, 2, 0]], np.int32)
    want = {k: np.asarray(v) for k, v in model(
        dict(inputs, masked_lm_positions=positions), training=False).items()}
    sop = want.pop("sop_logits").astype(np.float64)
    want_sop = sop - np.log(np.exp(sop).sum(-1, keepdims=True))
    tokens = {k: tf.constant(v) for k, v in inputs.items()}
    mlm = fused.signature("mlm")(mlm_positions=tf.constant(positions), **tokens)
    _assert_close(mlm, want, "mlm")
    _assert_close(fused.signature("sop")(**tokens),
                  dict(sop_log_probs=want_sop, sequence_output=want["sequence_output"],
                       pooled_output=want["pooled_output"]), "sop")
    for signature in ("mlm", "sop"):
        fused_ops = _op_types(fused.signature(signature))
        keras_ops = _op_types(keras_graph.signature(signature))
        assert fused_ops.count("FusedBatchNormV3") == FUSED_NORMS, signature
        assert keras_ops.count("FusedBatchNormV3") == 0, signature


@pytest.mark.parametrize("name", TASKS)
def test_fused_text_signature_equals_the_keras_graph(name, tiny_models, spm_model_file):
    """Text in (SQuAD: windows and answer selection on top): the same answers."""
    model = tiny_models[name][0]
    inputs = {k: tf.constant(v) for k, v in TEXTS[name].items()}
    got, want = (_module(name, model, spm_model_file, use).signature("serving_default")(
        **inputs) for use in (True, False))
    assert sorted(got) == sorted(want)
    _assert_close(got, {k: v.numpy() for k, v in want.items()}, name)


@pytest.mark.parametrize("name", TASKS + ("regression",))
def test_exported_savedmodel_holds_the_fused_graph(name, exports):
    """`export_savedmodel` (build_module's default) writes the fused graph."""
    proto = saved_model_pb2.SavedModel()
    with open(f"{exports[name]}/saved_model.pb", "rb") as f:
        proto.ParseFromString(f.read())
    library = proto.meta_graphs[0].graph_def.library
    assert any(node.op == "FusedBatchNormV3" for function in library.function
               for node in function.node_def), name


def test_session_loader_serves_the_fused_exports_as_keras(served, tiny_models):
    """The requests of `test_export_session_loader` (batch 2, the second row padded
    from position 6), answered by the TF1 session loader, against the Keras models."""
    for name in TASKS:
        key = f"session/{name}/tokens"
        inputs = served.calls[key]["inputs"]
        _assert_close(served.session_outputs[key],
                      _keras_reference(name, tiny_models[name][0], inputs), key)
    key = "session/classifier/serving_examples"
    features = {name: tf.io.FixedLenFeature([helpers.MAX_SEQ_LENGTH], tf.int64)
                for name in ("input_ids", "input_mask", "segment_ids")}
    parsed = tf.io.parse_example(served.calls[key]["inputs"]["examples"], features)
    inputs = {k: v.numpy().astype(np.int32) for k, v in parsed.items()}
    _assert_close(served.session_outputs[key],
                  _keras_reference("classifier", tiny_models["classifier"][0], inputs), key)
