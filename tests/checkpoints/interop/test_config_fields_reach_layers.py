"""Every config field a reader maps reaches the layers of the model it builds.

A reader that read a field into `AlbertConfig` but built the model without it (or a
model that ignored it) would pass a config round trip, so each case here writes a
config with NON-default values (dropouts, classifier dropout, initializer_range) in
one format, loads a model from it and looks at the built layers: the rate of every
Dropout, the epsilon of every LayerNormalization, the stddev of every initializer.
Our writers' files are read back by transformers and keras-hub themselves.
"""

import json

import keras
import pytest

import albert_tf
from albert_tf import AlbertConfig, save_official_checkpoint
from albert_tf.modeling.models import AlbertClassifier
from .interop_helpers import CFG

# None of these is a default of any format (official 0 / 0 / 0.02, transformers 0 /
# 0 / 0.02 / classifier 0.1, keras-hub 0 / classifier 0).
HIDDEN, ATTENTION, CLASSIFIER, INIT = 0.15, 0.05, 0.35, 0.07
FIELDS = dict(CFG, hidden_dropout_prob=HIDDEN, attention_probs_dropout_prob=ATTENTION,
              initializer_range=INIT)
# Dropout layer name -> the config field whose rate it must have.
HIDDEN_DROPOUTS = ("dropout", "output_dropout", "ffn_dropout")  # embeddings, attention, FFN
OFFICIAL_EPSILON = 1e-12


def carried(model):
    """{"dropout": {layer name: {rates}}, "epsilon": {...}, "stddev": {...}} of `model`."""
    rates, epsilons, stddevs = {}, set(), {}
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, keras.layers.Dropout):
            rates.setdefault(layer.name, set()).add(layer.rate)
        if isinstance(layer, keras.layers.LayerNormalization):
            epsilons.add(layer.epsilon)
        initializer = getattr(layer, "kernel_initializer", None)
        if initializer is not None:
            stddevs.setdefault(layer.name, set()).add(initializer.stddev)
        if hasattr(layer, "initializer_range"):  # Embedding tables, output projections.
            stddevs.setdefault(layer.name, set()).add(layer.initializer_range)
    return {"dropout": rates, "epsilon": epsilons, "stddev": stddevs}


def assert_carries(model, hidden, attention, classifier, init=INIT):
    got = carried(model)
    for name in HIDDEN_DROPOUTS:
        assert got["dropout"].pop(name) == {hidden}, name
    assert got["dropout"].pop("attention_dropout") == {attention}
    assert got["dropout"] == {"classifier_dropout": {classifier}}
    assert got["epsilon"] == {OFFICIAL_EPSILON}
    # Official `classifier_utils.create_model` draws its head with 0.02 whatever the
    # config says; everything else with initializer_range.
    assert got["stddev"].pop("classifier") == {0.02}
    assert set().union(*got["stddev"].values()) == {init}


def classifier(cfg=FIELDS, dropout_prob=CLASSIFIER):
    return AlbertClassifier(AlbertConfig(**cfg), num_labels=3, dropout_prob=dropout_prob)


def test_the_fields_differ_from_every_default():
    assert AlbertClassifier(AlbertConfig(vocab_size=5, hidden_size=8,
                                         num_attention_heads=2)).dropout_prob != CLASSIFIER
    assert {HIDDEN, ATTENTION} & {0.0, 0.1} == set() and INIT != 0.02


def test_official_albert_config_json(tmp_path):
    # Written by hand, as a user edits one, not by AlbertConfig.
    (tmp_path / "albert_config.json").write_text(json.dumps(FIELDS))
    save_official_checkpoint(classifier(CFG), str(tmp_path / "model.ckpt-1"))
    # The official format holds no classifier dropout: the fine-tuning flag gives it.
    model = albert_tf.load_pretrained(str(tmp_path), dropout_prob=CLASSIFIER)
    assert isinstance(model, AlbertClassifier)
    assert_carries(model, HIDDEN, ATTENTION, CLASSIFIER)
    assert_carries(albert_tf.load_pretrained(str(tmp_path / "model.ckpt-1"),
                                             config=str(tmp_path / "albert_config.json")),
                   HIDDEN, ATTENTION, 0.1)  # AlbertClassifier's default (official 0.1).


def test_keras_file(tmp_path):
    path = str(tmp_path / "model.keras")
    classifier().save(path)
    assert_carries(albert_tf.load_pretrained(path), HIDDEN, ATTENTION, CLASSIFIER)
    assert_carries(albert_tf.load_pretrained(path, task="classifier"), HIDDEN, ATTENTION,
                   CLASSIFIER)


