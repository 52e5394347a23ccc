"""Hugging Face transformers checkpoints in and out, checked with transformers itself."""

import json
import os

import numpy as np
import pytest

import albert_tf
from albert_tf.checkpoints import convert_checkpoint, list_official_variables
from albert_tf.modeling.models import (AlbertClassifier, AlbertMultipleChoice, AlbertSquadV1,
                                       AlbertSquadV2)
from albert_reference import random_official_weights, write_tf1_checkpoint
from .interop_helpers import CFG, padded_inputs, random_array

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ATOL = 1e-4


def hf_config(cfg, **extra):
    values = {k: v for k, v in cfg.items() if k != "hidden_act"}
    return transformers.AlbertConfig(hidden_act="gelu_new", layer_norm_eps=1e-12,
                                     classifier_dropout_prob=0.0, **values, **extra)


def randomise(model, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.from_numpy(random_array(rng, tuple(parameter.shape), name)))
    model.tie_weights()
    return model.eval()


def torch_inputs(ids, mask, segments):
    return dict(input_ids=torch.from_numpy(ids.astype(np.int64)),
                attention_mask=torch.from_numpy(mask.astype(np.int64)),
                token_type_ids=torch.from_numpy(segments.astype(np.int64)))


def ours(model, ids, mask, segments, **extra):
    out = model(dict(input_ids=ids, input_mask=mask, segment_ids=segments, **extra),
                training=False)
    return {k: np.asarray(v) for k, v in out.items() if not isinstance(v, list)}


def assert_pretraining_outputs_match(hf_model, our_model):
    ids, mask, segments, positions = padded_inputs(CFG["vocab_size"])
    with torch.no_grad():
        hf_out = hf_model(**torch_inputs(ids, mask, segments), output_hidden_states=True)
        base = hf_model.albert(**torch_inputs(ids, mask, segments))
    got = ours(our_model, ids, mask, segments, masked_lm_positions=positions)
    encoded = ours(our_model.encoder, ids, mask, segments)
    np.testing.assert_allclose(encoded["sequence_output"], base.last_hidden_state.numpy(),
                               atol=ATOL)
    np.testing.assert_allclose(encoded["pooled_output"], base.pooler_output.numpy(), atol=ATOL)
    hf_mlm = np.take_along_axis(hf_out.prediction_logits.numpy(), positions[:, :, None], 1)
    np.testing.assert_allclose(got["mlm_logits"], hf_mlm, atol=ATOL)
    np.testing.assert_allclose(got["sop_logits"], hf_out.sop_logits.numpy(), atol=ATOL)


def test_transformers_pretraining_checkpoint_loads_with_same_outputs(tmp_path):
    hf_model = randomise(transformers.AlbertForPreTraining(hf_config(CFG)))
    hf_model.save_pretrained(tmp_path / "hf")
    model = albert_tf.load_pretrained(str(tmp_path / "hf"))
    assert isinstance(model, albert_tf.AlbertPretrainer)
    assert model.albert_config.hidden_act == "gelu"
    assert_pretraining_outputs_match(hf_model, model)


def test_our_pretrainer_loads_in_transformers_with_same_outputs(tmp_path):
    model = albert_tf.AlbertPretrainer(CFG)
    for variable, value in zip(model.weights, _random_like(model.weights)):
        variable.assign(value)
    albert_tf.save_pretrained(model, str(tmp_path / "hf"), format="hf")
    hf_model = transformers.AlbertForPreTraining.from_pretrained(str(tmp_path / "hf")).eval()
    assert hf_model.config.hidden_act == "gelu_new"
    assert_pretraining_outputs_match(hf_model, model)
    # The encoder alone, as most users load it.
    base = transformers.AlbertModel.from_pretrained(str(tmp_path / "hf")).eval()
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"])
    with torch.no_grad():
        out = base(**torch_inputs(ids, mask, segments))
    np.testing.assert_allclose(ours(model.encoder, ids, mask, segments)["pooled_output"],
                               out.pooler_output.numpy(), atol=ATOL)


def _random_like(variables, seed=1):
    rng = np.random.default_rng(seed)
    return [random_array(rng, tuple(v.shape), v.path) for v in variables]


