"""The run modes of `run_loop.run`, chosen from the official --do_* flags, and the
continuous evaluation of a training run's checkpoints as they appear."""

import types

import pytest

from albert_tf.training import run_loop
from albert_tf.training.run_loop import Mode, choose_mode


@pytest.mark.parametrize("do_train, evaluates, continuous, mode", [
    (True, False, False, Mode.TRAIN),
    (True, True, False, Mode.TRAIN_AND_EVALUATE),
    (True, True, True, Mode.TRAIN_AND_EVALUATE),  # training evaluates its own checkpoints
    (False, True, False, Mode.EVALUATE),
    (False, True, True, Mode.CONTINUOUS_EVALUATE),
    (False, False, False, Mode.PREDICT),
])
def test_mode_from_the_official_flags(do_train, evaluates, continuous, mode):
    assert choose_mode(do_train, evaluates, continuous) is mode


class _Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _continuous_run(monkeypatch, appearing, num_train_steps):
    """A `_Run` whose output_dir gets the checkpoints `appearing[i]` at poll i; returns
    (run, the steps evaluated, the clock)."""
    clock = _Clock()
    monkeypatch.setattr(run_loop, "time", clock)
    scored, polls = [], iter(appearing)

    def evaluate_saved_checkpoints(model, output_dir, evaluate, on_result, quiet=False):
        new = next(polls, [])
        for step in new:
            on_result(step, evaluate(step), f"{output_dir}/ckpt-{step}")
        return new

    monkeypatch.setattr(run_loop, "evaluate_saved_checkpoints", evaluate_saved_checkpoints)
    monkeypatch.setattr(run_loop, "scored_steps", lambda output_dir: set(scored))
    monkeypatch.setattr(run_loop, "saved_checkpoints", lambda output_dir: set(scored))
    one = object.__new__(run_loop._Run)
    one.task = types.SimpleNamespace(num_train_steps=num_train_steps)
    one.params = types.SimpleNamespace(output_dir="out")
    one.model = None
    one.evaluate = lambda step: {"accuracy": step / 1000}
    one.keep = lambda step, metrics, checkpoint: scored.append(step)
    one.evaluate_as_loaded = lambda: scored.append("as loaded")
    return one, scored, clock


def test_continuous_evaluation_ends_at_the_last_training_step(monkeypatch):
    one, scored, clock = _continuous_run(monkeypatch, [[], [100], [], [200, 300], [400]],
                                         num_train_steps=300)
    one.evaluate_continuously(timeout=3600, poll_seconds=10)
    assert scored == [100, 200, 300]  # not waiting for more once step 300 is scored
    assert clock.now == 30


def test_continuous_evaluation_ends_when_no_checkpoint_comes(monkeypatch, capsys):
    one, scored, clock = _continuous_run(monkeypatch, [[100], [], [], [], [200]],
                                         num_train_steps=None)
    one.evaluate_continuously(timeout=25, poll_seconds=10)
    assert scored == [100]  # polls at 10, 20, 30 s found nothing: ended before step 200
    assert clock.now == 30
    assert "No new checkpoint in out for 25s" in capsys.readouterr().out


def test_continuous_evaluation_of_an_empty_output_dir_scores_the_loaded_model(monkeypatch):
    one, scored, _ = _continuous_run(monkeypatch, [], num_train_steps=None)
    one.evaluate_continuously(timeout=5, poll_seconds=10)
    assert scored == ["as loaded"]
