"""Raw-text `.tflite` (`--format=tflite --text_in_graph`): a string in, the official
ids and the Keras model's outputs out, in LiteRT's interpreters with only TF Text's
`FastSentencepieceTokenize` kernel registered."""

import json
import os

import numpy as np
import pytest

from . import export_test_helpers as helpers
from albert_tf.export import ExportParams, export, litert_text
from albert_tf.settings import SettingError

ai_edge_litert = pytest.importorskip("ai_edge_litert.interpreter")
tflite_registrar = pytest.importorskip("tensorflow_text.core.pybinds.tflite_registrar")
import tensorflow as tf  # noqa: E402
from tensorflow.lite.python.interpreter import InterpreterWithCustomOps  # noqa: E402

# Only the one kernel the files need, so a second custom op would fail to load
# (`litert_text.interpreter` registers the same one).
REGISTERERS = [tflite_registrar.AddFastSentencepieceTokenize]
RUNTIMES = {
    "ai_edge_litert": litert_text.interpreter,
    "tf.lite": lambda path: InterpreterWithCustomOps(model_path=path,
                                                     custom_op_registerers=REGISTERERS)}
TEXTS_A = ["In 1990, the Café served ΟΔΟΣ soup.", "", "short",
           "a much longer first text " * 8, "Ｈｅｌｌｏ  Wörld\u00a0x²"]
TEXTS_B = ["and a second one", "only b", "", "b " * 40, "1,2,3, 2019, ok"]


@pytest.fixture(scope="module")
def text_tflite(tiny_models, spm_model_file, tmp_path_factory):
    """(name, quantization) -> raw-text model.tflite, exported on first use."""
    root = tmp_path_factory.mktemp("litert_text")
    files = {}
    settings = {"preprocess": ("preprocess", {}),
                "classifier": ("classifier", {"label_list": helpers.CLASSIFIER_LABELS}),
                "encoder": ("encoder", {})}

    def get(name, quantization="none"):
        if (name, quantization) not in files:
            kind, extra = settings[name]
            files[name, quantization] = export(ExportParams(
                model_kind=kind, export_dir=str(root / f"{name}_{quantization}"),
                spm_model_file=spm_model_file,
                init_checkpoint=tiny_models[name][1] if name in tiny_models else None,
                max_seq_length=helpers.MAX_SEQ_LENGTH, format="tflite",
                quantization=quantization, text_in_graph=None if name == "preprocess" else True,
                **extra))
        return files[name, quantization]
    return get


def _texts(values):
    return np.array([v.encode("utf-8") for v in values], dtype=object)


def _bundled_lines():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "corpus",
                        "wikitext2_sample.txt")
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_preprocess_file_gives_full_tokenizer_ids_on_the_bundled_texts(
        text_tflite, full_tokenizer, runtime):
    lines = _bundled_lines()
    assert len(lines) > 4000 and sum(not line.isascii() for line in lines) > 30
    interpreter = RUNTIMES[runtime](text_tflite("preprocess"))
    assert sorted(interpreter.get_signature_list()) == ["serving_default", "serving_pair",
                                                        "tokenize"]
    got = interpreter.get_signature_runner("tokenize")(text=_texts(lines))
    counts = got["num_tokens"].tolist()
    ids = [row[:n].tolist() for row, n in zip(got["token_ids"], counts)]
    bad = [(line, i) for line, i in zip(lines, ids) if i != full_tokenizer.encode(line)]
    assert not bad, f"{len(bad)} of {len(lines)} lines differ, e.g. {bad[:2]}"
    assert np.all(got["token_ids"][np.arange(got["token_ids"].shape[1]) >= np.array(
        counts)[:, None]] == -1)


def test_preprocess_file_on_shared_squad_texts(text_tflite, full_tokenizer, squad_texts):
    runner = RUNTIMES["ai_edge_litert"](text_tflite("preprocess")).get_signature_runner(
        "tokenize")
    ids = []
    for start in range(0, len(squad_texts), 2048):
        got = runner(text=_texts(squad_texts[start:start + 2048]))
        ids += [row[:n].tolist() for row, n in zip(got["token_ids"], got["num_tokens"])]
    bad = [t for t, i in zip(squad_texts, ids) if i != full_tokenizer.encode(t)]
    assert not bad, f"{len(bad)} of {len(squad_texts)} texts differ, e.g. {bad[:2]}"


