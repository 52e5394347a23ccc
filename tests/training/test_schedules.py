"""WarmupPolyDecay against hand-worked rates and the official TF1 formula."""

import keras
import numpy as np
import pytest

from albert_tf.training.schedules import WarmupPolyDecay


def _rates(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(step))) for step in steps])


@pytest.mark.parametrize("steps, expected", [
    # lr 0.1, 100 train steps, 10 warmup steps: warmup 0.1 * step / 10 for step < 10,
    # then 0.1 * (1 - step / 100), clamped at step 100.
    ([0, 1, 5, 9], [0.0, 0.01, 0.05, 0.09]),
    ([10, 11, 50, 99], [0.09, 0.089, 0.05, 0.001]),
    ([100, 101, 1000], [0.0, 0.0, 0.0]),
])
def test_warmup_then_linear_decay(steps, expected):
    schedule = WarmupPolyDecay(0.1, num_train_steps=100, num_warmup_steps=10)
    np.testing.assert_allclose(_rates(schedule, steps), expected, rtol=1e-6, atol=1e-9)


def test_power_and_end_learning_rate():
    # power 2: 0.1 * (1 - 50/100)^2 = 0.025; 0.1 * 0.9^2 = 0.081 at the warmup boundary.
    schedule = WarmupPolyDecay(0.1, 100, 10, power=2.0)
    np.testing.assert_allclose(_rates(schedule, [5, 10, 50, 100]),
                               [0.05, 0.081, 0.025, 0.0], rtol=1e-6, atol=1e-9)
    # end 0.01: (0.1 - 0.01) * (1 - 50/100) + 0.01 = 0.055; 0.01 from step 100 on.
    schedule = WarmupPolyDecay(0.1, 100, 0, end_learning_rate=0.01)
    np.testing.assert_allclose(_rates(schedule, [0, 50, 100, 200]),
                               [0.1, 0.055, 0.01, 0.01], rtol=1e-6)


def test_no_warmup_starts_at_peak():
    schedule = WarmupPolyDecay(0.5, num_train_steps=4, num_warmup_steps=0)
    np.testing.assert_allclose(_rates(schedule, [0, 1, 2, 3, 4]),
                               [0.5, 0.375, 0.25, 0.125, 0.0], rtol=1e-6)


def test_start_warmup_step_shifts_only_the_warmup():
    # Warmup over steps 20..29 as 0.1 * (step - 20) / 10; the decay still counts from 0:
    # step 30 -> 0.1 * (1 - 30/100) = 0.07.
    schedule = WarmupPolyDecay(0.1, 100, 10, start_warmup_step=20)
    np.testing.assert_allclose(_rates(schedule, [20, 25, 29, 30, 60]),
                               [0.0, 0.05, 0.09, 0.07, 0.04], rtol=1e-6, atol=1e-9)
    # Official quirk kept: before start_warmup_step the warmup fraction is negative.
    np.testing.assert_allclose(_rates(schedule, [10]), [-0.1], rtol=1e-6)


def test_bitwise_equal_to_official_tf1_formula():
    """Official create_optimizer's rate, built from TF1 ops, equals ours in float32."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("bitwise parity is defined for the TensorFlow backend")
    init_lr, num_train_steps, num_warmup_steps, start_warmup_step, power = (
        0.00176, 1000, 31, 3, 1.0)

    def official(global_step):
        global_step = tf.constant(global_step, tf.int64)
        rate = tf.compat.v1.train.polynomial_decay(
            tf.constant(init_lr, tf.float32), global_step, num_train_steps,
            end_learning_rate=0.0, power=power, cycle=False)
        rate = rate() if callable(rate) else rate
        steps_int = tf.cast(global_step, tf.int32) - start_warmup_step
        warmup_rate = init_lr * (tf.cast(steps_int, tf.float32)
                                 / tf.cast(num_warmup_steps, tf.float32))
        is_warmup = tf.cast(steps_int < num_warmup_steps, tf.float32)
        return ((1.0 - is_warmup) * rate + is_warmup * warmup_rate).numpy()

    schedule = WarmupPolyDecay(init_lr, num_train_steps, num_warmup_steps,
                               start_warmup_step=start_warmup_step, power=power)
    steps = list(range(0, 40)) + [123, 500, 999, 1000, 1001]
    ours = np.array([keras.ops.convert_to_numpy(schedule(np.int64(step)))
                     for step in steps])
    expected = np.array([official(step) for step in steps])
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, expected)


def test_config_round_trip():
    schedule = WarmupPolyDecay(0.2, 50, 5, start_warmup_step=2, power=0.5,
                               end_learning_rate=0.001)
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule))
    assert isinstance(restored, WarmupPolyDecay)
    assert restored.get_config() == schedule.get_config()
    np.testing.assert_array_equal(_rates(restored, range(0, 60, 7)),
                                  _rates(schedule, range(0, 60, 7)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_train_steps=0, num_warmup_steps=0), "num_train_steps"),
    (dict(num_train_steps=10, num_warmup_steps=-1), "num_warmup_steps"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupPolyDecay(0.1, **kwargs)