TASKS = {
    # name: (our class and kwargs, transformers class and config extras)
    "classifier": (AlbertClassifier, dict(num_labels=3),
                   "AlbertForSequenceClassification", dict(num_labels=3)),
    "multiple_choice": (AlbertMultipleChoice, dict(num_choices=2),
                        "AlbertForMultipleChoice", {}),
    "squad_v1": (AlbertSquadV1, {}, "AlbertForQuestionAnswering", dict(num_labels=2)),
}


def _task_outputs(task, hf_model, model):
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"], batch=2)
    if task == "multiple_choice":  # [batch, choices, seq_len]
        ids, mask, segments = (np.stack([a, a[::-1]]) for a in (ids, mask, segments))
    with torch.no_grad():
        hf_out = hf_model(**torch_inputs(ids, mask, segments))
    got = ours(model, ids, mask, segments)
    if task == "squad_v1":
        return ((got["start_logits"], hf_out.start_logits.numpy()),
                (got["end_logits"], hf_out.end_logits.numpy()))
    return ((got["logits"], hf_out.logits.numpy()),)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_task_heads_both_ways(tmp_path, task):
    our_class, our_kwargs, hf_class, hf_extra = TASKS[task]
    hf_model = randomise(getattr(transformers, hf_class)(hf_config(CFG, **hf_extra)), seed=2)
    hf_model.save_pretrained(tmp_path / "from_hf")
    model = albert_tf.load_pretrained(str(tmp_path / "from_hf"),
                                      task="multiple_choice" if task == "multiple_choice"
                                      else None, num_choices=2)
    assert isinstance(model, our_class)
    for got, want in _task_outputs(task, hf_model, model):
        np.testing.assert_allclose(got, want, atol=ATOL)

    mine = our_class(CFG, **our_kwargs)
    for variable, value in zip(mine.weights, _random_like(mine.weights, seed=3)):
        variable.assign(value)
    albert_tf.save_pretrained(mine, str(tmp_path / "to_hf"), format="hf")
    hf_loaded = getattr(transformers, hf_class).from_pretrained(str(tmp_path / "to_hf")).eval()
    for got, want in _task_outputs(task, hf_loaded, mine):
        np.testing.assert_allclose(got, want, atol=ATOL)


def test_squad_v2_head_is_refused_with_the_reason(tmp_path):
    model = AlbertSquadV2(CFG)
    with pytest.raises(ValueError, match="SQuAD 2.0 head .* no transformers counterpart"):
        albert_tf.save_pretrained(model, str(tmp_path / "out"), format="hf")
    assert not os.path.exists(tmp_path / "out")


