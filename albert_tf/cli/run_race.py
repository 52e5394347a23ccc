"""Fine-tunes ALBERT on RACE (google-research/albert run_race.py flags).

Example (from an official ALBERT-xxlarge v2 checkpoint; the v2 README's RACE
settings: learning rate 1e-5 and no encoder dropout, otherwise paper Table 14):

  python run_race.py --data_dir=race_data \
    --albert_config_file=albert_xxlarge/albert_config.json \
    --spm_model_file=albert_xxlarge/30k-clean.model \
    --init_checkpoint=albert_xxlarge/model.ckpt-best --output_dir=out/race \
    --do_train --do_eval --max_seq_length=512 --max_qa_length=128 \
    --learning_rate=1e-5 --train_batch_size=32 --train_step=12000 --warmup_step=1000 \
    --hidden_dropout_prob=0 --attention_probs_dropout_prob=0 --dropout_prob=0.1 \
    --save_checkpoints_steps=100
"""

from absl import flags

from albert_tf.cli.entry import params_command
from albert_tf.tasks.race.task import RaceParams, run_race


def official_flags():
    """The official flags that are no setting of this command."""
    # Official flag: run_race.py takes --task_name=race.
    flags.DEFINE_string("task_name", "race", "Official flag: must be race.",
                        module_name=__name__)
    flags.register_validator("task_name", lambda value: (value or "").lower() == "race",
                             "run_race.py runs RACE only (--task_name=race)")
    return ["task_name"]


define_flags, main, run = params_command(RaceParams, run_race, __name__, __doc__, official_flags)

if __name__ == "__main__":
    run()
