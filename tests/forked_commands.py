"""Commands run as their users run them, each in a fork of one Python that imported them
once: importing TensorFlow is most of a command's start, so N commands cost one import.

A child sets its argv (and environment changes), runs the checkout's shim file as
`__main__` (`runpy`) or a console entry point's `run()`, and ends as the interpreter
would: a SystemExit's string printed to stderr with status 1, the exit handlers run.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]

_RUNNER = r"""
import atexit, importlib, json, os, runpy, sys
modules, cases = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for module in modules:
    importlib.import_module(module)
statuses = []
for case in cases:
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        os.dup2(os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        os.environ.update(case["env"])
        sys.argv = case["argv"]
        try:
            if case["entry"]:
                importlib.import_module(case["entry"]).run()
            else:
                runpy.run_path(case["argv"][0], run_name="__main__")
            code = 0
        except SystemExit as e:
            code = e.code
            if code is not None and not isinstance(code, int):
                sys.stderr.write(f"{code}\n")
                code = 1
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        sys.stdout.flush(); sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(code or 0)
    statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(statuses))
"""


def run_forked(commands, modules, env=None, cwd=None, timeout=300):
    """Runs each command of `commands` in its own fork; returns [(status, stdout, stderr)].

    Args:
      commands: dicts with `argv` (argv[0] a shim path, or the command name with
        `entry`, the module whose `run()` the console script calls) and optional
        `env` (variables set in that child only).
      modules: the modules to import before forking (e.g. `albert_tf.cli.run_race`).
      env: the environment of the parent Python (default: this one's, with the
        repository on PYTHONPATH).
    """
    env = dict(os.environ, PYTHONPATH=str(REPO)) if env is None else env
    with tempfile.TemporaryDirectory() as folder:
        cases = [{"argv": [str(a) for a in c["argv"]], "entry": c.get("entry"),
                  "env": c.get("env", {}), "stdout": os.path.join(folder, f"{n}.out"),
                  "stderr": os.path.join(folder, f"{n}.err")}
                 for n, c in enumerate(commands)]
        done = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(list(modules)),
                               json.dumps(cases)], env=env, cwd=cwd, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr[-3000:]
        statuses = json.loads(done.stdout.strip().splitlines()[-1])
        return [(status, pathlib.Path(case["stdout"]).read_text(),
                 pathlib.Path(case["stderr"]).read_text())
                for status, case in zip(statuses, cases)]
