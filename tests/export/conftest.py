"""Fixtures of the export tests: tiny checkpoints, lazy exports, one serving process."""

import types

import pytest

from . import export_test_helpers as helpers
from albert_tf.export import ExportParams, export_savedmodel
from albert_tf.tokenization import FullTokenizer


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """name -> (Keras model with random weights, its official checkpoint directory)."""
    return helpers.build_tiny_models(str(tmp_path_factory.mktemp("export_checkpoints")))


class _LazyExports:
    """name -> SavedModel directory, exported on first use."""

    def __init__(self, root, models, spm_model_file):
        self.root = root
        self.models = models
        self.spm_model_file = spm_model_file
        self.dirs = {}

    def __getitem__(self, name):
        if name not in self.dirs:
            kind, settings = helpers.EXPORTS[name]
            directory = str(self.root / name)
            export_savedmodel(ExportParams(
                model_kind=kind, export_dir=directory, spm_model_file=self.spm_model_file,
                init_checkpoint=self.models[name][1] if name in self.models else None,
                max_seq_length=helpers.MAX_SEQ_LENGTH, **settings))
            self.dirs[name] = directory
        return self.dirs[name]


@pytest.fixture(scope="session")
def exports(tiny_models, spm_model_file, tmp_path_factory):
    return _LazyExports(tmp_path_factory.mktemp("exports"), tiny_models, spm_model_file)


@pytest.fixture(scope="session")
def full_tokenizer(spm_model_file):
    return FullTokenizer(spm_model_file, do_lower_case=True)


@pytest.fixture(scope="session")
def served(exports, tiny_models, shared_data_dir, spm_model_file, full_tokenizer,
           tmp_path_factory):
    """Results of every registered call, made in one fresh serving process.

    Returns a namespace: outputs {key: {name: array}}, errors {key: message},
    show {export name: saved_model_cli text}, calls {key: call},
    new_keras_modules, albert_tf_imported.
    """
    ctx = types.SimpleNamespace(exports=exports, models=tiny_models,
                                shared_data_dir=shared_data_dir, spm_model_file=spm_model_file,
                                tokenizer=full_tokenizer)
    calls = []
    for builder in helpers.request_builders():
        calls.extend(builder(ctx))
    keys = [c["key"] for c in calls]
    assert len(keys) == len(set(keys)), "duplicate serving request keys"
    for call in calls:
        call["dir"] = exports[call["export"]]
    show = {name: exports[name] for name in sorted({c["export"] for c in calls})}
    results = helpers.run_serving_client(
        [{k: c[k] for k in ("key", "dir", "signature", "inputs")} for c in calls],
        sorted(show.values()), str(tmp_path_factory.mktemp("serving")))
    results["show"] = {name: results["show"][directory] for name, directory in show.items()}
    results["calls"] = {c["key"]: c for c in calls}
    return types.SimpleNamespace(**results)
