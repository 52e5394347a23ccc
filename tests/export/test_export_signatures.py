"""What `saved_model_cli show --all` lists for each export, and what serving needs.

The expected signatures are the documented ones (albert_tf/export/*_module.py),
written out here by hand.
"""

import json
import os

from . import export_test_helpers as helpers
from .export_test_helpers import serving_requests

S, I, F, B = "DT_STRING", "DT_INT32", "DT_FLOAT", "DT_BOOL"
TEXT = {"text": S}
PAIR = {"text_a": S, "text_b": S}
IDS = {"input_ids": I, "input_mask": I, "segment_ids": I}
PACKED = dict(IDS)
INFO = ({}, {"spm_model_file": S, "do_lower_case": B, "max_seq_length": I})
ENCODED = {"sequence_output": F, "pooled_output": F}
SERVED_TEXT = {"pooled_output": F, "sequence_output": F, "input_ids": I, "input_mask": I}
LABELS = {"logits": F, "probabilities": F, "label_id": I, "label": S}
CHOICE = {"logits": F, "probabilities": F, "answer_index": I, "answer": S}
ANSWER = {"answer_text": S, "start_char": I, "end_char": I, "score": F}
V2_RAW = {"start_top_log_probs": F, "start_top_index": I, "end_top_log_probs": F,
          "end_top_index": I, "cls_logits": F}

DOCUMENTED = {
    "preprocess": {
        "serving_default": (TEXT, PACKED),
        "serving_pair": (PAIR, PACKED),
        "tokenize": (TEXT, {"token_ids": I, "num_tokens": I}),
        "tokenization_info": INFO,
    },
    "encoder": {
        "tokens": (IDS, ENCODED),
        "mlm": (dict(IDS, mlm_positions=I), dict(ENCODED, mlm_logits=F)),
        "sop": (IDS, dict(ENCODED, sop_log_probs=F)),
        "serving_default": (TEXT, SERVED_TEXT),
        "serving_pair": (PAIR, dict(SERVED_TEXT, segment_ids=I)),
        "tokenization_info": INFO,
    },
    "classifier": {
        "serving_default": (TEXT, LABELS),
        "serving_pair": (PAIR, LABELS),
        "serving_examples": ({"examples": S}, LABELS),
        "tokens": (IDS, LABELS),
        "tokenization_info": INFO,
    },
    "race": {
        "serving_default": ({"article": S, "question": S, "options": S}, CHOICE),
        "tokens": (IDS, CHOICE),
        "tokenization_info": INFO,
    },
    "squad_v1": {
        "serving_default": ({"question": S, "context": S}, ANSWER),
        "tokens": (IDS, {"start_logits": F, "end_logits": F}),
        "tokenization_info": INFO,
    },
    "squad_v2": {
        "serving_default": ({"question": S, "context": S},
                            dict(ANSWER, null_score=F, is_answerable=B)),
        "tokens": (dict(IDS, p_mask=I), V2_RAW),
        "tokenization_info": INFO,
    },
}


@serving_requests
def _requests(ctx):
    return [{"key": f"{name}/tokenization_info", "export": name,
             "signature": "tokenization_info", "inputs": {}} for name in DOCUMENTED]


def test_saved_model_cli_lists_the_documented_signatures(served):
    for name, documented in DOCUMENTED.items():
        listed = helpers.parse_show_all(served.show[name])
        listed.pop("__saved_model_init_op", None)
        assert sorted(listed) == sorted(documented), name
        for signature, (inputs, outputs) in documented.items():
            got = listed[signature]
            assert {k: v[0] for k, v in got["inputs"].items()} == inputs, (name, signature)
            assert {k: v[0] for k, v in got["outputs"].items()} == outputs, (name, signature)
            # Every input takes any batch size (and any length where not fixed).
            for input_name, (_, shape) in got["inputs"].items():
                assert shape.startswith("(-1"), (name, signature, input_name, shape)


def test_serving_process_needed_neither_albert_tf_nor_more_keras(served):
    # "checks/...": test_export_request_checks' bad requests, refused on purpose.
    unexpected = {k: v for k, v in served.errors.items()
                  if not k.endswith("expected_error") and not k.startswith("checks/")}
    assert not unexpected
    assert served.albert_tf_imported is False
    assert served.new_keras_modules == []


def test_assets_travel_with_the_export(served, exports, tiny_models):
    for name in DOCUMENTED:
        assets = os.path.join(exports[name], "assets")
        with open(os.path.join(assets, "export_config.json")) as f:
            config = json.load(f)
        assert config["model_kind"] == helpers.EXPORTS[name][0]
        assert config["do_lower_case"] is True
        assert config["max_seq_length"] == helpers.MAX_SEQ_LENGTH
        assert sorted(config["signatures"]) == sorted(DOCUMENTED[name])
        if name in tiny_models:
            with open(os.path.join(assets, "albert_config.json")) as f, open(
                    os.path.join(tiny_models[name][1], "albert_config.json")) as g:
                assert json.load(f) == json.load(g)
    with open(os.path.join(exports["classifier"], "assets", "export_config.json")) as f:
        assert json.load(f)["label_list"] == helpers.CLASSIFIER_LABELS
