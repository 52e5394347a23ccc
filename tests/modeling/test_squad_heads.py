"""SQuAD heads against a NumPy transcription of official create_v1_model / create_v2_model,
with weights loaded from TF1 checkpoints under the official variable names."""

import numpy as np
import pytest

from albert_tf import AlbertConfig
from albert_tf.checkpoints import (list_official_variables, restore_official_weights,
                                   save_official_checkpoint)
from albert_tf.modeling.models.squad import AlbertSquadV1, AlbertSquadV2
from albert_reference import forward, layer_norm, random_official_weights, write_tf1_checkpoint
from tiny_config import tiny_config_dict

CFG = tiny_config_dict(vocab_size=41, hidden_size=12, num_attention_heads=3, intermediate_size=20,
                       hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
H = CFG["hidden_size"]
B, T = 3, 14
START_N_TOP, END_N_TOP = 4, 3

V2_HEAD_SHAPES = {
    "start_logits/dense/kernel": (H, 1), "start_logits/dense/bias": (1,),
    "end_logits/dense_0/kernel": (2 * H, H), "end_logits/dense_0/bias": (H,),
    "end_logits/LayerNorm/gamma": (H,), "end_logits/LayerNorm/beta": (H,),
    "end_logits/dense_1/kernel": (H, 1), "end_logits/dense_1/bias": (1,),
    "answer_class/dense_0/kernel": (2 * H, H), "answer_class/dense_0/bias": (H,),
    "answer_class/dense_1/kernel": (H, 1),
}


def official_weights(head_shapes, seed):
    weights = random_official_weights(CFG, seed=seed, with_heads=False)
    rng = np.random.default_rng(seed + 100)
    for name, shape in head_shapes.items():
        base = 1.0 if name.endswith("gamma") else 0.0
        weights[name] = (base + 0.3 * rng.standard_normal(shape)).astype(np.float32)
    return weights


def make_inputs(seed=3):
    """[CLS] q q [SEP] paragraph... [SEP] pad: p_mask 1 on the question, SEPs and padding."""
    rng = np.random.default_rng(seed)
    lengths = [T, T - 3, T - 5]
    ids = rng.integers(5, CFG["vocab_size"], (B, T)).astype(np.int32)
    mask = np.array([[1] * n + [0] * (T - n) for n in lengths], np.int32)
    segments = np.array([[0] * 4 + [1] * (T - 4)] * B, np.int32) * mask
    p_mask = 1 - mask
    p_mask[:, 1:4] = 1
    for row, n in enumerate(lengths):
        p_mask[row, n - 1] = 1
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments, "p_mask": p_mask}


def reference_sequence(weights, inputs):
    return forward(weights, CFG, inputs["input_ids"], inputs["input_mask"],
                   inputs["segment_ids"])["sequence_output"]


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def masked(logits, p_mask):
    return logits * (1 - p_mask) - 1e30 * p_mask


def reference_v2(w, seq, p_mask, start_positions=None):
    """create_v2_model in float64, with the concatenations written out."""
    w = {k: np.asarray(v, np.float64) for k, v in w.items()}
    start = masked((seq @ w["start_logits/dense/kernel"])[..., 0]
                   + w["start_logits/dense/bias"][0], p_mask)

    def end_for(b, s):
        feature = np.concatenate([seq[b], np.repeat(seq[b, s][None], T, 0)], -1)
        h = np.tanh(feature @ w["end_logits/dense_0/kernel"] + w["end_logits/dense_0/bias"])
        h = layer_norm(h, w["end_logits/LayerNorm/gamma"], w["end_logits/LayerNorm/beta"])
        logits = (h @ w["end_logits/dense_1/kernel"])[:, 0] + w["end_logits/dense_1/bias"][0]
        return masked(logits, p_mask[b])

    probs = np.exp(log_softmax(start))
    answer = np.concatenate([np.einsum("bt,bth->bh", probs, seq), seq[:, 0]], -1)
    h = np.tanh(answer @ w["answer_class/dense_0/kernel"] + w["answer_class/dense_0/bias"])
    out = {"cls_logits": (h @ w["answer_class/dense_1/kernel"])[:, 0]}
    if start_positions is not None:
        out["start_logits"] = start
        out["end_logits"] = np.stack([end_for(b, s) for b, s in enumerate(start_positions)])
        return out
    start_lp = log_softmax(start)
    top_start = np.argsort(-start_lp, -1)[:, :START_N_TOP]
    out["start_top_index"] = top_start
    out["start_top_log_probs"] = np.take_along_axis(start_lp, top_start, -1)
    end_index, end_lp = [], []
    for b in range(B):
        rows_i, rows_p = [], []
        for s in top_start[b]:
            lp = log_softmax(end_for(b, s))
            best = np.argsort(-lp)[:END_N_TOP]
            rows_i.extend(best)
            rows_p.extend(lp[best])
        end_index.append(rows_i)
        end_lp.append(rows_p)
    out["end_top_index"] = np.array(end_index)
    out["end_top_log_probs"] = np.array(end_lp)
    return out