def test_equal_widths_write_identity_projection_and_read_back(tmp_path):
    cfg = dict(CFG, embedding_size=12, num_hidden_groups=1, inner_group_num=1)
    hf_model = randomise(transformers.AlbertForPreTraining(hf_config(cfg)))
    hf_model.save_pretrained(tmp_path / "bad")
    with pytest.raises(ValueError, match="embedding_hidden_mapping_in is not the identity"):
        albert_tf.load_pretrained(str(tmp_path / "bad"))
    model = albert_tf.AlbertPretrainer(cfg)
    albert_tf.save_pretrained(model, str(tmp_path / "hf"), format="hf")
    back = albert_tf.load_pretrained(str(tmp_path / "hf"))
    for a, b in zip(model.weights, back.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_group_rule_that_transformers_rounds_differently_is_refused(tmp_path):
    cfg = dict(CFG, num_hidden_layers=22, num_hidden_groups=22, inner_group_num=1)
    with pytest.raises(ValueError, match=r"transformers runs layers \[15\] from other groups"):
        albert_tf.save_pretrained(albert_tf.AlbertPretrainer(cfg), str(tmp_path / "o"),
                                  format="hf")


def test_official_to_hf_to_official_is_bit_exact(tmp_path):
    cfg = dict(CFG)
    weights = random_official_weights(cfg, seed=4)
    os.makedirs(tmp_path / "official")
    write_tf1_checkpoint(str(tmp_path / "official" / "model.ckpt-best"), weights)
    (tmp_path / "official" / "albert_config.json").write_text(json.dumps(cfg))
    convert_checkpoint(str(tmp_path / "official"), str(tmp_path / "hf"), "hf")
    convert_checkpoint(str(tmp_path / "hf"), str(tmp_path / "back"), "official")
    import tensorflow as tf

    prefix = str(tmp_path / "back" / "model.ckpt-best")
    assert set(list_official_variables(prefix)) == set(weights)
    reader = tf.train.load_checkpoint(prefix)
    for name, value in weights.items():
        np.testing.assert_array_equal(reader.get_tensor(name), value, err_msg=name)
    with pytest.raises(FileExistsError):
        convert_checkpoint(str(tmp_path / "hf"), str(tmp_path / "back"), "official")


def test_pytorch_bin_loads_with_weights_only_and_fails_clearly_without_torch(tmp_path,
                                                                            monkeypatch):
    hf_model = randomise(transformers.AlbertForPreTraining(hf_config(CFG)))
    hf_model.save_pretrained(tmp_path / "hf")
    os.remove(tmp_path / "hf" / "model.safetensors")
    torch.save(hf_model.state_dict(), tmp_path / "hf" / "pytorch_model.bin")
    model = albert_tf.load_pretrained(str(tmp_path / "hf"))
    assert_pretraining_outputs_match(hf_model, model)
    # The pre-1.6 pickle format cannot be memory-mapped: it is read whole.
    torch.save(hf_model.state_dict(), tmp_path / "hf" / "pytorch_model.bin",
               _use_new_zipfile_serialization=False)
    assert_pretraining_outputs_match(hf_model, albert_tf.load_pretrained(str(tmp_path / "hf")))
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    with pytest.raises(ImportError, match="needs torch .* convert it to safetensors"):
        albert_tf.load_pretrained(str(tmp_path / "hf"))


def test_every_config_field_maps_both_ways(tmp_path):
    ours_cfg = dict(vocab_size=41, embedding_size=6, hidden_size=12, num_hidden_layers=3,
                    num_hidden_groups=3, inner_group_num=2, num_attention_heads=4,
                    intermediate_size=14, hidden_act="relu", hidden_dropout_prob=0.15,
                    attention_probs_dropout_prob=0.05, max_position_embeddings=24,
                    type_vocab_size=3, initializer_range=0.05)
    albert_tf.save_pretrained(albert_tf.AlbertPretrainer(ours_cfg), str(tmp_path / "hf"),
                              format="hf")
    hf = transformers.AlbertConfig.from_pretrained(str(tmp_path / "hf"))
    for name, value in ours_cfg.items():
        assert getattr(hf, name) == value, name
    assert hf.layer_norm_eps == 1e-12
    # gelu is transformers' gelu_new, and back.
    albert_tf.save_pretrained(albert_tf.AlbertPretrainer(dict(ours_cfg, hidden_act="gelu")),
                              str(tmp_path / "gelu"), format="hf")
    assert transformers.AlbertConfig.from_pretrained(str(tmp_path / "gelu")).hidden_act == \
        "gelu_new"
    back = albert_tf.checkpoints.read_pretrained(str(tmp_path / "gelu")).config
    assert back.to_dict() == dict(ours_cfg, hidden_act="gelu")


def test_sharded_safetensors_and_encoder_only_checkpoints_load(tmp_path):
    hf_model = randomise(transformers.AlbertModel(hf_config(CFG)), seed=5)
    hf_model.save_pretrained(tmp_path / "hf", max_shard_size="20KB")
    assert (tmp_path / "hf" / "model.safetensors.index.json").is_file()
    model = albert_tf.load_pretrained(str(tmp_path / "hf"))
    assert isinstance(model, albert_tf.AlbertPretrainer)  # Its heads freshly initialised.
    ids, mask, segments, _ = padded_inputs(CFG["vocab_size"])
    with torch.no_grad():
        out = hf_model(**torch_inputs(ids, mask, segments))
    got = ours(model.encoder, ids, mask, segments)
    np.testing.assert_allclose(got["sequence_output"], out.last_hidden_state.numpy(), atol=ATOL)
    np.testing.assert_allclose(got["pooled_output"], out.pooler_output.numpy(), atol=ATOL)
