"""`AlbertConfig`: the official `albert_config.json`, read, validated and written back."""

import dataclasses
import difflib
import json
import math
import warnings
from typing import Any, Dict, Optional

from albert_tf.atomic_write import write_text_atomically

SUPPORTED_ACTIVATIONS = ("gelu", "gelu_new", "relu", "tanh", "linear")

# Fields of the released configs that the official model code never reads.
# They are kept verbatim and written back unchanged.
UNUSED_OFFICIAL_FIELDS = ("down_scale_factor", "net_structure_type", "gap_size",
                          "num_memory_blocks", "layers_to_keep")

# Fields every released albert_config.json gives: a file without one of them would
# silently build albert_xxlarge's shape (hidden_size 4096, 64 heads, ...).
SHAPE_FIELDS = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
                "num_attention_heads", "intermediate_size", "max_position_embeddings")

# Layers run one after another, and the group rule is checked layer by layer: a
# declared depth beyond this (the paper's deepest ALBERT has 48 layers) is a typo
# that would hang the model build or a checkpoint read, so it is refused up front.
MAX_HIDDEN_LAYERS = 2 ** 20


def layer_group(layer_idx, num_hidden_layers, num_hidden_groups):
    """The group whose weights layer `layer_idx` runs: the official float rule.

    Official `transformer_model` computes `int(layer_idx / num_hidden_layers *
    num_hidden_groups)` in floating point, so some groups can own no layer (22
    layers in 22 groups never use group 15: 15 / 22 * 22 = 14.999...). The
    official graph creates no variables for such a group; neither do we.
    """
    return int(layer_idx / num_hidden_layers * num_hidden_groups)


def layer_list(indices, shown=10):
    """`indices` for a message: the first `shown`, then how many more."""
    indices = list(indices)
    more = f" and {len(indices) - shown} more" if len(indices) > shown else ""
    return f"{indices[:shown]}{more}"


def used_groups(num_hidden_layers, num_hidden_groups):
    """Sorted indices of the groups at least one layer runs."""
    return sorted({layer_group(i, num_hidden_layers, num_hidden_groups)
                   for i in range(num_hidden_layers)})


