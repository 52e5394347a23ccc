"""keras-hub presets in and out, checked with keras-hub itself (TensorFlow backend)."""

import json
import logging
import os

import numpy as np
import pytest

import albert_tf
from albert_tf.checkpoints import convert_checkpoint, list_official_variables
from albert_tf.modeling.models import AlbertClassifier
from albert_reference import random_official_weights, write_tf1_checkpoint
from .interop_helpers import CFG, padded_inputs, random_array

keras_hub = pytest.importorskip("keras_hub")

ATOL = 1e-4


def backbone_kwargs(cfg):
    return dict(vocabulary_size=cfg["vocab_size"], num_layers=cfg["num_hidden_layers"],
                num_heads=cfg["num_attention_heads"], num_groups=cfg["num_hidden_groups"],
                num_inner_repetitions=cfg["inner_group_num"],
                embedding_dim=cfg["embedding_size"], hidden_dim=cfg["hidden_size"],
                intermediate_dim=cfg["intermediate_size"],
                max_sequence_length=cfg["max_position_embeddings"],
                num_segments=cfg["type_vocab_size"])


def randomise(model, seed):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        name = variable.path + ("gamma" if "norm" in variable.path and
                                variable.path.endswith("gamma") else "")
        variable.assign(random_array(rng, tuple(variable.shape), name))
    return model


def keras_hub_inputs(ids, mask, segments):
    return {"token_ids": ids, "segment_ids": segments, "padding_mask": mask}


def ours(model, ids, mask, segments, **extra):
    out = model(dict(input_ids=ids, input_mask=mask, segment_ids=segments, **extra),
                training=False)
    return {k: np.asarray(v) for k, v in out.items() if not isinstance(v, list)}


def assert_backbone_outputs_match(backbone, encoder):
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"])
    want = backbone(keras_hub_inputs(ids, mask, segments), training=False)
    got = ours(encoder, ids, mask, segments)
    np.testing.assert_allclose(got["sequence_output"], np.asarray(want["sequence_output"]),
                               atol=ATOL)
    np.testing.assert_allclose(got["pooled_output"], np.asarray(want["pooled_output"]),
                               atol=ATOL)


def test_keras_hub_masked_lm_preset_loads_with_same_outputs(tmp_path):
    backbone = randomise(keras_hub.models.AlbertBackbone(**backbone_kwargs(CFG)), seed=0)
    task = keras_hub.models.AlbertMaskedLM(backbone, preprocessor=None)
    randomise(task, seed=1)
    task.save_to_preset(str(tmp_path / "preset"))
    model = albert_tf.load_pretrained(str(tmp_path / "preset"))
    assert isinstance(model, albert_tf.AlbertPretrainer)
    assert_backbone_outputs_match(task.backbone, model.encoder)
    ids, mask, segments, positions = padded_inputs(CFG["vocab_size"])
    want = task(dict(keras_hub_inputs(ids, mask, segments), mask_positions=positions))
    got = ours(model, ids, mask, segments, masked_lm_positions=positions)
    # keras-hub's MLM LayerNorm uses epsilon 1e-5 (official 1e-12): the logits agree
    # to what that difference allows at these activations.
    np.testing.assert_allclose(got["mlm_logits"], np.asarray(want), atol=ATOL)


def test_keras_hub_classifier_preset_loads_with_same_outputs(tmp_path):
    backbone = keras_hub.models.AlbertBackbone(**backbone_kwargs(CFG))
    task = keras_hub.models.AlbertTextClassifier(backbone, num_classes=3, preprocessor=None,
                                                 dropout=0.2)
    randomise(task, seed=2)
    task.save_to_preset(str(tmp_path / "preset"))
    model = albert_tf.load_pretrained(str(tmp_path / "preset"))
    assert isinstance(model, AlbertClassifier)
    assert (model.num_labels, model.dropout_prob) == (3, 0.2)
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"])
    want = task(keras_hub_inputs(ids, mask, segments))
    np.testing.assert_allclose(ours(model, ids, mask, segments)["logits"], np.asarray(want),
                               atol=ATOL)


