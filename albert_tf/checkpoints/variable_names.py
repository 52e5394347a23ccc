"""The table between our Keras variables and the official TF1 variable names.

Every kernel keeps the official layout ([in, out] for dense layers, [units, in]
for `output_weights`), so conversion is a pure renaming: no transposes.
"""

import collections
import re

_INNER_LAYER_TABLE = (
    # (official suffix under inner_group_k, attribute path on AlbertTransformerLayer)
    ("attention_1/self/query", ("attention", "query")),
    ("attention_1/self/key", ("attention", "key")),
    ("attention_1/self/value", ("attention", "value")),
    ("attention_1/output/dense", ("attention", "output_dense")),
    ("LayerNorm", ("attention_layer_norm",)),
    ("ffn_1/intermediate/dense", ("intermediate_dense",)),
    ("ffn_1/intermediate/output/dense", ("output_dense",)),
    ("LayerNorm_1", ("output_layer_norm",)),
)


def _layer_variables(layer, official_prefix):
    """Dense -> {prefix/kernel, prefix/bias}; LayerNormalization -> {prefix/gamma, prefix/beta}."""
    if hasattr(layer, "gamma"):
        return {f"{official_prefix}/gamma": layer.gamma, f"{official_prefix}/beta": layer.beta}
    out = {f"{official_prefix}/kernel": layer.kernel}
    if layer.bias is not None:
        out[f"{official_prefix}/bias"] = layer.bias
    return out


def _resolve(obj, attribute_path):
    for name in attribute_path:
        obj = getattr(obj, name)
    return obj


def encoder_variables(encoder, scope="bert"):
    """Official name -> variable for an `AlbertEncoder` (`bert/embeddings`, `bert/encoder`, `bert/pooler`)."""
    names = collections.OrderedDict()
    emb = encoder.embeddings
    names[f"{scope}/embeddings/word_embeddings"] = emb.word_embeddings
    names[f"{scope}/embeddings/token_type_embeddings"] = emb.token_type_embeddings
    names[f"{scope}/embeddings/position_embeddings"] = emb.position_embeddings
    names.update(_layer_variables(emb.layer_norm, f"{scope}/embeddings/LayerNorm"))
    if encoder.embedding_projection is not None:
        names.update(_layer_variables(encoder.embedding_projection,
                                      f"{scope}/encoder/embedding_hidden_mapping_in"))
    for g, group in enumerate(encoder.transformer.groups):
        for k, layer in enumerate(group):
            prefix = f"{scope}/encoder/transformer/group_{g}/inner_group_{k}"
            for suffix, attribute_path in _INNER_LAYER_TABLE:
                names.update(_layer_variables(_resolve(layer, attribute_path),
                                              f"{prefix}/{suffix}"))
    names.update(_layer_variables(encoder.pooler, f"{scope}/pooler/dense"))
    return names


def output_projection_variables(projection, official_prefix):
    """An `OutputProjection` -> {prefix/output_weights, prefix/output_bias}."""
    names = {f"{official_prefix}/output_weights": projection.output_weights}
    if projection.output_bias is not None:
        names[f"{official_prefix}/output_bias"] = projection.output_bias
    return names


def pretraining_head_variables(pretrainer):
    """`cls/predictions/*` and `cls/seq_relationship/*`."""
    mlm = pretrainer.masked_lm
    names = collections.OrderedDict()
    names.update(_layer_variables(mlm.transform_dense, "cls/predictions/transform/dense"))
    names.update(_layer_variables(mlm.transform_layer_norm,
                                  "cls/predictions/transform/LayerNorm"))
    names["cls/predictions/output_bias"] = mlm.output_bias
    names.update(output_projection_variables(pretrainer.sentence_order, "cls/seq_relationship"))
    return names


def official_variable_map(model):
    """Official name -> Keras variable for any albert_tf model.

    An `AlbertEncoder` maps to `bert/*`; a model with an `.encoder` adds its heads,
    from `pretraining_head_variables` for the pretrainer or the model's own
    `official_head_variables()` for task models.
    """
    from albert_tf.modeling import AlbertEncoder, AlbertPretrainer

    if isinstance(model, AlbertEncoder):
        return encoder_variables(model)
    encoder = getattr(model, "encoder", None)
    if not isinstance(encoder, AlbertEncoder):
        raise TypeError(f"{type(model).__name__} is neither an AlbertEncoder nor a model "
                        "with an `encoder` attribute")
    names = encoder_variables(encoder)
    if isinstance(model, AlbertPretrainer):
        names.update(pretraining_head_variables(model))
    elif hasattr(model, "official_head_variables"):
        names.update(model.official_head_variables())
    return names


class CheckpointMismatchError(ValueError):
    """Raised when a checkpoint does not fit a model; the message lists every difference."""


class VariableMatch:
    """How a checkpoint's variables ({official name: shape}) meet a model's
    (`official_variable_map`): the one report of every loader.

    Attributes:
        plan: model name -> checkpoint name to assign from (shapes equal).
        missing: model names the checkpoint lacks.
        mismatched: model name -> (checkpoint shape, model shape).
        unused: checkpoint names no model variable takes (mismatched ones count as used).
    """

    def __init__(self, shapes, targets, init_from_group0=False):
        self.plan, self.missing, self.mismatched, used = {}, [], {}, set()
        for name, variable in targets.items():
            source = name
            if init_from_group0 and source not in shapes:
                # Official --init_from_group0: a group the checkpoint lacks is group_0.
                source = re.sub(r"/group_\d+/", "/group_0/", name)
            if source not in shapes:
                self.missing.append(name)
                continue
            used.add(source)
            want, have = tuple(variable.shape), tuple(shapes[source])
            if want != have:
                self.mismatched[name] = (source, have, want)
            else:
                self.plan[name] = source
        self.unused = sorted(n for n in shapes if n not in used)

    def error(self, checkpoint, model, missing, unexpected, mismatched):
        """A `CheckpointMismatchError` listing the given subsets of this match."""
        lines = [f"checkpoint {checkpoint} does not match {type(model).__name__}:"]
        details = [f"{self.mismatched[n][0]}: checkpoint {list(self.mismatched[n][1])} vs "
                   f"model {list(self.mismatched[n][2])}" for n in mismatched]
        for title, items in (("missing from the checkpoint", missing),
                             ("unexpected in the checkpoint", unexpected),
                             ("shape mismatches", details)):
            if items:
                lines.append(f"  {title} ({len(items)}):")
                lines.extend(f"    {item}" for item in items)
        return CheckpointMismatchError("\n".join(lines))
