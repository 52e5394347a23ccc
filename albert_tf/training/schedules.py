"""The learning-rate schedule of official ALBERT: linear warmup, then polynomial decay."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="albert_tf")
class WarmupPolyDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Official `create_optimizer` learning rate as a Keras schedule.

    With `step` the optimizer's update count (official `global_step`, starting at 0):

        decayed = (learning_rate - end_learning_rate)
                  * (1 - min(step, num_train_steps) / num_train_steps) ** power
                  + end_learning_rate
        warmup  = learning_rate * (step - start_warmup_step) / num_warmup_steps
        rate    = warmup if step - start_warmup_step < num_warmup_steps else decayed

    so step 0 trains at rate 0 and the first decayed step, `start_warmup_step +
    num_warmup_steps`, continues the warmup line. With `num_warmup_steps=0` there is
    no warmup. All arithmetic is float32 in the official order (the step differences
    in int32), so on TensorFlow the rates equal the official ones bit for bit.

    Official behaviour kept on purpose: before `start_warmup_step` the warmup
    fraction is negative and so is the rate. `start_warmup_step` is meant for runs
    whose step counter already starts at or after it (a resumed run).

    Args:
        learning_rate: peak (initial) learning rate, official `init_lr`.
        num_train_steps: steps over which the rate decays to `end_learning_rate`.
        num_warmup_steps: length of the linear warmup, in steps; 0 for none.
        start_warmup_step: step at which the warmup starts.
        power: exponent of the polynomial decay, official `poly_power`.
        end_learning_rate: rate at and after `num_train_steps`; official 0.0.
        name: optional name.
    """

    def __init__(self, learning_rate, num_train_steps, num_warmup_steps,
                 start_warmup_step=0, power=1.0, end_learning_rate=0.0, name=None):
        super().__init__()
        if num_train_steps <= 0:
            raise ValueError(
                f"WarmupPolyDecay: num_train_steps ({num_train_steps}) must be > 0")
        if num_warmup_steps < 0:
            raise ValueError(
                f"WarmupPolyDecay: num_warmup_steps ({num_warmup_steps}) must be >= 0")
        self.learning_rate = float(learning_rate)
        self.num_train_steps = int(num_train_steps)
        self.num_warmup_steps = int(num_warmup_steps)
        self.start_warmup_step = int(start_warmup_step)
        self.power = float(power)
        self.end_learning_rate = float(end_learning_rate)
        self.name = name

    def __call__(self, step):
        """Returns the float32 learning rate for the update count `step` (a scalar)."""
        step = ops.convert_to_tensor(step)
        init_lr = ops.convert_to_tensor(self.learning_rate, "float32")

        # tf.compat.v1.train.polynomial_decay with cycle=False.
        decay_steps = ops.convert_to_tensor(float(self.num_train_steps), "float32")
        decay_step = ops.minimum(ops.cast(step, "float32"), decay_steps)
        fraction_left = ops.subtract(1.0, ops.divide(decay_step, decay_steps))
        decayed = ops.add(
            ops.multiply(ops.subtract(init_lr, self.end_learning_rate),
                         ops.power(fraction_left, self.power)),
            self.end_learning_rate)
        if not self.num_warmup_steps:
            return decayed

        warmup_step = ops.subtract(ops.cast(step, "int32"), self.start_warmup_step)
        warmup_fraction = ops.divide(
            ops.cast(warmup_step, "float32"), float(self.num_warmup_steps))
        warmup = ops.multiply(init_lr, warmup_fraction)
        # The official blend by multiplication (not a select) keeps its float results.
        is_warmup = ops.cast(ops.less(warmup_step, self.num_warmup_steps), "float32")
        return ops.add(ops.multiply(ops.subtract(1.0, is_warmup), decayed),
                       ops.multiply(is_warmup, warmup))

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "num_train_steps": self.num_train_steps,
            "num_warmup_steps": self.num_warmup_steps,
            "start_warmup_step": self.start_warmup_step,
            "power": self.power,
            "end_learning_rate": self.end_learning_rate,
            "name": self.name,
        }
