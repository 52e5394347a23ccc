"""What every command-line entry point does around its `main`: define its flags once,
mark the required ones, list them in `--help`, run under absl."""

import os
import sys

from absl import app, flags

from albert_tf import run_lock
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


def start(main, doc, module_name, define, required=()):
    """Defines the flags of `module_name`, then `app.run(main)` with `doc` as the
    usage text of `--help`."""
    names = define_once(module_name, define)
    flags.mark_flags_as_required(list(required))
    show_in_help(names)
    main_module = sys.modules.get("__main__")
    if main_module is not None:
        main_module.__doc__ = doc  # what --help prints first (shims and scripts: theirs)
    app.run(_one_line_errors(main))


# What a user's input or flags can cause; every such error of albert_tf names the
# flag, file or field and what was expected, so the message is the whole report.
USER_ERRORS = (run_lock.OutputInUseError, ValueError, FileNotFoundError, FileExistsError)
TRACEBACK_ENV = "ALBERT_TF_TRACEBACK"


def _one_line_errors(main):
    """`main`, with user mistakes (`USER_ERRORS`) reported as one line `ERROR: ...`
    and exit status 1 instead of a traceback; ALBERT_TF_TRACEBACK=1 shows it."""
    def run_main(argv):
        try:
            return main(argv)
        except USER_ERRORS as e:
            if os.environ.get(TRACEBACK_ENV):
                raise
            raise SystemExit(f"ERROR: {e} (ALBERT_TF_TRACEBACK=1 shows where)") from None
    return run_main


def holding_output(runner, field, inside=False):
    """`runner(params)` while holding the lock of the output `params.<field>` names
    (`run_lock`), after removing the `<output>.tmp-PID` leftovers of killed runs."""
    def run_holding(params):
        output = getattr(params, field)
        with run_lock.holding(output, inside=inside):
            run_lock.remove_leftovers(output)
            return runner(params)
    return run_holding


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
