"""What every command-line entry point does around its `main`: define its flags once,
mark the required ones, list them in `--help`, run under absl."""

import sys

from absl import app, flags

from albert_tf import quiet_logs
from albert_tf.settings import define_flags, params_from_flags, required_flags

_DEFINED = {}  # entry module -> the flag names it defined


def define_once(module_name, define):
    """Calls `define()` (which returns the flag names it defined) once per module."""
    if module_name not in _DEFINED:
        _DEFINED[module_name] = list(define())
    return _DEFINED[module_name]


def show_in_help(names, flag_values=flags.FLAGS):
    """Makes `names` key flags of the main module, so that `--help` (which lists only
    the main module's flags: `sys.argv[0]`, a shim or a console script) shows them."""
    for name in names:
        flag_values.register_key_flag_for_module(sys.argv[0], flag_values[name])


def quietly(main):
    """`main` with stderr read through `quiet_logs.NOISE` and TensorFlow's Python INFO lines
    off, unless `--verbosity` >= 1."""
    def run_quietly(argv):
        verbosity = flags.FLAGS["verbosity"].value
        quiet_logs.filter_stderr(verbosity)
        quiet_logs.quiet_tensorflow_python_logs(verbosity)
        return main(argv)

    return run_quietly


def start(main, doc, module_name, define, required=()):
    """Defines the flags of `module_name`, then `app.run(main)` with `doc` as the
    usage text of `--help`, quietly (see `quiet_logs`)."""
    names = define_once(module_name, define)
    flags.mark_flags_as_required(list(required))
    show_in_help(names)
    main_module = sys.modules.get("__main__")
    if main_module is not None:
        main_module.__doc__ = doc  # what --help prints first (shims and scripts: theirs)
    app.run(quietly(main))


def params_command(params_cls, runner, module_name, doc, extra_flags=None, overrides=None):
    """`(define_flags, main, run)` of a command whose flags are `params_cls`' fields and
    whose main is `runner(params_cls from the flags)`.

    Args:
        extra_flags: `fn()` defining flags beside the fields (official ones that are no
            setting); returns their names.
        overrides: see `settings.define_flags`.
    """
    def define():
        names = define_flags(params_cls, module_name=module_name, overrides=overrides)
        return names + (list(extra_flags()) if extra_flags else [])

    def main(argv):
        del argv
        runner(params_from_flags(params_cls))

    def run():
        start(main, doc, module_name, define, required_flags(params_cls))

    return define, main, run