@dataclasses.dataclass
class AlbertConfig:
    """Hyper-parameters of an ALBERT encoder, named as in `albert_config.json`.

    Defaults are the official ones (`modeling.AlbertConfig`, i.e. albert_xxlarge)
    except `vocab_size`, which must be given.
    """

    vocab_size: int
    embedding_size: int = 128
    hidden_size: int = 4096
    num_hidden_layers: int = 12
    num_hidden_groups: int = 1
    num_attention_heads: int = 64
    intermediate_size: int = 16384
    inner_group_num: int = 1
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    # Unused official fields and any unknown ones, kept for the round trip.
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # Key order of the file this config was read from, for a faithful write-back.
    _key_order: Optional[tuple] = dataclasses.field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self, source="AlbertConfig"):
        """Raises ValueError naming the offending field and its value."""
        def fail(message):
            raise ValueError(f"{source}: {message}")

        positive_ints = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
                         "num_hidden_groups", "num_attention_heads", "intermediate_size",
                         "inner_group_num", "max_position_embeddings", "type_vocab_size")
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                fail(f"{name} must be a positive integer, got {value!r}")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value < 1.0:
                fail(f"{name} must be a probability in [0, 1), got {value!r}")
        if not _is_number(self.initializer_range) or not 0 < self.initializer_range < math.inf:
            fail(f"initializer_range must be a positive number, got {self.initializer_range!r}")
        # Official get_activation: an empty name (or null) means linear.
        if self.hidden_act not in (None, "") and (
                not isinstance(self.hidden_act, str)
                or self.hidden_act.lower() not in SUPPORTED_ACTIVATIONS):
            fail(f"hidden_act must be one of {SUPPORTED_ACTIVATIONS}, got {self.hidden_act!r}")
        if self.hidden_size % self.num_attention_heads:
            fail(f"hidden_size ({self.hidden_size}) must be divisible by "
                 f"num_attention_heads ({self.num_attention_heads})")
        if self.num_hidden_layers > MAX_HIDDEN_LAYERS:
            fail(f"num_hidden_layers must be at most {MAX_HIDDEN_LAYERS}, got "
                 f"{self.num_hidden_layers}")
        if self.num_hidden_groups > self.num_hidden_layers:
            fail(f"num_hidden_groups ({self.num_hidden_groups}) must not exceed "
                 f"num_hidden_layers ({self.num_hidden_layers})")

    # ------------------------------------------------------------- properties
    @property
    def head_size(self):
        """Width of one attention head, in units."""
        return self.hidden_size // self.num_attention_heads

    def group_of_layer(self, layer_idx):
        """Official layer -> group assignment (see `layer_group`)."""
        return layer_group(layer_idx, self.num_hidden_layers, self.num_hidden_groups)

    def replace(self, **changes):
        """A copy with some fields changed (e.g. dropout for fine-tuning)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ (de)serialise
    @classmethod
    def from_dict(cls, values, source="AlbertConfig", required=("vocab_size",)):
        """Builds a config from a dict such as a parsed `albert_config.json`.

        Fields absent from `values` take the official defaults, except `required`
        ones (`from_json_file`: all of `SHAPE_FIELDS`). An unknown key close to a
        known field ("hiden_size") is refused; other unknown keys are kept with a
        warning.
        """
        if not isinstance(values, dict):
            raise ValueError(f"{source}: expected a JSON object, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra", "_key_order"}
        extra = {k: v for k, v in values.items() if k not in known}
        unknown = [k for k in extra if k not in UNUSED_OFFICIAL_FIELDS]
        for key in unknown:
            close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.8)
            if close and close[0] not in values:
                raise ValueError(f"{source}: unknown field {key!r}: did you mean {close[0]!r}?")
        missing = [name for name in required if name not in values]
        if missing:
            also = f" (also {', '.join(map(repr, missing[1:]))})" if missing[1:] else ""
            raise ValueError(
                f"{source}: missing required field {missing[0]!r}{also}: an "
                f"albert_config.json gives the model's shape ({', '.join(SHAPE_FIELDS)})")
        kwargs = {k: v for k, v in values.items() if k in known}
        if unknown:
            # Kept and written back (a newer or annotated config still loads), but a
            # misspelt field would otherwise silently fall back to its default.
            warnings.warn(f"{source}: unknown field(s) {', '.join(map(repr, unknown))} kept "
                          f"but not used; known fields: {', '.join(sorted(known))}",
                          stacklevel=2)
        config = cls.__new__(cls)
        defaults = {f.name: f.default for f in dataclasses.fields(cls)
                    if f.default is not dataclasses.MISSING}
        for name in known:
            setattr(config, name, kwargs.get(name, defaults.get(name)))
        config.extra = extra
        config._key_order = tuple(values.keys())
        config.validate(source)
        return config

    @classmethod
    def from_json_file(cls, path):
        """Reads an `albert_config.json` from any tf.io.gfile path."""
        text = _read_text(path)
        try:
            values = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}): "
                             f"{e.msg}") from e
        return cls.from_dict(values, source=str(path), required=SHAPE_FIELDS)

    def to_dict(self):
        """Every field, the unused/unknown ones included, in the original key order."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in ("extra", "_key_order")}
        values.update(self.extra)
        if self._key_order:
            ordered = {k: values[k] for k in self._key_order if k in values}
            ordered.update({k: v for k, v in values.items() if k not in ordered})
            return ordered
        return values

    def to_json_string(self):
        """JSON in the layout of the released files (2-space indent, trailing newline)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_json_file(self, path):
        write_text_atomically(path, self.to_json_string())


def _is_number(value):
    """A real JSON number (not a bool, not NaN)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and not math.isnan(value))


def _is_remote(path):
    return "://" in str(path)


def _read_text(path):
    # Local files need no TensorFlow, so the model also works where only JAX is installed.
    if not _is_remote(path):
        try:
            with open(path, "r", encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"config file not found: {path}") from None
    import tensorflow as tf  # gs://, hdfs:// ...

    if not tf.io.gfile.exists(str(path)):
        raise FileNotFoundError(f"config file not found: {path}")
    with tf.io.gfile.GFile(str(path), "r") as f:
        return f.read()


