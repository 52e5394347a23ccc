r"""Fine-tunes ALBERT on SQuAD v1.1 or v2.0 (`--version_2_with_negative`), predicts and scores.

Flags follow google-research/albert run_squad_v1.py / run_squad_v2.py, plus
TFDS input and the albert_tf runtime flags; --do_train and --do_predict are off
unless given, as official: give at least one. Example (SQuAD v2.0 from the official
albert_base_v2 release):

  albert-squad --version_2_with_negative \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best \
    --train_file=train-v2.0.json --predict_file=dev-v2.0.json \
    --output_dir=out/squad2 --do_train --do_predict \
    --train_batch_size=48 --learning_rate=3e-5 --train_step=8144 --warmup_step=814
"""

import dataclasses

from albert_tf.cli.entry import params_command
from albert_tf.settings import define_flags as define_params_flags
from albert_tf.settings import setting
from albert_tf.tasks.squad.task import SquadParams, run_squad
from albert_tf.training.runtime import OFFICIAL_FLAGS_MODULE

COMMAND = "albert-squad"


@dataclasses.dataclass
class OfficialSquadFlags:
    """Official run_squad_v2.py flags that are no setting here."""

    predict_feature_left_file: str = setting(
        None, "Accepted for official command lines and ignored: the post-processing data "
              "lives in <predict_feature_file>.meta.json.")


def official_flags():
    return define_params_flags(OfficialSquadFlags, module_name=OFFICIAL_FLAGS_MODULE)


define_flags, main, run = params_command(SquadParams, run_squad, __name__, __doc__, COMMAND,
                                         official_flags)

if __name__ == "__main__":
    run()
