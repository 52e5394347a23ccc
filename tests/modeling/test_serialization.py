"""get_config -> from_config -> same outputs for every layer and model of albert_tf.modeling;
.keras save/load for the models; the masked-LM decoder tie across both."""

import importlib
import inspect
import pkgutil

import keras
import numpy as np
import pytest

import albert_tf.modeling
from albert_tf.modeling import layers as albert_layers
from albert_tf.modeling.encoder import AlbertEncoder
from albert_tf.modeling.heads import (AlbertMaskedLMHead, AlbertSquadSpanHead,
                                      AlbertSquadV2Head, OutputProjection)
from albert_tf.modeling.models import (AlbertClassifier, AlbertMultipleChoice,
                                       AlbertPretrainer, AlbertSquadV1, AlbertSquadV2)
from albert_tf.modeling.models import multiple_choice
from layer_test_case import (run_fit_predict_test, run_precision_test, run_saving_test,
                             run_sequence_length_test, run_serialization_test)
from tiny_config import tiny_config

B, T, H, E, V = 2, 7, 16, 8, 30
T2 = 5  # the second sequence length of the variable-length check


class Inputs:
    """The inputs of every case at sequence length `length`."""

    def __init__(self, length):
        rng = np.random.default_rng(0)
        self.hidden = rng.normal(size=(B, length, H)).astype(np.float32)
        self.mask = np.ones((B, length), np.int32)
        self.mask[1, length - 2:] = 0
        self.bias = albert_layers.attention_bias(self.mask)
        self.ids = rng.integers(0, V, (B, length)).astype(np.int32)
        self.segments = (np.arange(length)[None] >= 3).astype(np.int32).repeat(B, 0)
        self.p_mask = np.zeros((B, length), np.int32)
        self.p_mask[:, 1] = 1
        self.encoder = {"input_ids": self.ids, "input_mask": self.mask,
                        "segment_ids": self.segments}


