"""Which variables an optimizer rule skips: regexes searched in variable paths."""

import re

# Official `create_optimizer`: exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"]
# (LAMB's exclude_from_layer_adaptation defaults to the same list).
DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY = ("LayerNorm", "layer_norm", "bias")


def variable_path(variable):
    """The text the patterns search in `variable`.

    Keras `.path` (e.g. "albert/embeddings/LayerNorm/gamma"), else the `.name` without
    its ":0" suffix, like official `_get_variable_name`.
    """
    path = getattr(variable, "path", None)
    if path is None:
        path = re.sub(r":\d+$", "", str(variable.name))
    return path


def as_patterns(field, patterns):
    """Validates a list of regular expressions for constructor argument `field`.

    Returns:
        a tuple of pattern strings; () for None.
    """
    if patterns is None:
        return ()
    if isinstance(patterns, str):
        raise ValueError(f"{field}: expected a list of regular expressions, got the "
                         f"string {patterns!r}")
    patterns = tuple(patterns)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as error:
            raise ValueError(f"{field}: {pattern!r} is not a regular expression: "
                             f"{error}") from error
    return patterns


def matches_any(patterns, variable):
    """Whether any pattern is found (`re.search`) in `variable_path(variable)`."""
    path = variable_path(variable)
    return any(re.search(pattern, path) is not None for pattern in patterns)
