r"""Fine-tunes ALBERT on a GLUE task (google-research/albert run_classifier.py flags).

--do_train, --do_eval and --do_predict are off unless given, as in the official
script; give at least one. Example (RTE from an official ALBERT-base v2 checkpoint,
paper Table 14):

  albert-classifier --task_name=RTE --data_dir=glue_data \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best --output_dir=out/rte \
    --do_train --do_eval --do_predict --max_seq_length=512 --optimizer=adamw \
    --learning_rate=3e-5 --train_batch_size=32 --train_step=800 --warmup_step=200 \
    --hidden_dropout_prob=0.1 --attention_probs_dropout_prob=0.1 --dropout_prob=0.1 \
    --save_checkpoints_steps=100
"""

from albert_tf.cli.entry import params_command
from albert_tf.tasks.glue.task import ClassifierParams, run_classifier

COMMAND = "albert-classifier"

define_flags, main, run = params_command(ClassifierParams, run_classifier, __name__, __doc__,
                                         COMMAND)

if __name__ == "__main__":
    run()