X = Inputs(T)
HIDDEN, MASK, IDS, ENCODER_INPUTS = X.hidden, X.mask, X.ids, X.encoder
# Not the defaults, so that a dropped argument shows.
CONFIG = tiny_config(vocab_size=V, num_hidden_layers=3, num_hidden_groups=2, inner_group_num=2,
                     num_attention_heads=4, hidden_act="relu", initializer_range=0.05,
                     hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
IN_ENCODER_ARGUMENTS = ("config", "hidden_dropout_prob", "attention_probs_dropout_prob",
                        "use_one_hot_embeddings", "attention_implementation", "dtype")


def in_encoder(cls):
    """A model's encoder settings travel inside its serialised encoder."""
    return dict({name: "in the serialised encoder" for name in IN_ENCODER_ARGUMENTS
                 if name in inspect.signature(cls.__init__).parameters},
                encoder="serialised itself")


def embeddings_kwargs():
    return dict(vocab_size=V, embedding_size=E, max_position_embeddings=12, type_vocab_size=3,
                dropout_rate=0.2, initializer_range=0.05, use_one_hot_embeddings=True)


def transformer_layer_kwargs():
    return dict(hidden_size=H, num_attention_heads=4, intermediate_size=24, hidden_act="tanh",
                hidden_dropout_rate=0.2, attention_dropout_rate=0.3, initializer_range=0.05,
                attention_implementation="fused")


def choices(x):
    return np.stack([x, x[::-1]], axis=1)  # [B, 2 choices, T]


# class -> (kwargs factory, call, arguments carried elsewhere)
CASES = {
    albert_layers.AlbertEmbeddings: (
        embeddings_kwargs,
        lambda layer, x: layer(x.ids, x.segments, training=False), None),
    albert_layers.AlbertAttention: (
        lambda: dict(hidden_size=H, num_attention_heads=4, attention_dropout_rate=0.3,
                     output_dropout_rate=0.2, initializer_range=0.05,
                     attention_implementation="fused"),
        lambda layer, x: layer(x.hidden, bias=x.bias, training=False), None),
    albert_layers.AlbertTransformerLayer: (
        transformer_layer_kwargs,
        lambda layer, x: layer(x.hidden, bias=x.bias, training=False), None),
    albert_layers.AlbertTransformer: (
        lambda: dict(transformer_layer_kwargs(), num_hidden_layers=3, num_hidden_groups=2,
                     inner_group_num=2),
        lambda layer, x: layer(x.hidden, bias=x.bias, training=False), None),
    OutputProjection: (
        lambda: dict(units=3, initializer_range=0.05, use_bias=False),
        lambda layer, x: layer(x.hidden), None),
    AlbertMaskedLMHead: (
        lambda: dict(vocab_size=V, embedding_size=E, hidden_act="relu", initializer_range=0.05,
                     embeddings=albert_layers.AlbertEmbeddings(**embeddings_kwargs())),
        lambda layer, x: layer(x.hidden, np.array([[0, 3], [4, 2]], np.int32)), None),
    AlbertSquadSpanHead: (
        lambda: dict(initializer_range=0.05),
        lambda layer, x: layer(x.hidden), None),
    AlbertSquadV2Head: (
        lambda: dict(hidden_size=H, start_n_top=3, end_n_top=2, dropout_prob=0.3,
                     initializer_range=0.05),
        lambda layer, x: (layer(x.hidden, x.p_mask),
                          layer(x.hidden, x.p_mask, np.array([2, 4]))),
        None),
    multiple_choice._FoldChoices: (
        dict, lambda layer, x: layer(choices(x.ids)), None),
    multiple_choice._UnfoldChoices: (
        lambda: dict(num_choices=3), lambda layer, x: layer(x.hidden[:, :3, :1].reshape(-1, 1)),
        None),
    AlbertEncoder: (
        lambda: dict(config=CONFIG, hidden_dropout_prob=0.05, attention_probs_dropout_prob=0.0,
                     use_one_hot_embeddings=True, attention_implementation="fused"),
        lambda model, x: model(x.encoder), None),
    AlbertPretrainer: (
        lambda: dict(config=CONFIG, hidden_dropout_prob=0.05, use_one_hot_embeddings=True,
                     attention_implementation="fused"),
        lambda model, x: model(dict(x.encoder,
                                    masked_lm_positions=np.array([[1, 4], [0, 2]], np.int32))),
        in_encoder),
    AlbertClassifier: (
        lambda: dict(config=CONFIG, num_labels=3, dropout_prob=0.2, hidden_dropout_prob=0.05),
        lambda model, x: model(x.encoder), in_encoder),
    AlbertMultipleChoice: (
        lambda: dict(config=CONFIG, num_choices=2, dropout_prob=0.2,
                     attention_probs_dropout_prob=0.0),
        lambda model, x: model({k: choices(v) for k, v in x.encoder.items()}),
        in_encoder),
    AlbertSquadV1: (
        lambda: dict(config=CONFIG, hidden_dropout_prob=0.05),
        lambda model, x: model(x.encoder), in_encoder),
    AlbertSquadV2: (
        lambda: dict(config=CONFIG, start_n_top=3, end_n_top=2, dropout_prob=0.3),
        lambda model, x: (model(dict(x.encoder, p_mask=x.p_mask)),
                          model(dict(x.encoder, p_mask=x.p_mask,
                                     start_positions=np.array([2, 3], np.int32)))),
        in_encoder),
}
MODELS = [cls for cls in CASES if issubclass(cls, keras.Model)]
NO_SEQUENCE = {multiple_choice._UnfoldChoices: "folds [batch * choices, 1] rows"}


def at(call, x):
    """A case's `call(layer, x)` at fixed inputs: `fn(layer)` for the harness."""
    return lambda layer: call(layer, x)


def precision_kwargs(cls):
    """`fn(dtype)` -> the case's kwargs under `dtype` (a passed-in embeddings layer too)."""
    make_kwargs = CASES[cls][0]

    def kwargs(dtype):
        result = dict(make_kwargs(), dtype=dtype)
        if "embeddings" in result:
            result["embeddings"] = albert_layers.AlbertEmbeddings(**embeddings_kwargs(),
                                                                  dtype=dtype)
        return result

    return kwargs


def modeling_classes():
    """Every Layer/Model subclass defined in albert_tf.modeling."""
    found = set()
    for info in pkgutil.walk_packages(albert_tf.modeling.__path__, "albert_tf.modeling."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, keras.layers.Layer) and obj.__module__ == module.__name__:
                found.add(obj)
    return found


def test_every_layer_and_model_has_a_case():
    assert modeling_classes() == set(CASES)


def test_every_layer_and_model_is_registered():
    for cls in CASES:
        name = keras.saving.get_registered_name(cls)
        assert name == f"albert_tf>{cls.__name__}"
        assert keras.saving.get_registered_object(name) is cls


@pytest.mark.parametrize("cls", list(CASES), ids=lambda cls: cls.__name__)
def test_config_round_trip_gives_the_same_outputs(cls):
    make_kwargs, call, carried_by = CASES[cls]
    carried_by = carried_by(cls) if callable(carried_by) else carried_by
    keras.utils.set_random_seed(1)
    run_serialization_test(cls, make_kwargs(), at(call, X), carried_by=carried_by)


@pytest.mark.parametrize("cls", [albert_layers.AlbertTransformerLayer, AlbertClassifier],
                         ids=lambda cls: cls.__name__)
def test_mixed_precision_policy_survives_the_round_trip(cls):
    make_kwargs, call, carried_by = CASES[cls]
    carried_by = carried_by(cls) if callable(carried_by) else carried_by
    original, revived = run_serialization_test(cls, dict(make_kwargs(), dtype="mixed_bfloat16"),
                                               at(call, X), carried_by=carried_by)
    for layer in (original, revived):
        inner = layer.encoder.pooler if cls is AlbertClassifier else layer.intermediate_dense
        assert inner.dtype_policy.name == "mixed_bfloat16"


@pytest.mark.parametrize("cls", list(CASES), ids=lambda cls: cls.__name__)
def test_mixed_bfloat16_computes_in_bfloat16_with_float32_norms_and_variables(cls):
    keras.utils.set_random_seed(1)
    run_precision_test(cls, precision_kwargs(cls), at(CASES[cls][1], X))


@pytest.mark.parametrize("cls", [cls for cls in CASES if cls not in NO_SEQUENCE],
                         ids=lambda cls: cls.__name__)
def test_one_instance_takes_two_sequence_lengths(cls):
    make_kwargs, call, _ = CASES[cls]
    keras.utils.set_random_seed(1)
    run_sequence_length_test(cls(**make_kwargs()), lambda layer, length: call(
        layer, Inputs(length)), lengths=(T, T2))


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_predict_and_fit_on_a_tf_data_dataset(cls):
    make_kwargs, call, _ = CASES[cls]
    keras.utils.set_random_seed(1)
    captured = {}
    call(_Recorder(captured), X)  # the model's input structure, as the case builds it
    run_fit_predict_test(cls(**make_kwargs()), captured["inputs"])


class _Recorder:
    """Stands in for a model in a case's call and keeps the inputs of its first call."""

    def __init__(self, captured):
        self._captured = captured

    def __call__(self, inputs, *args, **kwargs):
        self._captured.setdefault("inputs", inputs)
        return None


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_keras_file_round_trip(cls, tmp_path):
    make_kwargs, call, _ = CASES[cls]
    run_saving_test(cls(**make_kwargs()), at(call, X), tmp_path / "model.keras")


def test_masked_lm_head_alone_revives_with_its_own_copy_of_the_decoder():
    head = AlbertMaskedLMHead(V, E, embeddings=albert_layers.AlbertEmbeddings(V, E))
    head(HIDDEN, np.zeros((B, 1), np.int32))
    revived = AlbertMaskedLMHead.from_config(head.get_config())
    assert isinstance(revived.embeddings, albert_layers.AlbertEmbeddings)
    assert revived.embeddings is not head.embeddings
    assert revived.embeddings.get_config() == head.embeddings.get_config()
    # Without embeddings the head says what it lacks rather than computing nonsense.
    untied = AlbertMaskedLMHead.from_config(dict(head.get_config(), embeddings=None))
    with pytest.raises(ValueError, match="needs the encoder's embeddings layer"):
        untied(HIDDEN, np.zeros((B, 1), np.int32))


def mlm_logits(model):
    inputs = dict(ENCODER_INPUTS, masked_lm_positions=np.array([[1, 4], [0, 2]], np.int32))
    return np.asarray(model(inputs)["mlm_logits"])


def assert_decoder_is_the_word_embeddings(model):
    assert model.masked_lm.embeddings is model.encoder.embeddings
    table = model.encoder.embeddings.word_embeddings
    # One table: moving it moves the MLM logits by the independent x @ delta^T.
    before = mlm_logits(model)
    delta = np.zeros(table.shape, np.float32)
    delta[5] = np.arange(1, delta.shape[1] + 1)  # not constant: LayerNorm output sums to 0
    table.assign(np.asarray(table) + delta)
    after = mlm_logits(model)
    changed = np.nonzero(np.any(np.abs(after - before) > 1e-6, axis=(0, 1)))[0].tolist()
    assert changed == [5]
    assert sum(w is table for w in model.weights) == 1


def test_pretrainer_rebuilds_the_tie_after_from_config_and_keras_load(tmp_path):
    model = AlbertPretrainer(CONFIG)
    mlm_logits(model)
    assert_decoder_is_the_word_embeddings(model)
    clone = AlbertPretrainer.from_config(model.get_config())
    mlm_logits(clone)
    assert_decoder_is_the_word_embeddings(clone)
    model.save(tmp_path / "pretrainer.keras")
    loaded = keras.saving.load_model(tmp_path / "pretrainer.keras", compile=False)
    np.testing.assert_array_equal(np.asarray(loaded.encoder.embeddings.word_embeddings),
                                  np.asarray(model.encoder.embeddings.word_embeddings))
    assert_decoder_is_the_word_embeddings(loaded)
