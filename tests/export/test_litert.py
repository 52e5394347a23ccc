"""`albert-export --format=tflite`: the .tflite runs in both LiteRT interpreters,
with dynamic batch and length, and gives the Keras model's outputs."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from . import export_test_helpers as helpers
from albert_tf.export import ExportParams, export
from albert_tf.export import exporter, litert

ai_edge_litert = pytest.importorskip("ai_edge_litert.interpreter")
import tensorflow as tf  # noqa: E402  (after the skip: the test needs both runtimes)

SETTINGS = {"encoder": {}, "classifier": {"label_list": helpers.CLASSIFIER_LABELS},
            "regression": {}, "race": {"max_qa_length": helpers.MAX_QA_LENGTH},
            "squad_v1": dict(helpers.SQUAD_SETTINGS),
            "squad_v2": dict(helpers.SQUAD_SETTINGS, version_2_with_negative=True)}
KINDS = {"encoder": "encoder", "classifier": "classifier", "regression": "classifier",
         "race": "race", "squad_v1": "squad", "squad_v2": "squad"}
# What the text-free SavedModel of each kind has, less tokenization_info and
# serving_examples (no LiteRT op parses tf.Example).
SIGNATURES = {"encoder": ["mlm", "serving_default", "sop", "tokens"],
              "classifier": ["serving_default", "tokens"],
              "race": ["serving_default", "tokens"],
              "squad_v2": ["serving_default", "tokens"]}
RUNTIMES = {"ai_edge_litert": lambda path: ai_edge_litert.Interpreter(model_path=path),
            "tf.lite": lambda path: tf.lite.Interpreter(model_path=path)}
# (batch, seq_len) of successive calls on one interpreter: each call resizes.
SHAPES = [(2, 9), (1, 5), (3, helpers.MAX_SEQ_LENGTH)]


@pytest.fixture(scope="module")
def tflite_files(tiny_models, spm_model_file, tmp_path_factory):
    """(name, quantization) -> model.tflite path, exported on first use."""
    root = tmp_path_factory.mktemp("litert")
    files = {}

    def get(name, quantization="none", **extra):
        if (name, quantization) not in files:
            export_dir = str(root / f"{name}_{quantization}")
            files[name, quantization] = export(ExportParams(
                model_kind=KINDS[name], export_dir=export_dir, spm_model_file=spm_model_file,
                init_checkpoint=tiny_models[name][1], max_seq_length=helpers.MAX_SEQ_LENGTH,
                format="tflite", quantization=quantization, **SETTINGS[name], **extra))
        return files[name, quantization]
    return get


def model_inputs(batch, seq_len, seed, choices=None):
    """Right-padded ids of the tiny vocabulary; row i has seq_len - i tokens (min 2)."""
    rng = np.random.default_rng(seed)
    shape = (batch, seq_len) if choices is None else (batch, choices, seq_len)
    ids = rng.integers(5, helpers.CONFIG["vocab_size"], size=shape).astype(np.int32)
    lengths = np.maximum(seq_len - np.arange(batch), 2)
    lengths = lengths.reshape((batch,) + (1,) * (len(shape) - 1))
    mask = (np.arange(seq_len) < lengths).astype(np.int32)
    mask = np.broadcast_to(mask, shape).copy()
    segments = ((np.arange(seq_len) >= seq_len // 2) * mask).astype(np.int32)
    return {"input_ids": ids * mask, "input_mask": mask, "segment_ids": segments}


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def keras_outputs(name, model, signature, inputs):
    """What `signature` should return, from the Keras model and numpy."""
    if name == "encoder":
        positions = inputs.get("mlm_positions",
                               np.zeros((inputs["input_ids"].shape[0], 0), np.int32))
        out = {k: np.asarray(v) for k, v in model(
            {"input_ids": inputs["input_ids"], "input_mask": inputs["input_mask"],
             "segment_ids": inputs["segment_ids"], "masked_lm_positions": positions},
            training=False).items()}
        expected = {"sequence_output": out["sequence_output"],
                    "pooled_output": out["pooled_output"]}
        if signature == "mlm":
            expected["mlm_logits"] = out["mlm_logits"]
        if signature == "sop":
            expected["sop_log_probs"] = np.log(softmax(out["sop_logits"]))
        return expected
    out = {k: np.asarray(v) for k, v in model(inputs, training=False).items()}
    if name.startswith("squad"):
        return {k: out[k] for k in out if k in (
            "start_logits", "end_logits", "start_top_log_probs", "start_top_index",
            "end_top_log_probs", "end_top_index", "cls_logits")}
    logits = out["logits"]
    if name == "regression":
        return {"value": logits[:, 0], "logits": logits}
    labels = helpers.CLASSIFIER_LABELS if name == "classifier" else ["A", "B", "C", "D"]
    index = np.argmax(logits, -1)
    key = "label" if name == "classifier" else "answer"
    return {"logits": logits, "probabilities": softmax(logits),
            f"{key}_id" if name == "classifier" else "answer_index": index,
            key: np.array([labels[i].encode() for i in index], dtype=object)}


def signature_inputs(name, signature, batch, seq_len, seed):
    inputs = model_inputs(batch, seq_len, seed, choices=4 if name == "race" else None)
    if name == "squad_v2":
        inputs["p_mask"] = (1 - inputs["input_mask"]) | (inputs["segment_ids"] == 0)
        inputs["p_mask"][:, 0] = 0  # [CLS] is the no-answer position.
        inputs["p_mask"] = inputs["p_mask"].astype(np.int32)
    if signature == "mlm":
        inputs["mlm_positions"] = np.tile(np.array([[1, 0, seq_len - 1]], np.int32),
                                          (batch, 1))
    return inputs


def assert_outputs_close(got, expected, atol, context):
    assert sorted(got) == sorted(expected), context
    for key, want in expected.items():
        if want.dtype == object or np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(got[key], want, err_msg=f"{context} {key}")
        else:
            np.testing.assert_allclose(got[key], want, atol=atol, rtol=atol,
                                       err_msg=f"{context} {key}")


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_fp32_tflite_gives_the_keras_outputs_at_any_batch_and_length(
        tflite_files, tiny_models, name, runtime):
    interpreter = RUNTIMES[runtime](tflite_files(name))
    model = tiny_models[name][0]
    signatures = sorted(interpreter.get_signature_list())
    if name in SIGNATURES:
        assert signatures == SIGNATURES[name]
    for signature in signatures:
        runner = interpreter.get_signature_runner(signature)
        for seed, (batch, seq_len) in enumerate(SHAPES):
            inputs = signature_inputs(name, signature, batch, seq_len, seed)
            got = runner(**inputs)
            assert_outputs_close(got, keras_outputs(name, model, signature, inputs), 2e-5,
                                 f"{name} {signature} {runtime} batch {batch} len {seq_len}")


def test_tflite_inputs_have_dynamic_batch_and_length(tflite_files):
    """Every input is declared [-1, -1] (RACE [-1, 4, -1]): the signature runner
    resizes them per call (`ResizeInputTensor`, what `resize_tensor_input` does)."""
    for name in ("classifier", "race"):
        interpreter = ai_edge_litert.Interpreter(model_path=tflite_files(name))
        for signature in interpreter.get_signature_list():
            details = interpreter.get_signature_runner(signature).get_input_details()
            want = [-1, 4, -1] if name == "race" else [-1, -1]
            assert {k: list(d["shape_signature"]) for k, d in details.items()} == \
                {k: want for k in details}, (name, signature)


def test_tflite_holds_only_builtin_ops(tflite_files):
    """No custom op and no TF (flex) op: the file runs where only builtins exist."""
    for name in ("encoder", "squad_v2", "race"):
        interpreter = ai_edge_litert.Interpreter(model_path=tflite_files(name))
        for signature in interpreter.get_signature_list():
            interpreter.get_signature_runner(signature)  # Allocates: fails on unknown ops.
        ops = {op["op_name"] for op in interpreter._get_ops_details()}  # pylint: disable=protected-access
        assert ops and not any(op.startswith(("Flex", "CUSTOM")) for op in ops), (name, ops)


# Measured on the tiny random classifier, 32 rows of 64 tokens: max |delta p| 5e-4
# (float16), 9e-3 (dynamic_int8), 0.21 (int8, calibrated on random ids), labels
# agreeing 32/32, 32/32, 31/32. The bounds leave about 4x room.
@pytest.mark.parametrize("quantization,atol,min_agreement,max_size_ratio", [
    ("float16", 2e-3, 1.0, 0.6), ("dynamic_int8", 0.04, 1.0, 0.35),
    ("int8", 0.5, 0.85, 0.35)])
def test_quantized_tflite_keeps_the_labels(tflite_files, tiny_models, quantization, atol,
                                          min_agreement, max_size_ratio):
    fp32 = tflite_files("classifier")
    path = tflite_files("classifier", quantization)
    assert os.path.getsize(path) <= max_size_ratio * os.path.getsize(fp32)
    with open(os.path.join(os.path.dirname(path), "export_config.json")) as f:
        config = json.load(f)
    assert (config["format"], config["quantization"]) == ("tflite", quantization)
    runner = tf.lite.Interpreter(model_path=path).get_signature_runner("serving_default")
    inputs = signature_inputs("classifier", "tokens", 32, helpers.MAX_SEQ_LENGTH, 5)
    want = keras_outputs("classifier", tiny_models["classifier"][0], "tokens", inputs)
    got = runner(**inputs)
    np.testing.assert_allclose(got["probabilities"], want["probabilities"], atol=atol)
    assert np.mean(got["label_id"] == want["label_id"]) >= min_agreement


def test_int8_without_max_seq_length_calibrates_at_the_default_length(
        tiny_models, spm_model_file, tmp_path):
    """The default length (the kind's, cut to the model's positions) is what int8
    calibrates at: it once read the unset flag (None) and failed."""
    path = export(ExportParams(
        model_kind="classifier", export_dir=str(tmp_path / "int8"), spm_model_file=spm_model_file,
        init_checkpoint=tiny_models["classifier"][1], format="tflite", quantization="int8",
        label_list=helpers.CLASSIFIER_LABELS))
    with open(os.path.join(os.path.dirname(path), "export_config.json")) as f:
        assert json.load(f)["max_seq_length"] == helpers.CONFIG["max_position_embeddings"]
    runner = ai_edge_litert.Interpreter(model_path=path).get_signature_runner("tokens")
    got = runner(**signature_inputs("classifier", "tokens", 2, 20, 3))
    assert got["probabilities"].shape == (2, len(helpers.CLASSIFIER_LABELS))


def test_int8_squad_v2_calibrates_on_text(tflite_files, tiny_models, tmp_path):
    """Calibration with short texts (top-k needs seq_len >= k) and both runtimes."""
    texts = tmp_path / "texts.txt"
    texts.write_text("A cat.\n\nThe cat sat on the mat in Paris.\n", encoding="utf-8")
    path = tflite_files("squad_v2", "int8", representative_data=str(texts))
    inputs = signature_inputs("squad_v2", "tokens", 2, 20, 3)
    for make in RUNTIMES.values():
        got = make(path).get_signature_runner("tokens")(**inputs)
        assert got["start_top_index"].shape == (2, 5)
        assert np.all(np.isfinite(got["cls_logits"]))


@pytest.mark.parametrize("changes,error", [
    ({"format": "savedmodel", "quantization": "int8"}, "--quantization=int8 needs --format=tflite"),
    ({"quantization": "int4"}, "quantization must be one of"),
])
def test_bad_litert_settings_are_named(tiny_models, spm_model_file, tmp_path, changes, error):
    settings = dict(model_kind="classifier", export_dir=str(tmp_path / "x"),
                    spm_model_file=spm_model_file, init_checkpoint=tiny_models["classifier"][1],
                    format="tflite", label_list=helpers.CLASSIFIER_LABELS)
    settings.update(changes)
    with pytest.raises(ValueError, match=error):
        export(ExportParams(**settings))
    assert not os.path.exists(tmp_path / "x")


def test_overwrite_replaces_only_a_litert_export(tiny_models, spm_model_file, tmp_path):
    other = tmp_path / "checkpoints"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    params = ExportParams(model_kind="classifier", export_dir=str(other),
                          spm_model_file=spm_model_file, overwrite=True,
                          init_checkpoint=tiny_models["classifier"][1], format="tflite",
                          label_list=helpers.CLASSIFIER_LABELS)
    with pytest.raises(FileExistsError, match="not a LiteRT export"):
        export(params)
    assert (other / "keep.txt").exists()
    assert litert.TFLITE_FILE == "model.tflite"  # TF Serving's --prefer_tflite_model name.


def test_litert_converts_the_keras_graph(tiny_models, spm_model_file, tmp_path, monkeypatch):
    """SavedModel exports serve `encoder_graph`; LiteRT's accuracy, size and speed were
    measured on the Keras graph, which it keeps converting."""
    modules = []
    build_module = exporter.build_module
    monkeypatch.setattr(exporter, "build_module",
                        lambda *args, **kwargs: modules.append(build_module(*args, **kwargs))
                        or modules[-1])
    export(ExportParams(model_kind="race", export_dir=str(tmp_path / "race"),
                        spm_model_file=spm_model_file, init_checkpoint=tiny_models["race"][1],
                        max_seq_length=helpers.MAX_SEQ_LENGTH, format="tflite",
                        **SETTINGS["race"]))
    assert [module.uses_encoder_graph for module in modules] == [False]


def test_command_writes_the_tflite_and_its_assets(tiny_models, spm_model_file, tmp_path):
    export_dir = tmp_path / "sst2_lite"
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    completed = subprocess.run(
        [sys.executable, os.path.join(repo, "export_savedmodel.py"), "--model_kind=classifier",
         "--format=tflite", "--quantization=dynamic_int8",
         f"--init_checkpoint={tiny_models['classifier'][1]}",
         f"--spm_model_file={spm_model_file}", f"--export_dir={export_dir}",
         "--max_seq_length=32", "--task_name=MNLI"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert sorted(os.listdir(export_dir)) == ["albert_config.json", "export_config.json",
                                              "model.tflite", "spm.model"]
    with open(export_dir / "export_config.json") as f:
        config = json.load(f)
    assert config["label_list"] == ["contradiction", "entailment", "neutral"]
    assert config["signatures"] == ["serving_default", "tokens"]
    assert [n for n in os.listdir(tmp_path) if ".tmp-" in n or ".old-" in n] == []
