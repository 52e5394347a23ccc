"""A user mistake on the command line ends in one line naming it, not a traceback."""

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_a_user_mistake_is_one_line_and_the_traceback_is_one_setting_away(tmp_path):
    export_dir = tmp_path / "not_an_export"
    export_dir.mkdir()
    (export_dir / "notes.txt").write_text("mine")
    argv = [sys.executable, str(REPO / "export_savedmodel.py"), "--model_kind=preprocess",
            f"--export_dir={export_dir}", "--overwrite",
            f"--spm_model_file={tmp_path / 'none.model'}"]
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("ALBERT_TF_TRACEBACK", None)
    quiet = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 1
    assert "Traceback" not in quiet.stderr, quiet.stderr[-2000:]
    errors = [line for line in quiet.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR: export_dir {export_dir} exists and is not a SavedModel (no "
                      f"saved_model.pb); --overwrite only replaces an export "
                      f"(ALBERT_TF_TRACEBACK=1 shows where)"], quiet.stderr[-2000:]
    assert (export_dir / "notes.txt").read_text() == "mine"
    loud = subprocess.run(argv, env=dict(env, ALBERT_TF_TRACEBACK="1"), capture_output=True,
                          text=True, timeout=300)
    assert loud.returncode == 1 and "Traceback" in loud.stderr
    assert "FileExistsError: export_dir" in loud.stderr
