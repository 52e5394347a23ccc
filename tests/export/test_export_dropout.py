"""Every serving signature runs without dropout, in both loaders.

The export tests' models have the released v1 dropout (`export_test_helpers.CONFIG`:
hidden and attention 0.1; the classifier, RACE and SQuAD 2.0 heads 0.1 by default). A
signature that ran with dropout on would answer the same request differently each
time and differ from the Keras model at training=False. Only the encoder's `__call__`
takes `training` (TF Hub's API; `test_export_hub.py` checks that training=True applies
dropout).
"""

import numpy as np

from .export_test_helpers import CONFIG, EXPORTS, serving_requests
from .test_export_session_loader import _inputs
from .test_export_signatures import DOCUMENTED

REPEATS = 2
# The ids-in signatures, whose outputs the Keras models give directly.
IDS_IN = {("classifier", "tokens"), ("regression", "tokens"), ("race", "tokens"),
          ("squad_v1", "tokens"), ("squad_v2", "tokens"), ("encoder", "tokens"),
          ("encoder", "mlm"), ("encoder", "sop")}


def _signatures():
    documented = dict(DOCUMENTED, regression=DOCUMENTED["classifier"])
    return [(name, signature, input_names)
            for name in EXPORTS for signature, (input_names, _) in documented[name].items()
            if signature != "tokenization_info"]


@serving_requests
def _requests(ctx):
    calls = []
    for index, (name, signature, input_names) in enumerate(_signatures()):
        inputs = _inputs(name, signature, input_names, np.random.default_rng(100 + index))
        calls.extend({"key": f"dropout/{name}/{signature}/{repeat}", "export": name,
                      "signature": signature, "inputs": inputs} for repeat in range(REPEATS))
    return calls


def test_the_models_have_dropout():
    assert CONFIG["hidden_dropout_prob"] > 0 and CONFIG["attention_probs_dropout_prob"] > 0


def test_every_signature_answers_a_request_the_same_each_time(served):
    for outputs in (served.outputs, served.session_outputs):
        for name, signature, _ in _signatures():
            key = f"dropout/{name}/{signature}"
            first = outputs[f"{key}/0"]
            for repeat in range(1, REPEATS):
                again = outputs[f"{key}/{repeat}"]
                assert again.keys() == first.keys()
                for output, value in first.items():
                    np.testing.assert_array_equal(again[output], value,
                                                  err_msg=f"{key}: {output}")


def _keras_outputs(model, name, signature, inputs):
    """The Keras model's float outputs at training=False, by the signature's names."""
    features = dict(inputs)
    if name == "encoder":
        positions = features.pop("mlm_positions", None)
        if signature == "tokens":
            outputs = dict(model.encoder(features, training=False))
        else:
            features["masked_lm_positions"] = (
                positions if positions is not None
                else np.zeros([len(inputs["input_ids"]), 0], np.int32))
            outputs = dict(model(features, training=False))
            logits = np.asarray(outputs.pop("sop_logits"), np.float64)
            shifted = logits - logits.max(-1, keepdims=True)
            outputs["sop_log_probs"] = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    else:
        outputs = dict(model(features, training=False))
    return {k: np.asarray(v) for k, v in outputs.items()
            if k != "encoder_outputs" and np.asarray(v).dtype.kind == "f"}


def test_ids_in_signatures_equal_the_keras_model_at_training_false(served, tiny_models):
    for name, signature, _ in _signatures():
        if (name, signature) not in IDS_IN:
            continue
        key = f"dropout/{name}/{signature}/0"
        expected = _keras_outputs(tiny_models[name][0], name, signature,
                                  served.calls[key]["inputs"])
        compared = [k for k in served.outputs[key] if k in expected]
        assert compared, (key, sorted(served.outputs[key]), sorted(expected))
        for output in compared:
            for got in (served.outputs[key][output], served.session_outputs[key][output]):
                np.testing.assert_allclose(got, expected[output], rtol=1e-4, atol=1e-4,
                                           err_msg=f"{key}: {output}")
