"""What every command-line entry point does around its `main`: define its flags once
(generated from the settings' declarations), mark the required ones, print `--help`
with the command's own flags first, run under absl, and refuse a bad setting in one
line."""

import os
import sys

from absl import app, flags

from albert_tf import quiet_logs, run_lock
from albert_tf.settings import (SettingError, check_ranges, check_run_modes, define_flags,
                                params_from_flags, required_flags)
from albert_tf.training.runtime import OFFICIAL_FLAGS_MODULE, RUNTIME_FLAGS_MODULE

_DEFINED = {}  # entry module -> the flag names it defined
HELP_ARGS = ("--help", "-help", "-?", "--helpshort", "-helpshort")


def define_once(module_name, define):
    """Calls `define()` (which returns the flag names it defined) once per module."""
    if module_name not in _DEFINED:
        _DEFINED[module_name] = list(define())
    return _DEFINED[module_name]


def invocation(command, argv0=None, main_module=None):
    """How the user started `command`: the console script (`albert-classifier`), a
    checkout's shim (`python run_classifier.py`) or a module (`python -m ...`)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    main_module = sys.modules.get("__main__") if main_module is None else main_module
    spec = getattr(main_module, "__spec__", None)
    if spec is not None and spec.name not in ("__main__", None):
        return f"python -m {spec.name}"
    name = os.path.basename(argv0)
    return f"python {name}" if name.endswith(".py") else command


def quietly(main):
    """`main` with stderr read through `quiet_logs.NOISE` and TensorFlow's Python INFO lines
    off, unless `--verbosity` >= 1."""
    def run_quietly(argv):
        verbosity = flags.FLAGS["verbosity"].value
        quiet_logs.filter_stderr(verbosity)
        quiet_logs.quiet_tensorflow_python_logs(verbosity)
        return main(argv)

    return run_quietly


def help_text(doc, command, module_names, flag_values=flags.FLAGS):
    """`doc` with its examples in the user's invocation, then the flags of each module in
    `module_names` under its heading: the command's own first, then runtime and the
    official scripts' aliases."""
    doc = doc.replace(command + " ", invocation(command) + " ")
    blocks = [flag_values.module_help(name) for name in module_names]
    return (doc.rstrip("\n") + "\n\nflags:\n" + "\n".join(b for b in blocks if b)
            + "\n\nTry --helpfull to get a list of all flags.\n")


def _asks_for_help(argv):
    for arg in argv[1:]:
        if arg == "--":
            return False
        if arg in HELP_ARGS:
            return True
    return False


def start(main, doc, module_name, define, required=(), command=None):
    """Defines the flags of `module_name`, then `app.run(main)` with `doc` as the
    usage text, quietly (see `quiet_logs`); `--help` lists the command's flags first
    (see `help_text`)."""
    define_once(module_name, define)
    command = command or os.path.basename(sys.argv[0])
    if _asks_for_help(sys.argv):
        sys.stdout.write(help_text(doc, command, [module_name, RUNTIME_FLAGS_MODULE,
                                                   OFFICIAL_FLAGS_MODULE]))
        sys.exit(1)  # as absl's --help
    main_module = sys.modules.get("__main__")
    if main_module is not None:
        main_module.__doc__ = doc.replace(command + " ", invocation(command) + " ")
    app.run(quietly(_one_line_errors(_requiring(main, list(required), command))))


def missing_flags(required, flag_values=flags.FLAGS):
    """One line naming each flag of `required` that was not given (None or empty) and what
    it expects (its help; an enum's help starts with its choices), or None when all were
    given."""
    missing = []
    for name in required:
        flag = flag_values[name]
        if flag.value is None or flag.value == "":
            missing.append(f"--{name} ({flag.help.rstrip('.')})")
    if not missing:
        return None
    return f"missing required flag{'s' if len(missing) > 1 else ''}: " + ", ".join(missing)


def _requiring(main, required, command):
    """`main`, after refusing in one line (`command: error: ...`, exit status 1) a run
    without every flag of `required`: absl's own check prints a line per flag and a hint,
    naming only what the flag must not be (None)."""
    def run_main(argv):
        message = missing_flags(required)
        if message:
            sys.exit(f"{command}: error: {message}")
        return main(argv)
    return run_main


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


def refuse_in_one_line(command, fn, *args):
    """`fn(*args)`; a `SettingError` ends the command with its one-line message."""
    try:
        return fn(*args)
    except SettingError as e:
        sys.exit(f"{command}: error: {e}")


def params_command(params_cls, runner, module_name, doc, command, official_flags=None):
    """`(define_flags, main, run)` of `command`, whose flags are `params_cls`' fields
    and whose main is `runner(params_cls from the flags)`, after the one range check
    and the run-mode rule (`settings.check_ranges`, `check_run_modes`).

    Args:
        official_flags: `fn()` defining the official flags that are no setting here
            (under `OFFICIAL_FLAGS_MODULE`); returns their names.
    """
    def define():
        names = define_flags(params_cls, module_name=module_name)
        return names + (list(official_flags()) if official_flags else [])

    def checked_run(params):
        check_ranges(params)
        check_run_modes(params)
        return runner(params)

    def main(argv):
        del argv
        refuse_in_one_line(command, checked_run, params_from_flags(params_cls))

    def run():
        start(main, doc, module_name, define, required_flags(params_cls), command)

    return define, main, run
