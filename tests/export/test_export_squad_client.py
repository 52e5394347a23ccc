"""The client half of the text-free SQuAD export (`SquadClient`) and raw-text question
answering in Python (`QuestionAnswerer`) give the raw-text SavedModel's serving_default
answers on the same text: real SQuAD dev questions, a context windowed many times over,
an empty and a non-UTF-8 context."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the raw-text export's ops)

from albert_tf.export import ExportParams, export_savedmodel
from albert_tf.export.squad_client import SquadClient
from albert_tf.tasks.squad import examples as squad_examples
from albert_tf.text import QuestionAnswerer
from . import export_test_helpers as helpers


def _questions(shared_data_dir, version):
    name = "v1.1/dev-v1.1.part-a.json" if version == "squad_v1" else \
        "v2.0/dev-v2.0.3articles.json"
    examples = squad_examples.read_squad_examples(str(shared_data_dir / "squad" / name),
                                                  is_training=False)[::25][:8]
    questions = [e.question_text for e in examples]
    contexts = [e.context_text for e in examples]
    questions += [questions[0], "What is it?", "Where?"]
    contexts += [contexts[0] * 5, "", b"Caf\xc3\xa9 \xff\xfe in Z\xc3\xbcrich."]
    return questions, contexts


@pytest.mark.parametrize("version", ["squad_v1", "squad_v2"])
def test_client_and_python_answers_equal_the_raw_text_export(
        version, tiny_models, exports, spm_model_file, shared_data_dir, tmp_path):
    model, checkpoint = tiny_models[version]
    _, settings = helpers.EXPORTS[version]
    text_free = str(tmp_path / "ids")
    export_savedmodel(ExportParams(model_kind="squad", export_dir=text_free,
                                   spm_model_file=spm_model_file, init_checkpoint=checkpoint,
                                   max_seq_length=helpers.MAX_SEQ_LENGTH, text_in_graph=False,
                                   **settings))
    questions, contexts = _questions(shared_data_dir, version)
    served = tf.saved_model.load(exports[version]).signatures["serving_default"](
        question=tf.constant([q.encode() for q in questions]),
        context=tf.constant([c if isinstance(c, bytes) else c.encode() for c in contexts]))
    expected = {name: value.numpy() for name, value in served.items()}
    expected["answer_text"] = [t.decode() for t in expected["answer_text"]]

    client = SquadClient(text_free)
    encoded = client.encode(questions, contexts)
    inputs = encoded.inputs
    assert inputs["input_ids"].shape[0] > len(questions)  # The long context: many windows.
    if version == "squad_v2":
        # p_mask rebuilt: 0 only at [CLS] and the context tokens (segment 1 before the
        # final [SEP]); an independent reading of the official rule.
        last = inputs["input_mask"].sum(1) - 1
        answerable = (inputs["segment_ids"] == 1) & (inputs["input_mask"] == 1)
        answerable[np.arange(len(last)), last] = False
        answerable[:, 0] = True
        np.testing.assert_array_equal(inputs["p_mask"], (~answerable).astype(np.int32))
    outputs = tf.saved_model.load(text_free).signatures["tokens"](
        **{name: tf.constant(value) for name, value in inputs.items()})
    for got in (client.decode(encoded, outputs),
                QuestionAnswerer(model, spm_model_file, max_seq_length=helpers.MAX_SEQ_LENGTH,
                                 **{k: v for k, v in settings.items()
                                    if k != "version_2_with_negative"})(questions, contexts)):
        assert list(got["answer_text"]) == expected["answer_text"]
        assert sorted(got) == sorted(expected)
        for name in ("start_char", "end_char", "score", "null_score", "is_answerable"):
            if name in expected:
                np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-5)
    assert any(expected["answer_text"])  # Non-trivial answers were compared.