def loaded_model(tmp_path, model, head_shapes, seed=0):
    weights = official_weights(head_shapes, seed)
    prefix = write_tf1_checkpoint(str(tmp_path / "model.ckpt-1"), weights,
                                  {"global_step": np.int64(7)})
    # Strict: every official name must exist on both sides, shapes included.
    report = restore_official_weights(model, prefix)
    assert report["missing"] == [] and report["unused"] == []
    return weights


def test_v1_logits_and_official_names(tmp_path):
    model = AlbertSquadV1(AlbertConfig.from_dict(CFG))
    head = {"cls/squad/output_weights": (2, H), "cls/squad/output_bias": (2,)}
    weights = loaded_model(tmp_path, model, head)
    inputs = make_inputs()
    out = model({k: inputs[k] for k in ("input_ids", "input_mask", "segment_ids")},
                training=False)
    seq = reference_sequence(weights, inputs)
    logits = seq @ weights["cls/squad/output_weights"].T + weights["cls/squad/output_bias"]
    for key, column in (("start_logits", 0), ("end_logits", 1)):
        assert out[key].dtype == "float32" and tuple(out[key].shape) == (B, T)
        np.testing.assert_allclose(np.asarray(out[key]), logits[..., column], atol=2e-5,
                                   err_msg=key)


def test_v2_teacher_forced_outputs_match_reference(tmp_path):
    model = AlbertSquadV2(AlbertConfig.from_dict(CFG), start_n_top=START_N_TOP,
                          end_n_top=END_N_TOP)
    weights = loaded_model(tmp_path, model, V2_HEAD_SHAPES, seed=1)
    inputs = make_inputs()
    starts = np.array([0, 6, 9], np.int32)   # CLS (no answer) and two paragraph tokens
    out = model(dict(inputs, start_positions=starts), training=False)
    want = reference_v2(weights, reference_sequence(weights, inputs), inputs["p_mask"], starts)
    free = inputs["p_mask"] == 0
    for key in ("start_logits", "end_logits"):
        got = np.asarray(out[key])
        assert got.dtype == np.float32 and got.shape == (B, T)
        np.testing.assert_allclose(got[free], want[key][free], atol=5e-5, err_msg=key)
        assert np.all(got[~free] <= -1e29), key
    np.testing.assert_allclose(np.asarray(out["cls_logits"]), want["cls_logits"], atol=5e-5)


def test_v2_inference_search_matches_reference(tmp_path):
    model = AlbertSquadV2(AlbertConfig.from_dict(CFG), start_n_top=START_N_TOP,
                          end_n_top=END_N_TOP)
    weights = loaded_model(tmp_path, model, V2_HEAD_SHAPES, seed=2)
    inputs = make_inputs()
    out = model(inputs, training=False)
    want = reference_v2(weights, reference_sequence(weights, inputs), inputs["p_mask"])
    assert tuple(out["start_top_index"].shape) == (B, START_N_TOP)
    assert tuple(out["end_top_index"].shape) == (B, START_N_TOP * END_N_TOP)
    assert tuple(out["cls_logits"].shape) == (B,)
    for key in ("start_top_index", "end_top_index"):
        np.testing.assert_array_equal(np.asarray(out[key]), want[key], err_msg=key)
    for key in ("start_top_log_probs", "end_top_log_probs", "cls_logits"):
        np.testing.assert_allclose(np.asarray(out[key]), want[key], atol=5e-5, err_msg=key)
    # The search never proposes a p_mask position while enough free ones exist.
    for key in ("start_top_index", "end_top_index"):
        index = np.asarray(out[key])
        assert not np.take_along_axis(inputs["p_mask"], index, -1).any(), key