@pytest.mark.parametrize("max_seq_length", [5, 16, helpers.MAX_SEQ_LENGTH])
def test_packing_is_the_official_one(full_tokenizer, spm_model_file, max_seq_length):
    """In TensorFlow (the graph the converter reads), against the official Python
    packing: truncation of the longer text first, empty B -> single layout."""
    from albert_tf.export.litert_text import LiteRTTextTokenizer

    tokenizer = LiteRTTextTokenizer(spm_model_file)
    lines = [line for line in _bundled_lines() if line][:300]
    texts_a, texts_b = TEXTS_A + lines[:150], TEXTS_B + lines[150:]
    for b in (None, texts_b):
        want = helpers.reference_inputs(full_tokenizer, texts_a, b, max_seq_length)
        got = tokenizer.pack(tf.constant(texts_a), None if b is None else tf.constant(b),
                             max_seq_length)
        for key in want:
            np.testing.assert_array_equal(got[key].numpy(), want[key], err_msg=key)
        longest = tokenizer.pack(tf.constant(texts_a), None if b is None else tf.constant(b),
                                 max_seq_length, to_longest=True)
        width = int(want["input_mask"].sum(1).max())
        for key in want:
            np.testing.assert_array_equal(longest[key].numpy(), want[key][:, :width])


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_preprocess_file_packs_as_the_official_code(text_tflite, full_tokenizer, runtime):
    interpreter = RUNTIMES[runtime](text_tflite("preprocess"))
    single = interpreter.get_signature_runner("serving_default")(text=_texts(TEXTS_A))
    pair = interpreter.get_signature_runner("serving_pair")(text_a=_texts(TEXTS_A),
                                                            text_b=_texts(TEXTS_B))
    for got, want in ((single, helpers.reference_inputs(full_tokenizer, TEXTS_A)),
                      (pair, helpers.reference_inputs(full_tokenizer, TEXTS_A, TEXTS_B))):
        assert sorted(got) == sorted(want)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_classifier_file_answers_raw_text_as_the_keras_model(
        text_tflite, tiny_models, full_tokenizer, runtime):
    interpreter = RUNTIMES[runtime](text_tflite("classifier"))
    assert sorted(interpreter.get_signature_list()) == ["serving_default", "serving_pair",
                                                        "tokens"]
    model = tiny_models["classifier"][0]
    for signature, b in (("serving_default", None), ("serving_pair", TEXTS_B)):
        runner = interpreter.get_signature_runner(signature)
        got = runner(text=_texts(TEXTS_A)) if b is None else runner(
            text_a=_texts(TEXTS_A), text_b=_texts(b))
        inputs = helpers.reference_inputs(full_tokenizer, TEXTS_A, b)
        logits = np.asarray(model(inputs, training=False)["logits"])
        np.testing.assert_allclose(got["probabilities"], _softmax(logits), atol=2e-5)
        np.testing.assert_array_equal(got["label_id"], logits.argmax(-1))
        assert [s.decode() for s in got["label"]] == [
            helpers.CLASSIFIER_LABELS[i] for i in logits.argmax(-1)]


def test_dynamic_int8_classifier_keeps_the_labels(text_tflite, tiny_models, full_tokenizer):
    path = text_tflite("classifier", "dynamic_int8")
    assert os.path.getsize(path) < 0.6 * os.path.getsize(text_tflite("classifier"))
    runner = RUNTIMES["ai_edge_litert"](path).get_signature_runner("serving_default")
    got = runner(text=_texts(TEXTS_A))
    inputs = helpers.reference_inputs(full_tokenizer, TEXTS_A)
    logits = np.asarray(tiny_models["classifier"][0](inputs, training=False)["logits"])
    np.testing.assert_allclose(got["probabilities"], _softmax(logits), atol=0.04)
    with open(os.path.join(os.path.dirname(path), "export_config.json")) as f:
        config = json.load(f)
    assert config["text_in_graph"] is True
    assert config["custom_ops"] == ["TFText>FastSentencepieceTokenize"]
    assert config["signatures"] == ["serving_default", "serving_pair", "tokens"]