def test_our_models_load_in_keras_hub_with_same_outputs(tmp_path, spm_model_file):
    model = albert_tf.AlbertPretrainer(CFG)
    randomise(model, seed=3)
    albert_tf.save_pretrained(model, str(tmp_path / "preset"), format="keras_hub",
                              spm_model_file=spm_model_file)
    backbone = keras_hub.models.AlbertBackbone.from_preset(str(tmp_path / "preset"))
    assert_backbone_outputs_match(backbone, model.encoder)
    task = keras_hub.models.AlbertMaskedLM.from_preset(str(tmp_path / "preset"),
                                                       preprocessor=None)
    ids, mask, segments, positions = padded_inputs(CFG["vocab_size"])
    np.testing.assert_allclose(
        ours(model, ids, mask, segments, masked_lm_positions=positions)["mlm_logits"],
        np.asarray(task(dict(keras_hub_inputs(ids, mask, segments), mask_positions=positions))),
        atol=ATOL)
    tokenizer = keras_hub.models.AlbertTokenizer.from_preset(str(tmp_path / "preset"))
    # Ids of transformers' albert-base-v2 test for "This is a test" (lower-cased first,
    # as the official preprocessing does; keras-hub's tokenizer does not lower-case).
    assert np.asarray(tokenizer("this is a test")).tolist() == [48, 25, 21, 1289]

    classifier = AlbertClassifier(CFG, num_labels=3)
    randomise(classifier, seed=4)
    albert_tf.save_pretrained(classifier, str(tmp_path / "classifier"), format="keras_hub")
    task = keras_hub.models.AlbertTextClassifier.from_preset(str(tmp_path / "classifier"),
                                                             preprocessor=None)
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"])
    np.testing.assert_allclose(ours(classifier, ids, mask, segments)["logits"],
                               np.asarray(task(keras_hub_inputs(ids, mask, segments))),
                               atol=ATOL)


def test_configs_keras_hub_cannot_hold_are_refused(tmp_path):
    cfg = dict(CFG, num_hidden_layers=3, num_hidden_groups=2, inner_group_num=1)
    with pytest.raises(ValueError, match=r"num_hidden_layers \(3\) divisible by "
                                         r"num_hidden_groups \(2\)"):
        albert_tf.save_pretrained(albert_tf.AlbertPretrainer(cfg), str(tmp_path / "o"),
                                  format="keras_hub")
    assert not os.path.exists(tmp_path / "o")
    # Divisible, but the official float rule skips group 15 where keras-hub runs it.
    cfg = dict(CFG, num_hidden_layers=22, num_hidden_groups=22, inner_group_num=1)
    with pytest.raises(ValueError, match=r"keras-hub runs layers \[15\] from other groups"):
        albert_tf.save_pretrained(albert_tf.AlbertPretrainer(cfg), str(tmp_path / "o"),
                                  format="keras_hub")


def test_official_to_keras_hub_to_official_is_bit_exact_and_names_what_is_lost(tmp_path,
                                                                              caplog):
    weights = random_official_weights(CFG, seed=5)
    os.makedirs(tmp_path / "official")
    write_tf1_checkpoint(str(tmp_path / "official" / "model.ckpt-best"), weights)
    (tmp_path / "official" / "albert_config.json").write_text(json.dumps(CFG))
    with caplog.at_level(logging.WARNING):
        dropped = convert_checkpoint(str(tmp_path / "official"), str(tmp_path / "kh"),
                                     "keras_hub")
    assert dropped == ["cls/seq_relationship/output_bias",
                       "cls/seq_relationship/output_weights"]
    assert "cls/seq_relationship/output_weights" in caplog.text
    convert_checkpoint(str(tmp_path / "kh"), str(tmp_path / "back"), "official")
    import tensorflow as tf

    prefix = str(tmp_path / "back" / "model.ckpt-best")
    encoder = {n: v for n, v in weights.items() if not n.startswith("cls/seq_relationship")}
    assert set(list_official_variables(prefix)) == set(encoder)
    reader = tf.train.load_checkpoint(prefix)
    for name, value in encoder.items():
        np.testing.assert_array_equal(reader.get_tensor(name), value, err_msg=name)


def test_every_config_field_keras_hub_holds_maps_both_ways(tmp_path):
    cfg = dict(CFG, vocab_size=41, num_hidden_layers=6, num_hidden_groups=3, inner_group_num=1,
               hidden_dropout_prob=0.15, attention_probs_dropout_prob=0.15,
               max_position_embeddings=24, type_vocab_size=3)
    albert_tf.save_pretrained(albert_tf.AlbertPretrainer(cfg), str(tmp_path / "kh"),
                              format="keras_hub")
    backbone = keras_hub.models.AlbertBackbone.from_preset(str(tmp_path / "kh"))
    assert backbone_kwargs(cfg) == {k: getattr(backbone, k) for k in backbone_kwargs(cfg)}
    assert backbone.dropout == 0.15
    back = albert_tf.checkpoints.read_pretrained(str(tmp_path / "kh")).config
    assert back.to_dict() == cfg


