"""Shared pieces of the export tests: tiny models, lazy exports, one serving process.

Every test module registers, at import, a function that lists the SavedModel
calls it needs (`serving_requests`). The session fixture `served` runs all
registered calls in ONE fresh Python process (`serving_client.py`, which
imports only tensorflow and tensorflow_text), so the TensorFlow start-up is
paid once however many tests run.
"""

import json
import os
import pickle
import subprocess
import sys

import keras
import numpy as np

from albert_tf import AlbertConfig, AlbertPretrainer, save_official_checkpoint
from albert_tf.tasks.classification import features as classifier_features
from albert_tf.modeling.models.classifier import AlbertClassifier
from albert_tf.modeling.models.multiple_choice import AlbertMultipleChoice
from albert_tf.modeling.models.squad import AlbertSquadV1, AlbertSquadV2
from tiny_config import real_vocabulary_config_dict

# Dropout as in the released v1 configs: a serving function that ran with dropout on
# would answer at random, and every comparison with the Keras model (training=False)
# would show it; with rates 0 it would pass unnoticed.
CONFIG = real_vocabulary_config_dict(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
MAX_SEQ_LENGTH = 64
SQUAD_SETTINGS = dict(doc_stride=16, max_query_length=16, max_answer_length=30)
CLASSIFIER_LABELS = ["contradiction", "entailment", "neutral"]
MAX_QA_LENGTH = 24

# name -> (model_kind, export settings)
EXPORTS = {
    "preprocess": ("preprocess", {}),
    "encoder": ("encoder", {}),
    "classifier": ("classifier", {"label_list": CLASSIFIER_LABELS}),
    # One output unit in the checkpoint: exported as regression (STS-B).
    "regression": ("classifier", {}),
    "race": ("race", {"max_qa_length": MAX_QA_LENGTH}),
    "squad_v1": ("squad", dict(SQUAD_SETTINGS)),
    "squad_v2": ("squad", dict(SQUAD_SETTINGS, version_2_with_negative=True,
                               null_score_diff_threshold=0.0)),
}

_REQUEST_BUILDERS = []


def serving_requests(builder):
    """Decorator: `builder(ctx)` returns calls {key, export, signature, inputs}."""
    _REQUEST_BUILDERS.append(builder)
    return builder


def request_builders():
    return list(_REQUEST_BUILDERS)


def tiny_config():
    return AlbertConfig(**CONFIG)


def randomize(model, seed):
    """Non-trivial weights (the initial ones give near-uniform outputs)."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_weights:
        shape = tuple(variable.shape)
        if variable.path.endswith("gamma"):
            value = 1.0 + rng.normal(0.0, 0.1, shape)
        elif variable.path.endswith(("bias", "beta")):
            value = rng.normal(0.0, 0.1, shape)
        else:
            value = rng.normal(0.0, 0.2, shape)
        variable.assign(value.astype("float32"))


def build_tiny_models(root):
    """Random tiny models saved as official checkpoints.

    Returns:
      dict name -> (keras model, checkpoint directory).
    """
    keras.utils.set_random_seed(7)
    config = tiny_config()
    models = {
        "encoder": AlbertPretrainer(config),
        "classifier": AlbertClassifier(config, num_labels=len(CLASSIFIER_LABELS)),
        "regression": AlbertClassifier(config, num_labels=1),
        "race": AlbertMultipleChoice(config, num_choices=4),
        "squad_v1": AlbertSquadV1(config),
        "squad_v2": AlbertSquadV2(config),
    }
    out = {}
    for seed, (name, model) in enumerate(sorted(models.items())):
        randomize(model, seed)
        directory = os.path.join(root, name)
        os.makedirs(directory, exist_ok=True)
        save_official_checkpoint(model, os.path.join(directory, "model.ckpt-1"),
                                 global_step=1, write_state_file=True)
        config.to_json_file(os.path.join(directory, "albert_config.json"))
        out[name] = (model, directory)
    return out


def run_serving_client(calls, show_dirs, work_dir):
    """Runs `serving_client.py` on `calls` in a fresh process; returns its results."""
    requests_path = os.path.join(work_dir, "requests.pkl")
    results_path = os.path.join(work_dir, "results.pkl")
    with open(requests_path, "wb") as f:
        pickle.dump({"calls": calls, "show_dirs": show_dirs}, f)
    client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serving_client.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    # Nothing of the repository on the path: the client must not find albert_tf.
    env.pop("PYTHONPATH", None)
    completed = subprocess.run([sys.executable, client, requests_path, results_path],
                               cwd=work_dir, env=env, capture_output=True, text=True,
                               timeout=600)
    if completed.returncode != 0:
        raise RuntimeError(f"serving_client.py failed ({completed.returncode}):\n"
                           f"{completed.stderr[-5000:]}")
    with open(results_path, "rb") as f:
        return pickle.load(f)


def strings(values):
    """A numpy object array of UTF-8 bytes, the form tf.constant takes for tf.string."""
    return np.array([v.encode("utf-8") if isinstance(v, str) else v for v in values],
                    dtype=object)


def reference_inputs(tokenizer, texts_a, texts_b=None, max_seq_length=MAX_SEQ_LENGTH):
    """Official Python packing (classifier_utils) of raw texts, as int32 arrays."""
    ids, masks, segments = [], [], []
    for i, text_a in enumerate(texts_a):
        tokens_a = tokenizer.tokenize(text_a)
        tokens_b = tokenizer.tokenize(texts_b[i]) if texts_b is not None else None
        if tokens_b:
            classifier_features.truncate_seq_pair(tokens_a, tokens_b, max_seq_length - 3)
        else:
            tokens_a = tokens_a[:max_seq_length - 2]
        row = classifier_features.build_inputs(tokens_a, tokens_b, max_seq_length, tokenizer)
        ids.append(row[0])
        masks.append(row[1])
        segments.append(row[2])
    return {"input_ids": np.array(ids, np.int32), "input_mask": np.array(masks, np.int32),
            "segment_ids": np.array(segments, np.int32)}


def parse_show_all(text):
    """`saved_model_cli show --all` text -> {signature: {"inputs"/"outputs": {name: ...}}}.

    Each name maps to (dtype, shape), shape as printed, e.g. "(-1, -1)" or "()".
    """
    signatures, current, section, name, dtype = {}, None, None, None, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("signature_def['"):
            current = line[len("signature_def['"):-len("']:")]
            signatures[current] = {"inputs": {}, "outputs": {}}
        elif current is None:
            continue
        elif line.startswith("inputs['") or line.startswith("outputs['"):
            section = "inputs" if line.startswith("inputs") else "outputs"
            name = line.split("'")[1]
        elif line.startswith("dtype:") and name is not None:
            dtype = line.split(":", 1)[1].strip()
        elif line.startswith("shape:") and name is not None:
            signatures[current][section][name] = (dtype, line.split(":", 1)[1].strip())
            name = None
        elif line.startswith("The MetaGraph") or line.startswith("Concrete Functions"):
            current = None
    return signatures


# Runs TensorFlow's own `saved_model_cli` main once per argument list, in ONE
# fresh process (TensorFlow starts once), and prints each exit status as JSON.
_SAVED_MODEL_CLI = """
import json, sys
{imports}
from tensorflow.python.tools import saved_model_cli
statuses = []
for argv in json.loads(sys.argv[1]):
    sys.argv = ["saved_model_cli"] + argv
    try:
        saved_model_cli.main()
        statuses.append(0)
    except SystemExit as e:
        statuses.append(e.code or 0)
    except Exception as e:  # pylint: disable=broad-except
        print(f"saved_model_cli {{argv}}: {{type(e).__name__}}: {{e}}", file=sys.stderr)
        statuses.append(1)
print(json.dumps({{"statuses": statuses,
                  "tensorflow_text": "tensorflow_text" in sys.modules}}))
"""


def run_saved_model_cli(argv_lists, with_tensorflow_text, cwd):
    """Runs `saved_model_cli ARGV` for each list of `argv_lists` in one subprocess.

    Args:
      with_tensorflow_text: import tensorflow_text first (its ops registered, as in
        a model server built with them); False: it must never be imported.

    Returns:
      (exit statuses, whether tensorflow_text was imported, stderr).
    """
    imports = "import tensorflow_text" if with_tensorflow_text else ""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # Nothing of albert_tf is needed to serve.
    completed = subprocess.run(
        [sys.executable, "-c", _SAVED_MODEL_CLI.format(imports=imports),
         json.dumps(argv_lists)], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["statuses"], result["tensorflow_text"], completed.stderr
