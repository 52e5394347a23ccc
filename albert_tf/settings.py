"""Settings declared once: a dataclass field with its help (and range) is the flag.

    learning_rate: float = setting(5e-5, "Peak learning rate.", above=0)

`setting(...)` is the one way to declare a setting, for every command. Settings that
several commands share are declared once in a group (a keyword-only dataclass) and
composed by inheritance: `OutputSettings` (output_dir), `ModelFiles` (albert_config_file,
init_checkpoint, init_from_group0) and `Vocabulary` (spm_model_file, do_lower_case) here,
the training loop's in `training/loop_params.py`. A command that needs another default
or help for a shared setting redeclares it with `setting_of(Group, "name", default)`,
which keeps the group's declaration (help, range, flag name) for what it does not change.

`define_flags(ParamsClass)` defines one absl flag per field (the type from the
annotation; `choices` gives an enum; a nested dataclass field, e.g. `runtime`, is
defined through its own class or its `define_flags` hook); `params_from_flags`
builds the dataclass back from the parsed flags; `check_ranges` refuses values
outside the declared ranges or choices with a `SettingError` naming the flag: the one
range check of every command and of the Python API.

The run modes follow one rule in every command, the official scripts': each `--do_*`
flag is off unless given (only `albert-pretrain --do_train` is on, as in official
run_pretraining.py), and `check_run_modes` refuses a run with none on.
"""

import collections.abc
import dataclasses
import typing

from absl import flags as absl_flags

_DEFINERS = {str: "DEFINE_string", bool: "DEFINE_bool", int: "DEFINE_integer",
             float: "DEFINE_float"}
_RANGE_KEYS = ("min", "max", "above", "below")
_KEEP = object()
RUN_MODES = ("do_train", "do_eval", "do_predict")


class SettingError(ValueError):
    """A setting's value is refused; the message names the flag (commands print it as
    one line, without a traceback)."""


def setting(default=None, help="", *, default_factory=None, required=False, **metadata):
    """A dataclass field with its flag's help text and range (see the module doc);
    `required`: no default (the flag must be given).

    Metadata keys: flag (the flag's name when it differs from the field's), choices,
    min / max (inclusive), above / below (exclusive).
    """
    unknown = set(metadata) - {"flag", "choices", *_RANGE_KEYS}
    if unknown:
        raise TypeError(f"unknown setting metadata {sorted(unknown)}")
    metadata = dict(help=help, **metadata)
    if required:
        return dataclasses.field(metadata=metadata)
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def setting_of(group, name, default=_KEEP, **changes):
    """`group`'s setting `name` with another `default` and/or other `changes` (help, flag,
    choices, ranges, required); the rest as declared there."""
    declared = {f.name: f for f in dataclasses.fields(group)}
    if name not in declared:
        raise TypeError(f"{group.__name__} declares no setting {name!r}")
    field = declared[name]
    metadata = dict(field.metadata, **changes)
    required = metadata.pop("required", False)
    if default is _KEEP and not required:
        if field.default_factory is not dataclasses.MISSING:
            return setting(default_factory=field.default_factory, **metadata)
        if field.default is dataclasses.MISSING:
            required = True
        default = field.default
    return setting(default, required=required, **metadata)


@dataclasses.dataclass(kw_only=True)
class OutputSettings:
    """Where a run writes."""

    output_dir: str = setting(help="Checkpoints, results and predictions go here.",
                              required=True)


@dataclasses.dataclass(kw_only=True)
class ModelFiles:
    """The model a run builds and the weights it starts from."""

    albert_config_file: str = setting(
        help="albert_config.json of the model (or the config.json of a transformers folder "
             "or keras-hub preset).", required=True)
    init_checkpoint: str = setting(
        None, "Checkpoint to start from: official format (pretrained, or fine-tuned, e.g. "
              "MNLI for RTE/MRPC/STS-B), a transformers folder or a keras-hub preset; a "
              "task head of another size is re-initialised.")
    init_from_group0: bool = setting(False, "Initialise every layer group from group_0.")


@dataclasses.dataclass(kw_only=True)
class Vocabulary:
    """How text becomes ids."""

    spm_model_file: str = setting(help="SentencePiece model (30k-clean.model).", required=True)
    do_lower_case: bool = setting(True, "Lower-case the input text (uncased models).")


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


def define_flags(params_cls, flags_module=absl_flags, module_name=None, skip=()):
    """Defines a flag per field of `params_cls`; returns the flag names defined.

    Args:
        flags_module: `absl.flags` or an object with its DEFINE_* functions.
        module_name: the module the flags are listed under in `--help` (a nested
            class with a `define_flags` hook chooses its own).
        skip: field names not to define (set by other means).
    """
    names = []
    extra = {} if module_name is None else {"module_name": module_name}
    for field, kind in _fields(params_cls):
        if field.name in skip:
            continue
        if dataclasses.is_dataclass(kind):
            hook = getattr(kind, "define_flags", None)
            names += (hook(flags_module) if hook else
                      define_flags(kind, flags_module, module_name))
            continue
        help_text = field.metadata.get("help")
        if not help_text:
            raise TypeError(f"{params_cls.__name__}.{field.name} has no help text: declare "
                            f"it with setting(default, help)")
        name = flag_name(field)
        default = _default(field)
        if "choices" in field.metadata:
            flags_module.DEFINE_enum(name, default, list(field.metadata["choices"]),
                                     help_text, **extra)
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
    """Raises SettingError naming the flag of the first value outside its declared range
    or choices (None means unset and is not checked); nested dataclasses included."""
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        if dataclasses.is_dataclass(value):
            check_ranges(value)
            continue
        if value is None:
            continue
        meta = field.metadata
        if "choices" in meta and value not in meta["choices"]:
            raise SettingError(f"--{flag_name(field)} must be one of "
                               f"{', '.join(map(str, meta['choices']))}, got {value!r}")
        if isinstance(value, bool):
            continue
        bounds = [(key, meta[key]) for key in _RANGE_KEYS if key in meta]
        failed = [(key, bound) for key, bound in bounds if not {
            "min": value >= bound, "max": value <= bound,
            "above": value > bound, "below": value < bound}[key]]
        if failed:
            expected = " and ".join({"min": f">= {b}", "max": f"<= {b}", "above": f"> {b}",
                                     "below": f"< {b}"}[k] for k, b in bounds)
            raise SettingError(f"--{flag_name(field)} must be {expected}, got {value}")


def run_mode_flags(params_cls):
    """The `--do_*` flags among `params_cls`' fields, in RUN_MODES order."""
    names = {f.name for f in dataclasses.fields(params_cls)}
    return [name for name in RUN_MODES if name in names]


def check_run_modes(params):
    """Refuses params whose command has `--do_*` flags but none of them on."""
    modes = run_mode_flags(type(params))
    if modes and not any(getattr(params, name) for name in modes):
        raise SettingError(f"nothing to do: set {' and/or '.join('--' + m for m in modes)} "
                           f"(each is off unless given, as in the official scripts)")