def test_equal_widths_keep_the_identity_projection_keras_hub_always_has(tmp_path):
    cfg = dict(CFG, embedding_size=12, num_hidden_groups=1, inner_group_num=1)
    model = randomise(albert_tf.AlbertPretrainer(cfg), seed=6)
    albert_tf.save_pretrained(model, str(tmp_path / "kh"), format="keras_hub")
    backbone = keras_hub.models.AlbertBackbone.from_preset(str(tmp_path / "kh"))
    assert_backbone_outputs_match(backbone, model.encoder)
    back = albert_tf.load_pretrained(str(tmp_path / "kh"))
    for name in ("bert/embeddings/word_embeddings", "bert/pooler/dense/kernel"):
        np.testing.assert_array_equal(
            np.asarray(albert_tf.checkpoints.official_variable_map(back)[name]),
            np.asarray(albert_tf.checkpoints.official_variable_map(model)[name]))


def test_keras_hub_preset_converts_to_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    backbone = randomise(keras_hub.models.AlbertBackbone(**backbone_kwargs(CFG)), seed=7)
    backbone.save_to_preset(str(tmp_path / "kh"))
    convert_checkpoint(str(tmp_path / "kh"), str(tmp_path / "hf"), "hf")
    # A backbone has no heads: it becomes transformers' AlbertModel.
    assert json.loads((tmp_path / "hf" / "config.json").read_text())["architectures"] == \
        ["AlbertModel"]
    hf_model = transformers.AlbertModel.from_pretrained(str(tmp_path / "hf")).eval()
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"])
    with torch.no_grad():
        out = hf_model(input_ids=torch.from_numpy(ids.astype(np.int64)),
                       attention_mask=torch.from_numpy(mask.astype(np.int64)),
                       token_type_ids=torch.from_numpy(segments.astype(np.int64)))
    want = backbone(keras_hub_inputs(ids, mask, segments))
    np.testing.assert_allclose(out.last_hidden_state.numpy(),
                               np.asarray(want["sequence_output"]), atol=ATOL)
    np.testing.assert_allclose(out.pooler_output.numpy(), np.asarray(want["pooled_output"]),
                               atol=ATOL)


def test_our_presets_take_raw_text_in_keras_hub(tmp_path, spm_model_file):
    """preprocessor.json + tokenizer assets: `from_preset(dir).predict(["text"])` works,
    packing to the model's positions (64 here), not keras-hub's default 512."""
    from albert_tf.text import AlbertTextPreprocessor, TextClassifier

    cfg = dict(CFG, vocab_size=30000, max_position_embeddings=64)
    classifier = AlbertClassifier(cfg, num_labels=2, label_list=["neg", "pos"])
    randomise(classifier, seed=5)
    albert_tf.save_pretrained(classifier, str(tmp_path / "classifier"), format="keras_hub",
                              spm_model_file=spm_model_file)
    task = keras_hub.models.AlbertTextClassifier.from_preset(str(tmp_path / "classifier"))
    assert task.preprocessor.sequence_length == 64
    # Lower case already: keras-hub's tokenizer does not lower-case as official ALBERT does.
    texts = ["this is a test", "a gripping, funny film", "dull and far too long " * 20]
    ours_text = TextClassifier(classifier, AlbertTextPreprocessor(spm_model_file,
                                                                  max_seq_length=64))
    np.testing.assert_allclose(task.predict(texts, verbose=0),
                               ours_text.predict(texts, verbose=0), atol=ATOL)

    pretrainer = albert_tf.AlbertPretrainer(cfg)
    randomise(pretrainer, seed=6)
    albert_tf.save_pretrained(pretrainer, str(tmp_path / "pretrained"), format="keras_hub",
                              spm_model_file=spm_model_file)
    fine_tune = keras_hub.models.AlbertTextClassifier.from_preset(
        str(tmp_path / "pretrained"), num_classes=2)
    assert fine_tune.preprocessor.sequence_length == 64
    assert fine_tune.predict(texts, verbose=0).shape == (3, 2)
    masked_lm = keras_hub.models.AlbertMaskedLM.from_preset(str(tmp_path / "pretrained"))
    assert masked_lm.preprocessor.sequence_length == 64
    assert masked_lm.predict(["this is a [MASK]"], verbose=0).shape[-1] == 30000