def test_v2_save_writes_the_official_names_and_reloads(tmp_path):
    config = AlbertConfig.from_dict(CFG)
    model = AlbertSquadV2(config, start_n_top=START_N_TOP, end_n_top=END_N_TOP)
    weights = loaded_model(tmp_path, model, V2_HEAD_SHAPES, seed=4)
    prefix = save_official_checkpoint(model, str(tmp_path / "out" / "model.ckpt-9"),
                                      global_step=9, write_state_file=True)
    saved = list_official_variables(prefix)
    assert saved == {name: tuple(np.shape(value)) for name, value in weights.items()}
    again = AlbertSquadV2(config, start_n_top=START_N_TOP, end_n_top=END_N_TOP)
    restore_official_weights(again, str(tmp_path / "out"))
    inputs = make_inputs()
    for a, b in zip(model(inputs).values(), again(inputs).values()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_v2_config_round_trip_and_frozen_pooler():
    model = AlbertSquadV2(AlbertConfig.from_dict(CFG), start_n_top=2, end_n_top=3,
                          dropout_prob=0.3)
    clone = AlbertSquadV2.from_config(model.get_config())
    assert (clone.start_n_top, clone.end_n_top, clone.dropout_prob) == (2, 3, 0.3)
    clone.set_weights(model.get_weights())
    inputs = make_inputs()
    np.testing.assert_array_equal(np.asarray(model(inputs)["end_top_index"]),
                                  np.asarray(clone(inputs)["end_top_index"]))
    # The heads never read the pooler: it is frozen rather than left without gradient.
    trainable = {v.path for v in clone.trainable_variables}
    assert not any("pooler" in p for p in trainable)
    assert any("answer_class_dense_1" in p for p in trainable)


def test_v2_dropout_only_in_training():
    model = AlbertSquadV2(AlbertConfig.from_dict(dict(CFG, hidden_dropout_prob=0.0,
                                                      attention_probs_dropout_prob=0.0)),
                          dropout_prob=0.5)
    inputs = dict(make_inputs(), start_positions=np.array([0, 6, 9], np.int32))
    a, b = model(inputs, training=False), model(inputs, training=False)
    np.testing.assert_array_equal(np.asarray(a["cls_logits"]), np.asarray(b["cls_logits"]))
    np.testing.assert_array_equal(np.asarray(a["end_logits"]), np.asarray(b["end_logits"]))
    c = model(inputs, training=True)
    # Dropout sits only in the answer-class layer.
    np.testing.assert_array_equal(np.asarray(a["end_logits"]), np.asarray(c["end_logits"]))
    assert not np.allclose(np.asarray(a["cls_logits"]), np.asarray(c["cls_logits"]))


@pytest.mark.parametrize("field, value", [("start_n_top", 0), ("end_n_top", 2.5)])
def test_v2_rejects_bad_beam_sizes(field, value):
    with pytest.raises(ValueError, match=field):
        AlbertSquadV2(AlbertConfig.from_dict(CFG), **{field: value})


def test_v1_head_initializer_is_fixed_as_official():
    """create_v1_model draws cls/squad/output_weights with stddev 0.02 whatever the
    config's initializer_range (truncated at 2 stddev: |w| <= 0.04)."""
    from albert_tf.checkpoints import official_variable_map

    model = AlbertSquadV1(AlbertConfig.from_dict(dict(CFG, initializer_range=1.0)))
    variables = official_variable_map(model)
    head = np.asarray(variables["cls/squad/output_weights"])
    assert head.shape == (2, H) and np.abs(head).max() <= 0.04 + 1e-7 and head.std() > 0.005
    assert np.abs(np.asarray(variables["bert/pooler/dense/kernel"])).max() > 0.5
