"""A command started without one of its required flags stops with one line naming that
flag and what it expects, exit status 1, no traceback, and writes nothing (every console
command of setup.py)."""

import os
import pathlib

import pytest

from forked_commands import run_forked

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

@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{(command, flag): (exit status, output, files written)} of each command started
    with every required flag but `flag`, each in its own empty folder (each a fork of
    one Python that imported the commands once: `run_forked`)."""
    root = tmp_path_factory.mktemp("required")
    commands = []
    for command, flag in CASES:
        module, required = COMMANDS[command]
        work = root / f"{command}-{flag}"
        work.mkdir()
        argv = [command] + [f"--{name}={work / value}" if name not in ("model_kind",
                                                                      "output_format",
                                                                      "task_name")
                            else f"--{name}={value}"
                            for name, (value, _) in required.items() if name != flag]
        commands.append({"argv": argv, "entry": f"albert_tf.cli.{module}"})
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("ALBERT_TF_TRACEBACK", None)
    results = run_forked(commands, sorted({c["entry"] for c in commands}), env=env, cwd=root)
    return {case: (code, out + err,
                   sorted(p.name for p in (root / f"{case[0]}-{case[1]}").iterdir()))
            for case, (code, out, err) in zip(CASES, results)}


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
