"""A `TextClassifier` `.keras` file reloads in a fresh process after `import albert_tf`
alone (`save_pretrained` of a TextClassifier: tests/checkpoints/interop/test_labels.py)."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import albert_tf
from albert_tf.config import AlbertConfig
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.text import AlbertTextPreprocessor, TextClassifier
from finetune_test_helpers import TINY_CONFIG

LABELS = ["negative", "positive"]
TEXTS = ["a gripping, funny film", "dull and far too long", "i loved every minute"]


@pytest.fixture(scope="module")
def text_classifier(spm_model_file):
    keras.utils.set_random_seed(11)
    classifier = AlbertClassifier(AlbertConfig.from_dict(TINY_CONFIG), num_labels=2,
                                  label_list=LABELS)
    return TextClassifier(classifier, AlbertTextPreprocessor(spm_model_file,
                                                             max_seq_length=24))


def test_keras_file_reloads_in_a_fresh_process_after_import_albert_tf(text_classifier,
                                                                       tmp_path):
    path = tmp_path / "classifier.keras"
    text_classifier.save(str(path))
    expected = text_classifier.predict(TEXTS, verbose=0)
    script = """
import sys
import albert_tf, keras
assert "tensorflow_text" not in sys.modules, "import albert_tf loaded TF Text"
texts = sys.argv[2:]
for model in (keras.saving.load_model(sys.argv[1]), albert_tf.load_pretrained(sys.argv[1])):
    print(type(model).__name__, model.label_list, model.predict(texts, verbose=0).tolist())
"""
    out = subprocess.run([sys.executable, "-c", script, str(path)] + TEXTS,
                         capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines()
             if line.startswith("TextClassifier")]
    assert len(lines) == 2
    for line in lines:
        name, labels, logits = line.split(" ", 2)
        assert labels == "['negative',"
        np.testing.assert_allclose(np.array(eval(logits.split(" ", 1)[1])), expected,
                                   atol=1e-5)
