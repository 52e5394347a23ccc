"""A command started without one of its required flags stops with one line naming that
flag and what it expects, exit status 1, no traceback, and writes nothing (every console
command of setup.py)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# The console scripts of setup.py, their modules and required flags, written out by hand:
# {flag: (a value that passes, what the error must say the flag expects)}.
COMMANDS = {
    "albert-classifier": ("run_classifier", {
        "output_dir": ("out", "Checkpoints, results and predictions go here"),
        "albert_config_file": ("c.json", "albert_config.json of the model"),
        "spm_model_file": ("s.model", "SentencePiece model"),
        "task_name": ("rte", "GLUE task: cola, mnli")}),
    "albert-pretrain": ("run_pretraining", {
        "output_dir": ("out", "Checkpoints, results and predictions go here"),
        "albert_config_file": ("c.json", "albert_config.json of the model"),
        "input_file": ("in.tfrecord", "TFRecord file(s)")}),
    "albert-squad": ("run_squad", {
        "output_dir": ("out", "Checkpoints, results and predictions go here"),
        "albert_config_file": ("c.json", "albert_config.json of the model"),
        "spm_model_file": ("s.model", "SentencePiece model")}),
    "albert-race": ("run_race", {
        "output_dir": ("out", "Checkpoints, results and predictions go here"),
        "albert_config_file": ("c.json", "albert_config.json of the model"),
        "spm_model_file": ("s.model", "SentencePiece model")}),
    "albert-export": ("export_savedmodel", {
        "model_kind": ("encoder", "<"),
        "export_dir": ("export", "Where the SavedModel goes"),
        "spm_model_file": ("s.model", "SentencePiece model")}),
    "albert-convert": ("convert_checkpoint", {
        "input": ("in", "Checkpoint to read"),
        "output": ("converted", "Directory to create"),
        "output_format": ("hf", "<official|hf|keras_hub>: Format to write")}),
    "albert-pretraining-data": ("create_pretraining_data", {
        "input_file": ("corpus.txt", "Input raw text file glob"),
        "output_file": ("out.tfrecord", "Output TFRecord file")}),
    "albert-vocab": ("train_vocab", {
        "input": ("corpus.txt", "Input text file(s)"),
        "model_prefix": ("vocab/30k", "Output prefix for .model and .vocab")}),
}
CASES = [(command, flag) for command, (_, required) in COMMANDS.items() for flag in required]

# One Python imports the commands (TensorFlow) once, then forks a child per case that runs
# the console script's `run()` and ends as the interpreter ends on a SystemExit (a string
# code printed to stderr with status 1; the exit handlers run), less the seconds its
# clean-up of TensorFlow's modules would take.
_RUNNER = r"""
import atexit, importlib, json, os, sys
cases = json.loads(sys.argv[1])
modules = {m: importlib.import_module("albert_tf.cli." + m) for m, _, _ in cases}
results = []
for module, argv, log in cases:
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1); os.dup2(fd, 2)
        sys.argv = argv
        try:
            modules[module].run()
            code = 99  # run() returned: the command did not stop
        except SystemExit as e:
            code = e.code
            if isinstance(code, str):
                sys.stderr.write(code + "\n")
                code = 1
        sys.stdout.flush(); sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(code or 0)
    results.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{(command, flag): (exit status, output, files written)} of each command started
    with every required flag but `flag`, each in its own empty folder."""
    root = tmp_path_factory.mktemp("required")
    runs = []
    for command, flag in CASES:
        module, required = COMMANDS[command]
        work = root / f"{command}-{flag}"
        work.mkdir()
        argv = [command] + [f"--{name}={work / value}" if name not in ("model_kind",
                                                                      "output_format",
                                                                      "task_name")
                            else f"--{name}={value}"
                            for name, (value, _) in required.items() if name != flag]
        runs.append((module, argv, str(root / f"{command}-{flag}.log")))
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("ALBERT_TF_TRACEBACK", None)
    done = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(runs)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    return {case: (code, pathlib.Path(log).read_text(),
                   sorted(p.name for p in (root / f"{case[0]}-{case[1]}").iterdir()))
            for case, code, (_, _, log) in zip(CASES, codes, runs)}


@pytest.mark.parametrize("command, flag", CASES)
def test_a_missing_required_flag_is_one_line_naming_it(outcomes, command, flag):
    code, output, written = outcomes[(command, flag)]
    expects = COMMANDS[command][1][flag][1]
    assert code == 1, output[-2000:]
    assert "Traceback" not in output, output[-2000:]
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output[-2000:]
    assert lines[0].startswith(f"{command}: error: missing required flag: --{flag} ("), lines
    assert expects in lines[0].split(f"--{flag} (", 1)[1], lines
    # The other required flags were given: only this one is named.
    others = [name for name in COMMANDS[command][1] if name != flag]
    assert not any(f"--{name} (" in lines[0] for name in others), lines
    assert written == [], f"{command} wrote {written} before refusing"
