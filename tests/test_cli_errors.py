"""A user mistake on the command line ends in one line naming it, not a traceback."""

import os
import pathlib

from forked_commands import run_forked

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_a_user_mistake_is_one_line_and_the_traceback_is_one_setting_away(tmp_path):
    export_dir = tmp_path / "not_an_export"
    export_dir.mkdir()
    (export_dir / "notes.txt").write_text("mine")
    argv = [REPO / "export_savedmodel.py", "--model_kind=preprocess",
            f"--export_dir={export_dir}", "--overwrite",
            f"--spm_model_file={tmp_path / 'none.model'}"]
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("ALBERT_TF_TRACEBACK", None)
    # As users run it, each run a fork of one Python that imported the command once.
    (quiet, _, quiet_err), (loud, _, loud_err) = run_forked(
        [{"argv": argv}, {"argv": argv, "env": {"ALBERT_TF_TRACEBACK": "1"}}],
        ["albert_tf.cli.export_savedmodel"], env=env)
    assert quiet == 1
    assert "Traceback" not in quiet_err, quiet_err[-2000:]
    errors = [line for line in quiet_err.splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR: export_dir {export_dir} exists and is not a SavedModel (no "
                      f"saved_model.pb); --overwrite only replaces an export "
                      f"(ALBERT_TF_TRACEBACK=1 shows where)"], quiet_err[-2000:]
    assert (export_dir / "notes.txt").read_text() == "mine"
    assert loud == 1 and "Traceback" in loud_err
    assert "FileExistsError: export_dir" in loud_err
