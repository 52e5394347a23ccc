"""One live run per output: the lock every writing command takes (`albert_tf.run_lock`)."""

import json
import logging
import os
import pathlib
import socket
import subprocess
import sys

import pytest

from albert_tf import run_lock

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def live_pid():
    """The pid of a live process of this host that is not this one."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child.pid
    child.kill()
    child.wait()


@pytest.fixture(scope="module")
def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_lock(path, pid, host=None, command="run_classifier.py --output_dir=out"):
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                "command": command, "started": "2026-12-07T08:00:00+00:00"}))


def test_a_live_holder_is_named_and_nothing_is_taken(tmp_path, live_pid):
    out = tmp_path / "out"
    out.mkdir()
    _write_lock(out / run_lock.LOCK_NAME, live_pid)
    with pytest.raises(run_lock.OutputInUseError) as error:
        run_lock.hold(str(out))
    message = str(error.value)
    assert "\n" not in message
    assert f"{out} is in use by pid {live_pid} on {socket.gethostname()}" in message
    assert "command: run_classifier.py --output_dir=out" in message
    assert "started 2026-12-07T08:00:00+00:00" in message
    assert json.loads((out / run_lock.LOCK_NAME).read_text())["pid"] == live_pid


def test_another_hosts_lock_is_never_taken_over(tmp_path, dead_pid):
    _write_lock(tmp_path / run_lock.LOCK_NAME, dead_pid, host="worker-7")
    with pytest.raises(run_lock.OutputInUseError, match="another host"):
        run_lock.hold(str(tmp_path))


def test_a_dead_holder_is_taken_over_with_a_warning(tmp_path, dead_pid, caplog):
    _write_lock(tmp_path / run_lock.LOCK_NAME, dead_pid)
    with caplog.at_level(logging.WARNING):
        path = run_lock.hold(str(tmp_path))
    assert f"taking over the lock of a run that is gone: pid {dead_pid}" in caplog.text
    holder = json.loads(pathlib.Path(path).read_text())
    assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    run_lock.release(path)
    assert not os.path.exists(path)


def test_only_the_chief_holds_it(tmp_path):
    assert run_lock.hold(str(tmp_path / "out"), chief=False) is None
    assert not (tmp_path / "out").exists()


# One Python imports albert_tf (TensorFlow) once and forks four runs that all try to take
# the lock of argv[1] at one moment; each prints HELD or REFUSED to its file argv[2].<n>. The holder keeps it until the other three have ended (a slow start under
# load must still find it held), then exits, which releases it.
_TAKE = """
import os, sys, time
from albert_tf import run_lock
folder, output = sys.argv[1], sys.argv[2]
start = time.time() + 1.0
release = output + ".release"
children = []
for n in range(4):
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(f"{output}.{n}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        time.sleep(max(0.0, start - time.time()))
        try:
            run_lock.hold(folder)
            print("HELD", flush=True)
            deadline = time.time() + 120
            while not os.path.exists(release) and time.time() < deadline:
                time.sleep(0.05)
        except run_lock.OutputInUseError as e:
            print("REFUSED", e, flush=True)
        sys.exit(0)  # the exit handlers run: the holder releases
    children.append(pid)
for ended in range(4):
    os.waitpid(-1, 0)
    if ended == 2:
        open(release, "w").close()
"""


def test_of_runs_starting_together_exactly_one_gets_it(tmp_path):
    output = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", _TAKE, str(tmp_path), str(output)],
        env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True,
        timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = [pathlib.Path(f"{output}.{n}").read_text() for n in range(4)]
    assert sorted(o.split()[0] for o in outputs) == ["HELD", "REFUSED", "REFUSED", "REFUSED"]
    assert not (tmp_path / run_lock.LOCK_NAME).exists()  # Released at exit.


def test_leftovers_of_killed_runs_are_removed_but_not_a_live_ones(tmp_path, dead_pid, live_pid):
    export = tmp_path / "export" / "1"
    dead = tmp_path / "export" / f"1.tmp-{dead_pid}"
    (dead / "saved_model").mkdir(parents=True)
    live = tmp_path / "export" / f"1.tmp-{live_pid}"
    live.mkdir()
    other = tmp_path / "export" / f"12.tmp-{dead_pid}"  # Another output's.
    other.mkdir()
    assert run_lock.remove_leftovers(str(export)) == [str(dead)]
    assert not dead.exists() and live.exists() and other.exists()


def test_export_command_refuses_a_live_holder_in_one_line(tmp_path, live_pid):
    export_dir = tmp_path / "export" / "1"
    export_dir.parent.mkdir()
    _write_lock(tmp_path / "export" / "1.lock", live_pid, command="export_savedmodel.py")
    leftover = tmp_path / "export" / "1.tmp-999999999"
    leftover.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [sys.executable, str(REPO / "export_savedmodel.py"), "--model_kind=preprocess",
         f"--export_dir={export_dir}", f"--spm_model_file={REPO / 'configs' / 'none.model'}"],
        env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr
    error_lines = [line for line in completed.stderr.splitlines() if "ERROR:" in line]
    assert error_lines == [f"ERROR: {export_dir} is in use by pid {live_pid} on "
                           f"{socket.gethostname()} (command: export_savedmodel.py, started "
                           f"2026-12-07T08:00:00+00:00); wait for that run to end, or use "
                           f"another output (if that run is gone, remove {export_dir}.lock) "
                           f"(ALBERT_TF_TRACEBACK=1 shows where)"]
    assert not export_dir.exists() and leftover.exists()  # Nothing done while refused.


def _pretraining(tmp_path):
    from albert_tf.tasks.pretraining.task import PretrainingParams
    from synthetic_pretraining_data import write_records

    records = write_records(tmp_path / "train.tfrecord", 16, vocab_size=30000)
    return PretrainingParams(
        albert_config_file=str(REPO / "configs" / "albert_tiny_test.json"),
        input_file=str(records), output_dir=str(tmp_path / "out"), max_seq_length=32,
        max_predictions_per_seq=5, train_batch_size=8, num_train_steps=1, num_warmup_steps=0,
        save_checkpoints_steps=1, iterations_per_loop=1)


def test_training_run_refuses_a_live_holder_and_takes_over_a_dead_one(
        tmp_path, live_pid, dead_pid, caplog):
    from albert_tf.tasks.pretraining.task import run_pretraining

    params = _pretraining(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    _write_lock(out / run_lock.LOCK_NAME, live_pid)
    with pytest.raises(run_lock.OutputInUseError, match=f"in use by pid {live_pid}"):
        run_pretraining(params)
    assert sorted(p.name for p in out.iterdir()) == [run_lock.LOCK_NAME]
    _write_lock(out / run_lock.LOCK_NAME, dead_pid)
    with caplog.at_level(logging.WARNING):
        run_pretraining(params)
    assert f"taking over the lock of a run that is gone: pid {dead_pid}" in caplog.text
    assert (out / "model.ckpt-1.index").exists()
    assert not (out / run_lock.LOCK_NAME).exists()  # Released when the run returns.


def _linked_output(tmp_path):
    """(the real output, a symlink to it, the output through a symlinked folder)."""
    real = tmp_path / "real" / "out"
    real.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    folder = tmp_path / "folder"
    folder.symlink_to(tmp_path / "real", target_is_directory=True)
    return real, link, folder / "out"


@pytest.mark.parametrize("inside", [True, False], ids=["inside", "beside"])
def test_a_symlinked_output_and_its_real_path_are_one_output(tmp_path, live_pid, inside):
    real, link, through_folder = _linked_output(tmp_path)
    real_lock = real / run_lock.LOCK_NAME if inside else tmp_path / "real" / "out.lock"
    _write_lock(real_lock, live_pid)
    for output in (link, through_folder):
        with pytest.raises(run_lock.OutputInUseError,
                           match=f"is in use by pid {live_pid} .* remove {real_lock}\\)$"):
            run_lock.hold(str(output), inside=inside)
    assert json.loads(real_lock.read_text())["pid"] == live_pid
    real_lock.unlink()
    # Held through the link, the lock is the real path's: a run naming that is refused.
    path = run_lock.hold(str(link), inside=inside)
    assert path == str(real_lock)
    assert json.loads(real_lock.read_text())["pid"] == os.getpid()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link", "real"]
    run_lock.release_output(str(real), inside=inside)
    assert not real_lock.exists()


def test_export_through_a_symlink_is_refused_while_its_real_path_is_held(tmp_path,
                                                                         live_pid):
    """What albert-export and albert-convert run (`holding_output`, lock beside)."""
    import types

    from albert_tf.cli.entry import holding_output

    real, link, through_folder = _linked_output(tmp_path)
    _write_lock(tmp_path / "real" / "out.lock", live_pid)
    ran = []
    export = holding_output(ran.append, "export_dir")
    for output in (link, through_folder):
        with pytest.raises(run_lock.OutputInUseError, match=f"in use by pid {live_pid}"):
            export(types.SimpleNamespace(export_dir=str(output)))
    assert ran == []


def test_training_run_through_a_symlinked_output_dir_is_refused_while_held(tmp_path,
                                                                           live_pid):
    from albert_tf.tasks.pretraining.task import run_pretraining

    real, link, _ = _linked_output(tmp_path)
    params = _pretraining(tmp_path)
    params.output_dir = str(link)
    _write_lock(real / run_lock.LOCK_NAME, live_pid)
    with pytest.raises(run_lock.OutputInUseError, match=f"in use by pid {live_pid}"):
        run_pretraining(params)
    assert sorted(p.name for p in real.iterdir()) == [run_lock.LOCK_NAME]