def test_transformers_config_json_both_ways(tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    # Written by transformers: every field it maps is read into the layers.
    values = {k: v for k, v in FIELDS.items() if k != "hidden_act"}
    hf_config = transformers.AlbertConfig(hidden_act="gelu_new", layer_norm_eps=1e-12,
                                          classifier_dropout_prob=CLASSIFIER, num_labels=3,
                                          **values)
    transformers.AlbertForSequenceClassification(hf_config).save_pretrained(tmp_path / "hf")
    assert_carries(albert_tf.load_pretrained(str(tmp_path / "hf")), HIDDEN, ATTENTION,
                   CLASSIFIER)
    # Written by us: transformers reads every field back.
    albert_tf.save_pretrained(classifier(), str(tmp_path / "ours"), format="hf")
    back = transformers.AlbertConfig.from_pretrained(str(tmp_path / "ours"))
    assert (back.hidden_dropout_prob, back.attention_probs_dropout_prob,
            back.classifier_dropout_prob, back.initializer_range, back.layer_norm_eps) == (
        HIDDEN, ATTENTION, CLASSIFIER, INIT, OFFICIAL_EPSILON)
    hf_model = transformers.AlbertForSequenceClassification.from_pretrained(
        str(tmp_path / "ours"))
    assert hf_model.dropout.p == CLASSIFIER
    assert hf_model.albert.embeddings.LayerNorm.eps == OFFICIAL_EPSILON
    assert_carries(albert_tf.load_pretrained(str(tmp_path / "ours")), HIDDEN, ATTENTION,
                   CLASSIFIER)


def test_transformers_layer_norm_eps_other_than_official_is_refused(tmp_path):
    albert_tf.save_pretrained(classifier(), str(tmp_path / "hf"), format="hf")
    path = tmp_path / "hf" / "config.json"
    values = json.loads(path.read_text())
    values["layer_norm_eps"] = 1e-5
    path.write_text(json.dumps(values))
    # No model of albert_tf normalises with another epsilon: refused, not dropped.
    with pytest.raises(ValueError, match=r"config\.json: layer_norm_eps must be 1e-12.*1e-05"):
        albert_tf.load_pretrained(str(tmp_path / "hf"))
    with pytest.raises(ValueError, match=r"config\.json: layer_norm_eps must be 1e-12"):
        albert_tf.checkpoints.read_config(str(path))


def test_keras_hub_preset_both_ways(tmp_path):
    keras_hub = pytest.importorskip("keras_hub")
    # keras-hub has one dropout rate (both of ours) and no initializer_range (its
    # AlbertBackbone always initialises with 0.02).
    one_rate = dict(FIELDS, attention_probs_dropout_prob=HIDDEN, initializer_range=0.02)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=CFG["vocab_size"], num_layers=CFG["num_hidden_layers"],
        num_heads=CFG["num_attention_heads"], num_groups=CFG["num_hidden_groups"],
        num_inner_repetitions=CFG["inner_group_num"], embedding_dim=CFG["embedding_size"],
        hidden_dim=CFG["hidden_size"], intermediate_dim=CFG["intermediate_size"],
        max_sequence_length=CFG["max_position_embeddings"],
        num_segments=CFG["type_vocab_size"], dropout=HIDDEN)
    keras_hub.models.AlbertTextClassifier(backbone, num_classes=3, preprocessor=None,
                                          dropout=CLASSIFIER).save_to_preset(
        str(tmp_path / "kh"))
    assert_carries(albert_tf.load_pretrained(str(tmp_path / "kh")), HIDDEN, HIDDEN,
                   CLASSIFIER, init=0.02)
    assert albert_tf.checkpoints.read_config(str(tmp_path / "kh")).to_dict() == one_rate
    # Written by us: keras-hub reads the rates back.
    albert_tf.save_pretrained(classifier(one_rate), str(tmp_path / "ours"),
                              format="keras_hub")
    task = keras_hub.models.AlbertTextClassifier.from_preset(str(tmp_path / "ours"),
                                                             preprocessor=None)
    assert (task.backbone.dropout, task.dropout) == (HIDDEN, CLASSIFIER)
    assert {layer.rate for layer in task._flatten_layers(recursive=True)
            if isinstance(layer, keras.layers.Dropout)} == {HIDDEN, CLASSIFIER}
    assert_carries(albert_tf.load_pretrained(str(tmp_path / "ours")), HIDDEN, HIDDEN,
                   CLASSIFIER, init=0.02)


def test_a_config_given_beside_any_checkpoint(tmp_path):
    """`--albert_config_file` / `config=`: a transformers config.json builds the model."""
    save_official_checkpoint(classifier(CFG), str(tmp_path / "model.ckpt-1"))
    albert_tf.save_pretrained(classifier(), str(tmp_path / "hf"), format="hf")
    model = albert_tf.load_pretrained(str(tmp_path / "model.ckpt-1"),
                                      config=str(tmp_path / "hf" / "config.json"),
                                      dropout_prob=CLASSIFIER)
    assert_carries(model, HIDDEN, ATTENTION, CLASSIFIER)
