"""Settings declared once: a dataclass field with its help (and range) is the flag.

    learning_rate: float = setting(5e-5, "Peak learning rate.", above=0)

`define_flags(ParamsClass)` defines one absl flag per field (the type from the
annotation; `choices` gives an enum; a nested dataclass field, e.g. `runtime`, is
defined through its own class or its `define_flags` hook); `params_from_flags`
builds the dataclass back from the parsed flags; `check_ranges` refuses values
outside the declared ranges, naming the flag. A plain
`dataclasses.field(default=..., metadata={"help": ...})` works the same.

Metadata keys: help, flag (the flag's name when it differs from the field's),
choices, min / max (inclusive), above / below (exclusive).
"""

import collections.abc
import dataclasses
import typing

from absl import flags as absl_flags

_DEFINERS = {str: "DEFINE_string", bool: "DEFINE_bool", int: "DEFINE_integer",
             float: "DEFINE_float"}
_RANGE_KEYS = ("min", "max", "above", "below")


def setting(default=None, help="", *, default_factory=None, required=False, **metadata):
    """A dataclass field with its flag's help text and range (see the module doc);
    `required`: no default (the flag must be given)."""
    unknown = set(metadata) - {"flag", "choices", *_RANGE_KEYS}
    if unknown:
        raise TypeError(f"unknown setting metadata {sorted(unknown)}")
    metadata = dict(help=help, **metadata)
    if required:
        return dataclasses.field(metadata=metadata)
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _base_type(annotation):
    """`int` for int, Optional[int], "int | None"; list for list[str] etc."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, collections.abc.Sequence):
        return list
    if origin is not None:  # Union / Optional
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else str
    return annotation


def _fields(params_cls):
    hints = typing.get_type_hints(params_cls)
    for field in dataclasses.fields(params_cls):
        yield field, _base_type(hints[field.name])


def flag_name(field):
    return field.metadata.get("flag", field.name)


def _default(field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def define_flags(params_cls, flags_module=absl_flags, module_name=None, overrides=None,
                 skip=()):
    """Defines a flag per field of `params_cls`; returns the flag names defined.

    Args:
        flags_module: `absl.flags` or an object with its DEFINE_* functions.
        module_name: the module the flags are listed under in `--help`.
        overrides: {field: {metadata key or "default": value}} for classes whose
            fields carry no (or other) metadata, e.g. {"model_kind": {"help": ...,
            "choices": [...]}}.
        skip: field names not to define (set by other means).
    """
    names = []
    extra = {} if module_name is None else {"module_name": module_name}
    for field, kind in _fields(params_cls):
        if field.name in skip:
            continue
        if dataclasses.is_dataclass(kind):
            hook = getattr(kind, "define_flags", None)
            names += (hook(flags_module, module_name) if hook else
                      define_flags(kind, flags_module, module_name, overrides))
            continue
        meta = dict(field.metadata, **(overrides or {}).get(field.name, {}))
        help_text = meta.get("help")
        if not help_text:
            raise ValueError(f"{params_cls.__name__}.{field.name} has no help text")
        name = meta.get("flag", field.name)
        default = meta["default"] if "default" in meta else _default(field)
        if "choices" in meta:
            flags_module.DEFINE_enum(name, default, list(meta["choices"]), help_text, **extra)
        elif kind is list:
            flags_module.DEFINE_list(name, default, help_text, **extra)
        elif kind in _DEFINERS:
            getattr(flags_module, _DEFINERS[kind])(name, default, help_text, **extra)
        else:
            raise TypeError(f"{params_cls.__name__}.{field.name}: no flag type for {kind}")
        names.append(name)
    return names


def required_flags(params_cls):
    """Flag names of the fields without a default."""
    return [flag_name(f) for f in dataclasses.fields(params_cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]


def params_from_flags(params_cls, flag_values=None, skip=(), **values):
    """`params_cls` from parsed flags (nested dataclasses through their own class or
    their `from_flags` hook); `values` override fields."""
    flag_values = absl_flags.FLAGS if flag_values is None else flag_values
    for field, kind in _fields(params_cls):
        if field.name in values or field.name in skip:
            continue
        if dataclasses.is_dataclass(kind):
            hook = getattr(kind, "from_flags", None)
            values[field.name] = (hook(flag_values) if hook else
                                  params_from_flags(kind, flag_values))
        else:
            values[field.name] = getattr(flag_values, flag_name(field))
    return params_cls(**values)


def check_ranges(params):
    """Raises ValueError naming the flag of the first value outside its declared range
    (None means unset and is not checked); nested dataclasses included."""
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        if dataclasses.is_dataclass(value):
            check_ranges(value)
            continue
        if value is None or isinstance(value, bool):
            continue
        meta = field.metadata
        bounds = [(key, meta[key]) for key in _RANGE_KEYS if key in meta]
        failed = [(key, bound) for key, bound in bounds if not {
            "min": value >= bound, "max": value <= bound,
            "above": value > bound, "below": value < bound}[key]]
        if failed:
            expected = " and ".join({"min": f">= {b}", "max": f"<= {b}", "above": f"> {b}",
                                     "below": f"< {b}"}[k] for k, b in bounds)
            raise ValueError(f"--{flag_name(field)} must be {expected}, got {value}")
