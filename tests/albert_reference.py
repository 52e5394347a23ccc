"""An independent NumPy ALBERT, written from the official equations, for parity tests.

Weights are a dict of official TF1 variable names -> arrays, exactly as in the
official checkpoints. Computation is in float64. Nothing here imports albert_tf.
"""

import numpy as np


def official_variable_shapes(cfg, with_heads=True):
    """Official name -> shape for a config dict, from google-research/albert modeling.py."""
    V, E, H = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"]
    I, P, T = cfg["intermediate_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]
    shapes = {
        "bert/embeddings/word_embeddings": (V, E),
        "bert/embeddings/token_type_embeddings": (T, E),
        "bert/embeddings/position_embeddings": (P, E),
        "bert/embeddings/LayerNorm/gamma": (E,),
        "bert/embeddings/LayerNorm/beta": (E,),
        "bert/pooler/dense/kernel": (H, H),
        "bert/pooler/dense/bias": (H,),
    }
    if E != H:
        shapes["bert/encoder/embedding_hidden_mapping_in/kernel"] = (E, H)
        shapes["bert/encoder/embedding_hidden_mapping_in/bias"] = (H,)
    for g in range(cfg["num_hidden_groups"]):
        for k in range(cfg["inner_group_num"]):
            p = f"bert/encoder/transformer/group_{g}/inner_group_{k}/"
            for name in ("query", "key", "value"):
                shapes[p + f"attention_1/self/{name}/kernel"] = (H, H)
                shapes[p + f"attention_1/self/{name}/bias"] = (H,)
            shapes[p + "attention_1/output/dense/kernel"] = (H, H)
            shapes[p + "attention_1/output/dense/bias"] = (H,)
            shapes[p + "LayerNorm/gamma"] = (H,)
            shapes[p + "LayerNorm/beta"] = (H,)
            shapes[p + "ffn_1/intermediate/dense/kernel"] = (H, I)
            shapes[p + "ffn_1/intermediate/dense/bias"] = (I,)
            shapes[p + "ffn_1/intermediate/output/dense/kernel"] = (I, H)
            shapes[p + "ffn_1/intermediate/output/dense/bias"] = (H,)
            shapes[p + "LayerNorm_1/gamma"] = (H,)
            shapes[p + "LayerNorm_1/beta"] = (H,)
    if with_heads:
        shapes.update({
            "cls/predictions/transform/dense/kernel": (H, E),
            "cls/predictions/transform/dense/bias": (E,),
            "cls/predictions/transform/LayerNorm/gamma": (E,),
            "cls/predictions/transform/LayerNorm/beta": (E,),
            "cls/predictions/output_bias": (V,),
            "cls/seq_relationship/output_weights": (2, H),
            "cls/seq_relationship/output_bias": (2,),
        })
    return shapes


def random_official_weights(cfg, seed=0, with_heads=True):
    """Non-trivial random weights: kernels ~ N(0, 0.2), gammas ~ 1 + N(0, 0.1), biases ~ N(0, 0.1)."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in official_variable_shapes(cfg, with_heads).items():
        if name.endswith("gamma"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith(("bias", "beta")):
            value = 0.1 * rng.standard_normal(shape)
        else:
            value = 0.2 * rng.standard_normal(shape)
        weights[name] = value.astype(np.float32)
    return weights


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


ACTIVATIONS = {"gelu": gelu, "relu": lambda x: np.maximum(x, 0.0), "tanh": np.tanh,
               "linear": lambda x: x}


def layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def forward(weights, cfg, input_ids, input_mask, segment_ids, masked_lm_positions=None):
    """The official ALBERT forward pass (no dropout). Returns a dict of float64 arrays."""
    w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
    act = ACTIVATIONS[cfg["hidden_act"]]
    B, T = input_ids.shape
    H, N = cfg["hidden_size"], cfg["num_attention_heads"]
    D = H // N

    x = (w["bert/embeddings/word_embeddings"][input_ids]
         + w["bert/embeddings/token_type_embeddings"][segment_ids]
         + w["bert/embeddings/position_embeddings"][:T][None])
    x = layer_norm(x, w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"])
    embedding_output = x
    if cfg["embedding_size"] != H:
        x = x @ w["bert/encoder/embedding_hidden_mapping_in/kernel"] \
            + w["bert/encoder/embedding_hidden_mapping_in/bias"]
    adder = (1.0 - input_mask.astype(np.float64))[:, None, None, :] * -10000.0

    def dense(h, prefix):
        return h @ w[prefix + "/kernel"] + w[prefix + "/bias"]

    all_layers = []
    L = cfg["num_hidden_layers"]
    for layer_idx in range(L):
        g = int(layer_idx / L * cfg["num_hidden_groups"])
        for k in range(cfg["inner_group_num"]):
            p = f"bert/encoder/transformer/group_{g}/inner_group_{k}/"
            q = dense(x, p + "attention_1/self/query").reshape(B, T, N, D).transpose(0, 2, 1, 3)
            kk = dense(x, p + "attention_1/self/key").reshape(B, T, N, D).transpose(0, 2, 1, 3)
            v = dense(x, p + "attention_1/self/value").reshape(B, T, N, D).transpose(0, 2, 1, 3)
            scores = q @ kk.transpose(0, 1, 3, 2) / np.sqrt(D) + adder
            ctx = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(B, T, H)
            attn = dense(ctx, p + "attention_1/output/dense")
            x = layer_norm(attn + x, w[p + "LayerNorm/gamma"], w[p + "LayerNorm/beta"])
            ffn = dense(act(dense(x, p + "ffn_1/intermediate/dense")),
                        p + "ffn_1/intermediate/output/dense")
            x = layer_norm(ffn + x, w[p + "LayerNorm_1/gamma"], w[p + "LayerNorm_1/beta"])
            all_layers.append(x)
    pooled = np.tanh(dense(x[:, 0], "bert/pooler/dense"))
    out = {"sequence_output": x, "pooled_output": pooled, "encoder_outputs": all_layers,
           "embedding_output": embedding_output}
    if masked_lm_positions is not None and "cls/predictions/output_bias" in w:
        gathered = np.take_along_axis(x, masked_lm_positions[:, :, None], axis=1)
        h = act(dense(gathered, "cls/predictions/transform/dense"))
        h = layer_norm(h, w["cls/predictions/transform/LayerNorm/gamma"],
                       w["cls/predictions/transform/LayerNorm/beta"])
        out["mlm_logits"] = (h @ w["bert/embeddings/word_embeddings"].T
                             + w["cls/predictions/output_bias"])
        out["sop_logits"] = (pooled @ w["cls/seq_relationship/output_weights"].T
                             + w["cls/seq_relationship/output_bias"])
    return out


def write_tf1_checkpoint(prefix, weights, extra_variables=None):
    """Writes `weights` as a TF1 checkpoint with tf.compat.v1 variables and a Saver,
    the way the official scripts save (optionally with optimizer slots etc.)."""
    import tensorflow as tf

    everything = dict(weights)
    everything.update(extra_variables or {})
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.get_variable(name, initializer=tf.constant(value))
                     for name, value in everything.items()]
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            return saver.save(sess, prefix, write_meta_graph=False, write_state=False)
