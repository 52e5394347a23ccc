r"""Fine-tunes ALBERT on RACE (google-research/albert run_race.py flags).

--do_train, --do_eval and --do_predict are off unless given, as in the official
script; give at least one. Example (from an official ALBERT-xxlarge v2 checkpoint; the
v2 README's RACE settings: learning rate 1e-5 and no encoder dropout, otherwise paper
Table 14):

  albert-race --data_dir=race_data \
    --albert_config_file=albert_xxlarge/albert_config.json \
    --spm_model_file=albert_xxlarge/30k-clean.model \
    --init_checkpoint=albert_xxlarge/model.ckpt-best --output_dir=out/race \
    --do_train --do_eval --max_seq_length=512 --max_qa_length=128 \
    --learning_rate=1e-5 --train_batch_size=32 --train_step=12000 --warmup_step=1000 \
    --hidden_dropout_prob=0 --attention_probs_dropout_prob=0 --dropout_prob=0.1 \
    --save_checkpoints_steps=100
"""

import dataclasses

from absl import flags

from albert_tf.cli.entry import params_command
from albert_tf.settings import define_flags as define_params_flags
from albert_tf.settings import setting
from albert_tf.tasks.race.task import RaceParams, run_race
from albert_tf.training.runtime import OFFICIAL_FLAGS_MODULE

COMMAND = "albert-race"


@dataclasses.dataclass
class OfficialRaceFlags:
    """Official run_race.py flags that are no setting here."""

    task_name: str = setting("race", "Official flag: must be race.")


def official_flags():
    names = define_params_flags(OfficialRaceFlags, module_name=OFFICIAL_FLAGS_MODULE)
    flags.register_validator("task_name", lambda value: (value or "").lower() == "race",
                             "run_race.py runs RACE only (--task_name=race)")
    return names


define_flags, main, run = params_command(RaceParams, run_race, __name__, __doc__, COMMAND,
                                         official_flags)

if __name__ == "__main__":
    run()
