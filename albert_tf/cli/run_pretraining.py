r"""Pretrains ALBERT (masked LM + sentence-order prediction).

Flags follow google-research/albert run_pretraining.py, plus the distribution,
precision and robustness flags of albert_tf; --do_train is on and --do_eval off
unless given, as official. Example (one host, 8 GPUs, the paper's batch of 4096
through 8 x 2 accumulation steps of 256):

  albert-pretrain --albert_config_file=configs/albert_base_v2.json \
    --input_file='data/pretrain-*.tfrecord' --output_dir=out/base \
    --do_train --distribution_strategy=mirrored --mixed_precision=bfloat16 \
    --jit_compile --gradient_accumulation_steps=2
"""

import dataclasses

from absl import flags

from albert_tf.cli.entry import params_command
from albert_tf.settings import define_flags as define_params_flags
from albert_tf.settings import setting
from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
from albert_tf.training.runtime import OFFICIAL_FLAGS_MODULE

COMMAND = "albert-pretrain"


@dataclasses.dataclass
class OfficialPretrainingFlags:
    """Official run_pretraining.py flags that are no setting here."""

    masked_lm_budget: int = setting(
        0, "Official flag: on-the-fly masking by a masked/unmasked n-gram ratio; only 0 "
           "(masks from the data) is supported: see --dynamic_masking.")


def official_flags():
    names = define_params_flags(OfficialPretrainingFlags, module_name=OFFICIAL_FLAGS_MODULE)
    flags.register_validator("masked_lm_budget", lambda value: value == 0,
                             "--masked_lm_budget > 0 (the official on-the-fly masking) is not "
                             "supported; the records' masks are used, or --dynamic_masking "
                             "re-draws them every epoch")
    return names


define_flags, main, run = params_command(PretrainingParams, run_pretraining, __name__,
                                         __doc__, COMMAND, official_flags)

if __name__ == "__main__":
    run()