def test_encoder_file_outputs_as_the_savedmodel(text_tflite, tiny_models, full_tokenizer):
    interpreter = RUNTIMES["ai_edge_litert"](text_tflite("encoder"))
    assert sorted(interpreter.get_signature_list()) == ["mlm", "serving_default",
                                                        "serving_pair", "sop", "tokens"]
    model = tiny_models["encoder"][0]
    got = interpreter.get_signature_runner("serving_pair")(text_a=_texts(TEXTS_A),
                                                           text_b=_texts(TEXTS_B))
    inputs = helpers.reference_inputs(full_tokenizer, TEXTS_A, TEXTS_B)
    want = model(dict(inputs, masked_lm_positions=np.zeros((len(TEXTS_A), 0), np.int32)),
                 training=False)
    assert sorted(got) == ["input_ids", "input_mask", "pooled_output", "segment_ids",
                           "sequence_output"]
    assert got["sequence_output"].shape == (len(TEXTS_A), helpers.MAX_SEQ_LENGTH,
                                            helpers.CONFIG["hidden_size"])
    np.testing.assert_allclose(got["sequence_output"], want["sequence_output"], atol=2e-5)
    np.testing.assert_allclose(got["pooled_output"], want["pooled_output"], atol=2e-5)
    single = interpreter.get_signature_runner("serving_default")(text=_texts(TEXTS_A))
    assert "segment_ids" not in single


def test_ops_are_builtins_and_the_one_tf_text_op(text_tflite):
    interpreter = RUNTIMES["ai_edge_litert"](text_tflite("classifier"))
    for signature in interpreter.get_signature_list():
        interpreter.get_signature_runner(signature)
    ops = {op["op_name"] for op in interpreter._get_ops_details()}  # pylint: disable=protected-access
    assert "TFText>FastSentencepieceTokenize" in ops
    assert not any(op.startswith("Flex") for op in ops), ops
    # Without the kernel the file does not load, and says which op is missing.
    with pytest.raises((RuntimeError, ValueError), match="FastSentencepieceTokenize"):
        interpreter = ai_edge_litert.Interpreter(model_path=text_tflite("classifier"))
        interpreter.allocate_tensors()


@pytest.mark.parametrize("changes,error", [
    ({"model_kind": "squad", "init_checkpoint": "squad_v1"},
     "squad has no raw-text LiteRT signatures"),
    ({"quantization": "int8"}, "--quantization=int8 needs --text_in_graph=false"),
])
def test_unsupported_raw_text_settings_are_named(tiny_models, spm_model_file, tmp_path, changes,
                                                 error):
    settings = dict(model_kind="classifier", export_dir=str(tmp_path / "x"),
                    spm_model_file=spm_model_file, init_checkpoint="classifier",
                    format="tflite", text_in_graph=True, label_list=helpers.CLASSIFIER_LABELS)
    settings.update(changes)
    settings["init_checkpoint"] = tiny_models[settings["init_checkpoint"]][1]
    with pytest.raises(SettingError, match=error):
        export(ExportParams(**settings))
    assert not os.path.exists(tmp_path / "x")


def test_script_flag_chooses_the_variant(tiny_models, spm_model_file, tmp_path):
    """`export_savedmodel.py --format=tflite`: builtins only by default; `--text_in_graph`
    adds the raw-text signatures (the flag as a user types it)."""
    import subprocess
    import sys

    from conftest import REPO_ROOT

    signatures = {}
    for name, extra in (("ids", []), ("text", ["--text_in_graph"])):
        export_dir = tmp_path / name
        completed = subprocess.run(
            [sys.executable, str(REPO_ROOT / "export_savedmodel.py"), "--model_kind=classifier",
             "--format=tflite", f"--init_checkpoint={tiny_models['classifier'][1]}",
             f"--spm_model_file={spm_model_file}", f"--export_dir={export_dir}",
             "--max_seq_length=32", "--task_name=MNLI"] + extra,
            capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            timeout=600)
        assert completed.returncode == 0, completed.stderr[-3000:]
        path = str(export_dir / "model.tflite")
        interpreter = (RUNTIMES["ai_edge_litert"](path) if extra
                       else ai_edge_litert.Interpreter(model_path=path))
        signatures[name] = sorted(interpreter.get_signature_list())
    assert signatures == {"ids": ["serving_default", "tokens"],
                          "text": ["serving_default", "serving_pair", "tokens"]}
